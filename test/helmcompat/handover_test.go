package helmcompat

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/bundlesh/bundle/internal/testutil"
)

// bundleRecordsApplyMethod says whether bundle records on each revision it
// stores how it applied it, as helm 4 does ("apply_method": "ssa"), so
// that helm 4 goes on applying server-side after bundle. It does since it
// is built on helm.sh/helm/v4 (issue 22): TestHandOverMatrix wants
// "apply_method":"ssa" on every revision bundle stores (and kept on the
// revision it supersedes), and helm 4 applying server-side after it. Helm
// 3's record has no such field: helm 4 (--server-side auto) upgrading or
// rolling back to a revision helm 3 stored applies client-side and
// records csa; the hand-overs converge either way.
const bundleRecordsApplyMethod = true

// handOverTools are the tools that write a release, as the matrix names
// them.
var handOverTools = []string{"helm3", "bundle", "helm4"}

// The fields the first revision of the matrix sets and the next drops
// (web's values: podAnnotations, podLabels, env), and where
// managedFields has them.
var (
	handOverSet     = []string{"--set", "podAnnotations.foo=bar", "--set", "podLabels.tier=front", "--set", "env.EXTRA=1"}
	handOverDropped = map[string]fieldpath.Path{
		"annotation foo": fieldpath.MakePathOrDie("spec", "template", "metadata", "annotations", "foo"),
		"label tier":     fieldpath.MakePathOrDie("spec", "template", "metadata", "labels", "tier"),
		"env var EXTRA": fieldpath.MakePathOrDie("spec", "template", "spec", "containers", fieldpath.KeyByFields("name", "web"),
			"env", fieldpath.KeyByFields("name", "EXTRA")),
	}
)

// TestHandOverMatrix: a release handed between helm 3, bundle and helm 4
// in every order converges, at every step, to exactly the revision the
// step deploys. For each ordered pair (A, B), with C the third tool: A
// installs testdata/web with a pod annotation, a pod label and an env var;
// B upgrades leaving them out and scaling to 2; C rolls back to revision 1
// (they are back) and upgrades again leaving them out (scale 3); A
// uninstalls. Every command exits 0 without --force-conflicts; after each
// step the Deployment has exactly the revision's fields, only helm (the
// field manager all three apply and write as) owns any of them, no
// manager but helm and the controller appears on the release's objects,
// and each stored revision records the apply method its tool records;
// the uninstall leaves no object and no revision.
func TestHandOverMatrix(t *testing.T) {
	kc := testutil.Kubeconfig(t)
	paths := map[string]string{"helm3": testutil.HelmCLI(t), "helm4": testutil.Helm4CLI(t)}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	for _, a := range handOverTools {
		for _, b := range handOverTools {
			if a == b {
				continue
			}
			c := handOverTools[3-slices.Index(handOverTools, a)-slices.Index(handOverTools, b)]
			t.Run(a+"-then-"+b, func(t *testing.T) {
				ctx := context.Background()
				suffix := make([]byte, 3)
				rand.Read(suffix)
				ns := "hc-hand-" + hex.EncodeToString(suffix)
				if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
				chart := fixture(t, "web")
				home := t.TempDir()
				run := func(tool string, args ...string) {
					t.Helper()
					args = append(args, "-n", ns, "--kubeconfig", kc)
					var r result
					if tool == "bundle" {
						r = runBundle(t, home, args...)
					} else {
						r = runHelm(t, paths[tool], home, args...)
					}
					if r.err != "" {
						t.Fatalf("%s %s: %s", tool, strings.Join(args, " "), r.err)
					}
				}
				// methods are the apply methods the stored revisions
				// record, by revision (methods[0] unused).
				methods := []string{""}
				step := func(tool, what string, set bool, replicas int32, method string, args ...string) {
					t.Helper()
					run(tool, args...)
					if len(methods) > 1 && !recordsApplyMethod(tool) {
						// An upgrade or rollback stores the revision it
						// supersedes again, in its own release record.
						methods[len(methods)-1] = ""
					}
					methods = append(methods, method)
					checkHandOver(t, ctx, cs, ns, fmt.Sprintf("after %s %s (revision %d)", tool, what, len(methods)-1), set, replicas)
					for v := 1; v < len(methods); v++ {
						if got := appliedMethod(t, ctx, cs, ns, "web", v); got != methods[v] {
							t.Errorf("after %s %s: revision %d records apply_method %q, want %q", tool, what, v, got, methods[v])
						}
					}
				}
				step(a, "install", true, 1, installMethod(a), append([]string{"install", "web", chart}, handOverSet...)...)
				step(b, "upgrade", false, 2, nextMethod(b, methods[len(methods)-1]), "upgrade", "web", chart, "--set", "replicaCount=2")
				step(c, "rollback", true, 1, nextMethod(c, methods[1]), "rollback", "web", "1")
				step(c, "upgrade", false, 3, nextMethod(c, methods[len(methods)-1]), "upgrade", "web", chart, "--set", "replicaCount=3")

				run(a, "uninstall", "web")
				deadline := time.Now().Add(30 * time.Second)
				for {
					left := releaseObjects(t, ctx, cs, ns)
					if len(left) == 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("after %s uninstall: left %v", a, left)
					}
					time.Sleep(200 * time.Millisecond)
				}
			})
		}
	}
}

// recordsApplyMethod reports whether tool's release record has the apply
// method: helm 4's does; helm 3's has no such field, so helm 3 stores
// none, also when it stores again a revision it supersedes; bundle's
// once it can (bundleRecordsApplyMethod).
func recordsApplyMethod(tool string) bool {
	return tool == "helm4" || tool == "bundle" && bundleRecordsApplyMethod
}

// installMethod is the apply method tool records on a revision it
// installs: ssa (both helm 4 and bundle apply server-side) when its
// record has the field.
func installMethod(tool string) string {
	if recordsApplyMethod(tool) {
		return "ssa"
	}
	return ""
}

// nextMethod is the apply method tool records on an upgrade or rollback
// from a revision that records from (an upgrade's: the last revision; a
// rollback's: the revision it goes back to): helm 4 (--server-side auto)
// applies server-side only after a revision that records ssa, else
// client-side, and records csa.
func nextMethod(tool, from string) string {
	switch {
	case tool == "helm4" && from == "ssa":
		return "ssa"
	case tool == "helm4":
		return "csa"
	}
	return installMethod(tool)
}

// checkHandOver checks release web's Deployment in ns: the fields of
// handOverDropped there (set) or not, replicas, and who owns them.
func checkHandOver(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, when string, set bool, replicas int32) {
	t.Helper()
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	pod := d.Spec.Template
	var env []string
	for _, e := range pod.Spec.Containers[0].Env {
		env = append(env, e.Name+"="+e.Value)
	}
	got := fmt.Sprintf("replicas %d, annotations %v, tier label %q, env %v", *d.Spec.Replicas, pod.Annotations, pod.Labels["tier"], env)
	want := fmt.Sprintf("replicas %d, annotations map[], tier label \"\", env []", replicas)
	if set {
		want = fmt.Sprintf("replicas %d, annotations map[foo:bar], tier label \"front\", env [EXTRA=1]", replicas)
	}
	if got != want {
		t.Errorf("%s: the Deployment has %s, want %s", when, got, want)
	}
	for what, p := range handOverDropped {
		owners := ownersOf(t, d, p)
		switch {
		case set && !slices.Equal(owners, []string{"helm"}):
			t.Errorf("%s: the %s is owned by %v, want helm alone", when, what, owners)
		case !set && len(owners) > 0:
			t.Errorf("%s: the %s, gone, is still owned by %v", when, what, owners)
		}
	}
	svc, err := cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	for _, obj := range []metav1.Object{d, svc} {
		for _, m := range obj.GetManagedFields() {
			if m.Manager != "helm" && m.Manager != "kube-controller-manager" {
				t.Errorf("%s: %s %s has field manager %s (%s), want only helm and the controller", when, kindOf(obj), obj.GetName(), m.Manager, m.Operation)
			}
		}
	}
}

func kindOf(obj metav1.Object) string {
	if _, ok := obj.(*appsv1.Deployment); ok {
		return "Deployment"
	}
	return "Service"
}

// ownersOf are the managers (sorted, once each) of obj's managedFields
// entries that own p or a field under it.
func ownersOf(t *testing.T, obj metav1.Object, p fieldpath.Path) []string {
	t.Helper()
	owners := map[string]bool{}
	for _, m := range obj.GetManagedFields() {
		if m.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(m.FieldsV1.Raw)); err != nil {
			t.Fatalf("the fields of %s: %v", m.Manager, err)
		}
		if s.Has(p) || !under(s, p).Empty() {
			owners[m.Manager] = true
		}
	}
	return slices.Sorted(maps.Keys(owners))
}

// under is the part of s under p.
func under(s *fieldpath.Set, p fieldpath.Path) *fieldpath.Set {
	for _, pe := range p {
		child, ok := s.Children.Get(pe)
		if !ok {
			return &fieldpath.Set{}
		}
		s = child
	}
	return s
}

// releaseObjects are what is left in ns of release web: its objects and
// its stored revisions.
func releaseObjects(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string) []string {
	t.Helper()
	var left []string
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		left = append(left, "Deployment web")
	}
	if _, err := cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		left = append(left, "Service web")
	}
	secrets, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		left = append(left, "Secret "+s.Name)
	}
	return left
}

// appliedMethod is the apply_method revision version of release name in
// ns records ("" when none).
func appliedMethod(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, version int) string {
	t.Helper()
	var rel struct {
		ApplyMethod *string `json:"apply_method"`
	}
	if err := json.Unmarshal(storedRelease(t, ctx, cs, ns, name, version), &rel); err != nil {
		t.Fatalf("revision %d of %s: %v", version, name, err)
	}
	if rel.ApplyMethod == nil {
		return ""
	}
	return *rel.ApplyMethod
}

// storedRelease is the JSON of revision version of release name in ns as
// Helm 3 and 4 store it: the Secret sh.helm.release.v1.NAME.vVERSION,
// whose data.release is base64 of gzip of the JSON.
func storedRelease(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, version int) []byte {
	t.Helper()
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1."+name+".v"+strconv.Itoa(version), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("revision %d of %s: %v", version, name, err)
	}
	gz, err := base64.StdEncoding.DecodeString(string(s.Data["release"]))
	if err != nil {
		t.Fatalf("revision %d of %s: %v", version, name, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("revision %d of %s: %v", version, name, err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("revision %d of %s: %v", version, name, err)
	}
	return data
}
