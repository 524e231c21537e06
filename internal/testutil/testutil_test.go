package testutil

import (
	"reflect"
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

func TestDeploymentYAML(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{DeploymentYAML("web", PodSpec("containers: [{name: web, image: nginx}]")), `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`},
		{DeploymentYAML("web", App("w"), Replicas("2"), PodAnnotations("v: x"), PodSpec("containers:\n- name: web\n\n  image: nginx\n")), `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: w}}
  template:
    metadata:
      labels: {app: w}
      annotations: {v: x}
    spec:
      containers:
      - name: web

        image: nginx
`},
		{DeploymentYAML("web", App(""), Metadata("uid: 1\nlabels: {a: b}"), PodSpec("containers: []")), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  uid: 1
  labels: {a: b}
spec:
  template:
    spec:
      containers: []
`},
	} {
		if tt.got != tt.want {
			t.Errorf("got:\n%s\nwant:\n%s", tt.got, tt.want)
		}
	}
}

func TestChartTree(t *testing.T) {
	got := Chart{Name: "app", Values: "a: 1\n", Templates: map[string]string{"cm.yaml": "x"}, Files: map[string]string{"bundle.yaml": "y"}}.Tree()
	want := map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n", "values.yaml": "a: 1\n", "templates/cm.yaml": "x", "bundle.yaml": "y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
