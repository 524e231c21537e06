package release

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/Masterminds/semver/v3"
	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// shelf is a repository of bundles in memory ("lab"), whose versions a test
// adds as it goes; it counts how often the solver asks for version lists.
type shelf struct {
	mu       sync.Mutex
	bundles  map[string]map[string]*bundle.Bundle // name -> version -> bundle
	versions map[string]int                       // calls of Versions by name
}

func newShelf() *shelf {
	return &shelf{bundles: map[string]map[string]*bundle.Bundle{}, versions: map[string]int{}}
}

// add puts NAME VERSION on the shelf, requiring the given bundles of lab.
func (s *shelf) add(t *testing.T, name, version string, requires ...string) {
	t.Helper()
	files := fstest.MapFS{
		"Chart.yaml":        {Data: []byte(fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version))},
		"templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n")},
	}
	if len(requires) > 0 {
		y := "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n"
		for _, r := range requires {
			y += fmt.Sprintf("  %s: {bundle: %s, repository: lab, version: \">=1.0.0\"}\n", r, r)
		}
		files["bundle.yaml"] = &fstest.MapFile{Data: []byte(y)}
	}
	b, err := bundle.Load(files, "lab/"+name)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bundles[name] == nil {
		s.bundles[name] = map[string]*bundle.Bundle{}
	}
	s.bundles[name][version] = b
}

func (s *shelf) Versions(_ context.Context, name string) ([]*semver.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[name]++
	var out []*semver.Version
	for v := range s.bundles[name] {
		out = append(out, semver.MustParse(v))
	}
	if len(out) == 0 {
		return nil, errdefs.New(errdefs.ErrNotFound, "lab has no %s", name)
	}
	sort.Sort(semver.Collection(out))
	return out, nil
}

func (s *shelf) Load(_ context.Context, name string, v *semver.Version) (*bundle.Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bundles[name][v.String()]; ok {
		return b, nil
	}
	return nil, errdefs.New(errdefs.ErrNotFound, "lab has no %s %s", name, v)
}

func (s *shelf) calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[name]
}

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
	lab.add(t, "db", "1.0.0")
	lab.add(t, "app", "1.0.0", "db")
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
	lab.add(t, "db", "1.1.0")
	before := lab.calls("db")
	rel, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if n := lab.calls("db") - before; n != 1 {
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
	lab.add(t, "db", "2.0.0")
	files := fstest.MapFS{
		"Chart.yaml":  {Data: []byte("apiVersion: v2\nname: app\nversion: 2.0.0\n")},
		"bundle.yaml": {Data: []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: db, repository: lab, version: ^2}\n")},
	}
	b, err := bundle.Load(files, "lab/app")
	if err != nil {
		t.Fatal(err)
	}
	lab.bundles["app"]["2.0.0"] = b
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
	lab.add(t, "db", "1.0.0")
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
	if last := f.Last(t, "db"); last.Version != 2 || last.Info.Status != helmrelease.StatusFailed {
		t.Errorf("after the failed upgrade: revision %d %s", last.Version, last.Info.Status)
	}
	// Resolution errors come before the cluster is touched.
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/nope"}, ReleaseName: "db"}); !errors.Is(err, resolve.ErrNotFound) {
		t.Errorf("unknown bundle: %v", err)
	}
}
