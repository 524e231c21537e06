package testutil

import (
	"strconv"
	"testing"
	"time"
)

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

func TestDig(t *testing.T) {
	doc := map[string]any{"a": []any{map[string]any{"b": "x"}}}
	for _, tt := range []struct {
		path []any
		want any
	}{
		{[]any{"a", 0, "b"}, "x"},
		{[]any{"a", 1, "b"}, nil},
		{[]any{"a", -1}, nil},
		{[]any{"a", "b"}, nil},
		{[]any{"nope", 0}, nil},
	} {
		if got := Dig(doc, tt.path...); got != tt.want {
			t.Errorf("Dig(%v) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestPoll(t *testing.T) {
	n := 0
	if ok, why := Poll(time.Minute, time.Millisecond, func() (bool, string) { n++; return n == 3, strconv.Itoa(n) }); !ok || why != "3" {
		t.Errorf("Poll = %v %q, want true after the third call", ok, why)
	}
	if ok, why := Poll(10*time.Millisecond, time.Millisecond, func() (bool, string) { return false, "never" }); ok || why != "never" {
		t.Errorf("Poll = %v %q, want false with the last reason", ok, why)
	}
}

func TestManifestFindField(t *testing.T) {
	objs := Manifest(t, "---\n# Source: a\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n---\n\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: web, annotations: {user: u1}}\n")
	if len(objs) != 2 {
		t.Fatalf("%d objects, want 2", len(objs))
	}
	svc := Find(objs, "Service", "web")
	for path, want := range map[string]any{"spec.ports.0.port": float64(80), "spec.ports.1.port": nil, "spec.ports.x": nil, "metadata.name": "web", "kind.deeper": nil} {
		if got := Field(svc, path); got != want {
			t.Errorf("Field(%s) = %#v, want %#v", path, got, want)
		}
	}
	if got := Field(Find(objs, "Secret", "web"), "metadata.annotations.user"); got != "u1" {
		t.Errorf("the Secret's user: %v", got)
	}
	if Find(objs, "Secret", "db") != nil || Field(nil, "metadata") != nil {
		t.Error("found what is not there")
	}
}
