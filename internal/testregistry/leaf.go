package testregistry

import (
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
)

// Leaf returns the package (a chart archive) of bundle leaf at version, a
// ConfigMap x with values (no values file when empty), as tests push it.
// (Importing pkg/bundle here is why pkg/bundle's own tests, and those of
// what it imports, cannot use this package.)
func Leaf(t testing.TB, version, values string) []byte {
	t.Helper()
	files := map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: leaf\nversion: " + version + "\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
	}
	if values != "" {
		files["values.yaml"] = values
	}
	b, err := bundle.LoadDir(testutil.WriteTree(t, t.TempDir(), files))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := b.Package()
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}
