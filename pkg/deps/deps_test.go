package deps_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/deps"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
)

// memRepo serves bundles loaded from directories, several versions each.
type memRepo map[string][]*bundle.Bundle

func (m memRepo) Versions(_ context.Context, name string) ([]*semver.Version, error) {
	var out []*semver.Version
	for _, b := range m[name] {
		out = append(out, b.Version)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s: %w", name, repo.ErrNotFound)
	}
	return out, nil
}

func (m memRepo) Load(_ context.Context, name string, v *semver.Version) (*bundle.Bundle, error) {
	for _, b := range m[name] {
		if b.Version.Equal(v) {
			return b, nil
		}
	}
	return nil, repo.ErrNotFound
}

func leaf(t *testing.T, version, data string) *bundle.Bundle {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"Chart.yaml": "apiVersion: v2\nname: leaf\nversion: " + version + "\n", "values.yaml": data})
	b, err := bundle.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setup(t *testing.T) (*repo.Set, memRepo, string) {
	r := memRepo{"leaf": {leaf(t, "1.0.0", "a: 1\n")}}
	set := repo.NewSet(map[string]repo.Repository{"mem": r})
	app := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  store:\n    bundle: leaf\n    repository: mem\n    version: ^1.0.0\n",
	})
	return set, r, app
}

func TestLockLifecycle(t *testing.T) {
	ctx := context.Background()
	set, r, app := setup(t)
	lockPath := filepath.Join(app, bundle.LockFileName)

	// --check without a lock fails.
	if _, err := deps.Lock(ctx, set, app, deps.LockOptions{Check: true}); !errors.Is(err, plan.ErrLockStale) {
		t.Fatalf("check without a lock: %v", err)
	}
	res, err := deps.Lock(ctx, set, app, deps.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || len(res.Changes) != 1 || res.Changes[0].To != "1.0.0" {
		t.Fatalf("first lock: %+v", res)
	}
	first, _ := os.ReadFile(lockPath)
	if _, err := deps.Lock(ctx, set, app, deps.LockOptions{Check: true}); err != nil {
		t.Fatalf("fresh lock fails --check: %v", err)
	}

	// A newer version appears: the lock keeps 1.0.0 until told otherwise.
	r["leaf"] = append(r["leaf"], leaf(t, "1.1.0", "a: 2\n"))
	res, err = deps.Lock(ctx, set, app, deps.LockOptions{})
	if err != nil || res.Written || len(res.Changes) != 0 {
		t.Fatalf("relock moved without update: %+v %v", res, err)
	}
	if again, _ := os.ReadFile(lockPath); string(again) != string(first) {
		t.Fatal("relocking changed the bytes")
	}
	res, err = deps.Lock(ctx, set, app, deps.LockOptions{Update: []string{"leaf"}})
	if err != nil || len(res.Changes) != 1 || res.Changes[0].From != "1.0.0" || res.Changes[0].To != "1.1.0" {
		t.Fatalf("update leaf: %+v %v", res, err)
	}
	if _, err := deps.Lock(ctx, set, app, deps.LockOptions{Update: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "nope is not in") {
		t.Errorf("update of an unlocked name: %v", err)
	}

	// The source serves other content under the locked version.
	r["leaf"][1] = leaf(t, "1.1.0", "a: 3\n")
	_, err = deps.Lock(ctx, set, app, deps.LockOptions{Check: true})
	if !errors.Is(err, plan.ErrLockStale) || !strings.Contains(err.Error(), "its content changed without a new version") {
		t.Errorf("digest change: %v", err)
	}

	// bundle.yaml changes: the lock is stale.
	testutil.WriteTree(t, app, map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  store:\n    bundle: leaf\n    repository: mem\n    version: ~1.0.0\n"})
	_, err = deps.Lock(ctx, set, app, deps.LockOptions{Check: true})
	if !errors.Is(err, plan.ErrLockStale) || !strings.Contains(err.Error(), "the requirements in bundle.yaml changed") {
		t.Errorf("requirements change: %v", err)
	}
	// Locking again moves leaf back within ~1.0.0.
	res, err = deps.Lock(ctx, set, app, deps.LockOptions{})
	if err != nil || len(res.Changes) != 1 || res.Changes[0].To != "1.0.0" {
		t.Fatalf("relock after change: %+v %v", res, err)
	}
}

func TestDepsTree(t *testing.T) {
	set, _, app := setup(t)
	tree, err := deps.Deps(context.Background(), set, app)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Bundle != "app" || len(tree.Requires) != 1 {
		t.Fatalf("tree %+v", tree)
	}
	c := tree.Requires[0]
	if c.Instance != "store" || c.Bundle != "leaf" || c.Version != "1.0.0" || c.Constraint != "^1.0.0" || c.RequiredBy != "app 0.1.0" || c.Repository != "mem" {
		t.Errorf("node %+v", c)
	}
}

// Every catalog bundle's lock is up to date with the catalog compiled in:
// change a bundle and forget to relock (make lock), and this fails.
func TestCatalogLocksUpToDate(t *testing.T) {
	entries, err := os.ReadDir("../../bundles/stable")
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{"../../examples/shop"}
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("../../bundles/stable", e.Name()))
		}
	}
	for _, dir := range dirs {
		b, err := bundle.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.File.Requires) == 0 {
			continue
		}
		if _, err := deps.Lock(context.Background(), repo.NewSet(nil), dir, deps.LockOptions{Check: true}); err != nil {
			t.Errorf("%s: %v (run make lock)", dir, err)
		}
	}
}
