package helmcompat

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	// f.StringVarP(&x, "name", ...), f.Bool("name", ...), ...
	helmFlag = regexp.MustCompile(`\.(?:String|Bool|Int|Duration|StringSlice|StringArray|Var|StringToString|Float64|Int64|Uint)\w*?\(\s*(?:&[^,]+,\s*)?"([a-z][a-z0-9-]*)"`)
	// Use: "name ARGS"
	helmCommand = regexp.MustCompile(`Use:\s+"([a-z-]+)`)
	// flags helm defines through constants or helper types
	helmExtraFlags = []string{"output", "post-renderer", "post-renderer-args"}
)

// TestHelmCompatDocComplete: docs/helm-compat.md names every command and
// every flag of the helm CLI we build with (read from its source in the
// module cache), so a Helm user finds each one's bundle equivalent, or why
// there is none.
func TestHelmCompatDocComplete(t *testing.T) {
	mod := helmModuleDir(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "helm-compat.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(mod, "cmd", "helm", "*.go"))
	files = append(files, filepath.Join(mod, "pkg", "cli", "environment.go"))
	flags, commands := map[string]bool{}, map[string]bool{}
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
			commands[string(m[1])] = true
		}
	}
	for _, f := range helmExtraFlags {
		flags[f] = true
	}
	if len(flags) < 100 || len(commands) < 40 {
		t.Fatalf("read only %d flags and %d commands from helm's source: the pattern no longer matches it", len(flags), len(commands))
	}
	text := string(doc)
	var missing []string
	for f := range flags {
		if !strings.Contains(text, "`--"+f+"`") && !strings.Contains(text, "`--"+f+" ") && !strings.Contains(text, "`--"+f+"=") {
			missing = append(missing, "--"+f)
		}
	}
	for c := range commands {
		if c == "helm" {
			continue
		}
		if !regexp.MustCompile("`helm [a-z |\\\\]*\\b" + regexp.QuoteMeta(c) + "\\b").MatchString(text) {
			missing = append(missing, "helm ... "+c)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/helm-compat.md does not mention %d of helm's commands and flags:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
