package testutil

import (
	"reflect"
	"testing"
)

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
