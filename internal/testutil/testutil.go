// Package testutil holds what several test packages need: what make test
// provides (the helm 3 and helm 4 CLIs, the local control plane; a test
// skips without them, or fails under make test), the bundle binary,
// waiting until a condition holds, a comparison of JSON documents with
// helm's, walking decoded documents, and files: trees, a post-renderer,
// golden files, and builders of the charts and objects tests write
// (fixtures.go).
package testutil

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Missing stops a test that lacks what make test provides: under make test
// (BUNDLE_E2E_REQUIRED is set), where it must be there, the test fails
// saying fail; elsewhere it skips saying skip.
func Missing(t testing.TB, fail, skip string) {
	t.Helper()
	if os.Getenv("BUNDLE_E2E_REQUIRED") != "" {
		t.Fatal(fail)
	}
	t.Skip(skip)
}

// HelmCLI returns the helm binary make test builds at our Helm version
// ($BUNDLE_TEST_HELM); the test skips without it, or fails under make test.
func HelmCLI(t testing.TB) string {
	t.Helper()
	return fromMake(t, "BUNDLE_TEST_HELM", "make test builds the helm CLI", "make test builds the helm CLI")
}

// Helm4CLI returns the helm 4 binary make test builds beside helm 3
// ($BUNDLE_TEST_HELM4), which the conformance tests and the bench hold
// bundle to as well; the test skips without it, or fails under make test.
func Helm4CLI(t testing.TB) string {
	t.Helper()
	return fromMake(t, "BUNDLE_TEST_HELM4", "make test builds the helm 4 CLI", "make test builds the helm 4 CLI")
}

// Kubeconfig returns the kubeconfig of the local control plane make test
// starts ($BUNDLE_TEST_KUBECONFIG); the test skips without it, or fails
// under make test.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	return fromMake(t, "BUNDLE_TEST_KUBECONFIG", "make test starts a local control plane", "start a control plane with make cluster-up")
}

// KubeconfigOneNode returns the kubeconfig of the single-node control plane
// make test starts besides the other ($BUNDLE_TEST_KUBECONFIG_ONE_NODE), on
// which every catalog bundle must install with default values; the test
// skips without it, or fails under make test.
func KubeconfigOneNode(t testing.TB) string {
	t.Helper()
	return fromMake(t, "BUNDLE_TEST_KUBECONFIG_ONE_NODE", "make test starts a single-node control plane", "make test starts a single-node control plane and sets it")
}

// fromMake returns the environment variable name, which make test sets
// (provides says how it comes by the value). Without it the test skips,
// or, under make test, fails saying what fixes it.
func fromMake(t testing.TB, name, provides, fix string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, name+" is not set: "+fix, name+" not set; "+provides+" and sets it")
	}
	return v
}

// bundleBinary is the bundle command BundleBinary built.
var bundleBinary struct {
	once sync.Once
	path string
	err  error
}

// BundleBinary returns the bundle command built from this module, for tests
// that run it as a process of its own. It is built once per test binary,
// into a temporary directory: a package that calls it removes it after its
// tests with RemoveBundleBinary, in its TestMain.
func BundleBinary(t testing.TB) string {
	t.Helper()
	bundleBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "bundle-test-bin-")
		if err != nil {
			bundleBinary.err = err
			return
		}
		bundleBinary.path = filepath.Join(dir, "bundle")
		out, err := exec.Command("go", "build", "-o", bundleBinary.path, "github.com/bundlesh/bundle/cmd/bundle").CombinedOutput()
		if err != nil {
			bundleBinary.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if bundleBinary.err != nil {
		t.Fatal(bundleBinary.err)
	}
	return bundleBinary.path
}

// RemoveBundleBinary removes what BundleBinary built, if anything.
func RemoveBundleBinary() {
	if bundleBinary.path != "" {
		os.RemoveAll(filepath.Dir(bundleBinary.path))
	}
}

// Poll asks cond every interval until it holds or timeout has passed, and
// returns its last answer: whether it holds, and why not.
func Poll(timeout, interval time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok || time.Now().After(deadline) {
			return ok, why
		}
		time.Sleep(interval)
	}
}

// Subset reports where the JSON document want (helm's) is not contained in
// got (bundle's): the path of the first field missing or different, and
// how, or "", "" when every field of want is in got with its value.
func Subset(want, got any, path string) (string, string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, "not an object"
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return path + "." + k, "missing"
			}
			if p, d := Subset(wv, gv, path+"."+k); d != "" {
				return p, d
			}
		}
		return "", ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path, "not an array of the same length"
		}
		for i := range w {
			if p, d := Subset(w[i], g[i], path+"["+strconv.Itoa(i)+"]"); d != "" {
				return p, d
			}
		}
		return "", ""
	default:
		if !reflect.DeepEqual(want, got) {
			b, _ := json.Marshal(got)
			c, _ := json.Marshal(want)
			return path, "got " + string(b) + ", helm has " + string(c)
		}
		return "", ""
	}
}

// WriteTree writes files (slash-separated path under dir -> content) and
// returns dir: a chart or bundle a test describes inline.
func WriteTree(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Dig walks a decoded JSON or YAML document by map key (a string) and
// list index (an int); nil where the path is not there.
func Dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// PostRenderer writes an executable post-renderer and returns its path: it
// replaces "small" (the size of the widgets chart of pkg/render's
// testdata) by its first argument, or by "tiny" without one.
func PostRenderer(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "post-render.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexec sed \"s/small/${1:-tiny}/g\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// PostRendererPlugin installs the post-renderer of PostRenderer as a Helm
// 4 plugin of type postrenderer/v1 named "sizer" in a new plugins
// directory, which it sets as $HELM_PLUGINS for the test, and returns
// the plugin's name and the directory: what helm 4's --post-renderer
// takes.
func PostRendererPlugin(t *testing.T) (name, dir string) {
	t.Helper()
	dir = t.TempDir()
	plugin := filepath.Join(dir, "sizer")
	if err := os.MkdirAll(plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"plugin.yaml": "name: sizer\nversion: 0.1.0\ntype: postrenderer/v1\napiVersion: v1\nruntime: subprocess\n" +
			"runtimeConfig:\n  platformCommand:\n  - command: \"${HELM_PLUGIN_DIR}/post-render.sh\"\n",
		"post-render.sh": "#!/bin/sh\nexec sed \"s/small/${1:-tiny}/g\"\n",
	}
	for n, text := range files {
		if err := os.WriteFile(filepath.Join(plugin, n), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HELM_PLUGINS", dir)
	return "sizer", dir
}

// Golden compares got with the golden file at path, or, with update (a
// test's -update flag), writes it. A difference names the file and says
// how to rewrite it.
func Golden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run %s with -update to rewrite it); got:\n%s", path, t.Name(), got)
	}
}

// Phase runs fn as subtest name of a test whose phases build on each
// other, so that each reads as a step of the specification: when it
// fails, the test stops there (a later phase would start from a state the
// failed one did not leave).
func Phase(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}
