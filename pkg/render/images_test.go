package render_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

func manifest(t *testing.T, src string, hook bool) render.Manifest {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(src), &obj); err != nil {
		t.Fatal(err)
	}
	m := render.Manifest{Source: "app/templates/x.yaml", Object: obj, YAML: src, Hook: hook}
	m.Kind, _ = obj["kind"].(string)
	m.Name, _ = obj["metadata"].(map[string]any)["name"].(string)
	return m
}

const podSpec = `
      initContainers: [{name: init, image: "busybox:1.37"}]
      containers:
        - {name: app, image: "ghcr.io/o/app:1.0"}
        - {name: side, image: "nginx"}
      ephemeralContainers: [{name: debug, image: "registry.example.com:5000/debug@sha256:0000000000000000000000000000000000000000000000000000000000000001"}]`

// indent moves podSpec's pod spec to the given depth.
func indent(spaces int) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimPrefix(podSpec, "\n"), "\n") {
		b.WriteString(strings.Repeat(" ", spaces) + strings.TrimPrefix(l, "      ") + "\n")
	}
	return b.String()
}

func TestImagesEveryWorkloadKind(t *testing.T) {
	all := []string{"busybox:1.37", "ghcr.io/o/app:1.0", "nginx", "registry.example.com:5000/debug@sha256:0000000000000000000000000000000000000000000000000000000000000001"}
	template := "spec:\n  template:\n    spec:\n" + indent(6)
	tests := []struct {
		kind, body, path string
		hook             bool
	}{
		{"Pod", "spec:\n" + indent(2), "spec", false},
		{"Deployment", template, "spec.template.spec", false},
		{"StatefulSet", template, "spec.template.spec", false},
		{"DaemonSet", template, "spec.template.spec", false},
		{"ReplicaSet", template, "spec.template.spec", false},
		{"ReplicationController", template, "spec.template.spec", false},
		{"Job", template, "spec.template.spec", false},
		{"Job", template, "spec.template.spec", true}, // a hook
		{"CronJob", "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" + indent(10), "spec.jobTemplate.spec.template.spec", false},
		{"PodTemplate", "template:\n  spec:\n" + indent(4), "template.spec", false},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			m := manifest(t, "apiVersion: v1\nkind: "+tt.kind+"\nmetadata: {name: w}\n"+tt.body, tt.hook)
			uses := render.Images([]render.Manifest{m})
			var got []string
			for _, u := range uses {
				got = append(got, u.Image)
				if u.Kind != tt.kind || u.Name != "w" || u.Hook != tt.hook || !strings.HasPrefix(u.Container, tt.path+".") {
					t.Errorf("use %+v", u)
				}
			}
			if !reflect.DeepEqual(got, all) {
				t.Fatalf("images %q, want %q (init, containers, ephemeral)", got, all)
			}
			if uses[1].Container != tt.path+".containers[app]" {
				t.Errorf("container %s", uses[1].Container)
			}
		})
	}
	// Objects that run no pods, and pod specs without images, have none.
	none := []render.Manifest{
		manifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: nginx}\n", false),
		manifest(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {template: {spec: {containers: [{image: x}]}}}\n", false),
		manifest(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: a}]}}}\n", false),
		manifest(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: null\n", false),
	}
	if uses := render.Images(none); len(uses) != 0 {
		t.Errorf("images of objects without any: %+v", uses)
	}
}

const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func pins() render.ImagePins {
	return render.ImagePins{Lock: "./app/bundle.lock", Bundle: "./app", Images: []bundle.LockedImage{
		{Image: "nginx:1.27", Repository: "docker.io/library/nginx", Digest: d1},
		{Image: "busybox:1.37", Repository: "docker.io/library/busybox", Digest: d1},
	}}
}

func TestPinStream(t *testing.T) {
	cm := "---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: \"nginx:1.27\"\n"
	deploy := "---\n# Source: app/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: init\n          image: busybox:1.37\n      containers:\n        - name: web\n          # the server\n          image: \"nginx:1.27\"\n          ports: [{containerPort: 80}]\n"
	out, err := pins().PinStream(cm + deploy)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, cm) {
		t.Errorf("a document without images changed:\n%s", out)
	}
	for _, want := range []string{
		"# Source: app/templates/deploy.yaml\napiVersion: apps/v1\n",
		"image: docker.io/library/busybox@" + d1 + "\n",
		"# the server\n          image: docker.io/library/nginx@" + d1 + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pinned stream lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out[len(cm):], "nginx:1.27") {
		t.Errorf("a tag is left:\n%s", out)
	}
	again, err := pins().PinStream(cm + deploy)
	if err != nil || again != out {
		t.Errorf("pinning is not deterministic")
	}

	// An image the lock does not hold: stale, named, fixed by bundle lock.
	_, err = pins().PinStream(strings.ReplaceAll(deploy, "nginx:1.27", "nginx:1.28"))
	if !errors.Is(err, errdefs.ErrStale) || err.Error() != "image nginx:1.28 of Deployment web is not in ./app/bundle.lock" {
		t.Errorf("unlocked image: %v", err)
	}
	var fe *errdefs.Error
	if !errors.As(err, &fe) || len(fe.Fixes) != 1 || strings.Join(fe.Fixes[0].Run, " ") != "lock ./app" {
		t.Errorf("fix %+v", fe)
	}
	// An image written by digest already needs no lock entry.
	byDigest := strings.ReplaceAll(deploy, "nginx:1.27", "ghcr.io/o/x@"+d1)
	if out, err := pins().PinStream(byDigest); err != nil || !strings.Contains(out, "ghcr.io/o/x@"+d1) {
		t.Errorf("image by digest: %v\n%s", err, out)
	}
}

// Pinning the catalog's rendered objects changes their images and nothing
// else: every other field, long strings and scripts included, reads back
// the same.
func TestPinKeepsEverythingElse(t *testing.T) {
	entries, err := os.ReadDir("../../bundles/stable")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p, err := plan.Make(context.Background(), testSet(), plan.Source{Reference: "stable/" + e.Name()})
		if err != nil {
			continue // the library chart
		}
		t.Run(e.Name(), func(t *testing.T) {
			r, err := render.Render(context.Background(), p, render.TemplateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			before, err := r.Manifests()
			if err != nil {
				t.Fatal(err)
			}
			pins := render.ImagePins{Lock: "bundle.lock", Bundle: "."}
			want := map[string]string{}
			for _, u := range render.Images(before) {
				ref, err := bundle.ParseImage(u.Image)
				if err != nil {
					t.Fatal(err)
				}
				pins.Images = append(pins.Images, bundle.LockedImage{Image: u.Image, Repository: ref.Repository, Digest: d1})
				want[u.Image] = ref.Repository + "@" + d1
			}
			if len(want) == 0 {
				t.Fatal("no images")
			}
			pinned := &render.Rendered{Manifest: r.Manifest}
			if pinned.Manifest, err = pins.PinStream(r.Manifest); err != nil {
				t.Fatal(err)
			}
			for _, h := range r.Hooks {
				if h.Manifest, err = pins.PinDocument(h.Manifest); err != nil {
					t.Fatal(err)
				}
				pinned.Hooks = append(pinned.Hooks, h)
			}
			after, err := pinned.Manifests()
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Fatalf("%d objects, then %d", len(before), len(after))
			}
			for i := range before {
				if before[i].Source != after[i].Source {
					t.Errorf("object %d from %s, then %s", i, before[i].Source, after[i].Source)
				}
				// The images of before, pinned by hand, are after.
				for _, u := range render.Images(before[i : i+1]) {
					setImage(before[i].Object, u.Image, want[u.Image])
				}
				if !reflect.DeepEqual(before[i].Object, after[i].Object) {
					t.Errorf("%s %s changed beyond its images:\n%s\n%s", before[i].Kind, before[i].Name, before[i].YAML, after[i].YAML)
				}
				if len(render.Images(before[i:i+1])) == 0 && before[i].YAML != after[i].YAML {
					t.Errorf("%s %s has no image, but its text changed", before[i].Kind, before[i].Name)
				}
			}
		})
	}
}

// setImage replaces every "image" value old in v by nu.
func setImage(v any, old, nu string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "image" && s == old {
				v[k] = nu
				continue
			}
			setImage(x, old, nu)
		}
	case []any:
		for _, x := range v {
			setImage(x, old, nu)
		}
	}
}
