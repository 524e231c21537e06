package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bundlesh/bundle/internal/cli"
	"github.com/bundlesh/bundle/internal/testutil"
)

// BenchmarkWaitVsHelm installs the same chart archive (the catalog's
// mariadb, packaged by helm with its library chart) with helm install
// --wait and with bundle install --wait, one after the other on the local
// control plane, and reports both and their ratio (bundle/helm; under 1,
// bundle is faster). It also reports bundle install stable/mediawiki
// --wait (mediawiki with its mariadb). make bench runs it.
func BenchmarkWaitVsHelm(b *testing.B) {
	kc := testutil.Kubeconfig(b)
	helm := testutil.HelmCLI(b)
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		b.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	helmEnv := append(os.Environ(), "HELM_CONFIG_HOME="+b.TempDir(), "HELM_CACHE_HOME="+b.TempDir(), "HELM_DATA_HOME="+b.TempDir())
	run := func(name string, args ...string) {
		b.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = helmEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	bundle := func(args ...string) {
		b.Helper()
		var errb strings.Builder
		if code := cli.Run(context.Background(), append([]string{"bundle"}, args...), strings.NewReader(""), &strings.Builder{}, &errb); code != 0 {
			b.Fatalf("bundle %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
	}
	namespace := func(prefix string) string {
		r := make([]byte, 3)
		rand.Read(r)
		ns := prefix + "-" + hex.EncodeToString(r)
		b.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
		return ns
	}

	// The chart archive both install: helm package vendors the library
	// chart, from a copy so that the repository stays untouched.
	src, pkg := b.TempDir(), b.TempDir()
	for _, d := range []string{"mariadb", "common"} {
		if err := os.CopyFS(filepath.Join(src, d), os.DirFS(filepath.Join("../../bundles/stable", d))); err != nil {
			b.Fatal(err)
		}
	}
	run(helm, "package", "--dependency-update", filepath.Join(src, "mariadb"), "-d", pkg)
	archives, _ := filepath.Glob(filepath.Join(pkg, "mariadb-*.tgz"))
	if len(archives) != 1 {
		b.Fatalf("helm package made %v", archives)
	}
	archive := archives[0]

	var helmTime, bundleTime, wikiTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns := namespace("bench-helm")
		start := time.Now()
		run(helm, "install", "db", archive, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "--kubeconfig", kc)
		helmTime += time.Since(start)

		ns = namespace("bench-bundle")
		start = time.Now()
		bundle("install", "db", archive, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "-q", "--kubeconfig", kc)
		bundleTime += time.Since(start)

		ns = namespace("bench-wiki")
		start = time.Now()
		bundle("install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "-q", "--kubeconfig", kc)
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
