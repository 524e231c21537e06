package testutil

import (
	"strconv"
	"strings"
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

// Manifest is the objects of a release's manifest (YAML documents joined
// by ---), in order, so that tests assert on fields, not on text.
func Manifest(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split("\n"+manifest, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		if u := Unstructured(t, doc); len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// Find is the object of kind and name among objs; nil when there is
// none.
func Find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// Field is the value at the dotted path of obj (list elements by index:
// "spec.rules.0.host"); nil when there is none. Numbers are float64, as
// JSON decodes them.
func Field(obj *unstructured.Unstructured, path string) any {
	if obj == nil {
		return nil
	}
	var cur any = obj.Object
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}
