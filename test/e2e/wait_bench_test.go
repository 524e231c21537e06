package e2e

import (
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

// BenchmarkWaitVsHelm installs the same chart archive (the catalog's
// mariadb, packaged by helm with its library chart) with helm install
// --wait and with bundle install --wait, one after the other on the local
// control plane, and reports both and their ratio (bundle/helm; under 1,
// bundle is faster). It also reports bundle install stable/mediawiki
// --wait (mediawiki with its mariadb). make bench runs it.
func BenchmarkWaitVsHelm(b *testing.B) {
	e := setupWith(b, testutil.Kubeconfig(b))
	helm := testutil.HelmCLI(b)
	// The chart archive both install.
	archive := helmPackage(b, helm, "mariadb")

	var helmTime, bundleTime, wikiTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns := e.namespace(b, "bench-helm")
		start := time.Now()
		runHelm(b, helm, "install", "db", archive, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "--kubeconfig", e.kubeconfig)
		helmTime += time.Since(start)

		ns = e.namespace(b, "bench-bundle")
		start = time.Now()
		e.mustBundle(b, "install", "db", archive, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "-q")
		bundleTime += time.Since(start)

		ns = e.namespace(b, "bench-wiki")
		start = time.Now()
		e.mustBundle(b, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "-q")
		wikiTime += time.Since(start)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(helmTime.Seconds()/n, "helm-s/install")
	b.ReportMetric(bundleTime.Seconds()/n, "bundle-s/install")
	b.ReportMetric(bundleTime.Seconds()/helmTime.Seconds(), "bundle/helm")
	b.ReportMetric(wikiTime.Seconds()/n, "mediawiki-s/install")
	b.ReportMetric(0, "ns/op")
}
