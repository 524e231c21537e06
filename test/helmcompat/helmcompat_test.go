// Package helmcompat holds bundle to Helm itself: every chart in Helm's own
// test data (the helm.sh/helm/v3 v3.22.0 module's, read from the Go module
// cache, never copied here) renders with `bundle template` exactly as with
// the helm 4 CLI at the version of the SDK bundle is built with, and with
// the helm 3.22 CLI, and what helm refuses, bundle refuses in one line. Set
// BUNDLE_TEST_HELM4 to the helm 4 binary and BUNDLE_TEST_HELM to the helm 3
// one (make test builds both); each CLI's subtests skip without it. Where
// helm 3 differs (Helm 4's own changes, which bundle follows), the
// difference is listed, with why, in helm3Differences (clis_test.go).
package helmcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/cli"
)

// testdataDirs are the directories of Helm's module whose charts we hold
// ourselves to.
var testdataDirs = []string{"cmd/helm/testdata/testcharts", "pkg/chartutil/testdata"}

// variants are the flag sets every chart is rendered with, by both tools.
var variants = [][]string{
	{},
	{"--include-crds"},
	{"--is-upgrade", "--skip-tests"},
	{"--no-hooks"},
	{"--kube-version", "1.27.0", "--api-versions", "monitoring.coreos.com/v1"},
}

// helmModuleDir is where the Go module cache holds the helm 3 module whose
// test charts we render (downloaded when missing).
func helmModuleDir(t *testing.T) string {
	t.Helper()
	mod := "helm.sh/helm/v3@" + helm3Version
	out, err := exec.Command("go", "mod", "download", "-json", mod).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", mod, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.Dir == "" {
		t.Fatalf("the %s module is not in the module cache: run go mod download %s", mod, mod)
	}
	return m.Dir
}

// charts lists Helm's test charts: directories holding a Chart.yaml and
// chart archives, by path relative to the module.
func charts(t *testing.T, mod string) []string {
	t.Helper()
	var out []string
	for _, d := range testdataDirs {
		entries, err := os.ReadDir(filepath.Join(mod, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			switch {
			case e.IsDir():
				if _, err := os.Stat(filepath.Join(mod, p, "Chart.yaml")); err == nil {
					out = append(out, p)
				}
			case strings.HasSuffix(e.Name(), ".tgz") || strings.HasSuffix(e.Name(), ".tar.gz"):
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// result is what one tool did with one chart.
type result struct {
	out string
	err string // empty when it rendered
}

func runHelm(t *testing.T, helm, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(helm, args...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_CACHE_HOME=" + filepath.Join(home, "cache"), "HELM_DATA_HOME=" + filepath.Join(home, "data"),
		"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return result{err: msg}
	}
	return result{out: out.String()}
}

func runBundle(t *testing.T, home string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, "no-kubeconfig"))
	t.Setenv("BUNDLE_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("BUNDLE_CACHE_HOME", filepath.Join(home, "cache"))
	code := cli.Run(context.Background(), append([]string{"bundle"}, args...), strings.NewReader(""), &out, &errb)
	if code != 0 {
		return result{err: strings.TrimSpace(errb.String())}
	}
	return result{out: out.String()}
}

// randomLines finds the lines of a render that differ between two renders
// by the same tool with the same input: values made at random per render
// (randAlphaNum, uuidv4, genCA ...). Only these are masked.
func randomLines(a, b string) map[int]bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	out := map[int]bool{}
	if len(la) != len(lb) {
		return nil
	}
	for i := range la {
		if la[i] != lb[i] {
			out[i] = true
		}
	}
	return out
}

func mask(s string, lines map[int]bool) string {
	ls := strings.Split(s, "\n")
	for i := range ls {
		if lines[i] {
			ls[i] = randomValue.ReplaceAllString(ls[i], "$1<random>")
		}
	}
	return strings.Join(ls, "\n")
}

// randomValue keeps a masked line's key: "  password: <random>".
var randomValue = regexp.MustCompile(`^(\s*(?:- )?[^:\s]+:\s*).*$|^.*$`)

// TestHelmTestChartsRender: every chart of Helm's own test data renders
// identically with bundle template and helm template (3 and 4), with each
// variant of flags; what helm refuses, bundle refuses in one line.
func TestHelmTestChartsRender(t *testing.T) {
	eachHelm(t, func(t *testing.T, h *helmCLI) {
		mod := helmModuleDir(t)
		list := charts(t, mod)
		if len(list) < 40 {
			t.Fatalf("found only %d charts in Helm's test data under %s", len(list), mod)
		}
		var same, refused int
		for _, rel := range list {
			chart := filepath.Base(filepath.Dir(rel)) + ":" + filepath.Base(rel)
			t.Run(chart, func(t *testing.T) {
				for _, flags := range variants {
					name := flagsName(flags)
					t.Run(name, func(t *testing.T) {
						rendered, diff := compare(t, h.path, filepath.Join(mod, rel), flags)
						h.check(t, "TestHelmTestChartsRender "+chart+" "+name, diff)
						switch {
						case diff != "":
						case rendered:
							same++
						default:
							refused++
						}
					})
				}
			})
		}
		t.Logf("%d charts x %d flag sets: %d rendered identically, %d refused by both", len(list), len(variants), same, refused)
	})
}

// flagsName names a flag set in subtests and known differences.
func flagsName(flags []string) string {
	if len(flags) == 0 {
		return "default"
	}
	return strings.Join(flags, " ")
}

// compare renders chart with helm and bundle, with flags: rendered is true
// when helm renders; diff is empty when both did the same (rendered the
// same, or refused, bundle in one line), else says how they differ.
func compare(t *testing.T, helm, chart string, flags []string) (rendered bool, diff string) {
	t.Helper()
	home := t.TempDir()
	args := append([]string{"template", "rel", chart, "-n", "default"}, flags...)
	h1 := runHelm(t, helm, home, args...)
	b := runBundle(t, home, args...)
	switch {
	case h1.err != "" && b.err != "":
		t.Logf("both refuse:\n  helm:   %s\n  bundle: %s", oneLine(h1.err), b.err)
		if strings.Contains(b.err, "\n") {
			return false, "bundle refused in more than one line:\n" + b.err
		}
		return false, ""
	case h1.err != "":
		return false, "helm refuses (" + oneLine(h1.err) + "), bundle renders"
	case b.err != "":
		return true, "helm renders, bundle refuses: " + b.err
	}
	h2 := runHelm(t, helm, home, args...)
	random := randomLines(h1.out, h2.out)
	if random == nil {
		return true, "helm renders this chart differently each time, in length too: cannot compare"
	}
	if got, want := mask(b.out, random), mask(h1.out, random); got != want {
		return true, "bundle template differs from helm template:\n" + lineDiff(want, got)
	}
	return true, ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// lineDiff shows the first lines where want (helm) and got (bundle) differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 12; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  helm:   " + wl + "\n  bundle: " + gl + "\n")
			shown++
		}
	}
	if shown == 0 && want != got {
		// Only the line count differs: empty lines at the end.
		b.WriteString("they differ only at the end: helm's ends " + strconv.Quote(want[max(0, len(want)-12):]) +
			", bundle's " + strconv.Quote(got[max(0, len(got)-12):]) + "\n")
	}
	return b.String()
}

// fixture returns a copy of one of our own test charts (testdata/NAME),
// with the library chart vendored under charts/ where it is used, as helm
// dependency build would.
func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", name))); err != nil {
		t.Fatal(err)
	}
	if name == "uses-library" {
		if err := os.CopyFS(filepath.Join(dir, "charts", "common"), os.DirFS(filepath.Join("testdata", "library"))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestOwnChartsRender covers what Helm's test data does not: an apiVersion
// v1 chart with requirements.yaml and requirements.lock (conditions, tags,
// aliases, import-values), a chart without apiVersion, a chart using a
// library chart, a library chart at the root (both refuse), what templates
// see of Kubernetes and Helm without a cluster (and a kubeVersion
// constraint), duplicate keys in Chart.yaml and values.yaml.
func TestOwnChartsRender(t *testing.T) {
	eachHelm(t, func(t *testing.T, h *helmCLI) {
		for _, tt := range []struct {
			name    string
			refused bool
		}{
			{"v1-requirements", false},
			{"no-apiversion", false},
			{"uses-library", false},
			{"library", true},
			{"capabilities", false},
			{"duplicate-keys", false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				dir := fixture(t, tt.name)
				for _, flags := range [][]string{{}, {"--set", "db.enabled=false,tags.caching=true"}} {
					rendered, diff := compare(t, h.path, dir, flags)
					h.check(t, "TestOwnChartsRender "+tt.name+" "+flagsName(flags), diff)
					if diff == "" && rendered == tt.refused {
						t.Errorf("%s: helm rendered: %v, want refused: %v", flagsName(flags), rendered, tt.refused)
					}
				}
			})
		}
	})
}

// A library chart is refused for template (and install) with Helm's
// meaning, in one line that says what to do instead.
func TestLibraryChartRefused(t *testing.T) {
	home := t.TempDir()
	for _, cmd := range [][]string{
		{"template", fixture(t, "library")},
		{"install", fixture(t, "library"), "--kubeconfig", filepath.Join(home, "none")},
	} {
		r := runBundle(t, home, cmd...)
		want := "library charts are not installable (a library chart only provides templates to charts that depend on it"
		if !strings.Contains(r.err, want) || strings.Contains(r.err, "\n") {
			t.Errorf("bundle %s: %q, want one line containing %q", cmd[0], r.err, want)
		}
	}
}

// An apiVersion v1 chart with a bundle.yaml is a bundle: its requirement is
// resolved, composed and wired like any other.
func TestV1ChartWithBundleFile(t *testing.T) {
	home := t.TempDir()
	r := runBundle(t, home, "template", "gb", fixture(t, "v1-bundle"), "-n", "web")
	if r.err != "" {
		t.Fatal(r.err)
	}
	for _, want := range []string{`dsn: "mysql://gb-database.web.svc:3306/guestbook"`, "kind: StatefulSet", "name: gb-database"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

// TestShowMatchesHelm: bundle show chart|values|readme|crds|all prints what
// helm show (3 and 4) prints, for every chart of Helm's test data both
// load, in helm's argument order.
func TestShowMatchesHelm(t *testing.T) {
	eachHelm(t, func(t *testing.T, h *helmCLI) {
		mod := helmModuleDir(t)
		n := 0
		for _, rel := range charts(t, mod) {
			chart := filepath.Join(mod, rel)
			for _, section := range []string{"chart", "values", "readme", "crds", "all"} {
				home := t.TempDir()
				hr := runHelm(t, h.path, home, "show", section, chart)
				b := runBundle(t, home, "show", section, chart)
				var diff string
				switch {
				case (hr.err == "") != (b.err == ""):
					diff = "helm error " + strconv.Quote(hr.err) + ", bundle error " + strconv.Quote(b.err)
				case hr.err == "" && hr.out != b.out:
					diff = "differs:\n" + lineDiff(hr.out, b.out)
				}
				h.check(t, "TestShowMatchesHelm "+rel+" "+section, diff)
				if diff == "" && hr.err == "" {
					n++
				}
			}
		}
		t.Logf("%d chart sections shown identically", n)
	})
}

// TestOutputDirMatchesHelm: template --output-dir writes the files helm
// writes, byte for byte (with and without --include-crds, and
// --release-name), and reports them as helm does.
func TestOutputDirMatchesHelm(t *testing.T) {
	eachHelm(t, func(t *testing.T, h *helmCLI) {
		mod := helmModuleDir(t)
		n := 0
		for _, rel := range charts(t, mod) {
			for _, flags := range outputDirFlags {
				diff := compareOutputDir(t, h.path, filepath.Join(mod, rel), flags)
				h.check(t, "TestOutputDirMatchesHelm "+rel+" "+flagsName(flags), diff)
				if diff == "" {
					n++
				}
			}
		}
		t.Logf("%d charts written identically, or refused by both", n)
	})
}

// outputDirFlags are the flag sets of TestOutputDirMatchesHelm.
var outputDirFlags = [][]string{{}, {"--include-crds", "--release-name"}}

// compareOutputDir runs template --output-dir on chart with helm and bundle,
// with flags: empty when both wrote the same files and reports (or both
// refused), else how they differ.
func compareOutputDir(t *testing.T, helm, chart string, flags []string) string {
	t.Helper()
	home := t.TempDir()
	hdir, bdir := filepath.Join(home, "helm"), filepath.Join(home, "bundle")
	h := runHelm(t, helm, home, append([]string{"template", "rel", chart, "-n", "default", "--output-dir", hdir}, flags...)...)
	b := runBundle(t, home, append([]string{"template", "rel", chart, "-n", "default", "--output-dir", bdir}, flags...)...)
	if (h.err == "") != (b.err == "") {
		return "helm error " + strconv.Quote(h.err) + ", bundle error " + strconv.Quote(b.err)
	}
	if h.err != "" {
		return ""
	}
	var diffs []string
	if got, want := strings.ReplaceAll(b.out, bdir, "DIR"), strings.ReplaceAll(h.out, hdir, "DIR"); got != want {
		diffs = append(diffs, "reports differ:\n"+lineDiff(want, got))
	}
	hfiles, bfiles := readTree(t, hdir), readTree(t, bdir)
	if strings.Join(sortedKeys(hfiles), " ") != strings.Join(sortedKeys(bfiles), " ") {
		return strings.Join(append(diffs, fmt.Sprintf("files differ:\n  helm:   %v\n  bundle: %v", sortedKeys(hfiles), sortedKeys(bfiles))), "\n")
	}
	h2dir := filepath.Join(home, "helm2")
	runHelm(t, helm, home, append([]string{"template", "rel", chart, "-n", "default", "--output-dir", h2dir}, flags...)...)
	h2files := readTree(t, h2dir)
	for _, name := range sortedKeys(hfiles) {
		want := hfiles[name]
		random := randomLines(want, h2files[name])
		if mask(bfiles[name], random) != mask(want, random) {
			diffs = append(diffs, name+" differs:\n"+lineDiff(want, bfiles[name]))
		}
	}
	return strings.Join(diffs, "\n")
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			out[rel] = string(data)
		}
		return nil
	})
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
