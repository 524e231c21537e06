package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

// benchTool is one command line the benchmarks time: bundle, helm 4 or
// helm 3, each run as a process of its own (as a user runs it), so that
// each pays its own start-up.
type benchTool struct {
	name string // "bundle", "helm4", "helm3": the metrics' prefix
	run  func(b *testing.B, args ...string)
}

// benchTools are bundle (the binary built from this module), helm 4 and,
// unless skipHelm3, helm 3, on the cluster of kubeconfig.
func benchTools(b *testing.B, kubeconfig string, skipHelm3 bool) []benchTool {
	b.Helper()
	bundle := testutil.BundleBinary(b) // built before any clock starts
	helm4, helm3 := testutil.Helm4CLI(b), testutil.HelmCLI(b)
	tools := []benchTool{
		{"bundle", func(b *testing.B, args ...string) {
			b.Helper()
			cmd := exec.Command(bundle, append(args, "--kubeconfig", kubeconfig)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if out, err := cmd.Output(); err != nil {
				b.Fatalf("bundle %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
			}
		}},
		{"helm4", func(b *testing.B, args ...string) {
			b.Helper()
			runHelm(b, helm4, append(args, "--kubeconfig", kubeconfig)...)
		}},
		{"helm3", func(b *testing.B, args ...string) {
			b.Helper()
			runHelm(b, helm3, append(args, "--kubeconfig", kubeconfig)...)
		}},
	}
	if skipHelm3 {
		tools = tools[:2]
	}
	return tools
}

// benchTimes adds up, per tool and operation, the time each took.
type benchTimes map[string]time.Duration

// time runs f as tool's op and adds its time.
func (bt benchTimes) time(tool, op string, f func()) {
	start := time.Now()
	f()
	bt[tool+"-"+op] += time.Since(start)
}

// report reports each tool's mean seconds per op (bundle-install-s, ...),
// then bundle's time over each other tool's (install-bundle/helm4, ...;
// under 1, bundle is faster). The benchmark line sorts metrics by name, so
// it also logs them as a table, in the run go test reports: an op a row,
// the ratio to helm 4 first.
func (bt benchTimes) report(b *testing.B, tools []benchTool, ops []string) {
	b.Helper()
	n := float64(b.N)
	var table strings.Builder
	fmt.Fprintf(&table, "n=%d, mean seconds\n%-12s", b.N, "op")
	for _, tool := range tools {
		fmt.Fprintf(&table, " %8s", tool.name)
	}
	for _, tool := range tools[1:] {
		fmt.Fprintf(&table, " %13s", "bundle/"+tool.name)
	}
	for _, op := range ops {
		fmt.Fprintf(&table, "\n%-12s", op)
		for _, tool := range tools {
			s := bt[tool.name+"-"+op].Seconds() / n
			b.ReportMetric(s, tool.name+"-"+op+"-s")
			fmt.Fprintf(&table, " %8.3f", s)
		}
		for _, tool := range tools[1:] {
			r := bt["bundle-"+op].Seconds() / bt[tool.name+"-"+op].Seconds()
			b.ReportMetric(r, op+"-bundle/"+tool.name)
			fmt.Fprintf(&table, " %13.2f", r)
		}
	}
	b.ReportMetric(0, "ns/op")
	if reportedRun(b) {
		b.Log(table.String())
	}
}

// reportedRun reports whether this run of a benchmark is the one go test
// reports: with -benchtime Nx, the run of N iterations (go test runs one of
// 1 first, and keeps only 10 lines of a benchmark's log).
func reportedRun(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if f == nil || !strings.HasSuffix(f.Value.String(), "x") {
		return true
	}
	n, err := strconv.Atoi(strings.TrimSuffix(f.Value.String(), "x"))
	return err != nil || b.N == n
}

// rotate is tools in the order iteration i runs them: each goes first in
// turn, so that none always meets the cluster just after the same other.
func rotate(tools []benchTool, i int) []benchTool {
	k := i % len(tools)
	return append(append([]benchTool{}, tools[k:]...), tools[:k]...)
}

// BenchmarkWaitVsHelm times, side by side on the local control plane and
// the same chart archive (the catalog's mariadb, packaged by helm with its
// library chart), bundle, helm 4 and helm 3: install --wait until Ready,
// upgrade --wait (a changed resource request: a rolling update), status,
// and template. It reports each tool's mean seconds per operation and
// bundle's ratios to helm 4 (the anchor) and helm 3, and bundle install
// stable/mediawiki --wait (mediawiki with its mariadb). make bench runs it.
func BenchmarkWaitVsHelm(b *testing.B) {
	e := setupWith(b, testutil.Kubeconfig(b))
	tools := benchTools(b, e.kubeconfig, false)
	archive := helmPackage(b, testutil.HelmCLI(b), "mariadb")
	ops := []string{"install", "upgrade", "status", "template"}

	times := benchTimes{}
	var wikiTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, tool := range rotate(tools, i) {
			ns := e.namespace(b, "bench-"+tool.name)
			times.time(tool.name, "install", func() {
				tool.run(b, "install", "db", archive, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")
			})
			times.time(tool.name, "upgrade", func() {
				tool.run(b, "upgrade", "db", archive, "-n", ns, "--set", "resources.requests.cpu=200m", "--wait", "--timeout", "3m")
			})
			times.time(tool.name, "status", func() { tool.run(b, "status", "db", "-n", ns) })
			times.time(tool.name, "template", func() { tool.run(b, "template", "db", archive, "-n", ns) })
		}

		ns := e.namespace(b, "bench-wiki")
		start := time.Now()
		tools[0].run(b, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "-q")
		wikiTime += time.Since(start)
	}
	b.StopTimer()
	times.report(b, tools, ops)
	b.ReportMetric(wikiTime.Seconds()/float64(b.N), "mediawiki-install-s")
}

// scaleObjects is the number of ConfigMaps of BenchmarkScaleVsHelm4's
// release.
const scaleObjects = 600

// BenchmarkScaleVsHelm4 times a release of 600 ConfigMaps (a chart
// generated in a temporary directory) installed with --wait, then upgraded
// with --wait changing every one of them, by bundle and by helm 4, side by
// side on the local control plane: what each costs per object. It reports
// each tool's mean seconds (bundle-install600-s, ...) and bundle's ratio to
// helm 4 (install600-bundle/helm4, ...). make bench runs it.
func BenchmarkScaleVsHelm4(b *testing.B) {
	e := setupWith(b, testutil.Kubeconfig(b))
	tools := benchTools(b, e.kubeconfig, true)
	chart := scaleChart(b, scaleObjects)
	install, upgrade := fmt.Sprintf("install%d", scaleObjects), fmt.Sprintf("upgrade%d", scaleObjects)

	times := benchTimes{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, tool := range rotate(tools, i) {
			ns := e.namespace(b, "bench-scale-"+tool.name)
			times.time(tool.name, install, func() {
				tool.run(b, "install", "many", chart, "-n", ns, "--create-namespace", "--wait", "--timeout", "5m")
			})
			times.time(tool.name, upgrade, func() {
				tool.run(b, "upgrade", "many", chart, "-n", ns, "--set", "revision=2", "--wait", "--timeout", "5m")
			})
		}
	}
	b.StopTimer()
	times.report(b, tools, []string{install, upgrade})
}

// scaleChart writes a chart of n ConfigMaps, each holding the value
// revision, into a temporary directory, and returns the directory.
func scaleChart(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "many")
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: many\nversion: 0.1.0\n",
		"values.yaml": fmt.Sprintf("count: %d\nrevision: \"1\"\n", n),
		"templates/configmaps.yaml": `{{- range $i := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-{{ $i }}
data:
  revision: {{ $.Values.revision | quote }}
{{- end }}
`,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
