package render_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// TestResolutionMarksWhatIsNotInstalled: the resolution a release records
// says which requirements it did not install (their condition, or an
// ancestor's, false; an existing service), at any depth.
func TestResolutionMarksWhatIsNotInstalled(t *testing.T) {
	// nest requires toggle as box (condition withBox), whose store has
	// condition useStore: a nested condition.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: nest\nversion: 1.0.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("withBox: true\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  box: {bundle: toggle, repository: test, version: '*', condition: withBox}\n"), 0o644)
	nb, err := bundle.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	nest, err := plan.Resolve(context.Background(), testSet(), nb, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		disabled, external bool
		condition          string
	}
	on := state{}
	tests := []struct {
		name string
		p    *plan.Plan
		vals map[string]any
		want map[string]state
	}{
		{"wordpress: the cache off by default", planFor(t, "stable/wordpress"), nil,
			map[string]state{"database": on, "cache": {disabled: true, condition: "objectCache.enabled"}}},
		{"wordpress: the cache on", planFor(t, "stable/wordpress"), map[string]any{"objectCache": map[string]any{"enabled": true}},
			map[string]state{"database": on, "cache": on}},
		{"nested, all on", planFor(t, "test/app"), nil,
			map[string]state{"backend": on, "backend.store": on}},
		{"a nested condition off", nest, map[string]any{"box": map[string]any{"useStore": false}},
			map[string]state{"box": on, "box.store": {disabled: true, condition: "useStore"}}},
		{"an ancestor's condition off", nest, map[string]any{"withBox": false},
			map[string]state{"box": {disabled: true, condition: "withBox"}, "box.store": {disabled: true, condition: "withBox"}}},
		{"an existing service", planFor(t, "stable/mediawiki"), map[string]any{"database": map[string]any{"external": map[string]any{
			"host": "db", "port": 3306, "database": "w", "username": "w", "passwordSecret": "s", "passwordKey": "k"}}},
			map[string]state{"database": {external: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := render.Values(tt.p, tt.vals, render.ReleaseOptions{Name: "r", Namespace: "ns"})
			if err != nil {
				t.Fatal(err)
			}
			res, err := render.Resolution(tt.p, vals)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]state{}
			for _, r := range res {
				got[r.Instance] = state{disabled: r.Disabled, external: r.External, condition: r.Condition}
				if r.Installed() != (got[r.Instance] == on) {
					t.Errorf("%s: Installed() = %v", r.Instance, r.Installed())
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("instances %v, want %v", got, tt.want)
			}
			for inst, w := range tt.want {
				if got[inst] != w {
					t.Errorf("%s: %+v, want %+v", inst, got[inst], w)
				}
			}
		})
	}
}
