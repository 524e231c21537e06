package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/repo"
)

// Client.Diff of an upgrade keeps the installed requirement versions as
// the upgrade does, and says how the resolution moves when told to.
func TestDiffUpgradeResolution(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	ctx := context.Background()
	l := releasetest.NewShelf()
	l.Add(t, "db", "1.0.0")
	l.Add(t, "app", "1.0.0", "db")
	c, err := release.New(release.KubeOptions{Kubeconfig: e.kubeconfig, Namespace: ns}, repo.NewSet(map[string]repo.Repository{"lab": l}))
	if err != nil {
		t.Fatal(err)
	}
	src := plan.Source{Reference: "lab/app"}
	if _, err := c.Install(ctx, release.InstallOptions{Source: src, ReleaseName: "app"}); err != nil {
		t.Fatal(err)
	}
	l.Add(t, "db", "1.1.0")
	l.Add(t, "app", "1.1.0", "db")

	line := func(r diff.Resolution) string {
		s := r.Instance + " " + string(r.Action)
		if r.Before != nil {
			s += " " + r.Before.Bundle + "@" + r.Before.Version
		}
		if r.After != nil {
			s += " -> " + r.After.Bundle + "@" + r.After.Version
		}
		return s
	}
	changes := func(p *diff.Plan) string {
		var s []string
		for _, o := range p.Objects {
			if o.Action != diff.Unchanged {
				s = append(s, string(o.Action)+" "+o.Kind+" "+o.Name)
			}
		}
		return strings.Join(s, ", ")
	}

	// The app moves, db is kept at the installed 1.0.0.
	before := e.snapshot(t, ns)
	p, err := c.Diff(ctx, release.DiffOptions{Upgrade: &release.UpgradeOptions{Source: src, ReleaseName: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := line(p.Bundle) + "; " + line(p.Requirements[0]); got != " change app@1.0.0 -> app@1.1.0; db unchanged db@1.0.0 -> db@1.0.0" {
		t.Errorf("resolution: %s", got)
	}
	if got := changes(p); got != "change ConfigMap app-app" {
		t.Errorf("objects: %s", got)
	}

	// --update-deps: db moves too.
	p, err = c.Diff(ctx, release.DiffOptions{Upgrade: &release.UpgradeOptions{Source: src, ReleaseName: "app", UpdateDeps: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := line(p.Requirements[0]); got != "db change db@1.0.0 -> db@1.1.0" {
		t.Errorf("resolution with --update-deps: %s", got)
	}
	if got := p.Requirements[0].Why; got != "UpdateDeps moves requirements to their newest fitting versions" {
		t.Errorf("why db moves with --update-deps: %q", got)
	}
	if got := changes(p); got != "change ConfigMap app-db, change ConfigMap app-app" {
		t.Errorf("objects with --update-deps: %s", got)
	}
	if !strings.Contains(p.Objects[0].Diff+p.Objects[1].Diff, "-  version: 1.0.0\n+  version: 1.1.0\n") {
		t.Errorf("diffs:\n%s%s", p.Objects[0].Diff, p.Objects[1].Diff)
	}
	// The plan of the requirement bump, to the byte: JSON, and the graph
	// with both bundles marked changed.
	j, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "lab-update-deps.json", normalize(string(j)+"\n", ns))
	var g strings.Builder
	if err := graph.WriteMermaid(&g, graph.FromPlan(p)); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "lab-update-deps.mmd", g.String())

	// A new app that needs a newer db: the installed one no longer fits,
	// and the diff says so.
	l.Put(t, "app", "1.2.0", map[string]string{
		"bundle.yaml":       "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: db, repository: lab, version: \">=1.1.0\"}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n",
	})
	p, err = c.Diff(ctx, release.DiffOptions{Upgrade: &release.UpgradeOptions{Source: src, ReleaseName: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := line(p.Requirements[0]) + ": " + p.Requirements[0].Why; got != "db change db@1.0.0 -> db@1.1.0: the installed 1.0.0 no longer fits what the new revision requires" {
		t.Errorf("resolution when the installed db no longer fits: %s", got)
	}
	if after := e.snapshot(t, ns); after != before {
		t.Errorf("Client.Diff changed the cluster:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
