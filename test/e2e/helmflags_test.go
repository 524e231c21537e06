package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bundlesh/bundle/internal/testutil"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// widgetsChart copies the widgets fixture (a plain chart with a CRD in
// crds/, a Widget from templates/ and a pre-install hook) into a temporary
// directory with an API group of its own, so that its cluster-wide CRD
// cannot meet another test's; the CRD is deleted when the test ends.
func widgetsChart(t *testing.T, e *env) (dir, group string) {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	group = "e2e" + hex.EncodeToString(b) + ".example.com"
	src := "../../pkg/render/testdata/flags/widgets"
	dir = filepath.Join(t.TempDir(), "widgets")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data = []byte(strings.ReplaceAll(string(data), "example.com", group))
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	dyn := e.dynamic(t)
	t.Cleanup(func() {
		dyn.Resource(crdResource).Delete(context.Background(), "widgets."+group, metav1.DeleteOptions{})
	})
	return dir, group
}

func (e *env) dynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// Install creates the CRDs in crds/ before the templates (the Widget in
// templates/ needs it), runs hooks unless --no-hooks; upgrade and
// uninstall leave the CRD as it is, as with helm.
func TestCRDs(t *testing.T) {
	e, ns := setupIn(t, "crds")
	ctx := context.Background()
	chart, group := widgetsChart(t, e)
	dyn := e.dynamic(t)
	widgets := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}

	out := e.mustBundle(t, "install", "w", chart, "-n", ns, "--create-namespace", "--description", "first widgets")
	if !strings.Contains(out, `Release "w" installed`) {
		t.Errorf("install output:\n%s", out)
	}
	crd, err := dyn.Resource(crdResource).Get(ctx, "widgets."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the CRD in crds/ was not created: %v", err)
	}
	w, err := dyn.Resource(widgets).Namespace(ns).Get(ctx, "w-widget", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Widget in templates/ was not created: %v", err)
	}
	if got := dig(w.Object, "spec", "size"); got != "small" {
		t.Errorf("Widget spec.size = %v", got)
	}
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "w-pre-install", metav1.GetOptions{}); err != nil {
		t.Errorf("the pre-install hook did not run: %v", err)
	}
	rel := e.lastRevision(t, ns, "w")
	if rel.Info.Description != "first widgets" {
		t.Errorf("--description: the revision says %q", rel.Info.Description)
	}
	if strings.Contains(rel.Manifest, "CustomResourceDefinition") {
		t.Errorf("the CRD is part of the release's manifest, so uninstall would delete it")
	}

	// Upgrade does not touch the CRD, even when crds/ changed.
	crdFile := filepath.Join(chart, "crds", "widget.yaml")
	data, _ := os.ReadFile(crdFile)
	os.WriteFile(crdFile, []byte(strings.Replace(string(data), "    singular: widget\n", "    singular: widget\n    shortNames: [wd]\n", 1)), 0o644)
	e.mustBundle(t, "upgrade", "w", chart, "-n", ns, "--set", "size=large")
	after, err := dyn.Resource(crdResource).Get(ctx, "widgets."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetResourceVersion() != crd.GetResourceVersion() || dig(after.Object, "spec", "names", "shortNames") != nil {
		t.Errorf("upgrade changed the CRD (resourceVersion %s -> %s, shortNames %v)", crd.GetResourceVersion(), after.GetResourceVersion(), dig(after.Object, "spec", "names", "shortNames"))
	}
	if w, err := dyn.Resource(widgets).Namespace(ns).Get(ctx, "w-widget", metav1.GetOptions{}); err != nil || dig(w.Object, "spec", "size") != "large" {
		t.Errorf("upgrade did not update the Widget: %v %v", err, w)
	}

	// Uninstall deletes the Widget, never the CRD.
	e.mustBundle(t, "uninstall", "w", "-n", ns, "--wait")
	if _, err := dyn.Resource(widgets).Namespace(ns).Get(ctx, "w-widget", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Widget is still there after uninstall: %v", err)
	}
	if _, err := dyn.Resource(crdResource).Get(ctx, "widgets."+group, metav1.GetOptions{}); err != nil {
		t.Errorf("uninstall deleted the CRD: %v", err)
	}
}

// --skip-crds creates no CRD: a chart whose templates need it fails, and
// the CRD is still absent; --no-hooks runs no hook.
func TestSkipCRDsAndNoHooks(t *testing.T) {
	e, ns := setupIn(t, "skipcrds")
	ctx := context.Background()
	chart, group := widgetsChart(t, e)
	dyn := e.dynamic(t)

	code, _, errs := e.bundle(t, "install", "w", chart, "-n", ns, "--create-namespace", "--skip-crds", "--no-hooks")
	if code != 1 || !strings.Contains(errs, "Widget") {
		t.Errorf("install --skip-crds of a chart using its CRD: exit %d, %q; want a failure naming the Widget kind", code, errs)
	}
	if _, err := dyn.Resource(crdResource).Get(ctx, "widgets."+group, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("--skip-crds created the CRD: %v", err)
	}

	// Without --skip-crds the CRD is created; --no-hooks runs no hook; the
	// post-renderer rewrites what is applied.
	e.mustBundle(t, "install", "w", chart, "-n", ns, "--create-namespace", "--no-hooks", "--post-renderer", testutil.PostRenderer(t), "--post-renderer-args", "tiny")
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "w-pre-install", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("--no-hooks: the pre-install hook ran: %v", err)
	}
	w, err := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}).Namespace(ns).Get(ctx, "w-widget", metav1.GetOptions{})
	if err != nil || dig(w.Object, "spec", "size") != "tiny" {
		t.Errorf("--post-renderer: the Widget applied is %v (%v), want size tiny", w, err)
	}
	if _, err := dyn.Resource(crdResource).Get(ctx, "widgets."+group, metav1.GetOptions{}); err != nil {
		t.Errorf("install without --skip-crds did not create the CRD: %v", err)
	}
}

// Without -n, install and list use the namespace of the kubeconfig's
// context.
func TestNamespaceFromKubeconfigContext(t *testing.T) {
	e, ns := setupIn(t, "ctxns")
	chart, _ := widgetsChart(t, e)

	cfg, err := clientcmd.LoadFromFile(e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	if cur == nil {
		t.Fatalf("kubeconfig %s has no current context", e.kubeconfig)
	}
	cur.Namespace = ns
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	out := e.mustBundle(t, "install", "w", chart, "--kubeconfig", kubeconfig, "--create-namespace")
	if !strings.Contains(out, `in namespace "`+ns+`"`) {
		t.Errorf("install output does not name the context's namespace %s:\n%s", ns, out)
	}
	if _, err := e.helmStorage(ns).Last("w"); err != nil {
		t.Errorf("no release in the context's namespace %s: %v", ns, err)
	}
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "w-facts", metav1.GetOptions{}); err != nil {
		t.Errorf("objects not in the context's namespace: %v", err)
	}
	if out := e.mustBundle(t, "list", "--kubeconfig", kubeconfig); !strings.Contains(out, ns) {
		t.Errorf("list without -n does not show the context's namespace:\n%s", out)
	}
	// template reads the same namespace, without the cluster.
	out = e.mustBundle(t, "template", "w", chart, "--kubeconfig", kubeconfig, "-s", "templates/configmap.yaml")
	if !strings.Contains(out, `namespace: "`+ns+`"`) {
		t.Errorf("template does not see the context's namespace:\n%s", out)
	}
	e.mustBundle(t, "uninstall", "w", "--kubeconfig", kubeconfig, "--wait")
}

// Upgrade starts from the values Helm's rules say (keep the current ones
// when none are given, --reuse-values, --reset-then-reuse-values,
// --reset-values), while the wiring under requires: is always computed
// anew; --history-max bounds the revisions kept.
func TestUpgradeValues(t *testing.T) {
	e, ns := setupIn(t, "upvalues")
	wantHost := "wiki-database." + ns + ".svc"
	check := func(step string, name, language any) {
		t.Helper()
		c := e.lastRevision(t, ns, "wiki").Config
		if got := dig(c, "wiki", "name"); got != name {
			t.Errorf("%s: wiki.name = %v, want %v", step, got, name)
		}
		if got := dig(c, "wiki", "language"); got != language {
			t.Errorf("%s: wiki.language = %v, want %v", step, got, language)
		}
		if got := dig(c, "requires", "database", "host"); got != wantHost {
			t.Errorf("%s: requires.database.host = %v, want %s (computed anew)", step, got, wantHost)
		}
	}
	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--set", "wiki.name=A")
	check("install", "A", nil)
	e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns)
	check("no values: the current ones are kept", "A", nil)
	e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--set", "wiki.language=de")
	check("new values: the current ones are dropped", nil, "de")
	e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--reuse-values", "--set-string", "wiki.name=B")
	check("--reuse-values", "B", "de")
	e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--reset-then-reuse-values", "--set", "wiki.name=C")
	check("--reset-then-reuse-values", "C", "de")
	e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--reset-values", "--history-max", "3")
	check("--reset-values", nil, nil)
	h, err := e.helmStorage(ns).History("wiki")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Errorf("--history-max 3 kept %d revisions", len(h))
	}
	e.mustBundle(t, "uninstall", "wiki", "-n", ns)
}

// install -g names the release BUNDLE-SECONDS.
func TestGenerateName(t *testing.T) {
	e, ns := setupIn(t, "genname")
	out := e.mustBundle(t, "install", "stable/memcached", "-g", "-n", ns, "--create-namespace")
	m := regexp.MustCompile(`Release "(memcached-\d+)" installed`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated name in:\n%s", out)
	}
	if _, err := e.helmStorage(ns).Last(m[1]); err != nil {
		t.Errorf("release %s not stored: %v", m[1], err)
	}
	e.mustBundle(t, "uninstall", m[1], "-n", ns)
}

// Helm 4's rollback flags on a real control plane: --force-replace
// replaces the objects (a label added by hand goes, which an apply keeps),
// --no-hooks runs none of the revision's rollback hooks, --description is
// recorded and --history-max prunes the oldest revisions; without them
// the hook runs and the label stays.
func TestRollbackHelm4Flags(t *testing.T) {
	e, ns := setupIn(t, "rbflags")
	ctx := context.Background()
	chart := testutil.Chart{
		Name:   "web",
		Values: "color: blue\n",
		Templates: map[string]string{
			"cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  color: {{ .Values.color }}\n",
			"hook.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-rolled-back\n  annotations:\n    helm.sh/hook: post-rollback\ndata:\n  color: {{ .Values.color }}\n",
		},
	}.Write(t, filepath.Join(t.TempDir(), "web"))
	e.mustBundle(t, "install", "web", chart, "-n", ns, "--create-namespace")
	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "color=green")
	handLabel := func() {
		t.Helper()
		patch := []byte(`{"metadata":{"labels":{"hand":"made"}}}`)
		if _, err := e.cs.CoreV1().ConfigMaps(ns).Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
	}
	handLabel()

	e.mustBundle(t, "rollback", "web", "1", "-n", ns, "--force-replace", "--no-hooks", "--description", "back to blue", "--history-max", "2")
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["color"] != "blue" || cm.Labels["hand"] != "" {
		t.Errorf("after rollback --force-replace: color %q, labels %v; want blue, the label added by hand gone", cm.Data["color"], cm.Labels)
	}
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web-rolled-back", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("rollback --no-hooks ran the post-rollback hook: %v", err)
	}
	revs, err := e.helmStorage(ns).History("web")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range revs {
		got = append(got, fmt.Sprintf("%d %s %s", r.Version, r.Info.Status, r.Info.Description))
	}
	sort.Strings(got)
	if want := []string{"2 superseded Upgrade complete", "3 deployed back to blue"}; !reflect.DeepEqual(got, want) {
		t.Errorf("revisions after rollback --history-max 2: %q, want %q", got, want)
	}

	// Without them: applied (the label added by hand stays), the hook runs.
	handLabel()
	e.mustBundle(t, "rollback", "web", "2", "-n", ns)
	if cm, err = e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if cm.Data["color"] != "green" || cm.Labels["hand"] != "made" {
		t.Errorf("after rollback: color %q, labels %v; want green, the label added by hand kept", cm.Data["color"], cm.Labels)
	}
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web-rolled-back", metav1.GetOptions{}); err != nil {
		t.Errorf("rollback did not run the post-rollback hook: %v", err)
	}
}
