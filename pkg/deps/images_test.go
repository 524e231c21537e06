package deps_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/deps"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// workloads has one object of every kind that runs pods, each with its
// own image from the registry in .Values.registry, and a hook.
var workloads = map[string]string{
	"templates/pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: pod}
spec:
  containers: [{name: c, image: "{{ .Values.registry }}/team/pod:1"}]
  ephemeralContainers: [{name: dbg, image: "{{ .Values.registry }}/team/debug:1"}]
`,
	"templates/deployment.yaml": testutil.DeploymentYAML("deploy", testutil.App("d"), testutil.PodSpec(`initContainers: [{name: init, image: "{{ .Values.registry }}/team/init:1"}]
containers:
  - name: web
    image: "{{ .Values.registry }}/team/deploy:1"
  - name: multi
    image: "{{ .Values.registry }}/team/multi:1"
`)),
	"templates/statefulset.yaml": podTemplate("apps/v1", "StatefulSet", "sts"),
	"templates/daemonset.yaml":   podTemplate("apps/v1", "DaemonSet", "ds"),
	"templates/replicaset.yaml":  podTemplate("apps/v1", "ReplicaSet", "rs"),
	"templates/job.yaml":         podTemplate("batch/v1", "Job", "job"),
	"templates/cronjob.yaml": `apiVersion: batch/v1
kind: CronJob
metadata: {name: cron}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: c, image: "{{ .Values.registry }}/team/cron:1"}]
`,
	"templates/hook.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {"helm.sh/hook": pre-install}
spec:
  template:
    spec:
      containers: [{name: c, image: "{{ .Values.registry }}/team/hook:1"}]
`,
}

func podTemplate(apiVersion, kind, name string) string {
	return testutil.Object(apiVersion, kind, name, "spec:\n  template:\n    spec:\n      containers: [{name: c, image: \"{{ .Values.registry }}/team/"+name+":1\"}]\n")
}

// imageSetup serves images from an in-process registry and a bundle app
// whose objects of every workload kind run them, requiring leaf, whose
// Deployment runs one more (a requirement's images are locked too).
func imageSetup(t *testing.T) (host string, set *repo.Set, app string, digests map[string]string) {
	host = testregistry.Start(t)
	digests = map[string]string{}
	for _, name := range []string{"pod", "debug", "init", "deploy", "sts", "ds", "rs", "job", "cron", "hook", "leaf"} {
		digests[host+"/team/"+name+":1"] = testregistry.Image(t, host, "team/"+name, "1")
	}
	digests[host+"/team/multi:1"] = testregistry.Index(t, host, "team/multi", "1", "linux/amd64", "linux/arm64")

	leafDir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":               "apiVersion: v2\nname: leaf\nversion: 1.0.0\n",
		"values.yaml":              "registry: " + host + "\n",
		"templates/leaf.yaml":      podTemplate("apps/v1", "Deployment", "leaf"),
		"templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: not-an-image}\n",
	})
	leafB, err := bundle.LoadDir(leafDir)
	if err != nil {
		t.Fatal(err)
	}
	set = repo.NewSet(map[string]repo.Repository{"mem": memRepo{"leaf": {leafB}}})
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"values.yaml": "registry: " + host + "\n",
		"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  store:\n    bundle: leaf\n    repository: mem\n    version: ^1.0.0\n",
	}
	for k, v := range workloads {
		files[k] = v
	}
	app = testutil.WriteTree(t, t.TempDir(), files)
	return host, set, app, digests
}

func TestLockImages(t *testing.T) {
	ctx := context.Background()
	host, set, app, digests := imageSetup(t)
	images := repo.NewImages(repo.OCIOptions{PlainHTTP: true})

	start := time.Now()
	res, err := deps.Lock(ctx, set, app, deps.LockOptions{Images: images})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("locked %d images in %v", len(res.Lock.Images), time.Since(start))
	// The right digest for every workload kind, the hook and the
	// requirement's; the multi-platform image by its index's digest.
	if len(res.Lock.Images) != len(digests) {
		t.Errorf("locked %d images, want %d: %+v", len(res.Lock.Images), len(digests), res.Lock.Images)
	}
	for ref, want := range digests {
		got, ok := res.Lock.FindImage(ref)
		if !ok || got.Digest != want || got.Repository != strings.TrimSuffix(ref, ":1") {
			t.Errorf("%s: locked %+v, want digest %s", ref, got, want)
		}
	}
	path := filepath.Join(app, bundle.LockFileName)
	first, _ := os.ReadFile(path)
	if !strings.Contains(string(first), "\nimages:\n  - image: \""+host+"/team/cron:1\"\n    repository: \""+host+"/team/cron\"\n    digest: "+digests[host+"/team/cron:1"]+"\n") {
		t.Errorf("lock file:\n%s", first)
	}

	// Determinism: locking again (a fresh resolver, nothing cached) writes
	// nothing and the bytes are the same.
	res, err = deps.Lock(ctx, set, app, deps.LockOptions{Images: repo.NewImages(repo.OCIOptions{PlainHTTP: true})})
	if err != nil || res.Written {
		t.Fatalf("relock: written %v, %v", res != nil && res.Written, err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Fatalf("lock twice, different bytes:\n%s\n%s", first, again)
	}
	if _, err := deps.Lock(ctx, set, app, deps.LockOptions{Check: true, Images: images}); err != nil {
		t.Fatalf("fresh lock fails --check: %v", err)
	}

	// --locked renders every image by digest: the manifest and the hooks.
	p, err := plan.Make(ctx, set, plan.Source{Reference: app, Locked: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := render.Template(ctx, p, render.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	imageLine := regexp.MustCompile(`image: ['"]?([^'",}\s]+)`)
	lines := imageLine.FindAllStringSubmatch(out, -1)
	if len(lines) != len(digests)+1 { // + the ConfigMap's data, left as it is
		t.Errorf("%d image lines, want %d:\n%s", len(lines), len(digests), out)
	}
	for _, m := range lines {
		ref := m[1]
		if ref == "not-an-image" {
			continue
		}
		repository, d, ok := strings.Cut(ref, "@")
		if !ok || digests[repository+":1"] != d {
			t.Errorf("rendered image %s is not its locked digest", ref)
		}
	}
	// Without --locked, the tags as written.
	p, _ = plan.Make(ctx, set, plan.Source{Reference: app})
	if out, _ := render.Template(ctx, p, render.TemplateOptions{}); strings.Contains(out, "@sha256:") {
		t.Errorf("pinned without --locked")
	}

	// A values change running an image the lock does not hold: --locked
	// names it, and the lock as what to run again.
	p, err = plan.Make(ctx, set, plan.Source{Reference: app, Locked: true, Values: bundle.ValuesOptions{Set: []string{"registry=" + host + "/other"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.Template(ctx, p, render.TemplateOptions{Values: p.Values})
	if !errors.Is(err, plan.ErrLockStale) || !strings.Contains(err.Error(), "image "+host+"/other/team/") || !strings.Contains(err.Error(), "is not in "+app+"/bundle.lock") {
		t.Errorf("unlocked image: %v", err)
	}

	// The tag moves: --check fails in one line naming the image and both
	// digests; the lock itself is not touched.
	moved := testregistry.Image(t, host, "team/deploy", "1")
	_, err = deps.Lock(ctx, set, app, deps.LockOptions{Check: true, Images: repo.NewImages(repo.OCIOptions{PlainHTTP: true})})
	ref := host + "/team/deploy:1"
	want := "image " + ref + " moved: " + path + " locks " + digests[ref] + ", its registry now serves " + moved
	if !errors.Is(err, plan.ErrLockStale) || err.Error() != want {
		t.Errorf("moved tag:\n got  %v\n want %s", err, want)
	}
	// --check without images (offline) does not ask the registry and
	// keeps the images as locked.
	if _, err := deps.Lock(ctx, set, app, deps.LockOptions{Check: true}); err != nil {
		t.Errorf("--check --skip-images: %v", err)
	}
	// bundle lock moves it.
	if _, err := deps.Lock(ctx, set, app, deps.LockOptions{Images: repo.NewImages(repo.OCIOptions{PlainHTTP: true})}); err != nil {
		t.Fatal(err)
	}
	l, _ := os.ReadFile(path)
	if !strings.Contains(string(l), moved) || strings.Contains(string(l), digests[ref]) {
		t.Errorf("relock did not move the tag:\n%s", l)
	}
}

// fakeImages answers a fixed digest for every tag.
type fakeImages struct{}

func (fakeImages) Digest(_ context.Context, ref bundle.ImageRef) (string, error) {
	return "sha256:" + strings.Repeat("b", 64), nil
}

// A Docker Hub short name is recorded as written, with the repository it
// normalises to.
func TestLockImagesDockerHubName(t *testing.T) {
	set, _, app := setup(t)
	testutil.WriteTree(t, app, map[string]string{"templates/web.yaml": podTemplate("apps/v1", "Deployment", "web") + "", "values.yaml": "registry: x\n"})
	os.WriteFile(filepath.Join(app, "templates/web.yaml"), []byte(strings.ReplaceAll(podTemplate("apps/v1", "Deployment", "web"), `{{ .Values.registry }}/team/web:1`, "mariadb:11.4")), 0o644)
	res, err := deps.Lock(context.Background(), set, app, deps.LockOptions{Images: fakeImages{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lock.Images) != 1 || res.Lock.Images[0] != (bundle.LockedImage{Image: "mariadb:11.4", Repository: "docker.io/library/mariadb", Digest: "sha256:" + strings.Repeat("b", 64)}) {
		t.Errorf("images %+v", res.Lock.Images)
	}
	if !strings.Contains(string(res.Data), "  - image: \"mariadb:11.4\"\n    repository: docker.io/library/mariadb\n") {
		t.Errorf("lock:\n%s", res.Data)
	}
}

// An image that cannot be resolved fails bundle lock in one line that
// offers locking without images.
func TestLockImagesUnresolvable(t *testing.T) {
	_, set, app, _ := imageSetup(t)
	testutil.WriteTree(t, app, map[string]string{"templates/gone.yaml": strings.ReplaceAll(podTemplate("apps/v1", "Deployment", "gone"), "/team/gone:1", "/team/gone:9")})
	_, err := deps.Lock(context.Background(), set, app, deps.LockOptions{Images: repo.NewImages(repo.OCIOptions{PlainHTTP: true})})
	var fe *errdefs.Error
	if !errors.Is(err, repo.ErrNotFound) || !strings.Contains(err.Error(), "/team/gone:9") || !strings.HasSuffix(err.Error(), "not found in its registry") || !errors.As(err, &fe) || fe.Fixes[len(fe.Fixes)-1].Options[0] != "skip-images" {
		t.Errorf("unresolvable image: %v", err)
	}
}
