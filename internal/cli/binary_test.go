package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// buildBundle builds cmd/bundle and returns it and a PATH that starts with
// its directory.
func buildBundle(t *testing.T) (bin, path string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the bundle binary")
	}
	bin = testutil.BundleBinary(t)
	return bin, filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
}

// requiredVersion reads a module's version from go.mod.
func requiredVersion(t *testing.T, module string) string {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("go.mod does not require %s", module)
	}
	return string(m[1])
}

// The real binary: versions from its build info, and completion scripts
// that load and complete in the real shells.
func TestBuiltBinary(t *testing.T) {
	bin, path := buildBundle(t)
	shell := func(t *testing.T, name, script string) string {
		t.Helper()
		cmd := exec.Command(name, "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+path, "BUNDLE_CONFIG_HOME="+t.TempDir(), "BUNDLE_CACHE_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s -c %q: %v\n%s", name, script, err, out)
		}
		return string(out)
	}

	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "version", "-o", "json").Output()
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		if v["helm_version"] != requiredVersion(t, "helm.sh/helm/v4") || v["kubernetes_client_version"] != requiredVersion(t, "k8s.io/client-go") || v["version"] != Version {
			t.Errorf("version -o json: %s", out)
		}
	})

	t.Run("bash loads", func(t *testing.T) {
		if out := shell(t, "bash", `source <(bundle completion bash) && complete -p bundle`); out != "complete -o default -F _bundle_completions bundle\n" {
			t.Errorf("complete -p: %q", out)
		}
	})

	t.Run("bash completes", func(t *testing.T) {
		tests := []struct {
			words string // COMP_WORDS; the last is the word being completed
			want  string
		}{
			{`bundle ins`, "install"},
			{`bundle get va`, "values"},
			{`bundle list -o ""`, "table json yaml"},
			{`bundle list --output = y`, "yaml"}, // bash splits --output=y at the =
			{`bundle list --no-h`, "--no-headers"},
			{`bundle completion ""`, "bash fish powershell zsh"},
			{`bundle show stable/mediaw`, "stable/mediawiki"},
			{`bundle help get m`, "manifest metadata"},
			{`bundle nope x ""`, ""},
		}
		for _, tt := range tests {
			script := `source <(bundle completion bash)
COMP_WORDS=(` + tt.words + `)
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_bundle_completions
echo "${COMPREPLY[*]}"`
			if got := strings.TrimSpace(shell(t, "bash", script)); got != tt.want {
				t.Errorf("%s<TAB>: %q, want %q", tt.words, got, tt.want)
			}
		}
	})

	t.Run("zsh", func(t *testing.T) {
		if _, err := exec.LookPath("zsh"); err != nil {
			t.Skip("no zsh")
		}
		out := shell(t, "zsh", `autoload -U compinit && compinit -u -D && source <(bundle completion zsh) && print -r -- $_comps[bundle]`)
		if out != "_bundle\n" {
			t.Errorf("zsh: %q", out)
		}
	})

	t.Run("fish", func(t *testing.T) {
		if _, err := exec.LookPath("fish"); err != nil {
			t.Skip("no fish")
		}
		for words, want := range map[string]string{
			"bundle get va":      "values\t",
			"bundle list -o y":   "yaml",
			"bundle completion ": "bash\nfish\npowershell\nzsh",
		} {
			// As installed: in the user's completions directory, which
			// fish reads before its own (it has one for Ruby's Bundler).
			dir := t.TempDir()
			script, err := exec.Command(bin, "completion", "fish").Output()
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "bundle.fish"), script, 0o644)
			out := shell(t, "fish", `set -p fish_complete_path `+dir+`; complete -C "`+words+`"`)
			if !strings.HasPrefix(out, want) {
				t.Errorf("fish %q<TAB>: %q, want %q...", words, out, want)
			}
		}
	})
}
