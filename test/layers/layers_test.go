// Package layers holds the shape of the library to a test: data flows one
// way, CLI -> plan -> render -> release, each package importing only the
// layers below it, and no public package importing internal/.
package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/bundlesh/bundle/"

// layers lists the public packages bottom-up: each may import only those
// before it. lint and release are siblings at the top: neither imports the
// other.
var layers = [][]string{
	{"bundles", "pkg/errdefs"}, // bundles: the catalog's files, embedded
	{"pkg/userfile"},           // reading the files users name
	{"pkg/resolve", "pkg/sign"},
	{"pkg/bundle"},
	{"pkg/repo"},
	{"pkg/plan"},
	{"pkg/render"},
	{"pkg/diff"}, // pure: compares objects; release reads them
	{"pkg/deps"},
	{"pkg/graph"}, // pure: draws deps' trees, diff's plans and the bindings graph
	// release's kube engine, importable by release alone (Go's internal/):
	{"pkg/release/internal/kubeobj", "pkg/release/internal/helmsdk"},
	{"pkg/release/internal/debug", "pkg/release/internal/lease", "pkg/release/internal/apply", "pkg/release/internal/wait"},
	{"pkg/release/internal/validate", "pkg/release/internal/volumes"},
	{"pkg/lint", "pkg/release"},
	{"pkg/bluegreen"}, // a blue-green app's releases as one, over release
}

// apart lists imports the layers allow but the design does not: release
// performs operations and returns facts; drawing them is the CLI's.
var apart = map[string][]string{
	"pkg/release":   {"pkg/graph"},
	"pkg/bluegreen": {"pkg/graph"},
}

func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"pkg/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	level := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			level[p] = i
		}
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		lv, ok := level[pkg]
		if !ok {
			t.Errorf("%s is in no layer: add it to the table", pkg)
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if strings.HasPrefix(dep, "internal/") {
				t.Errorf("%s imports %s: public packages must not import internal/", pkg, dep)
				continue
			}
			for _, no := range apart[pkg] {
				if dep == no {
					t.Errorf("%s imports %s: it returns facts, and the CLI draws them", pkg, dep)
				}
			}
			if dl, ok := level[dep]; !ok || dl >= lv {
				t.Errorf("%s imports %s, which is not below it (CLI -> plan -> render -> release)", pkg, dep)
			}
		}
	}
	if want := len(level) - 1; seen != want {
		t.Errorf("go list saw %d of the %d public packages in the table", seen, want)
	}
}
