package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

func testPlan(t *testing.T) *diff.Plan {
	t.Helper()
	cm := func(site string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "web", "namespace": "shop"},
			"data":     map[string]any{"site": site, "lang": "en"},
		}}
	}
	sec := func(pw string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"name": "db", "namespace": "shop"},
			"stringData": map[string]any{"password": pw},
		}}
	}
	p, err := diff.Compute([]*unstructured.Unstructured{cm("Docs"), sec("hunter2")}, []*unstructured.Unstructured{cm("Team docs"), sec("correcthorse")}, diff.Options{Context: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Bundle = diff.Root(&plan.Resolved{Bundle: "wiki", Version: "1.0.0"}, &plan.Resolved{Bundle: "wiki", Version: "1.1.0"})
	p.Requirements = diff.Requirements(
		[]plan.Resolved{{Instance: "database", Bundle: "mariadb", Version: "1.0.1", Repository: "stable"}},
		[]plan.Resolved{{Instance: "database", Bundle: "mariadb", Version: "1.0.2", Repository: "stable"}, {Instance: "cache", Bundle: "memcached", Version: "1.0.0", Repository: "stable"}})
	p.Requirements[0].Why = "UpdateDeps moves requirements to their newest fitting versions"
	p.Wiring = diff.Wiring(
		map[string]any{"requires": map[string]any{"database": map[string]any{"port": "3306", "rootPassword": "hunter2"}}},
		map[string]any{"requires": map[string]any{"database": map[string]any{"port": "3307", "rootPassword": "correcthorse"}, "cache": map[string]any{"host": "mc"}}})
	return p
}

func TestPrintPlan(t *testing.T) {
	p := testPlan(t)
	var plain bytes.Buffer
	if err := printPlan(&plain, p, false); err != nil {
		t.Fatal(err)
	}
	want := `Bundle: ~ wiki 1.0.0 -> 1.1.0
  ~ database: mariadb 1.0.1 -> 1.0.2 from stable (--update-deps moves requirements to their newest fitting versions)
  + cache: memcached 1.0.0 from stable (new)
Wiring:
  + cache.host (used by the root): "mc"
  ~ database.port (used by the root): "3306" -> "3307"
  ~ database.rootPassword (used by the root): change (value hidden)
Objects: 0 to create, 2 to change, 0 to delete, 0 unchanged

~ change Secret shop/db
  data.password: changed (value hidden)

~ change ConfigMap shop/web
@@ -7,2 +7,2 @@
   lang: en
-  site: Docs
+  site: Team docs
`
	if plain.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", plain.String(), want)
	}
	var colored bytes.Buffer
	printPlan(&colored, p, true)
	for _, s := range []string{colorYellow + "~ change ConfigMap shop/web" + colorReset, colorRed + "-  site: Docs" + colorReset, colorGreen + "+  site: Team docs" + colorReset, colorCyan + "@@"} {
		if !strings.Contains(colored.String(), s) {
			t.Errorf("coloured output lacks %q:\n%q", s, colored.String())
		}
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes without colour")
	}
	for _, out := range []string{plain.String(), colored.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "correcthorse") {
			t.Errorf("a Secret's value is printed:\n%s", out)
		}
	}
}

// What a release would hold outside its namespace is said after the
// count of objects, one line per namespace.
func TestPrintPlanElsewhere(t *testing.T) {
	p := testPlan(t)
	p.Elsewhere = []diff.Elsewhere{
		{Objects: []string{"ClusterRole.rbac.authorization.k8s.io shop"}},
		{Namespace: "data", Objects: []string{"ConfigMap shop-database-1a2b", "Job.batch shop-database-claim-5e6f"}, Hooks: []string{"Job.batch shop-database-unclaim-5e6f"}},
	}
	p.Providers = []string{"database: data/team-db"}
	var out bytes.Buffer
	if err := printPlan(&out, p, false); err != nil {
		t.Fatal(err)
	}
	want := `Objects: 0 to create, 2 to change, 0 to delete, 0 unchanged
Also cluster-wide: ClusterRole.rbac.authorization.k8s.io shop
Also in namespace data: ConfigMap shop-database-1a2b, Job.batch shop-database-claim-5e6f; hooks: Job.batch shop-database-unclaim-5e6f
Bound to: database: data/team-db
`
	if !strings.Contains(out.String(), want) {
		t.Errorf("got:\n%s\nwant it to hold:\n%s", out.String(), want)
	}
	var dry bytes.Buffer
	if err := printDone(&dry, "installed", &release.Release{Name: "shop", Namespace: "web", Bundle: "shop", Version: "1.0.0", Manifest: "---\nkind: ConfigMap\n", Elsewhere: p.Elsewhere[1:]}, true); err != nil {
		t.Fatal(err)
	}
	if want := "# dry run: shop shop-1.0.0 as \"shop\" in namespace \"web\" would be installed\n# Also in namespace data: ConfigMap shop-database-1a2b, Job.batch shop-database-claim-5e6f; hooks: Job.batch shop-database-unclaim-5e6f\n---\n"; !strings.HasPrefix(dry.String(), want) {
		t.Errorf("dry run:\n%s\nwant it to start with:\n%s", dry.String(), want)
	}
}

func TestDiffOutputJSON(t *testing.T) {
	var out bytes.Buffer
	if err := writeJSON(&out, diffElement{testPlan(t), true}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{`"changed": true`, `"action": "change"`, `"kind": "ConfigMap"`, `"key": "password"`, `"state": "changed"`, `"instance": "database"`, `"diff": "@@ -7,2 +7,2 @@`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "hunter2") || strings.Contains(s, "correcthorse") {
		t.Errorf("a Secret's value in the JSON:\n%s", s)
	}
}

func TestDiffUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"diff", "upgrade", "wiki"}, ExitUsage, "expected NAME BUNDLE, got 1 arguments"},
		// 2 would say "changes": a wrong command line exits 1 then.
		{[]string{"diff", "upgrade", "wiki", "--detailed-exitcode"}, ExitError, "expected NAME BUNDLE"},
		{[]string{"diff", "install", "stable/mediawiki", "--context", "-1"}, ExitUsage, "--context -1: give a number of lines"},
		{[]string{"diff", "install", "stable/mediawiki", "-o", "xml"}, ExitUsage, `--output "xml"`},
		{[]string{"diff", "install", "a", "b", "c"}, ExitUsage, "expected [NAME] BUNDLE"},
		{[]string{"diff", "rollback"}, ExitUsage, "expected NAME [REVISION], got 0 arguments"},
		{[]string{"diff", "rollback", "wiki", "zero"}, ExitUsage, `REVISION "zero"`},
		{[]string{"diff", "uninstall", "a", "b"}, ExitUsage, "NAME"},
		{[]string{"diff", "drift"}, ExitUsage, "RELEASE"},
		{[]string{"diff", "drift", "wiki", "--context", "-2"}, ExitUsage, "--context -2"},
		// --confirm needs a terminal to ask on: refused before anything is read or changed.
		{[]string{"upgrade", "wiki", "stable/mediawiki", "--confirm"}, ExitUsage, "--confirm asks on a terminal and stdin is not one"},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "--yes"}, ExitUsage, "give --confirm too"},
		// --unbind says what it does and asks: refused without a terminal.
		{[]string{"upgrade", "wiki", "stable/mediawiki", "--unbind", "database"}, ExitUsage, `Error: --unbind database moves release "wiki" to a new, empty database of its own: nothing of the data in the release it is bound to is copied, and that release keeps it; it asks first on a terminal and stdin is not a terminal: nothing was changed; add --yes to go on without asking`},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "--unbind", "database", "-f", "-"}, ExitUsage, "where --unbind would ask: add --yes"},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "--diff", "--diff-context", "-1"}, ExitUsage, "--diff-context -1"},
	}
	for _, tt := range tests {
		code, _, errs := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.err) {
			t.Errorf("bundle %s: exit %d, %q; want %d, %q", strings.Join(tt.args, " "), code, errs, tt.code, tt.err)
		}
	}
	if code, _, errs := run(t, "diff", "nothing"); code != ExitUsage || errs == "" {
		t.Errorf("bundle diff nothing: exit %d %q", code, errs)
	}
}

func TestDiffFixesSayDiff(t *testing.T) {
	err := fmt.Errorf("installing: %w", errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{Run: []string{"upgrade", "wiki", "stable/mediawiki"}}}, "release %q already exists", "wiki"))
	if got := withHints(asDiff(err)); got != `installing: release "wiki" already exists: run bundle diff upgrade wiki stable/mediawiki` {
		t.Errorf("got %q", got)
	}
}

// TestConfirmUnbind: --unbind says it moves the app to a new, empty
// instance, and goes on only on a yes (or --yes).
func TestConfirmUnbind(t *testing.T) {
	const said = `--unbind database moves release "wiki" to a new, empty database of its own: nothing of the data in the release it is bound to is copied, and that release keeps it.` + "\n"
	tests := []struct {
		name     string
		answer   string
		terminal bool
		yes      bool
		err      string
		printed  string
	}{
		{"yes on a terminal", "y\n", true, false, "", said + "Go on? [y/N] "},
		{"no on a terminal", "\n", true, false, `upgrade of "wiki" with --unbind database not confirmed: nothing was changed`, said + "Go on? [y/N] "},
		{"no terminal", "y\n", false, false, "stdin is not a terminal: nothing was changed; add --yes", ""},
		{"--yes", "", false, true, "", said},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w bytes.Buffer
			err := confirmUnbind(strings.NewReader(tt.answer), tt.terminal, &w, "wiki", []string{"database"}, tt.yes)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
			if w.String() != tt.printed {
				t.Errorf("printed %q, want %q", w.String(), tt.printed)
			}
		})
	}
}

func TestAsk(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes ": true, "n\n": false, "\n": false, "": false, "yess\n": false} {
		var w bytes.Buffer
		got, err := ask(strings.NewReader(in), &w, "Go on?")
		if err != nil || got != want || w.String() != "Go on? [y/N] " {
			t.Errorf("ask, answer %q: %v %v, asked %q; want %v", in, got, err, w.String(), want)
		}
	}
}

// bundle diff -o mermaid: the plan's bundles as nodes, what changes marked.
func TestDiffOutputMermaid(t *testing.T) {
	var out bytes.Buffer
	o := diffFlags{}
	o.flags()
	o.output.format = outMermaid
	if ok, err := o.output.writeGraph(&out, graph.FromPlan(testPlan(t))); !ok || err != nil {
		t.Fatal(ok, err)
	}
	want := `flowchart LR
  n0["wiki 1.0.0 -#gt; 1.1.0<br/>objects: 0 to create, 2 to change, 0 to delete"]
  n1["database: mariadb 1.0.1 -#gt; 1.0.2"]
  n2["cache: memcached 1.0.0 (new)"]
  n0 --> n1
  n0 --> n2
  classDef create fill:#d4edda,stroke:#28a745
  class n2 create
  classDef change fill:#fff3cd,stroke:#d39e00
  class n0,n1 change
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
