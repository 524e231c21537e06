package release

import (
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// What the release should be is live with only the fields bundle applies
// set back: a hand edit of an image and a container removed by hand come
// back; replicas an autoscaler scales through the scale subresource, a
// controller's annotation and an env var another manager added stay.
func TestReleasedSetsBackOnlyTheFieldsBundleApplies(t *testing.T) {
	const revision = `annotations: {deployment.kubernetes.io/revision: "2"}`
	const scale = `- {manager: kube-controller-manager, operation: Update, subresource: scale, fieldsType: FieldsV1, fieldsV1: {f:spec: {f:replicas: {}}}}`
	live := testutil.Unstructured(t, testutil.DeploymentYAML("web", testutil.App(""),
		testutil.Metadata(revision+"\nmanagedFields:\n"+scale+`
- {manager: kubectl-edit, operation: Update, fieldsType: FieldsV1, fieldsV1: {f:spec: {f:template: {f:spec: {f:containers: {'k:{"name":"web"}': {f:image: {}, f:env: {'k:{"name":"EXTRA"}': {.: {}, f:name: {}, f:value: {}}}}}}}}}}`),
		testutil.Replicas("5"),
		testutil.PodSpec(`containers:
- name: web
  image: nginx:hand
  env: [{name: EXTRA, value: "1"}]`)))
	// should's containers: bundle's image of web (EXTRA is kubectl-edit's) and side.
	const containers = `containers:
- name: web
  image: nginx:1.27
  env: [{name: EXTRA, value: "1"}]
- name: side
  image: busybox`
	should := testutil.Unstructured(t, testutil.DeploymentYAML("web", testutil.App(""),
		testutil.Metadata(revision+"\nmanagedFields:\n"+scale+`
- {manager: helm, operation: Apply, fieldsType: FieldsV1, fieldsV1: {f:spec: {f:replicas: {}, f:template: {f:spec: {f:containers: {'k:{"name":"web"}': {.: {}, f:name: {}, f:image: {}}, 'k:{"name":"side"}': {.: {}, f:name: {}, f:image: {}}}}}}}}
- {manager: kubectl-edit, operation: Update, fieldsType: FieldsV1, fieldsV1: {f:spec: {f:template: {f:spec: {f:containers: {'k:{"name":"web"}': {f:env: {'k:{"name":"EXTRA"}': {.: {}, f:name: {}, f:value: {}}}}}}}}}}`),
		testutil.Replicas("1"),
		testutil.PodSpec(containers)))
	got, err := released(live, should)
	if err != nil {
		t.Fatal(err)
	}
	got.SetManagedFields(nil)
	// The replicas of live (the autoscaler's), the containers of should.
	want := testutil.Unstructured(t, testutil.DeploymentYAML("web", testutil.App(""),
		testutil.Metadata(revision),
		testutil.Replicas("5"),
		testutil.PodSpec(containers)))
	testutil.WantObject(t, "released", got, want)
	if live.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] != "nginx:hand" {
		t.Error("released changed the live object")
	}
}
