package bluegreen

import (
	"context"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/action"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/repo"
)

// tc is the client of these tests: the blue-green client (Upgrade,
// Rollback, Prune, Uninstall, ...), the release client it runs over and
// guards (rel), and what is behind them: the Helm configuration its
// release client runs with (cfg, whose storage and kube client tests read
// and replace), and the repositories.
type tc struct {
	*Client
	rel   *release.Client
	cfg   *action.Configuration
	repos plan.References
}

// newTC is the test client of namespace ns of fixture f over repos.
func newTC(f *releasetest.Fixture, ns string, repos plan.References) *tc {
	env := &release.Env{Config: f.ConfigFor(ns), Namespace: ns, AllNamespaces: f.AllNamespaces, Clientset: f.Kubernetes}
	if ns == f.Namespace {
		env.Config = f.Config()
	}
	rel := release.NewWithEnv(env, repos)
	return &tc{Client: New(rel), rel: rel, cfg: env.Config, repos: repos}
}

type shelf = releasetest.Shelf

// bindLab is releasetest.BindShelf with db 1.1.0 installed as team-db in
// namespace data, and a client of namespace team.
func bindLab(t *testing.T) (*shelf, *releasetest.Fixture, *tc) {
	t.Helper()
	lab := releasetest.BindShelf(t)
	f := releasetest.New("data")
	set := repo.NewSet(map[string]repo.Repository{"lab": lab})
	data := newTC(f, "data", set)
	if _, err := data.rel.Install(context.Background(), release.InstallOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "1.1.0")}, ReleaseName: "team-db"}); err != nil {
		t.Fatal(err)
	}
	return lab, f, newTC(f, "team", set)
}

// claimLab adds claims' bundles to lab (releasetest.AddClaimBundles).
func claimLab(t *testing.T, lab *shelf) { releasetest.AddClaimBundles(t, lab) }

func mustConstraint(t *testing.T, s string) *semver.Constraints { return releasetest.Constraint(t, s) }

// sharedProvider is bindLab with claimLab's bundles, and cdb installed as
// release shared in namespace team (the client's).
func sharedProvider(t *testing.T) (*shelf, *releasetest.Fixture, *tc) {
	t.Helper()
	lab, f, c := bindLab(t)
	claimLab(t, lab)
	if _, err := c.rel.Install(context.Background(), release.InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	return lab, f, c
}

// blueAndGreen upgrades lab/capp as blue-green app wiki bound to shared
// twice: blue live, then green, with blue its spare.
func blueAndGreen(t *testing.T, c *tc) {
	t.Helper()
	for _, bind := range [][]string{{"database=shared"}, nil} {
		if _, err := c.Upgrade(context.Background(), release.UpgradeOptions{Source: plan.Source{Reference: "lab/capp", Bind: bind}, ReleaseName: "wiki"}); err != nil {
			t.Fatal(err)
		}
	}
}

// granted is the grant provider's owner (of namespace data) makes for
// consumer (NS/RELEASE/INSTANCE), with its objects created in the fake
// cluster.
func granted(t *testing.T, f *releasetest.Fixture, repos plan.References, provider, consumer string) *release.Granted {
	t.Helper()
	cons, err := plan.ParseConsumer(consumer)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newTC(f, "data", repos).rel.Grant(context.Background(), release.GrantOptions{Provider: provider, Consumer: cons})
	if err != nil {
		t.Fatal(err)
	}
	f.Apply(t, "data", g.Manifest)
	return g
}
