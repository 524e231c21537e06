package bluegreen

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

// The claims a blue-green app's router carries in its record render from
// the provider's bundle as the repository serves it: templates added to
// the carried chart, and its values pointed at another namespace, change
// nothing a switch or a prune renders. Fails before the fix: the router
// rendered the templates its record carried.
func TestBlueGreenTamperedHeldClaims(t *testing.T) {
	ctx := context.Background()
	_, f, c := sharedProvider(t)
	blueAndGreen(t, c)
	before, err := releasetest.RecordsOf(c.cfg).Last("wiki")
	if err != nil {
		t.Fatal(err)
	}
	claimOf := func(manifest string) string {
		t.Helper()
		for _, doc := range splitDocs(manifest) {
			if strings.Contains(doc, "kind: Secret") {
				return doc
			}
		}
		t.Fatalf("the router holds no claim:\n%s", manifest)
		return ""
	}
	claim := claimOf(before.Manifest)
	f.Tamper(t, "team", "wiki", func(r *helmrelease.Release) {
		for _, file := range r.Chart.Files {
			if file.Name != claimFile("database") {
				continue
			}
			var hc render.HeldClaim
			if err := json.Unmarshal(file.Data, &hc); err != nil {
				t.Fatal(err)
			}
			hc.Chart.Templates = append(hc.Chart.Templates, &common.File{Name: "templates/grant.yaml", Data: []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: pwned}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\nsubjects: [{kind: User, name: mallory}]\n")})
			hc.Values[render.ClaimKey].(map[string]any)["jobNamespace"] = "kube-system"
			hc.Values[render.ClaimKey].(map[string]any)["name"] = "pwned"
			if file.Data, err = json.Marshal(hc); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("the router carries no %s", claimFile("database"))
	})
	if _, err := c.Rollback(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Prune(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	after, err := releasetest.RecordsOf(c.cfg).Last("wiki")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"pwned", "mallory", "kube-system"} {
		if strings.Contains(after.Manifest, bad) {
			t.Errorf("the router renders %q from its tampered record:\n%s", bad, after.Manifest)
		}
	}
	if got := claimOf(after.Manifest); got != claim {
		t.Errorf("the claim changed:\n%s\nwas\n%s", got, claim)
	}

	// The digest the router recorded of the provider's bundle, rewritten:
	// refused in one line.
	bogus := "sha256:" + strings.Repeat("0", 64)
	f.Tamper(t, "team", "wiki", func(r *helmrelease.Release) {
		for _, file := range r.Chart.Files {
			if file.Name == claimFile("database") {
				var hc render.HeldClaim
				if err := json.Unmarshal(file.Data, &hc); err != nil {
					t.Fatal(err)
				}
				hc.Digest = bogus
				file.Data, _ = json.Marshal(hc)
			}
		}
	})
	_, err = c.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp"}, ReleaseName: "wiki", DryRun: true})
	if err == nil || !errors.Is(err, errdefs.ErrStale) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), `blue-green app "wiki": the claim it holds for database: it was made from cdb 1.0.0 with digest `+bogus+", but lab serves sha256:") {
		t.Errorf("a router whose claim's digest is not the repository's: %v", err)
	}
}

// A blue/green app bound across namespaces is granted under the app's
// name, for both its colours: the router holds the copy of the claim's
// Secret, and a switch renders it again from the grant.
func TestGrantBlueGreen(t *testing.T) {
	ctx := context.Background()
	_, f, c := sharedProvider(t)
	data := newTC(f, "data", c.repos).rel
	if _, err := data.Install(ctx, release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	g := granted(t, f, c.repos, "shared", "team/wiki/database")
	for _, bind := range [][]string{{"database=data/shared"}, nil} {
		if _, err := c.Upgrade(ctx, release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Bind: bind}, ReleaseName: "wiki"}); err != nil {
			t.Fatal(err)
		}
	}
	router, err := releasetest.RecordsOf(c.cfg).Last("wiki")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(router.Manifest, "name: wiki-database\n") || !strings.Contains(router.Manifest, `bundle.sh/granted-by: "data/`+g.Name+`"`) || strings.Contains(router.Manifest, "namespace: data") {
		t.Errorf("the router's claim:\n%s", router.Manifest)
	}
	for _, col := range []string{"wiki-blue", "wiki-green"} {
		r, err := releasetest.RecordsOf(c.cfg).Last(col)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.Manifest, "kind: Secret") || !strings.Contains(r.Manifest, `secret: "wiki-database"`) {
			t.Errorf("colour %s:\n%s", col, r.Manifest)
		}
	}
}
