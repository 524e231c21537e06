package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata/diff")

// normalize replaces what differs from run to run in bundle diff's output:
// the test's namespace, checksums (numbered in the order they first
// appear, so that a changed one still shows) and timestamps.
func normalize(s, ns string) string {
	s = strings.ReplaceAll(s, ns, "NAMESPACE")
	seen := map[string]string{}
	s = regexp.MustCompile(`\b[0-9a-f]{64}\b`).ReplaceAllStringFunc(s, func(h string) string {
		if _, ok := seen[h]; !ok {
			seen[h] = fmt.Sprintf("CHECKSUM-%d", len(seen)+1)
		}
		return seen[h]
	})
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).ReplaceAllString(s, "TIMESTAMP")
	return s
}

func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "diff", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs (go test -run %s -update rewrites it):\n%s", path, t.Name(), got)
	}
}

// The plan of a catalog upgrade, text and JSON, to the byte: stable/mediawiki
// with a new site name changes its ConfigMap and, through the checksum,
// its Deployment; mariadb stays as it is.
func TestDiffUpgradeCatalogGolden(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	e.mustBundle(t, "install", "docs", "stable/mediawiki", "-n", ns)
	for _, tt := range []struct{ file, format string }{
		{"mediawiki-upgrade.txt", ""},
		{"mediawiki-upgrade.json", "json"},
		{"mediawiki-upgrade.mmd", "mermaid"},
	} {
		args := []string{"upgrade", "docs", "stable/mediawiki", "--set", "wiki.name=Team docs"}
		if tt.format != "" {
			args = append(args, "-o", tt.format)
		}
		code, out, errs := e.diffRun(t, ns, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", tt.file, code, errs)
		}
		goldenFile(t, tt.file, normalize(out, ns))
	}
}
