package cli

import (
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// appRequiringLeaf writes bundle app 0.1.0, which requires leaf ^1 of
// repository (a name or an address) as store.
func appRequiringLeaf(t *testing.T, repository string) string {
	t.Helper()
	return testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  store:\n    bundle: leaf\n    repository: " + repository + "\n    version: ^1\n",
	})
}

// serveCharts packages the test catalog's leaf bundle into a directory,
// indexes it with bundle repo index, and serves it (gzip when asked).
func serveCharts(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if code, _, errs := run(t, "package", "../../pkg/render/testdata/catalog/leaf", "-d", dir); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := run(t, "repo", "index", dir, "--url", "http://placeholder/charts"); code != 0 || !strings.Contains(out, "(1 charts)") {
		t.Fatalf("repo index: %d %q %q", code, out, errs)
	}
	// Index again with relative URLs, as served.
	if code, _, errs := run(t, "repo", "index", dir); code != 0 {
		t.Fatal(errs)
	}
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/index.yaml" && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			data, _ := os.ReadFile(filepath.Join(dir, "index.yaml"))
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(data)
			zw.Close()
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, dir
}

func TestRepoLifecycle(t *testing.T) {
	url, dir := serveCharts(t)
	if code, out, errs := run(t, "repo", "add", "charts", url); code != 0 || !strings.Contains(out, `"charts" has been added`) {
		t.Fatalf("repo add: %d %q %q", code, out, errs)
	}
	defer run(t, "repo", "remove", "charts")
	if code, _, errs := run(t, "repo", "add", "charts", url); code != ExitError || !strings.Contains(errs, `repository "charts" already exists`) {
		t.Errorf("second add: %d %q", code, errs)
	}
	if code, out, _ := run(t, "repo", "list"); code != 0 || !strings.Contains(out, "charts  "+url) {
		t.Errorf("repo list: %q", out)
	}
	code, out, errs := run(t, "template", "r", "charts/leaf")
	if code != 0 || !strings.Contains(out, "name: r-leaf") {
		t.Fatalf("template from the repository: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "repo", "update"); code != 0 {
		t.Errorf("repo update: %s", errs)
	}
	// A requirement naming the repository by address.
	app := appRequiringLeaf(t, url)
	if code, out, errs := run(t, "template", app); code != 0 || !strings.Contains(out, "name: app-store") {
		t.Errorf("requirement from an http repository: %d %q", code, errs)
	}
	// The archive changes under the index: refused.
	archive := filepath.Join(dir, "leaf-1.2.0.tgz")
	data, _ := os.ReadFile(archive)
	os.WriteFile(archive, append(data[:len(data)-1], data[len(data)-1]^0xff), 0o644)
	code, _, errs = run(t, "template", "charts/leaf")
	if code != ExitError || !strings.Contains(errs, "but the index says") {
		t.Errorf("corrupted archive: %d %q", code, errs)
	}
	if code, out, _ := run(t, "repo", "remove", "charts"); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("repo remove: %q", out)
	}
	if code, _, errs := run(t, "template", "charts/leaf"); code != ExitError || !strings.Contains(errs, `unknown repository "charts"`) {
		t.Errorf("after remove: %q", errs)
	}
}

func TestRepoBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"repo", "add", "stable", "https://example.com"}, `repository name "stable" is the built-in catalog`},
		{[]string{"repo", "add", "Bad Name", "https://example.com"}, `repository name "Bad Name"`},
		{[]string{"repo", "add", "x", "ftp://example.com"}, `"ftp://example.com" is not an http(s) address`},
		{[]string{"repo", "add", "x", "http://127.0.0.1:1"}, "repository x:"},
		{[]string{"repo", "remove", "nope"}, `no repository named "nope"`},
		{[]string{"repo", "index", t.TempDir(), "--url", "nope"}, `--url "nope": give an http(s) address`},
	}
	for _, tt := range tests {
		code, _, errs := run(t, tt.args...)
		if code == 0 || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d %q, want %q", tt.args, code, errs, tt.want)
		}
	}
}
