package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// shelf is the in-memory repository of these tests (see releasetest.Shelf).
type shelf = releasetest.Shelf

func newShelf() *shelf { return releasetest.NewShelf() }

// installed returns the requirement versions the release's latest
// revision recorded.
func installed(t *testing.T, f *releasetest.Fixture, name string) map[string]string {
	t.Helper()
	rs, err := plan.ParseResolved(f.Last(t, name).Chart.Metadata.Annotations)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rs {
		out[r.Instance] = r.Version
	}
	return out
}

// appInstalled is a shelf holding app 1.0.0, which requires db 1.0.0,
// installed as release app in namespace team, and the client that
// installed it.
func appInstalled(t *testing.T) (*shelf, *releasetest.Fixture, *Client) {
	t.Helper()
	lab := newShelf()
	lab.Add(t, "db", "1.0.0")
	lab.Add(t, "app", "1.0.0", "db")
	f := releasetest.New("team")
	c := NewWithEnv(envOf(f), repo.NewSet(map[string]repo.Repository{"lab": lab}))
	if _, err := c.Install(context.Background(), InstallOptions{Source: plan.Source{Reference: "lab/app"}}); err != nil {
		t.Fatal(err)
	}
	return lab, f, c
}

// The lifecycle's own logic, over Helm's memory storage and fake kube
// client: an upgrade resolves once, keeps the installed requirement
// versions while they fit (and moves them when told), and records history.
func TestUpgradeResolvesOnceAndKeepsInstalledVersions(t *testing.T) {
	ctx := context.Background()
	lab, f, c := appInstalled(t)
	if got := installed(t, f, "app"); got["db"] != "1.0.0" {
		t.Fatalf("installed %v", got)
	}

	// A new db appears: an upgrade keeps the installed one, and resolves
	// once (the solver asks for db's versions once).
	lab.Add(t, "db", "1.1.0")
	before := lab.Calls("db")
	rel, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if n := lab.Calls("db") - before; n != 1 {
		t.Errorf("the upgrade asked for db's versions %d times: it resolved more than once", n)
	}
	if got := installed(t, f, "app"); got["db"] != "1.0.0" || rel.Revision != 2 {
		t.Errorf("upgrade moved db to %s (revision %d); the installed 1.0.0 still fits", got["db"], rel.Revision)
	}

	// Told to, it moves to the newest that fits.
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app", UpdateDeps: true}); err != nil {
		t.Fatal(err)
	}
	if got := installed(t, f, "app"); got["db"] != "1.1.0" {
		t.Errorf("upgrade --update-deps left db at %s", got["db"])
	}

	hist, err := c.History(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range hist {
		states = append(states, fmt.Sprintf("%d %s", r.Revision, r.Status))
	}
	if fmt.Sprint(states) != "[1 superseded 2 superseded 3 deployed]" {
		t.Errorf("history %v", states)
	}
}

// An installed version that no longer fits the new requirements is moved,
// in the same single resolution.
func TestUpgradeMovesAnInstalledVersionThatNoLongerFits(t *testing.T) {
	ctx := context.Background()
	lab, f, c := appInstalled(t)
	// app 2.0.0 needs db 2.
	lab.Add(t, "db", "2.0.0")
	lab.Put(t, "app", "2.0.0", map[string]string{
		"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: db, repository: lab, version: ^2}\n",
	})
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app"}); err != nil {
		t.Fatal(err)
	}
	if got := installed(t, f, "app"); got["db"] != "2.0.0" {
		t.Errorf("db %s, want 2.0.0", got["db"])
	}
}

// Failure paths: no release to upgrade; a release that exists for install;
// the cluster refusing the upgrade leaves a failed revision and the
// deployed one as it was.
func TestLifecycleFailures(t *testing.T) {
	ctx := context.Background()
	lab := newShelf()
	lab.Add(t, "db", "1.0.0")
	f := releasetest.New("team")
	c := NewWithEnv(envOf(f), repo.NewSet(map[string]repo.Repository{"lab": lab}))
	src := plan.Source{Reference: "lab/db"}

	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: src, ReleaseName: "db"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("upgrade of a missing release: %v", err)
	}
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: src, ReleaseName: "db", Install: true}); err != nil {
		t.Fatalf("upgrade --install: %v", err)
	}
	if _, err := c.Install(ctx, InstallOptions{Source: src}); !errors.Is(err, ErrExists) {
		t.Errorf("second install: %v", err)
	}
	f.Kube.UpdateError = errors.New("admission webhook refused it")
	_, err := c.Upgrade(ctx, UpgradeOptions{Source: src, ReleaseName: "db"})
	if err == nil || !strings.Contains(err.Error(), "admission webhook refused it") {
		t.Fatalf("upgrade against a refusing cluster: %v", err)
	}
	if last := f.Last(t, "db"); last.Version != 2 || last.Info.Status != rcommon.StatusFailed {
		t.Errorf("after the failed upgrade: revision %d %s", last.Version, last.Info.Status)
	}
	// Resolution errors come before the cluster is touched.
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/nope"}, ReleaseName: "db"}); !errors.Is(err, resolve.ErrNotFound) {
		t.Errorf("unknown bundle: %v", err)
	}
}
