package helmcompat

import (
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"

	"github.com/bundlesh/bundle/internal/testutil"
)

// helmCLI is one of the helm CLIs bundle is held to: helm 4 at the version
// of the SDK bundle is built with, and helm 3.22, what existing users have.
type helmCLI struct {
	name string // "helm3" or "helm4": the subtest's name
	path string
	// known are the differences from this CLI that bundle cannot remove
	// yet, by key (see check), each with why.
	known map[string]string
	// seen are the known keys a run reached, to catch an entry that names
	// nothing.
	mu   sync.Mutex
	seen map[string]bool
}

// eachHelm runs f as a subtest for each helm CLI: "helm3"
// ($BUNDLE_TEST_HELM) and "helm4" ($BUNDLE_TEST_HELM4). Each skips when
// its variable is unset, or fails under make test (BUNDLE_E2E_REQUIRED).
// After f, a known difference of the CLI under this test that f never
// reached fails the subtest: the list names only what is there.
func eachHelm(t *testing.T, f func(t *testing.T, h *helmCLI)) {
	for _, name := range []string{"helm3", "helm4"} {
		t.Run(name, func(t *testing.T) {
			h := helmBinary(t, name)
			f(t, h)
			if t.Failed() || t.Skipped() {
				return
			}
			prefix := strings.SplitN(t.Name(), "/", 2)[0] + " "
			var unreached []string
			for key := range h.known {
				if strings.HasPrefix(key, prefix) && !h.seen[key] {
					unreached = append(unreached, key)
				}
			}
			sort.Strings(unreached)
			for _, key := range unreached {
				t.Errorf("known %s difference %q was not reached: remove it or fix its key", name, key)
			}
		})
	}
}

// helmBinary returns the helm CLI name ("helm3" or "helm4"), checked to be
// that version. helm 4 must be linked as Helm's release builds are, as this
// test binary is (make test does both), or .Capabilities.HelmVersion
// differs between them.
func helmBinary(t *testing.T, name string) *helmCLI {
	t.Helper()
	h := &helmCLI{name: name, seen: map[string]bool{}}
	want := common.DefaultCapabilities.HelmVersion.Version
	switch name {
	case "helm3":
		h.path, h.known, want = testutil.HelmCLI(t), helm3Differences, helm3Version
	case "helm4":
		h.path = testutil.Helm4CLI(t)
	default:
		t.Fatalf("no helm CLI %q", name)
	}
	out, err := exec.Command(h.path, "version", "--template", "{{.Version}}").Output()
	if err != nil {
		t.Fatalf("%s version: %v", h.path, err)
	}
	got := strings.TrimSpace(string(out))
	switch {
	case name == "helm3" && got != want:
		t.Fatalf("$BUNDLE_TEST_HELM is helm %s, not helm %s: make test builds it", got, want)
	case name == "helm4" && got != want:
		t.Fatalf("this test binary says Helm %s, the helm 4 CLI %s: run it through make test, which links both with Helm's release flags (HELM_LDFLAGS)", want, got)
	}
	return h
}

// check judges one comparison with this CLI, named key ("TestName what"):
// diff is empty when bundle did what helm did, else says how they
// differ. A difference fails t unless it is a known one; a known one that
// no longer differs fails t too, so that the list shrinks as bundle
// catches up.
func (h *helmCLI) check(t *testing.T, key, diff string) {
	t.Helper()
	why, known := h.known[key]
	if known {
		h.mu.Lock()
		h.seen[key] = true
		h.mu.Unlock()
	}
	switch {
	case known && diff == "":
		t.Errorf("%s: bundle now does what %s does: remove it from the known %s differences (%s)", key, h.name, h.name, why)
	case known:
		t.Logf("known %s difference: %s\n%s", h.name, why, diff)
	case diff != "":
		t.Errorf("%s: %s", key, diff)
	}
}

// helm3Version is the helm 3 CLI the tests compare with (the Makefile's
// HELM3_VERSION), whose module's test charts they render.
const helm3Version = "v3.22.0"

// helm3Differences are where helm 3.22's output differs from bundle's,
// built on the Helm 4 SDK, by check's key; each says why. They are Helm
// 4's own changes, which bundle follows: bundle renders as helm 4 does.
var helm3Differences = differences(
	difference{
		why: "helm 4 and bundle keep each rendered document's trailing whitespace (Helm 4's SplitManifests trims only " +
			"leading whitespace, helm 3's both ends): a template leaving a blank line before the next document prints it " +
			"before the `---`, where helm 3 prints none",
		keys: append(renderVariants(
			"testcharts:chart-with-deprecated-api", "testcharts:chart-with-secret", "testcharts:object-order",
			"testcharts:oci-dependent-chart-0.1.0.tgz", "testcharts:subchart", "testdata:subpop",
		), "TestOwnChartsRender v1-requirements default", "TestOwnChartsRender v1-requirements --set db.enabled=false,tags.caching=true"),
	},
	difference{
		why: "helm 4 and bundle write each --output-dir file with the document's trailing newline kept (SplitManifests, " +
			"as above), so every file ends in a blank line, where helm 3 ends it with one newline",
		keys: outputDirVariants(
			"cmd/helm/testdata/testcharts/alpine", "cmd/helm/testdata/testcharts/chart-with-deprecated-api",
			"cmd/helm/testdata/testcharts/chart-with-lib-dep", "cmd/helm/testdata/testcharts/chart-with-schema",
			"cmd/helm/testdata/testcharts/chart-with-secret", "cmd/helm/testdata/testcharts/chart-with-template-lib-archive-dep",
			"cmd/helm/testdata/testcharts/chart-with-template-lib-dep", "cmd/helm/testdata/testcharts/empty",
			"cmd/helm/testdata/testcharts/object-order", "cmd/helm/testdata/testcharts/oci-dependent-chart-0.1.0.tgz",
			"cmd/helm/testdata/testcharts/signtest", "cmd/helm/testdata/testcharts/signtest-0.1.0.tgz",
			"cmd/helm/testdata/testcharts/subchart", "pkg/chartutil/testdata/subpop",
		),
	},
	difference{
		why: "helm 4 and bundle coalesce a parent's null differently from helm 3: `key: null` in the parent's values " +
			"(under global: or the subchart's name) no longer deletes the subchart's default for key, and the parent's " +
			"own .Values no longer shows the null; helm 3 deletes the default and shows `key: null` (Helm's issue 9027 chart)",
		keys: append(renderVariants("testcharts:issue-9027"),
			outputDirVariants("cmd/helm/testdata/testcharts/issue-9027")...),
	},
	difference{
		why:  ".Capabilities.HelmVersion is the Helm SDK's version: v4.3.2 in bundle and helm 4, v3.22.0 in helm 3",
		keys: []string{"TestOwnChartsRender capabilities default", "TestOwnChartsRender capabilities --set db.enabled=false,tags.caching=true"},
	},
	difference{
		why: "helm 4's and bundle's show crds start every CRD with a `---` line, the first one included; helm 3 prints " +
			"the first without it",
		keys: []string{
			"TestShowMatchesHelm cmd/helm/testdata/testcharts/chart-with-only-crds crds",
			"TestShowMatchesHelm cmd/helm/testdata/testcharts/subchart crds",
			"TestShowMatchesHelm pkg/chartutil/testdata/subpop crds",
		},
	},
)

// difference is one way helm 3 differs, and the comparisons it shows in.
type difference struct {
	why  string
	keys []string
}

// differences indexes ds by key: the map helmCLI.known is.
func differences(ds ...difference) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		for _, k := range d.keys {
			if _, dup := out[k]; dup {
				panic("known difference " + k + " listed twice")
			}
			out[k] = d.why
		}
	}
	return out
}

// renderVariants are TestHelmTestChartsRender's keys of each chart, with
// every flag set.
func renderVariants(charts ...string) []string {
	var out []string
	for _, c := range charts {
		for _, flags := range variants {
			out = append(out, "TestHelmTestChartsRender "+c+" "+flagsName(flags))
		}
	}
	return out
}

// outputDirVariants are TestOutputDirMatchesHelm's keys of each chart,
// with both flag sets.
func outputDirVariants(charts ...string) []string {
	var out []string
	for _, c := range charts {
		for _, flags := range outputDirFlags {
			out = append(out, "TestOutputDirMatchesHelm "+c+" "+flagsName(flags))
		}
	}
	return out
}
