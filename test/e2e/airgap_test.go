package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/bundle"
)

// TestAirGappedInstall archives an app and the bundle it requires from
// registry A with their images (one multi-platform), stops A, pushes the
// archive into registry B, and installs from B with --locked: every Pod's
// image is B's copy, by digest.
func TestAirGappedInstall(t *testing.T) {
	e, ns := setupIn(t, "airgap")
	a := testregistry.StartServer(t)
	dbIndex := testregistry.Index(t, a.Host, "img/db", "1.0", "linux/amd64", "linux/arm64")
	webDigest := testregistry.Image(t, a.Host, "img/web", "2.0")
	src := "oci://" + a.Host + "/bundles"
	write := func(files map[string]string) string {
		dir := t.TempDir()
		for name, data := range files {
			os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	deploy := func(name, image string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: "{{ .Release.Name }}-%s"}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
        - name: main
          image: %s
`, name, name, name, image)
	}
	db := write(map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: db\nversion: 1.0.0\n",
		"bundle.yaml":           "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Release.Name }}-db'\n",
		"templates/deploy.yaml": deploy("db", a.Host+"/img/db:1.0"),
	})
	e.mustBundle(t, "push", db, src, "--plain-http")
	app := write(map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"bundle.yaml":           "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: db, repository: " + src + ", version: ^1, outputs: [host]}\n",
		"templates/deploy.yaml": deploy("web", a.Host+"/img/web:2.0"),
	})
	e.mustBundle(t, "lock", app, "--plain-http")
	file := filepath.Join(t.TempDir(), "app.tar")
	e.mustBundle(t, "archive", app, "--locked", "-o", file, "--plain-http")
	a.Stop()

	b := testregistry.StartServer(t)
	mirror := "oci://" + b.Host + "/mirror"
	e.mustBundle(t, "archive", "push", file, mirror, "--plain-http")
	e.mustBundle(t, "install", "app", mirror+"/app", "-n", ns, "--create-namespace", "--locked", "--mirror", mirror, "--plain-http", "--wait", "--timeout", "2m")

	want := map[string]bool{
		bundle.Mirrored(b.Host+"/mirror", a.Host+"/img/db") + "@" + dbIndex:    true,
		bundle.Mirrored(b.Host+"/mirror", a.Host+"/img/web") + "@" + webDigest: true,
	}
	pods, err := e.cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) < 2 {
		t.Fatalf("%d pods", len(pods.Items))
	}
	seen := map[string]bool{}
	for _, p := range pods.Items {
		for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
			if !want[c.Image] {
				t.Errorf("pod %s runs %s, not B's copy by digest", p.Name, c.Image)
			}
			seen[c.Image] = true
		}
	}
	if len(seen) != 2 {
		t.Errorf("pods run %v", seen)
	}
	e.mustBundle(t, "uninstall", "app", "-n", ns, "--wait")
}
