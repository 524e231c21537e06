package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/bundlesh/bundle/internal/testutil"
)

// A dry-run apply's answer keeps what only helm's client-side writes own;
// the take-over hands those fields to the apply, which removes them: a
// label, an env var of a keyed list, a whole container. Fields another
// manager owns (a hand edit, the status) and those the apply sets stay.
func TestTakenBackRemovesWhatOnlyClientSideManagersOwn(t *testing.T) {
	doc := testutil.DeploymentYAML("web", testutil.App(""),
		testutil.Metadata(`labels: {app: web, stale: "yes", edited: "by-hand"}
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
    f:spec: {f:replicas: {}}`),
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
	if n != 3 {
		t.Errorf("removed %d fields, want 3 (a label, an env var, a container)", n)
	}
	u.SetManagedFields(nil)
	testutil.WantObject(t, "after the take-over", u, testutil.Unstructured(t, want))
}
