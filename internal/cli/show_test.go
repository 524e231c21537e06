package cli

import (
	"strings"
	"testing"
)

func TestShow(t *testing.T) {
	code, out, errs := run(t, "show", "stable/mediawiki")
	if code != 0 || !strings.Contains(out, "mediawiki 1.2.0 (app 1.43.1)") || !strings.Contains(out, "database  mariadb  ^1.0.0") {
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
