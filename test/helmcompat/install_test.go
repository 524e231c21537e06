package helmcompat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bundlesh/bundle/internal/cli"
	"github.com/bundlesh/bundle/internal/testutil"
)

// installSample are charts of Helm's test data installed by both tools on
// the local control plane: the ones helm installs there, and three it
// refuses (an invalid label, an object without kind, a v1beta1 CRD the
// API server no longer serves).
var installSample = []string{
	"cmd/helm/testdata/testcharts/chart-with-lib-dep",
	"cmd/helm/testdata/testcharts/chart-with-secret",
	"cmd/helm/testdata/testcharts/chart-with-subchart-notes",
	"cmd/helm/testdata/testcharts/chart-with-subchart-update",
	"cmd/helm/testdata/testcharts/chart-with-template-lib-archive-dep",
	"cmd/helm/testdata/testcharts/chart-with-schema",
	"cmd/helm/testdata/testcharts/deprecated",
	"cmd/helm/testdata/testcharts/object-order",
	"cmd/helm/testdata/testcharts/oci-dependent-chart-0.1.0.tgz",
	"cmd/helm/testdata/testcharts/reqtest",
	"cmd/helm/testdata/testcharts/signtest-0.1.0.tgz",
	"cmd/helm/testdata/testcharts/alpine",
	"cmd/helm/testdata/testcharts/issue-9027",
	"cmd/helm/testdata/testcharts/subchart",
}

// TestHelmTestChartsInstall: a sample of Helm's test charts installed by
// bundle and by helm, 3 and 4 (each in a namespace of its own), create the
// same objects, field for field once what the API server assigns per
// object (uid, resourceVersion, timestamps, managedFields) and the
// release's name and namespace are set aside; what helm install refuses,
// bundle install refuses, leaving no release behind.
func TestHelmTestChartsInstall(t *testing.T) {
	kc := testutil.Kubeconfig(t)
	eachHelm(t, func(t *testing.T, h *helmCLI) {
		mod := helmModuleDir(t)
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			t.Fatal(err)
		}
		cs := kubernetes.NewForConfigOrDie(cfg)
		dyn := dynamic.NewForConfigOrDie(cfg)
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
		for _, rel := range installSample {
			t.Run(filepath.Base(rel), func(t *testing.T) {
				diff := compareInstall(t, h.path, kc, filepath.Join(mod, rel), cs, dyn, mapper)
				h.check(t, "TestHelmTestChartsInstall "+filepath.Base(rel), diff)
			})
		}
	})
}

// compareInstall installs chart with helm and with bundle, each in a
// namespace of its own: empty when both made the same objects (or both
// refused, bundle in one line, leaving no release), else how they differ.
func compareInstall(t *testing.T, helm, kc, chart string, cs kubernetes.Interface, dyn dynamic.Interface, mapper meta.RESTMapper) string {
	t.Helper()
	ctx := context.Background()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	id := hex.EncodeToString(suffix)
	nsH, nsB := "hc-helm-"+id, "hc-bundle-"+id
	relH, relB := "hrel"+id, "brel"+id
	for _, ns := range []string{nsH, nsB} {
		t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	}
	home := t.TempDir()
	h := runHelm(t, helm, home, "install", relH, chart, "-n", nsH, "--create-namespace", "--kubeconfig", kc)
	var out, errb bytes.Buffer
	code := cli.Run(ctx, []string{"bundle", "install", relB, chart, "-n", nsB, "--create-namespace", "--kubeconfig", kc}, strings.NewReader(""), &out, &errb)
	switch {
	case h.err != "" && code != 0:
		t.Logf("both refuse:\n  helm:   %s\n  bundle: %s", oneLine(h.err), strings.TrimSpace(errb.String()))
		if strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
			return "bundle refused in more than one line:\n" + errb.String()
		}
		if list := runHelm(t, helm, home, "list", "-a", "-q", "-n", nsB, "--kubeconfig", kc); strings.TrimSpace(list.out) != "" {
			return "bundle left a release behind after refusing: " + list.out
		}
		return ""
	case h.err != "":
		return "helm install refuses (" + oneLine(h.err) + "), bundle installs"
	case code != 0:
		return "helm installs, bundle refuses: " + errb.String()
	}
	want := manifestObjects(t, runHelm(t, helm, home, "get", "manifest", relH, "-n", nsH, "--kubeconfig", kc).out)
	got := manifestObjects(t, runHelm(t, helm, home, "get", "manifest", relB, "-n", nsB, "--kubeconfig", kc).out)
	if len(want) == 0 {
		t.Logf("%s creates no objects", chart)
	}
	norm := func(s, relName, ns string) string {
		return strings.NewReplacer(relName, "RELEASE", ns, "NAMESPACE").Replace(s)
	}
	wantKeys, gotKeys := keys(want, relH, nsH, norm), keys(got, relB, nsB, norm)
	if strings.Join(wantKeys, " ") != strings.Join(gotKeys, " ") {
		return fmt.Sprintf("objects differ:\n  helm:   %v\n  bundle: %v", wantKeys, gotKeys)
	}
	var diffs []string
	for _, o := range want {
		liveH := live(ctx, t, dyn, mapper, o, nsH)
		other := *o
		other.name = strings.Replace(o.name, relH, relB, 1)
		liveB := live(ctx, t, dyn, mapper, &other, nsB)
		if a, b := norm(canonical(liveH), relH, nsH), norm(canonical(liveB), relB, nsB); a != b {
			diffs = append(diffs, fmt.Sprintf("%s %s differs on the cluster:\n  helm:   %s\n  bundle: %s", o.kind, o.name, a, b))
		}
	}
	return strings.Join(diffs, "\n")
}

var tokenVolume = regexp.MustCompile(`kube-api-access-[a-z0-9]{5}`)

type object struct {
	apiVersion, kind, name, namespace string
}

func manifestObjects(t *testing.T, manifest string) []*object {
	t.Helper()
	var out []*object
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if err == io.EOF {
				break
			}
			t.Fatalf("manifest: %v", err)
		}
		if u.Object == nil {
			continue
		}
		out = append(out, &object{apiVersion: u.GetAPIVersion(), kind: u.GetKind(), name: u.GetName(), namespace: u.GetNamespace()})
	}
	return out
}

func keys(objs []*object, rel, ns string, norm func(s, rel, ns string) string) []string {
	var out []string
	for _, o := range objs {
		out = append(out, norm(o.apiVersion+"/"+o.kind+"/"+o.name, rel, ns))
	}
	sort.Strings(out)
	return out
}

// live fetches the object a manifest names, in ns when it is namespaced.
func live(ctx context.Context, t *testing.T, dyn dynamic.Interface, mapper meta.RESTMapper, o *object, ns string) *unstructured.Unstructured {
	t.Helper()
	gv, err := schema.ParseGroupVersion(o.apiVersion)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapper.RESTMapping(gv.WithKind(o.kind).GroupKind(), gv.Version)
	if err != nil {
		t.Fatalf("%s %s: %v", o.kind, o.name, err)
	}
	r := dyn.Resource(m.Resource)
	var u *unstructured.Unstructured
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		u, err = r.Namespace(ns).Get(ctx, o.name, metav1.GetOptions{})
	} else {
		u, err = r.Get(ctx, o.name, metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		t.Fatalf("%s %s is not on the cluster", o.kind, o.name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// canonical is an object's JSON without what the API server assigns to
// each object on its own (and status, which controllers write).
func canonical(u *unstructured.Unstructured) string {
	c := u.DeepCopy()
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "status")
	// Service cluster IPs are allocated per object.
	unstructured.RemoveNestedField(c.Object, "spec", "clusterIP")
	unstructured.RemoveNestedField(c.Object, "spec", "clusterIPs")
	// A pod's node is the scheduler's choice, its token volume's name the
	// API server's, per pod.
	unstructured.RemoveNestedField(c.Object, "spec", "nodeName")
	data, _ := json.Marshal(c.Object)
	return tokenVolume.ReplaceAllString(string(data), "kube-api-access-XXXXX")
}
