package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	// A bundle with no README, NOTES or schema: warnings only.
	warn := t.TempDir()
	os.WriteFile(filepath.Join(warn, "Chart.yaml"), []byte("apiVersion: v2\nname: plain\nversion: 0.1.0\ndescription: d\nicon: https://example.com/i.png\n"), 0o644)
	os.MkdirAll(filepath.Join(warn, "templates"), 0o755)
	os.WriteFile(filepath.Join(warn, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"), 0o644)

	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderrLine string
	}{
		{"clean catalog bundle", []string{"lint", "stable/redis-ha"}, ExitOK, []string{"redis-ha 1.0.6: 0 error(s), 0 warning(s)\n"}, ""},
		{"an error fails", []string{"lint", "stable/varnish", "--set", "image.tag=latest"}, ExitError,
			[]string{`error: templates/deployment.yaml Deployment/varnish container varnish: image "docker.io/library/varnish:latest" is not pinned`, "varnish 1.0.5: 1 error(s), 0 warning(s)"},
			"Error: varnish 1.0.5: lint found 1 error(s) (listed above)"},
		{"warnings pass", []string{"lint", warn}, ExitOK, []string{"warning: README.md: missing", "plain 0.1.0: 0 error(s), 3 warning(s)"}, ""},
		{"warnings fail with --strict", []string{"lint", warn, "--strict"}, ExitError, []string{"plain 0.1.0: 0 error(s), 3 warning(s)"},
			"Error: plain 0.1.0: lint found 3 warning(s) and --strict is set (listed above)"},
		{"bad values file", []string{"lint", "stable/redis", "-f", "nope.yaml"}, ExitError, nil, "Error: "},
		{"too many arguments", []string{"lint", "a", "b"}, ExitUsage, nil, "Error: expected at most one BUNDLE, got 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tt.code, errs)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tt.stderrLine == "" && errs != "" {
				t.Errorf("stderr: %s", errs)
			}
			if tt.stderrLine != "" && (!strings.HasPrefix(errs, tt.stderrLine) || strings.Count(errs, "\n") != 1) {
				t.Errorf("stderr = %q, want one line starting %q", errs, tt.stderrLine)
			}
		})
	}
}
