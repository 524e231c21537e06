package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// helmCLI returns the helm binary make test builds at our Helm version.
func helmCLI(t *testing.T) string { return testutil.HelmCLI(t) }

// runHelm runs the helm CLI with a configuration, cache and data of its
// own, and returns what it prints on stdout; the test stops if it fails.
func runHelm(t testing.TB, helm string, args ...string) string {
	t.Helper()
	cmd := exec.Command(helm, args...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// helmPackage packages the catalog's chart name with helm package
// --dependency-update, which vendors the library chart it depends on
// (file://../common), from a copy of both so that the repository stays
// untouched. It returns the archive.
func helmPackage(t testing.TB, helm, name string) string {
	t.Helper()
	src, dest := t.TempDir(), t.TempDir()
	for _, d := range []string{name, "common"} {
		if err := os.CopyFS(filepath.Join(src, d), os.DirFS(filepath.Join("../../bundles/stable", d))); err != nil {
			t.Fatal(err)
		}
	}
	runHelm(t, helm, "package", "--dependency-update", filepath.Join(src, name), "-d", dest)
	archives, _ := filepath.Glob(filepath.Join(dest, name+"-*.tgz"))
	if len(archives) != 1 {
		t.Fatalf("helm package made %v", archives)
	}
	return archives[0]
}
