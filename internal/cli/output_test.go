package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/releasetest"
)

// install and upgrade -o json|yaml (helm's --output) print the release
// they made as bundle get all -o json|yaml prints it (helm's release,
// the chart stripped to its metadata, and the resolved requirements);
// -o table, the default, prints what they always printed.
func TestInstallUpgradeOutput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		same []string // prints what this command then prints
	}{
		{"install -o json", []string{"install", "docs", "stable/mediawiki", "-o", "json"}, []string{"get", "all", "docs", "-o", "json"}},
		{"install --output yaml", []string{"install", "docs", "stable/mediawiki", "--output", "yaml"}, []string{"get", "all", "docs", "-o", "yaml"}},
		{"upgrade -o json", []string{"upgrade", "wiki", "stable/mediawiki", "--set", "wiki.name=Changed", "-o", "json"}, []string{"get", "all", "wiki", "-o", "json"}},
		{"upgrade --install -o yaml", []string{"upgrade", "--install", "docs", "stable/mediawiki", "-o", "yaml"}, []string{"get", "all", "docs", "-o", "yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture(t)
			code, out, errs := runWith(t, f, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			_, want, _ := runWith(t, f, tt.same...)
			if out != want {
				t.Errorf("got\n%s\nwant (bundle %s)\n%s", out, strings.Join(tt.same, " "), want)
			}
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(out), &obj); err != nil {
				t.Fatal(err)
			}
			info, _ := obj["info"].(map[string]any)
			reqs, _ := obj["requires"].([]any)
			if info["status"] != "deployed" || len(reqs) != 1 || obj["manifest"] == "" {
				t.Errorf("not the deployed release with its requirement:\n%s", out)
			}
		})
	}

	// A dry run prints the release it would make; nothing is stored.
	f := releasetest.New("team")
	code, out, errs := runWith(t, f, "install", "docs", "stable/mediawiki", "--dry-run", "-o", "json")
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errs)
	}
	var obj struct {
		Name, Namespace, Manifest string
		Version                   int
		Info                      struct{ Status string }
		Chart                     struct {
			Metadata struct{ Name, Version string }
		}
		Requires []any
	}
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if obj.Name != "docs" || obj.Namespace != "team" || obj.Version != 1 || obj.Info.Status != "pending-install" ||
		obj.Chart.Metadata.Name != "mediawiki" || obj.Chart.Metadata.Version == "" || len(obj.Requires) != 1 || !strings.Contains(obj.Manifest, "kind: StatefulSet") {
		t.Errorf("dry run:\n%s", out)
	}
	if _, list, _ := runWith(t, f, "list", "-q", "-a"); list != "" {
		t.Errorf("dry run stored %q", list)
	}

	// -o table is the default.
	_, table, _ := runWith(t, fixture(t), "upgrade", "wiki", "stable/mediawiki", "-o", "table")
	_, plain, _ := runWith(t, fixture(t), "upgrade", "wiki", "stable/mediawiki")
	if table != plain || !strings.HasPrefix(table, `Release "wiki" upgraded in namespace "team": revision 3, deployed`) {
		t.Errorf("-o table:\n%s\nwithout -o:\n%s", table, plain)
	}
}

func TestInstallUpgradeOutputUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"install", "docs", "stable/mediawiki", "-o", "xml"}, `Error: --output "xml": use table, json or yaml (see bundle install --help)`},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "-o", "dot"}, `Error: --output "dot": use table, json or yaml (see bundle upgrade --help)`},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "-o", "json", "--diff"}, `Error: --diff prints the changes on standard output, where -o json prints the release: drop one (bundle diff upgrade -o json prints the changes as JSON) (see bundle upgrade --help)`},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "-o", "yaml", "--confirm", "--yes"}, `Error: --confirm prints the changes on standard output, where -o yaml prints the release: drop one (bundle diff upgrade -o yaml prints the changes as YAML) (see bundle upgrade --help)`},
		{[]string{"upgrade", "wiki", "stable/mediawiki", "-o", "json", "--strategy", "blue-green"}, `Error: -o json with --strategy blue-green: the upgrade makes and switches colour releases; drop -o, and see the live one with bundle status wiki -o json (see bundle upgrade --help)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := fixture(t)
			code, out, errs := runWith(t, f, tt.args...)
			if code != ExitUsage || errs != tt.want+"\n" || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 2, %q", code, out, errs, tt.want)
			}
			if _, hist, _ := runWith(t, f, "history", "wiki", "-o", "json"); strings.Contains(hist, `"revision": 3`) {
				t.Errorf("upgraded:\n%s", hist)
			}
		})
	}
}
