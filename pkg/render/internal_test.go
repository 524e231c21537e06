package render

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// DefaultKubeVersion follows the client-go in go.mod, as Helm's release
// builds do: bumping client-go without it fails here.
func TestDefaultKubeVersionFollowsClientGo(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/client-go v0\.(\d+)\.`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no k8s.io/client-go v0.x")
	}
	if got := DefaultKubeVersion(); got.Minor != string(m[1]) || got.Version != "v1."+string(m[1])+".0" {
		t.Errorf("DefaultKubeVersion is %s, but go.mod has client-go v0.%s: set kubeMinor to %q", got.Version, m[1], m[1])
	}
}

// splitStream gives back each document of a stream exactly as Helm wrote
// it, trailing blank lines of a CRD file included.
func TestSplitStream(t *testing.T) {
	stream := "---\n# Source: a/crds/crd.yaml\nkind: CRD\n\n\n---\n# Source: a/templates/cm.yaml\nkind: ConfigMap\n---\n# Source: a/templates/cm.yaml\nkind: Secret\n"
	docs, err := splitStream(stream)
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{{"a/crds/crd.yaml", "kind: CRD\n\n"}, {"a/templates/cm.yaml", "kind: ConfigMap"}, {"a/templates/cm.yaml", "kind: Secret"}}
	if len(docs) != len(want) {
		t.Fatalf("got %q", docs)
	}
	for i := range want {
		if docs[i] != want[i] {
			t.Errorf("document %d: got %q, want %q", i, docs[i], want[i])
		}
	}
	if _, err := splitStream("kind: ConfigMap\n"); err == nil {
		t.Error("a stream without # Source: lines is accepted")
	}
	dir := t.TempDir()
	written, err := WriteDir(dir, "rel", docs)
	if err != nil || len(written) != 3 || written[0] != dir+"/a/crds/crd.yaml" || written[1] != dir+"/rel/a/templates/cm.yaml" {
		t.Fatalf("WriteDir: %v %v", written, err)
	}
	if _, err := WriteDir(dir, "", []Document{{"../x", "y"}}); err == nil {
		t.Error("a path leaving the directory is written")
	}
}

// Rendered output travels as structured manifests: source, kind, name,
// namespace and body, hooks marked.
func TestRenderedManifests(t *testing.T) {
	r := &Rendered{
		Manifest: "---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\ndata: {k: v}\n---\n# Source: app/templates/empty.yaml\n# nothing\n",
		Hooks:    []Hook{{Path: "app/templates/tests/t.yaml", Manifest: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n"}},
	}
	ms, err := r.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("got %d manifests: %+v", len(ms), ms)
	}
	cm, pod := ms[0], ms[1]
	if cm.Source != "app/templates/cm.yaml" || cm.Kind != "ConfigMap" || cm.Name != "a" || cm.Namespace != "x" || cm.APIVersion != "v1" || cm.Hook {
		t.Errorf("ConfigMap: %+v", cm)
	}
	if data, _ := cm.Object["data"].(map[string]any); data["k"] != "v" {
		t.Errorf("body: %v", cm.Object)
	}
	if pod.Kind != "Pod" || !pod.Hook || pod.Source != "app/templates/tests/t.yaml" {
		t.Errorf("hook: %+v", pod)
	}
	bad := &Rendered{Manifest: "---\n# Source: app/templates/x.yaml\nkind: [\n"}
	if _, err := bad.Manifests(); err == nil || !strings.Contains(err.Error(), "app/templates/x.yaml") {
		t.Errorf("unparsable document: %v", err)
	}
}
