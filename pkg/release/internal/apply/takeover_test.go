package apply

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/bundlesh/bundle/internal/testutil"
)

// A dry-run apply's answer keeps what only helm's client-side writes and
// bundle's former Apply entry own; the take-over hands those fields to the
// apply, which removes them: a label, an env var of a keyed list, a whole
// container, a label bundle applied as "bundle". Fields another manager
// owns (a hand edit, the status) and those the apply sets stay.
func TestTakenBackRemovesWhatOnlyClientSideManagersOwn(t *testing.T) {
	doc := testutil.DeploymentYAML("web", testutil.App(""),
		testutil.Metadata(`labels: {app: web, stale: "yes", edited: "by-hand", former: "yes"}
managedFields:
- manager: helm
  operation: Update
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {.: {}, f:app: {}, f:stale: {}}}
    f:spec:
      f:replicas: {}
      f:template: {f:spec: {f:containers: {'k:{"name":"web"}': {.: {}, f:name: {}, f:env: {'k:{"name":"OLD"}': {.: {}, f:name: {}, f:value: {}}}}, 'k:{"name":"side"}': {.: {}, f:name: {}, f:image: {}}}}}
- manager: helm
  operation: Apply
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {f:app: {}}}
    f:spec:
      f:template: {f:spec: {f:containers: {'k:{"name":"web"}': {.: {}, f:name: {}}}}}
- manager: kubectl-edit
  operation: Update
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {f:edited: {}}}
    f:spec: {f:replicas: {}}
- manager: bundle
  operation: Apply
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {f:app: {}, f:former: {}}}`),
		testutil.Replicas("3"),
		testutil.PodSpec(`containers:
- name: web
  env: [{name: OLD, value: "1"}]
- name: side
  image: busybox`))
	want := testutil.DeploymentYAML("web", testutil.App(""),
		testutil.Metadata(`labels: {app: web, edited: "by-hand"}`),
		testutil.Replicas("3"),
		testutil.PodSpec(`containers:
- name: web`))
	u := testutil.Unstructured(t, doc)
	n, err := TakenBack(u, sets.New("helm"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("removed %d fields, want 4 (two labels, an env var, a container)", n)
	}
	u.SetManagedFields(nil)
	testutil.WantObject(t, "after the take-over", u, testutil.Unstructured(t, want))
}

// Before its first apply, the fields bundle applied as FormerFieldManager
// and those the client-side managers wrote become FieldManager's applied
// set, in one patch conditional on the resourceVersion; hand edits and
// subresources keep their owners.
func TestTakeOverPatchHandsBundlesFormerApplyEntryToFieldManager(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, apiVersion, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, APIVersion: apiVersion, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	const (
		apply  = metav1.ManagedFieldsOperationApply
		update = metav1.ManagedFieldsOperationUpdate
	)
	status := entry("kube-controller-manager", update, "v1", `{"f:status":{"f:ready":{}}}`)
	status.Subresource = "status"
	formerStatus := entry(FormerFieldManager, apply, "v1", `{"f:status":{"f:phase":{}}}`)
	formerStatus.Subresource = "status"
	for _, tt := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    []string // "manager operation [subresource] fields", nil: no patch
	}{{
		name:    "bundle's former Apply entry alone is renamed",
		entries: []metav1.ManagedFieldsEntry{entry("bundle", apply, "v1", `{"f:data":{"f:color":{},"f:legacy":{}}}`), status},
		want:    []string{`helm Apply {"f:data":{"f:color":{},"f:legacy":{}}}`, `kube-controller-manager Update status {"f:status":{"f:ready":{}}}`},
	}, {
		name: "merged into helm's Apply entry (helm 4 applied too)",
		entries: []metav1.ManagedFieldsEntry{
			entry("helm", apply, "v1", `{"f:data":{"f:color":{}}}`),
			entry("bundle", apply, "v1", `{"f:data":{"f:color":{},"f:legacy":{}},"f:metadata":{"f:labels":{"f:old":{}}}}`),
			entry("kubectl-edit", update, "v1", `{"f:data":{"f:hand":{}}}`),
		},
		want: []string{`helm Apply {"f:data":{"f:color":{},"f:legacy":{}},"f:metadata":{"f:labels":{"f:old":{}}}}`, `kubectl-edit Update {"f:data":{"f:hand":{}}}`},
	}, {
		name: "and the client-side managers' Update entries after it",
		entries: []metav1.ManagedFieldsEntry{
			entry("bundle", update, "v1", `{"f:data":{"f:csa":{}}}`),
			entry("bundle", apply, "v1", `{"f:data":{"f:legacy":{}}}`),
			entry("helm", update, "v1", `{"f:data":{"f:helm3":{}}}`),
		},
		want: []string{`helm Apply {"f:data":{"f:csa":{},"f:helm3":{},"f:legacy":{}}}`},
	}, {
		name: "an entry of another API version is dropped, as csaupgrade drops one",
		entries: []metav1.ManagedFieldsEntry{
			entry("helm", apply, "v1", `{"f:data":{"f:color":{}}}`),
			entry("bundle", apply, "v2", `{"f:data":{"f:legacy":{}}}`),
		},
		want: []string{`helm Apply {"f:data":{"f:color":{}}}`},
	}, {
		name:    "a subresource's entry is not bundle's apply",
		entries: []metav1.ManagedFieldsEntry{entry("helm", apply, "v1", `{"f:data":{"f:color":{}}}`), formerStatus},
	}, {
		name:    "nothing to hand over",
		entries: []metav1.ManagedFieldsEntry{entry("helm", apply, "v1", `{"f:data":{"f:color":{}}}`), entry("kubectl-edit", update, "v1", `{"f:data":{"f:hand":{}}}`)},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			live := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
			live.SetName("web")
			live.SetResourceVersion("42")
			live.SetManagedFields(tt.entries)
			before, _ := json.Marshal(live.Object)
			patch, err := TakeOverPatch(live, ClientSideManagers())
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := json.Marshal(live.Object); string(after) != string(before) {
				t.Errorf("TakeOverPatch changed live:\n%s\nwas\n%s", after, before)
			}
			if tt.want == nil {
				if patch != nil {
					t.Errorf("patch %s, want none", patch)
				}
				return
			}
			var ops []struct {
				Op, Path string
				Value    json.RawMessage
			}
			if err := json.Unmarshal(patch, &ops); err != nil {
				t.Fatalf("%v: %s", err, patch)
			}
			if len(ops) != 2 || ops[0].Op != "replace" || ops[0].Path != "/metadata/managedFields" ||
				ops[1].Op != "replace" || ops[1].Path != "/metadata/resourceVersion" || string(ops[1].Value) != `"42"` {
				t.Fatalf("patch %s, want managedFields replaced, conditional on resourceVersion 42", patch)
			}
			var entries []metav1.ManagedFieldsEntry
			if err := json.Unmarshal(ops[0].Value, &entries); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				s := &fieldpath.Set{}
				if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
					t.Fatal(err)
				}
				raw, _ := s.ToJSON()
				got = append(got, strings.Join(strings.Fields(e.Manager+" "+string(e.Operation)+" "+e.Subresource), " ")+" "+string(raw))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("managedFields after the take-over:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
