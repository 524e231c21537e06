package release

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
)

// install and upgrade --locked apply, and record, every image by its
// locked digest: the manifests (through Helm's post-render step) and the
// hooks (which Helm 3 does not post-render).
func TestLockedInstallPinsImages(t *testing.T) {
	ctx := context.Background()
	digest := "sha256:" + strings.Repeat("c", 64)
	dir := testutil.Chart{Name: "app", Values: "tag: \"1.27\"\n", Templates: map[string]string{
		"web.yaml": testutil.DeploymentYAML("web", testutil.PodSpec(`containers: [{name: web, image: "nginx:{{ .Values.tag }}"}]`)),
		"hook.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: setup
  annotations: {"helm.sh/hook": "pre-install,pre-upgrade"}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: setup, image: "busybox:1.37"}]
`,
	}}.Write(t, t.TempDir())
	b, err := bundle.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lock := &bundle.Lock{Requires: bundle.RequiresDigest(b.File), Bundles: []bundle.LockedBundle{}, Images: []bundle.LockedImage{
		{Image: "nginx:1.27", Repository: "docker.io/library/nginx", Digest: digest},
		{Image: "busybox:1.37", Repository: "docker.io/library/busybox", Digest: digest},
	}}
	if err := os.WriteFile(filepath.Join(dir, bundle.LockFileName), lock.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	f := releasetest.New("team")
	c := NewWithEnv(envOf(f), repo.NewSet(nil))
	check := func(what string) {
		t.Helper()
		rel := f.Last(t, "app")
		if !strings.Contains(rel.Manifest, "docker.io/library/nginx@"+digest) || strings.Contains(rel.Manifest, "nginx:1.27") {
			t.Errorf("%s: manifest not pinned:\n%s", what, rel.Manifest)
		}
		if len(rel.Hooks) != 1 || !strings.Contains(rel.Hooks[0].Manifest, "docker.io/library/busybox@"+digest) {
			t.Errorf("%s: hook not pinned: %s", what, rel.Hooks[0].Manifest)
		}
	}
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: dir, Locked: true}, ReleaseName: "app"}); err != nil {
		t.Fatal(err)
	}
	check("install")
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: dir, Locked: true}, ReleaseName: "app"}); err != nil {
		t.Fatal(err)
	}
	check("upgrade")

	// An image the lock does not hold: refused before anything is applied.
	_, err = c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: dir, Locked: true, Values: bundle.ValuesOptions{SetString: []string{"tag=1.28"}}}, ReleaseName: "app"})
	if !errors.Is(err, errdefs.ErrStale) || !strings.Contains(err.Error(), "image nginx:1.28 of Deployment web is not in "+dir+"/bundle.lock") {
		t.Errorf("unlocked image: %v", err)
	}
	if rel := f.Last(t, "app"); rel.Version != 2 {
		t.Errorf("a revision %d was stored", rel.Version)
	}
	// Without --locked, the tags as written.
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: dir}, ReleaseName: "app"}); err != nil {
		t.Fatal(err)
	}
	if rel := f.Last(t, "app"); !strings.Contains(rel.Manifest, `image: "nginx:1.27"`) {
		t.Errorf("pinned without --locked:\n%s", rel.Manifest)
	}
}
