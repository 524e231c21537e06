package e2e

import (
	"context"
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
	g := testregistry.StartAirGap(t)
	a, dbIndex, webDigest, src, db, app := g.A, g.DBIndex, g.WebDigest, g.Source, g.DB, g.App
	e.mustBundle(t, "push", db, src, "--plain-http")
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
