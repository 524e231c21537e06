package release

import (
	"reflect"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/pkg/plan"
)

// The values an upgrade starts from follow Helm's rules for --reset-values,
// --reuse-values and --reset-then-reuse-values, but the wiring bundle put
// under requires: (at the top and in a requirement's values, for a nested
// one) is never reused.
func TestUpgradeValues(t *testing.T) {
	last := func() *helmrelease.Release {
		return &helmrelease.Release{
			Version: 3,
			Chart: &chart.Chart{
				Metadata: &chart.Metadata{Name: "app", Version: "1.0.0", Annotations: map[string]string{
					plan.ResolvedAnnotation: `[{"instance":"db","bundle":"mariadb","version":"1.0.0"},{"instance":"db.cache","bundle":"redis","version":"1.0.0"},{"instance":"search","bundle":"opensearch","version":"1.0.0"}]`,
				}},
				Values: map[string]any{"replicas": 1, "image": "app:1", "db": map[string]any{"auth": map[string]any{"database": "app"}}},
			},
			Config: map[string]any{
				"replicas": 2,
				"title":    "Old",
				"requires": map[string]any{"db": map[string]any{"host": "stale.svc"}, "search": map[string]any{"url": "stale"}},
				"db":       map[string]any{"size": "1Gi", "requires": map[string]any{"cache": map[string]any{"host": "stale-cache"}}, "cache": map[string]any{}},
				"search":   map[string]any{},
			},
		}
	}
	oldUser := map[string]any{"replicas": 2, "title": "Old", "db": map[string]any{"size": "1Gi"}}
	tests := []struct {
		name         string
		given        map[string]any
		opts         UpgradeOptions
		wantUser     map[string]any
		wantDefaults map[string]any
	}{
		{"no values given: the current ones are kept", map[string]any{}, UpgradeOptions{}, oldUser, nil},
		{"values given: only they count", map[string]any{"title": "New"}, UpgradeOptions{}, map[string]any{"title": "New"}, nil},
		{"--reset-values", map[string]any{}, UpgradeOptions{ResetValues: true}, map[string]any{}, nil},
		{"--reset-values wins", map[string]any{"title": "New"}, UpgradeOptions{ResetValues: true, ReuseValues: true, ResetThenReuseValues: true}, map[string]any{"title": "New"}, nil},
		{"--reuse-values: over the current values and defaults", map[string]any{"title": "New", "db": map[string]any{"size": "5Gi"}}, UpgradeOptions{ReuseValues: true},
			map[string]any{"replicas": 2, "title": "New", "db": map[string]any{"size": "5Gi"}},
			map[string]any{"replicas": 2, "title": "Old", "image": "app:1", "db": map[string]any{"size": "1Gi", "auth": map[string]any{"database": "app"}}}},
		{"--reuse-values wins over --reset-then-reuse-values", map[string]any{}, UpgradeOptions{ReuseValues: true, ResetThenReuseValues: true}, oldUser,
			map[string]any{"replicas": 2, "title": "Old", "image": "app:1", "db": map[string]any{"size": "1Gi", "auth": map[string]any{"database": "app"}}}},
		{"--reset-then-reuse-values: over the current values, with the new defaults", map[string]any{"replicas": 3}, UpgradeOptions{ResetThenReuseValues: true},
			map[string]any{"replicas": 3, "title": "Old", "db": map[string]any{"size": "1Gi"}}, nil},
		{"null deletes a reused value", map[string]any{"title": nil}, UpgradeOptions{ResetThenReuseValues: true},
			map[string]any{"replicas": 2, "db": map[string]any{"size": "1Gi"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, defaults, err := upgradeValues(last(), tt.given, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(user, tt.wantUser) {
				t.Errorf("user values\n got  %#v\n want %#v", user, tt.wantUser)
			}
			if !reflect.DeepEqual(defaults, tt.wantDefaults) {
				t.Errorf("defaults\n got  %#v\n want %#v", defaults, tt.wantDefaults)
			}
		})
	}
}
