package validate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/cli-runtime/pkg/resource"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release/internal/apply"
)

// Validation before change, over client-go's fake dynamic client: what is
// sent to the API server, and what a rejection reports.

func service(port int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec":     map[string]any{"ports": []any{map[string]any{"name": "http", "port": port}}},
	}}
}

func webDeployment(nodeSelector map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"nodeSelector": nodeSelector,
			"containers":   []any{map[string]any{"name": "web", "image": "nginx"}},
		}}},
	}}
}

func infoOf(u *unstructured.Unstructured, res string, scope meta.RESTScope) *resource.Info {
	gvk := u.GroupVersionKind()
	return &resource.Info{Name: u.GetName(), Namespace: u.GetNamespace(), Object: u, Mapping: &meta.RESTMapping{
		Resource: gvk.GroupVersion().WithResource(res), GroupVersionKind: gvk, Scope: scope,
	}}
}

var badKey = field.Invalid(field.NewPath("spec", "template", "spec", "nodeSelector"), "bad key!",
	"name part must consist of alphanumeric characters, '-', '_' or '.'")

// dryRunPatches answers the patches of Services as a dry run does: with
// the object unchanged.
func dryRunPatches(dyn *dynamicfake.FakeDynamicClient) {
	dyn.PrependReactor("patch", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, service(80), nil
	})
}

func rejectingDeployments(dyn *dynamicfake.FakeDynamicClient) {
	dyn.PrependReactor("patch", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", field.ErrorList{badKey})
	})
}

func TestTheObjectsTheAPIServerRejectsAreReportedWithTheirFields(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), service(80))
	rejectingDeployments(dyn)
	dryRunPatches(dyn)
	target := kube.ResourceList{
		infoOf(service(8081), "services", meta.RESTScopeNamespace),
		infoOf(webDeployment(map[string]any{"bad key!": "x"}), "deployments", meta.RESTScopeNamespace),
	}
	rejected, _, err := validate(context.Background(), dyn, target, nil, false, metav1.FieldValidationStrict, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	want := `Deployment web: spec.template.spec.nodeSelector: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.'`
	if len(rejected) != 1 || rejected[0].String() != want || rejected[0].Namespace != "shop" {
		t.Fatalf("rejected = %v, want only %q", rejected, want)
	}
	live, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "services"}).Namespace("shop").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ports, _, _ := unstructured.NestedSlice(live.Object, "spec", "ports"); ports[0].(map[string]any)["port"] != int64(80) {
		t.Errorf("the Service was changed: ports %v", ports)
	}
}

func TestEveryObjectIsSentAsADryRunAsBundleWillSendIt(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), service(80))
	var sent []k8stesting.Action
	dyn.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sent = append(sent, a) // the fake client calls its reactors one at a time
		if _, ok := a.(k8stesting.PatchAction); ok {
			return true, service(80), nil // a dry run: nothing stored
		}
		return false, nil, nil
	})
	target := kube.ResourceList{
		infoOf(service(8081), "services", meta.RESTScopeNamespace),
		infoOf(webDeployment(map[string]any{"disk": "ssd"}), "deployments", meta.RESTScopeNamespace),
	}
	rejected, _, err := validate(context.Background(), dyn, target, nil, false, metav1.FieldValidationStrict, "", t.Logf)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("validate = %v, %v; want nothing rejected", rejected, err)
	}
	// The objects are sent a few at a time: in any order.
	sort.SliceStable(sent, func(i, j int) bool { return sent[i].GetResource().Resource > sent[j].GetResource().Resource })
	var verbs []string
	for _, a := range sent {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource)
		p, ok := a.(k8stesting.PatchActionImpl)
		if !ok {
			continue
		}
		opts := p.PatchOptions
		if len(opts.DryRun) != 1 || opts.DryRun[0] != metav1.DryRunAll {
			t.Errorf("the apply of %s is not a dry run: dryRun %v", p.GetResource().Resource, opts.DryRun)
		}
		if p.GetPatchType() != types.ApplyPatchType || opts.FieldManager != apply.FieldManager || opts.Force == nil || !*opts.Force {
			t.Errorf("%s is not applied server-side as %q, forced: %s, %+v", p.GetResource().Resource, apply.FieldManager, p.GetPatchType(), opts)
		}
	}
	if got := strings.Join(verbs, ", "); got != "patch services, patch deployments" {
		t.Errorf("sent %s", got)
	}
	if !strings.Contains(string(sent[0].(k8stesting.PatchAction).GetPatch()), "8081") {
		t.Errorf("the Service is sent as %s", sent[0].(k8stesting.PatchAction).GetPatch())
	}
}

func TestWithForceAnExistingObjectIsReplacedInADryRun(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), service(80))
	var sent []string
	dyn.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sent = append(sent, a.GetVerb()+" "+a.GetResource().Resource)
		if u, ok := a.(k8stesting.UpdateActionImpl); ok && (len(u.UpdateOptions.DryRun) != 1 || u.UpdateOptions.FieldManager != apply.FieldManager) {
			t.Errorf("the replace is not a dry run as %q: %+v", apply.FieldManager, u.UpdateOptions)
		}
		if _, ok := a.(k8stesting.PatchAction); ok {
			return true, nil, nil
		}
		return false, nil, nil
	})
	target := kube.ResourceList{
		infoOf(service(8081), "services", meta.RESTScopeNamespace),
		infoOf(webDeployment(nil), "deployments", meta.RESTScopeNamespace),
	}
	if rejected, _, err := validate(context.Background(), dyn, target, nil, true, metav1.FieldValidationStrict, "", t.Logf); err != nil || len(rejected) > 0 {
		t.Fatalf("validate = %v, %v; want nothing rejected", rejected, err)
	}
	// The objects are sent a few at a time: in any order, each's requests
	// in order.
	sort.SliceStable(sent, func(i, j int) bool { return strings.Fields(sent[i])[1] > strings.Fields(sent[j])[1] })
	if got := strings.Join(sent, ", "); got != "get services, update services, get deployments, patch deployments" {
		t.Errorf("sent %s; want the Service replaced and the new Deployment applied", got)
	}
}

func TestCustomResourcesOfACRDOfTheReleaseAreNotValidatedBeforeIt(t *testing.T) {
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.com"},
		"spec":     map[string]any{"group": "example.com", "names": map[string]any{"kind": "Widget", "plural": "widgets"}},
	}}
	cr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "shop"},
	}}
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	dyn.PrependReactor("patch", "customresourcedefinitions", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, crd, nil // the apply of a new object: a dry run creates it
	})
	dyn.PrependReactor("*", "widgets", func(k8stesting.Action) (bool, runtime.Object, error) {
		t.Error("a Widget was sent before its CRD exists")
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "example.com", Resource: "widgets"}, "")
	})
	target := kube.ResourceList{infoOf(crd, "customresourcedefinitions", meta.RESTScopeRoot), infoOf(cr, "widgets", meta.RESTScopeNamespace)}
	rejected, _, err := validate(context.Background(), dyn, target, nil, false, metav1.FieldValidationStrict, "", t.Logf)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("validate = %v, %v; want nothing rejected", rejected, err)
	}
}

func TestAnExistingHookIsNotARejection(t *testing.T) {
	hook := webDeployment(nil)
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), hook)
	rejected, _, err := validate(context.Background(), dyn, nil, kube.ResourceList{infoOf(hook, "deployments", meta.RESTScopeNamespace)}, false, metav1.FieldValidationStrict, "", t.Logf)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("validate = %v, %v; want nothing rejected (Helm deletes a hook before creating it anew)", rejected, err)
	}
}

func TestARejectedRevisionLeavesTheHistoryAsItWas(t *testing.T) {
	f := releasetest.New("shop")
	for v := 1; v <= 2; v++ {
		f.Store(t, releasetest.Release("web", "shop", v, rcommon.StatusSuperseded, "web", "1.0.0", ""))
	}
	base := f.Config().Releases
	rejects := errors.New("rejected")
	var verdict error = rejects
	st := storage.Init(&gatedDriver{Driver: base.Driver, validate: func(*helmrelease.Release) error { return verdict }})
	st.MaxHistory = 2 // pruning revision 1 makes room for 3
	next := func() *helmrelease.Release {
		return releasetest.Release("web", "shop", 3, rcommon.StatusPendingUpgrade, "web", "1.0.0", "")
	}
	revisions := func() []int {
		hist, _ := base.History("web")
		var out []int
		for _, r := range hist {
			out = append(out, r.(*helmrelease.Release).Version)
		}
		sort.Ints(out)
		return out
	}

	if err := st.Create(next()); !errors.Is(err, rejects) {
		t.Fatalf("storing a rejected revision: %v", err)
	}
	if got := revisions(); len(got) != 2 || got[0] != 1 {
		t.Errorf("after a rejected revision the history is %v, want [1 2]", got)
	}

	verdict = nil
	st.Driver = &gatedDriver{Driver: base.Driver, validate: func(*helmrelease.Release) error { return verdict }}
	if err := st.Create(next()); err != nil {
		t.Fatal(err)
	}
	if got := revisions(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("after a valid revision the history is %v, want [2 3] (revision 1 pruned)", got)
	}
}

func TestARejectedErrorIsInvalid(t *testing.T) {
	err := error(&RejectedError{Release: "web", Revision: 2, Total: 2, Objects: []Rejected{{Kind: "Deployment", Name: "web", Reason: "bad"}}})
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Error("a RejectedError is not errdefs.ErrInvalid")
	}
}

func TestTheAnswersAndRejectionsComeInTheManifestsOrder(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	bad := map[string]bool{}
	var target kube.ResourceList
	var wantRejected, wantAnswered []string
	for i := range 20 {
		name := fmt.Sprintf("cm-%02d", i)
		cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "shop"}}}
		target = append(target, infoOf(cm, "configmaps", meta.RESTScopeNamespace))
		if i%4 == 1 {
			bad[name] = true
			wantRejected = append(wantRejected, name)
		} else {
			wantAnswered = append(wantAnswered, name)
		}
	}
	dyn.PrependReactor("patch", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.PatchAction).GetName()
		if bad[name] {
			return true, nil, apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, name, field.ErrorList{badKey})
		}
		stored := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "shop", "resourceVersion": "5"}}}
		return true, stored, nil
	})
	rejected, stored, err := validate(context.Background(), dyn, target, nil, false, metav1.FieldValidationStrict, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rejected {
		got = append(got, r.Name)
	}
	if strings.Join(got, " ") != strings.Join(wantRejected, " ") {
		t.Errorf("rejected %v, want %v", got, wantRejected)
	}
	got = nil
	v := &Validator{Answered: func(info *resource.Info, u *unstructured.Unstructured) {
		if u.GetName() != info.Name || u.GetResourceVersion() != "5" {
			t.Errorf("%s answered with %s", info.Name, u.GetName())
		}
		got = append(got, info.Name)
	}}
	v.answered(target, stored)
	if strings.Join(got, " ") != strings.Join(wantAnswered, " ") {
		t.Errorf("answered %v, want %v", got, wantAnswered)
	}
}
