package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testregistry"
)

func TestShow(t *testing.T) {
	code, out, errs := run(t, "show", "stable/mediawiki")
	if code != 0 || !strings.Contains(out, "mediawiki 1.2.2 (app 1.43.1)") || !strings.Contains(out, "database  mariadb  ^1.0.0") {
		t.Fatalf("show: %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "show", "stable/mariadb", "outputs")
	if code != 0 || !strings.Contains(out, "passwordSecret  {{ include \"common.secretName\" . }}") {
		t.Errorf("show outputs:\n%s", out)
	}
	if code, out, _ := run(t, "show", "stable/mariadb", "values"); code != 0 || !strings.Contains(out, "tag: \"11.4.5\"") {
		t.Errorf("show values:\n%s", out)
	}
	if code, out, _ := run(t, "show", "stable/mariadb", "readme"); code != 0 || !strings.HasPrefix(out, "# mariadb") {
		t.Errorf("show readme:\n%s", out)
	}
	// The library chart the catalog's charts depend on is shown, though not listed.
	if code, out, _ := run(t, "show", "stable/common", "chart"); code != 0 || !strings.Contains(out, "type: library") {
		t.Errorf("show the library chart:\n%s", out)
	}
	if code, _, errs := run(t, "show", "stable/mariadb", "nope"); code != ExitUsage || !strings.Contains(errs, `"nope": show one of all, chart, values, readme, crds, outputs, requires`) {
		t.Errorf("bad section: %d %q", code, errs)
	}
}

func TestSearch(t *testing.T) {
	code, out, _ := run(t, "search", "WIKI")
	if code != 0 || !strings.Contains(out, "stable/mediawiki") || strings.Contains(out, "stable/mariadb ") {
		t.Errorf("search WIKI:\n%s", out)
	}
	code, out, _ = run(t, "search")
	if code != 0 || !strings.Contains(out, "stable/mariadb") || !strings.Contains(out, "stable/mediawiki") || strings.Contains(out, "stable/common") {
		t.Errorf("search all:\n%s", out)
	}
	url, _ := serveCharts(t)
	if code, _, errs := run(t, "repo", "add", "searchme", url); code != 0 {
		t.Fatal(errs)
	}
	defer run(t, "repo", "remove", "searchme")
	if code, out, _ := run(t, "search", "leaf"); code != 0 || !strings.Contains(out, "searchme/leaf  1.2.0") {
		t.Errorf("search in an added repository:\n%s", out)
	}
}

// serveLeafVersions serves a repository holding bundle leaf at each
// version, indexed by bundle repo index.
func serveLeafVersions(t *testing.T, versions ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, v := range versions {
		if err := os.WriteFile(filepath.Join(dir, "leaf-"+v+".tgz"), testregistry.Leaf(t, v, ""), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errs := run(t, "repo", "index", dir); code != 0 {
		t.Fatal(errs)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// search --versions (-l, as helm's) lists every version of each bundle
// found, newest first, not only the newest.
func TestSearchVersions(t *testing.T) {
	url := serveLeafVersions(t, "1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1")
	if code, _, errs := run(t, "repo", "add", "versions", url); code != 0 {
		t.Fatal(errs)
	}
	defer run(t, "repo", "remove", "versions")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"search", "leaf"}, "BUNDLE         VERSION     APP VERSION  DESCRIPTION\nversions/leaf  2.0.0-rc.1               \n"},
		{[]string{"search", "leaf", "--versions"}, "BUNDLE         VERSION     APP VERSION  DESCRIPTION\nversions/leaf  2.0.0-rc.1               \nversions/leaf  1.10.0                   \nversions/leaf  1.2.0                    \nversions/leaf  1.0.0                    \n"},
		{[]string{"search", "-l", "leaf", "-o", "json"}, `[
  {
    "name": "versions/leaf",
    "version": "2.0.0-rc.1",
    "app_version": "",
    "description": ""
  },
  {
    "name": "versions/leaf",
    "version": "1.10.0",
    "app_version": "",
    "description": ""
  },
  {
    "name": "versions/leaf",
    "version": "1.2.0",
    "app_version": "",
    "description": ""
  },
  {
    "name": "versions/leaf",
    "version": "1.0.0",
    "app_version": "",
    "description": ""
  }
]
`},
		// The built-in catalog holds one version of each bundle.
		{[]string{"search", "-l", "mediawiki", "-o", "yaml"}, "- app_version: 1.43.1\n  description: MediaWiki, the wiki engine behind Wikipedia, with its MariaDB database.\n  name: stable/mediawiki\n  version: 1.2.2\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			if code != 0 || out != tt.want {
				t.Errorf("exit %d %s\ngot\n%s\nwant\n%s", code, errs, out, tt.want)
			}
		})
	}
}
