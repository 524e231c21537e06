package testutil

import "testing"

func TestSubset(t *testing.T) {
	for _, tt := range []struct {
		want, got  any
		path, diff string
	}{
		{map[string]any{"a": 1.0}, map[string]any{"a": 1.0, "extra": true}, "", ""},
		{map[string]any{"a": 1.0}, map[string]any{}, "$.a", "missing"},
		{map[string]any{"a": []any{1.0, 2.0}}, map[string]any{"a": []any{1.0, 3.0}}, "$.a[1]", "got 3, helm has 2"},
		{[]any{1.0}, []any{}, "$", "not an array of the same length"},
		{map[string]any{"a": 1.0}, "x", "$", "not an object"},
	} {
		path, diff := Subset(tt.want, tt.got, "$")
		if path != tt.path || diff != tt.diff {
			t.Errorf("Subset(%v, %v) = %q %q, want %q %q", tt.want, tt.got, path, diff, tt.path, tt.diff)
		}
	}
}
