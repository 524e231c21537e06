package repo

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateCatalog = flag.Bool("update-catalog", false, "rewrite bundles/stable/DIGESTS after a version bump")

const digestsFile = "../../bundles/stable/DIGESTS"

// TestCatalogVersionBumps keeps bundles/stable/DIGESTS, the record of each
// catalog bundle's version and content digest. A bundle whose content
// changed under the same version fails: bump its version in Chart.yaml
// (then run go test ./pkg/repo -update-catalog, or make catalog).
func TestCatalogVersionBumps(t *testing.T) {
	c := Stable()
	names, err := c.names(true) // library charts are versioned too
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("# name version digest: written by make catalog; a test checks every bundle change bumps its version\n")
	current := map[string][2]string{}
	for _, n := range names {
		bu := c.byName[n]
		d, err := bu.Digest()
		if err != nil {
			t.Fatal(err)
		}
		current[n] = [2]string{bu.Version.String(), d}
		fmt.Fprintf(&b, "%s %s %s\n", n, bu.Version, d)
	}
	if *updateCatalog {
		if err := os.WriteFile(digestsFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(digestsFile)
	if err != nil {
		t.Fatalf("%v (run make catalog)", err)
	}
	recorded := map[string][2]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && !strings.HasPrefix(line, "#") {
			recorded[f[0]] = [2]string{f[1], f[2]}
		}
	}
	for n, cur := range current {
		rec, ok := recorded[n]
		switch {
		case !ok:
			t.Errorf("%s is new: run make catalog to record it", n)
		case rec[0] == cur[0] && rec[1] != cur[1]:
			t.Errorf("stable/%s changed without a version bump (still %s): bump version in bundles/stable/%s/Chart.yaml, then run make catalog", n, cur[0], n)
		case rec != cur:
			t.Errorf("stable/%s is now %s: run make catalog to record it", n, cur[0])
		}
	}
	for n := range recorded {
		if _, ok := current[n]; !ok {
			t.Errorf("%s is recorded but no longer in the catalog: run make catalog", n)
		}
	}
}
