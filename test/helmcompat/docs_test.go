package helmcompat

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

var (
	// f.StringVarP(&x, "name", ...), f.Bool("name", ...), ...
	helmFlag = regexp.MustCompile(`\.(?:String|Bool|Int|Duration|StringSlice|StringArray|Var|StringToString|Float64|Int64|Uint)\w*?\(\s*(?:&[^,]+,\s*)?"([a-z][a-z0-9-]*)"`)
	// Use: "name ARGS"
	helmCommand = regexp.MustCompile(`Use:\s+"([a-z-]+)`)
	// flags helm defines through constants or helper types
	helmExtraFlags = []string{"output", "post-renderer", "post-renderer-args"}

	// In helm's --help: "  name   what it does" under Available Commands,
	// "  -f, --name type   what it does" under Flags and Global Flags.
	helpCommand = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s`)
	helpFlag    = regexp.MustCompile(`^\s+(?:-[a-zA-Z], )?--([a-z][a-z0-9-]*)`)
)

// TestHelmCompatDocComplete: docs/helm-compat.md names every command and
// every flag of the helm CLIs bundle is held to, so a Helm user finds each
// one's bundle equivalent, or why there is none: helm 3.22's, read from its
// source in the module cache (deprecated, hidden flags too), and helm
// 4's, read from the helm 4 CLI's help ($BUNDLE_TEST_HELM4), every
// command and subcommand by its whole path (`helm plugin verify`).
func TestHelmCompatDocComplete(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "helm-compat.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	t.Run("helm3", func(t *testing.T) {
		flags, commands := helm3Source(t)
		checkDoc(t, text, "helm 3.22", flags, commands)
	})
	t.Run("helm4", func(t *testing.T) {
		flags, commands := helmHelp(t, testutil.Helm4CLI(t))
		checkDoc(t, text, "helm 4", flags, commands)
	})
}

// helm3Source reads helm 3's flags and commands (their last words) from
// its source in the module cache.
func helm3Source(t *testing.T) (flags map[string]bool, commands [][]string) {
	mod := helmModuleDir(t)
	files, _ := filepath.Glob(filepath.Join(mod, "cmd", "helm", "*.go"))
	files = append(files, filepath.Join(mod, "pkg", "cli", "environment.go"))
	flags = map[string]bool{}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range helmFlag.FindAllSubmatch(src, -1) {
			flags[string(m[1])] = true
		}
		for _, m := range helmCommand.FindAllSubmatch(src, -1) {
			if c := string(m[1]); c != "helm" && !seen[c] {
				seen[c] = true
				commands = append(commands, []string{c})
			}
		}
	}
	for _, f := range helmExtraFlags {
		flags[f] = true
	}
	if len(flags) < 100 || len(commands) < 40 {
		t.Fatalf("read only %d flags and %d commands from helm's source: the pattern no longer matches it", len(flags), len(commands))
	}
	return flags, commands
}

// helmHelp reads the flags and commands of the helm CLI at path from its
// --help, command by command (plugins' commands left out: $HELM_PLUGINS
// is empty).
func helmHelp(t *testing.T, path string) (flags map[string]bool, commands [][]string) {
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "HELM_PLUGINS=" + filepath.Join(home, "plugins"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_CACHE_HOME=" + filepath.Join(home, "cache"), "HELM_DATA_HOME=" + filepath.Join(home, "data")}
	flags = map[string]bool{}
	var walk func(cmd []string)
	walk = func(cmd []string) {
		c := exec.Command(path, append(append([]string{}, cmd...), "--help")...)
		c.Env = env
		out, err := c.Output()
		if err != nil {
			t.Fatalf("helm %s --help: %v", strings.Join(cmd, " "), err)
		}
		section := ""
		for _, line := range strings.Split(string(out), "\n") {
			if line != "" && !strings.HasPrefix(line, " ") {
				section = strings.TrimSuffix(line, ":")
				continue
			}
			switch section {
			case "Available Commands":
				if m := helpCommand.FindStringSubmatch(line); m != nil {
					sub := append(append([]string{}, cmd...), m[1])
					commands = append(commands, sub)
					if m[1] != "help" {
						walk(sub)
					}
				}
			case "Flags", "Global Flags":
				if m := helpFlag.FindStringSubmatch(line); m != nil {
					flags[m[1]] = true
				}
			}
		}
	}
	walk(nil)
	if len(flags) < 100 || len(commands) < 50 {
		t.Fatalf("read only %d flags and %d commands from %s's help: the patterns no longer match it", len(flags), len(commands), path)
	}
	return flags, commands
}

// checkDoc fails the test for each flag and command of helm the doc does
// not name: a flag as `--name` (or `--name VALUE`, `--name=...`), a
// command as `helm PARENT... NAME`, where alternatives may stand between
// (`helm get all\|hooks`).
func checkDoc(t *testing.T, text, helm string, flags map[string]bool, commands [][]string) {
	t.Helper()
	var missing []string
	for f := range flags {
		if !strings.Contains(text, "`--"+f+"`") && !strings.Contains(text, "`--"+f+" ") && !strings.Contains(text, "`--"+f+"=") {
			missing = append(missing, "--"+f)
		}
	}
	for _, c := range commands {
		parents := ""
		for _, p := range c[:len(c)-1] {
			parents += regexp.QuoteMeta(p) + " "
		}
		last := regexp.QuoteMeta(c[len(c)-1])
		if !regexp.MustCompile("`helm " + parents + `[a-z |\\]*\b` + last + `\b`).MatchString(text) {
			missing = append(missing, "helm "+strings.Join(c, " "))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/helm-compat.md does not mention %d of %s's commands and flags:\n%s", len(missing), helm, strings.Join(missing, "\n"))
	}
}
