package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/sign"
)

// Every file the command line reads from a path the user gives (-f,
// --set-file, --policy, --key, --kubeconfig, the repositories file) is
// read only when it is a regular file within the limit of its kind: a
// directory, a named pipe, /dev/zero or a file over the limit is refused
// at once, in one line naming the flag or the file.
func TestUserFilesBounded(t *testing.T) {
	app := testutil.Chart{Name: "app", Templates: map[string]string{"cm.yaml": testutil.Object("v1", "ConfigMap", "app", "")}}.Write(t, t.TempDir())
	kinds := []struct {
		name  string
		limit int64
		// args and env run the command on the bad file at path; want is
		// how its error starts.
		args func(path string) []string
		env  func(t *testing.T, path string) map[string]string
		want func(path string) string
	}{
		{"-f", bundle.MaxValuesFileSize, func(p string) []string { return []string{"template", app, "-f", p} }, nil,
			func(p string) string { return "Error: values file " + p }},
		{"--set-file", bundle.MaxValuesFileSize, func(p string) []string { return []string{"template", app, "--set-file", "x=" + p} }, nil,
			func(p string) string { return `Error: --set-file "x=` + p + `": ` + p }},
		{"--policy", sign.MaxPolicyFileSize, func(p string) []string { return []string{"template", app, "--policy", p} }, nil,
			func(p string) string { return "Error: signature policy " + p }},
		{"sign --key", sign.MaxKeyFileSize, func(p string) []string { return []string{"sign", "oci://127.0.0.1:1/ns/app", "--key", p} }, nil,
			func(p string) string { return "Error: --key " + p }},
		{"verify --key", sign.MaxKeyFileSize, func(p string) []string { return []string{"verify", "oci://127.0.0.1:1/ns/app", "--key", p} }, nil,
			func(p string) string { return "Error: --key " + p }},
		{"--kubeconfig", release.MaxKubeconfigSize, func(p string) []string { return []string{"list", "--kubeconfig", p} }, nil,
			func(p string) string { return "Error: kubeconfig " + p }},
		{"repositories file", repo.MaxConfigFileSize, func(string) []string { return []string{"repo", "list"} },
			func(t *testing.T, p string) map[string]string {
				dir := t.TempDir()
				if err := os.Symlink(p, filepath.Join(dir, "repositories.yaml")); err != nil {
					t.Fatal(err)
				}
				return map[string]string{"BUNDLE_CONFIG_HOME": dir}
			},
			func(string) string { return "Error: repositories file " }},
	}
	for _, k := range kinds {
		for _, bad := range testutil.BadFiles(t, k.limit) {
			t.Run(k.name+" "+bad.Name, func(t *testing.T) {
				var env map[string]string
				if k.env != nil {
					env = k.env(t, bad.Path)
				}
				var code int
				var errs string
				testutil.Within(t, 20*time.Second, func() { code, _, errs = runWithEnv(t, env, "", k.args(bad.Path)...) })
				if code != ExitError || !strings.HasPrefix(errs, k.want(bad.Path)) || !strings.Contains(errs, bad.Want) || strings.Count(errs, "\n") != 1 {
					t.Errorf("exit %d, stderr %q; want %d and one line %s ... %s", code, errs, ExitError, k.want(bad.Path), bad.Want)
				}
			})
		}
	}
	// bundle template reads the kubeconfig for its namespace only: one it
	// cannot read counts as none, as in Helm, and is not waited on.
	for _, bad := range testutil.BadFiles(t, release.MaxKubeconfigSize) {
		t.Run("template --kubeconfig "+bad.Name, func(t *testing.T) {
			var code int
			var out, errs string
			testutil.Within(t, 20*time.Second, func() { code, out, errs = run(t, "template", app, "--kubeconfig", bad.Path) })
			if code != 0 || !strings.Contains(out, "name: app") {
				t.Errorf("exit %d %q", code, errs)
			}
		})
	}
}
