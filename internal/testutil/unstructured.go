package testutil

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Unstructured is the object of a YAML document, as a test writes it.
func Unstructured(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// WantObject fails t unless got, said as what, is want.
func WantObject(t testing.TB, what string, got, want *unstructured.Unstructured) {
	t.Helper()
	g, _ := yaml.Marshal(got.Object)
	w, _ := yaml.Marshal(want.Object)
	if string(g) != string(w) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, g, w)
	}
}
