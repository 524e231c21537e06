package release

import (
	"context"
	"errors"
	"testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// A prepared revision reads and resolves its bundle once: an upgrade run
// first as a dry run (as upgrade --diff does, in DiffRevision, which
// test/e2e runs against a cluster) and then performed asks the repository
// for the bundle's versions once, and the dry run stores nothing.
func TestARevisionIsPreparedOnceThenPerformed(t *testing.T) {
	ctx := context.Background()
	lab, f, c := appInstalled(t)
	lab.Add(t, "app", "1.1.0", "db")
	before := lab.Calls("app")
	rev, err := c.Prepare(ctx, PrepareOptions{Upgrade: &UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Install || rev.Base != 1 || rev.Number != 2 || rev.Plan.Root.Bundle.Version.String() != "1.1.0" {
		t.Fatalf("prepared %+v", rev)
	}
	dry := *rev
	dry.Options.DryRun = true
	if d, err := c.Perform(ctx, &dry); err != nil || d.Version != "1.1.0" {
		t.Fatalf("dry run: %+v, %v", d, err)
	}
	if last := f.Last(t, "app"); last.Version != 1 {
		t.Fatalf("the dry run stored revision %d", last.Version)
	}
	rel, err := c.Perform(ctx, rev)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 2 || rel.Version != "1.1.0" {
		t.Errorf("performed revision %d of %s", rel.Revision, rel.Version)
	}
	if n := lab.Calls("app") - before; n != 1 {
		t.Errorf("prepare, diff and perform asked for app's versions %d times, want 1", n)
	}
}

// preparedUpgrade is appInstalled with app 1.1.0 on the shelf, and the
// upgrade of release app to it prepared.
func preparedUpgrade(t *testing.T) (*releasetest.Fixture, *Client, *Revision) {
	t.Helper()
	lab, f, c := appInstalled(t)
	lab.Add(t, "app", "1.1.0", "db")
	rev, err := c.Prepare(context.Background(), PrepareOptions{Upgrade: &UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	return f, c, rev
}

// A revision prepared over a release that moved on before it was performed
// is refused, changing nothing: it would undo what came in between.
func TestAStaleRevisionIsRefused(t *testing.T) {
	ctx := context.Background()
	f, c, rev := preparedUpgrade(t)
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Perform(ctx, rev); !errors.Is(err, errdefs.ErrStale) {
		t.Fatalf("performing a revision prepared over revision 1 after revision 2: %v", err)
	}
	if last := f.Last(t, "app"); last.Version != 2 {
		t.Errorf("the stale revision stored revision %d", last.Version)
	}

	// An install prepared for a name that was taken since is refused as
	// an install over an existing release.
	inst, err := c.Prepare(ctx, PrepareOptions{Install: &InstallOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "other"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Perform(ctx, inst); !errors.Is(err, ErrExists) {
		t.Errorf("performing an install over a release installed since: %v", err)
	}
}

// A revision performed as a dry run, then for real, is the same revision
// both times: Helm's actions change the chart they run (disabled subcharts
// dropped), so each run gets its own copy.
func TestARevisionPerformedDryThenForReal(t *testing.T) {
	ctx := context.Background()
	f, c, rev := preparedUpgrade(t)
	dry := *rev
	dry.Options.DryRun = true
	dr, err := c.Perform(ctx, &dry)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := c.Perform(ctx, rev)
	if err != nil {
		t.Fatal(err)
	}
	if dr.Manifest != rel.Manifest || rel.Manifest == "" {
		t.Errorf("the dry run and the upgrade differ:\n%s\n---\n%s", dr.Manifest, rel.Manifest)
	}
	if last := f.Last(t, "app"); last.Version != 2 {
		t.Errorf("revision %d stored, want 2", last.Version)
	}
}

func TestPrepareNeedsOneOperation(t *testing.T) {
	_, _, c := appInstalled(t)
	if _, err := c.Prepare(context.Background(), PrepareOptions{}); err == nil {
		t.Error("Prepare of no operation")
	}
}
