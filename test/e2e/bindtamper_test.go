package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// tamperRecord rewrites revision rev of release name in namespace ns as
// whoever may write Secrets there can: Helm's storage Secret decoded
// (base64, gzip, JSON), edited, encoded again and written back.
func tamperRecord(t *testing.T, e *env, ns, name string, rev int, edit func(*helmrelease.Release)) {
	t.Helper()
	ctx := context.Background()
	secrets := e.cs.CoreV1().Secrets(ns)
	key := fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, rev)
	s, err := secrets.Get(ctx, key, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := base64.StdEncoding.DecodeString(string(s.Data["release"]))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var rel helmrelease.Release
	if err := json.Unmarshal(data, &rel); err != nil {
		t.Fatal(err)
	}
	edit(&rel)
	if data, err = json.Marshal(&rel); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	s.Data["release"] = []byte(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// addEvilClaims adds testutil.EvilClaims to a catalog provider's record
// both ways a bundle gives its claim templates: written in its
// bundle.yaml, in place of its claims.templates: claims/, and as files of
// its chart's claims/.
func addEvilClaims(t *testing.T, r *helmrelease.Release) {
	t.Helper()
	var files map[string]map[string]string
	if err := yaml.Unmarshal([]byte("templates:\n"+testutil.EvilClaims), &files); err != nil {
		t.Fatal(err)
	}
	added := false
	for _, f := range r.Chart.Files {
		if f.Name == "bundle.yaml" && strings.Contains(string(f.Data), "\n  templates: claims/\n") {
			f.Data = []byte(strings.Replace(string(f.Data), "\n  templates: claims/\n", "\n  templates:\n"+testutil.EvilClaims, 1))
			added = true
		}
	}
	if !added {
		t.Fatal("the record carries no claim templates")
	}
	for name, text := range files["templates"] {
		r.Chart.Files = append(r.Chart.Files, &common.File{Name: "claims/" + name, Data: []byte(text)})
	}
}

// A provider's release record rewritten in the cluster (claim templates
// added: a ConfigMap that reads every Secret of the consumer's namespace,
// a RoleBinding making its author admin there; its outputs pointed at
// another host) changes nothing: the owner's grant renders the claim from
// stable/mariadb as the catalog serves it and the outputs from the
// provider's values, and the consumer of another namespace reads the
// grant alone (its diff and dry run put nothing in the provider's
// namespace). A rewritten digest is refused by the grant in one line,
// until the provider is upgraded from the repository again. Fails before
// the fix: the ConfigMap and the RoleBinding were created.
func TestBindTamperedProviderRecord(t *testing.T) {
	e, data := setupIn(t, "tamper-data")
	web := e.createNamespace(t, "tamper-web")
	ctx := context.Background()
	e.mustBundle(t, "install", "team-db", "stable/mariadb", "-n", data, "--create-namespace")
	version := e.lastRevision(t, data, "team-db").Chart.Metadata.Version

	tamperRecord(t, e, data, "team-db", 1, func(r *helmrelease.Release) {
		addEvilClaims(t, r)
		r.Chart.Metadata.Annotations["bundle.sh/outputs"] = `{"host":"db.evil.example.com","port":"3306","database":"x","username":"x","passwordSecret":"web-secrets","passwordKey":"x"}`
	})
	if st := e.mustBundle(t, "status", "team-db", "-n", data); !strings.Contains(st, "mariadb "+version) {
		t.Fatalf("status of the tampered provider:\n%s", st)
	}

	granted := e.mustBundle(t, "grant", "team-db", web+"/wiki/database", "-n", data)
	bind := "database=" + data + "/team-db"
	grant := render.GrantName("team-db", plan.Consumer{Namespace: web, Release: "wiki", Instance: "database"})
	d := e.mustBundle(t, "diff", "install", "wiki", "stable/mediawiki", "-n", web, "--bind", bind, "--kubeconfig", e.kubeconfig)
	if strings.Contains(d, "Also in namespace") {
		t.Errorf("diff install lists objects outside %s:\n%s", web, d)
	}
	dry := e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", web, "--bind", bind, "--dry-run")
	for what, out := range map[string]string{"grant": granted + e.lastRevision(t, data, grant).Manifest, "diff install": d, "install --dry-run": dry} {
		for _, bad := range []string{"stolen", "pwned", "mallory", "evil", "web-secrets"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s renders %q of the tampered record:\n%s", what, bad, out)
			}
		}
	}

	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", web, "--bind", bind)
	for _, ns := range []string{web, data} {
		if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "stolen", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s/stolen: %v", ns, err)
		}
		if _, err := e.cs.RbacV1().RoleBindings(ns).Get(ctx, "pwned", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("RoleBinding %s/pwned: %v", ns, err)
		}
	}
	m := e.lastRevision(t, web, "wiki").Manifest
	if !strings.Contains(m, "team-db-mariadb."+data+".svc") || strings.Contains(m, "evil") {
		t.Errorf("wiki is not wired to the provider as stable/mariadb says:\n%s", m)
	}
	claimJobIn(t, e, data, grant)

	// The digest the provider recorded, rewritten: a grant is refused in
	// one line.
	tamperRecord(t, e, data, "team-db", 1, func(r *helmrelease.Release) {
		r.Chart.Metadata.Annotations["bundle.sh/digest"] = "sha256:" + strings.Repeat("0", 64)
	})
	code, _, errs := e.bundle(t, "grant", "team-db", web+"/blog/database", "-n", data)
	if want := "provider " + data + "/team-db records mariadb " + version + " with digest sha256:" + strings.Repeat("0", 64) + ", but stable serves sha256:"; code == 0 || !strings.Contains(errs, want) ||
		!strings.Contains(errs, "bundle upgrade team-db stable/mariadb -n "+data+" --version "+version) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("a rewritten digest: exit %d: %s(want one line with %q)", code, errs, want)
	}
	if code, _, errs := e.bundle(t, "install", "blog", "stable/wordpress", "-n", web, "--bind", bind); code == 0 || !strings.Contains(errs, "bundle grant team-db "+web+"/blog/database -n "+data) {
		t.Errorf("a consumer without its grant: exit %d: %s", code, errs)
	}
	// The fix it names: the provider upgraded from the repository.
	e.mustBundle(t, "upgrade", "team-db", "stable/mariadb", "-n", data, "--version", version)
	e.mustBundle(t, "grant", "team-db", web+"/blog/database", "-n", data)
	e.mustBundle(t, "install", "blog", "stable/wordpress", "-n", web, "--bind", bind)
	e.mustBundle(t, "uninstall", "blog", "-n", web, "--timeout", "2m")
	e.mustBundle(t, "uninstall", "wiki", "-n", web, "--timeout", "2m")
	e.mustBundle(t, "uninstall", "team-db", "-n", data, "--force")
}

// claimJobIn fails the test unless namespace ns holds a claim Job of
// the claim whose objects there are named job.
func claimJobIn(t *testing.T, e *env, ns, job string) {
	t.Helper()
	jobs, err := e.cs.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		if strings.HasPrefix(j.Name, job+"-claim-") {
			return
		}
	}
	t.Errorf("no claim Job %s-claim-* in %s", job, ns)
}
