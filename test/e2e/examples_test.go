package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exampleCommand is a bundle command of an example's run.sh: args, and
// whether it must fail ("if bundle ...; then").
type exampleCommand struct {
	line string
	args []string
	fail bool
}

// exampleCommands reads the bundle commands of examples/NAME/run.sh, with
// "$NS" as ns and paths under examples/ made absolute; each must appear in
// the example's README.md, with the script's default NS, so that the walkthrough and the
// script cannot drift apart.
func exampleCommands(t *testing.T, name, ns string) []exampleCommand {
	t.Helper()
	dir := filepath.Join("..", "..", "examples", name)
	script, err := os.ReadFile(filepath.Join(dir, "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// The README's namespace: the script's default, NS=${NS:-web}.
	readmeNS := "shared"
	if m := regexp.MustCompile(`NS=\$\{NS:-([a-z0-9-]+)\}`).FindSubmatch(script); m != nil {
		readmeNS = string(m[1])
	}
	var out []exampleCommand
	for _, l := range strings.Split(string(script), "\n") {
		l = strings.TrimSpace(l)
		c := exampleCommand{}
		if strings.HasPrefix(l, "if bundle ") && strings.HasSuffix(l, "; then") {
			l, c.fail = strings.TrimSuffix(strings.TrimPrefix(l, "if "), "; then"), true
		}
		if !strings.HasPrefix(l, "bundle ") {
			continue
		}
		c.line = strings.ReplaceAll(l, `"$NS"`, readmeNS)
		if !strings.Contains(string(readme), c.line) {
			t.Errorf("examples/%s/README.md does not show %q", name, c.line)
		}
		for _, f := range strings.Fields(l)[1:] {
			switch {
			case f == `"$NS"`:
				f = ns
			case strings.HasPrefix(f, "examples/"):
				f = filepath.Join(root, f)
			}
			c.args = append(c.args, f)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("examples/%s/run.sh has no bundle commands", name)
	}
	return out
}

// examples/shared-mariadb, as its run.sh runs it: one MariaDB shared by
// MediaWiki and WordPress, each with its own claim; list --bindings and -o
// mermaid show both; the provider's uninstall is refused while they are
// bound.
func TestExampleSharedMariaDB(t *testing.T) {
	e, ns := setupIn(t, "shared")
	for _, c := range exampleCommands(t, "shared-mariadb", ns) {
		code, out, errs := e.bundle(t, c.args...)
		switch {
		case c.fail && code == 0:
			t.Fatalf("%s: succeeded, want refused:\n%s", c.line, out)
		case c.fail:
			if !strings.Contains(errs, `release "team-db" is bound by 2 releases`) {
				t.Errorf("%s: %s", c.line, errs)
			}
			continue
		case code != 0:
			t.Fatalf("%s: exit %d: %s", c.line, code, errs)
		}
		// The README shows list's output for namespace shared; the
		// columns' widths depend on the namespace's name.
		flat := func(s string) string { return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " | ") }
		switch {
		case strings.HasPrefix(c.line, "bundle list --bindings"):
			want := strings.ReplaceAll(readmeBlock(t, "shared-mariadb", "```\nRELEASE "), "shared/", ns+"/")
			if flat(out) != flat(want) {
				t.Errorf("%s:\n%s\nREADME.md shows:\n%s", c.line, out, want)
			}
		case strings.HasPrefix(c.line, "bundle list -o mermaid"):
			want := strings.ReplaceAll(readmeBlock(t, "shared-mariadb", "```mermaid\n"), "shared/", ns+"/")
			if out != want {
				t.Errorf("%s:\n%s\nREADME.md shows:\n%s", c.line, out, want)
			}
		}
	}
}

// readmeBlock is the code block of examples/NAME/README.md that starts
// with start (its fence and first characters), without its fences.
func readmeBlock(t *testing.T, name, start string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("examples/%s/README.md has no block %q", name, start)
	}
	s = s[i+strings.Index(start, "\n")+1:]
	j := strings.Index(s, "```")
	if j < 0 {
		t.Fatalf("examples/%s/README.md: block %q is not closed", name, start)
	}
	return s[:j]
}

// examples/blue-green-wiki, as its run.sh runs it: MediaWiki bound to a
// shared MariaDB, upgraded blue/green, rolled back to the spare, pruned;
// list --bindings shows it as one app with its live colour and spare.
func TestExampleBlueGreenWiki(t *testing.T) {
	e, ns := setupIn(t, "bgwiki")
	lists := []string{
		"wiki (live green, spare blue) | database → " + ns + "/team-db",
		"wiki (live blue, spare green) | database → " + ns + "/team-db",
		"wiki (live blue) | database → " + ns + "/team-db",
	}
	for _, c := range exampleCommands(t, "blue-green-wiki", ns) {
		start := time.Now()
		code, out, errs := e.bundle(t, c.args...)
		t.Logf("%s: %s", c.line, time.Since(start).Round(time.Millisecond))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.line, code, errs)
		}
		flat := regexp.MustCompile(` {2,}`).ReplaceAllString(out, " | ")
		switch {
		case strings.HasPrefix(c.line, "bundle status wiki"):
			if !strings.Contains(out, "green") || !strings.Contains(out, "blue") {
				t.Errorf("%s:\n%s", c.line, out)
			}
		case strings.HasPrefix(c.line, "bundle list --bindings"):
			if !strings.Contains(flat, ns+"/"+lists[0]) || !strings.Contains(flat, ns+"/team-db | - | "+ns+"/wiki (database)\n") {
				t.Errorf("%s: want %q and team-db's consumer in\n%s", c.line, lists[0], out)
			}
			if len(lists) == 3 { // the one README.md shows, for namespace web
				want := strings.ReplaceAll(readmeBlock(t, "blue-green-wiki", "```\nRELEASE "), "web/", ns+"/")
				if flat != regexp.MustCompile(` {2,}`).ReplaceAllString(want, " | ") {
					t.Errorf("%s:\n%s\nREADME.md shows:\n%s", c.line, out, want)
				}
			}
			lists = lists[1:]
		}
	}
}
