package apply

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/kube"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"
	restfake "k8s.io/client-go/rest/fake"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// The applier's requests, over a fake REST client that keeps ConfigMaps
// in memory: what is sent for each object, and which objects are deleted.

// fakeAPI serves ConfigMaps of namespace shop from memory and records
// every request as "METHOD NAME [PATCH TYPE] [QUERY]".
type fakeAPI struct {
	mu      sync.Mutex
	objects map[string]*unstructured.Unstructured
	sent    []string
	bodies  map[string][]byte // last body of each "METHOD NAME PATCHTYPE"
	built   int               // manifests built
	// refuse names the objects whose server-side apply fails as one with
	// two entries of a key does.
	refuse map[string]bool
	// invalid names the objects whose server-side apply the API server
	// rejects as invalid.
	invalid map[string]bool
	// before, when set, runs before each request is served, outside the
	// lock (it sees requests in flight at once).
	before func(req *http.Request)
}

func newFakeAPI(objs ...*unstructured.Unstructured) *fakeAPI {
	f := &fakeAPI{objects: map[string]*unstructured.Unstructured{}, bodies: map[string][]byte{}}
	for _, o := range objs {
		f.objects[o.GetName()] = o
	}
	return f
}

// wantSent fails t unless the requests sent for each object, in order,
// are want's for it: the applier writes the objects of a kind a few at a
// time, so those of different objects may interleave.
func (f *fakeAPI) wantSent(t *testing.T, want []string) {
	t.Helper()
	if got, want := byObject(f.sent), byObject(want); got != want {
		t.Errorf("sent:\n%s\nwant:\n%s", got, want)
	}
}

// byObject is the requests, "METHOD NAME ..." or "POST RESOURCE ... NAME",
// grouped by object, the objects by name.
func byObject(sent []string) string {
	var names []string
	lines := map[string][]string{}
	for _, line := range sent {
		fields := strings.Fields(line)
		name := fields[1]
		if fields[0] == http.MethodPost {
			name = fields[len(fields)-1]
		}
		if lines[name] == nil {
			names = append(names, name)
		}
		lines[name] = append(lines[name], line)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		out = append(out, lines[name]...)
	}
	return strings.Join(out, "\n")
}

func (f *fakeAPI) client() *restfake.RESTClient {
	return &restfake.RESTClient{
		NegotiatedSerializer: resource.UnstructuredPlusDefaultContentConfig().NegotiatedSerializer,
		GroupVersion:         schema.GroupVersion{Version: "v1"},
		Client:               restfake.CreateHTTPClient(f.serve),
	}
}

func (f *fakeAPI) serve(req *http.Request) (*http.Response, error) {
	if f.before != nil {
		f.before(req)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	line := req.Method + " " + name
	if ct := req.Header.Get("Content-Type"); req.Method == http.MethodPatch {
		line += " " + ct
	}
	if q := req.URL.RawQuery; q != "" {
		line += " ?" + q
	}
	f.sent = append(f.sent, line)
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		f.bodies[req.Method+" "+name+" "+req.Header.Get("Content-Type")] = body
	}
	obj, ok := f.objects[name]
	switch req.Method {
	case http.MethodPost:
		created := &unstructured.Unstructured{}
		if err := json.Unmarshal(body, &created.Object); err != nil {
			return nil, err
		}
		f.objects[created.GetName()] = created
		f.sent[len(f.sent)-1] += " " + created.GetName()
		return respond(created)
	case http.MethodGet:
		if !ok {
			return statusResponse(apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name))
		}
		return respond(obj)
	case http.MethodDelete:
		delete(f.objects, name)
		return respond(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Success"}})
	case http.MethodPatch:
		switch types.PatchType(req.Header.Get("Content-Type")) {
		case types.ApplyPatchType:
			if f.refuse[name] {
				return statusResponse(apierrors.NewInternalError(fmt.Errorf(`failed to create typed patch object (shop/%s; /v1, Kind=ConfigMap): .data: duplicate entries for key`, name)))
			}
			if f.invalid[name] {
				return statusResponse(apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, name, nil))
			}
			applied := &unstructured.Unstructured{}
			if err := json.Unmarshal(body, &applied.Object); err != nil {
				return nil, err
			}
			f.objects[name] = applied
			resp, err := respond(applied)
			if !ok && resp != nil {
				resp.StatusCode = http.StatusCreated // as the API server answers an apply that creates
			}
			return resp, err
		case types.JSONPatchType, types.StrategicMergePatchType:
			return respond(obj)
		}
	}
	return nil, fmt.Errorf("unexpected %s", line)
}

func respond(obj *unstructured.Unstructured) (*http.Response, error) {
	b, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func statusResponse(err *apierrors.StatusError) (*http.Response, error) {
	st := err.Status()
	st.APIVersion, st.Kind = "v1", "Status"
	b, _ := json.Marshal(st)
	return &http.Response{StatusCode: int(st.Code), Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// configMap is ConfigMap NAME of namespace shop with data, marked as
// release's (Helm's label and annotations) unless release is empty.
func configMap(name, release string, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "shop", "resourceVersion": "7"},
		"data":     data,
	}}
	if release != "" {
		u.SetLabels(map[string]string{kubeobj.ManagedByLabel: "Helm"})
		u.SetAnnotations(map[string]string{kubeobj.ReleaseNameAnnotation: release, kubeobj.ReleaseNamespaceAnnotation: "shop"})
	}
	return u
}

func (f *fakeAPI) info(u *unstructured.Unstructured) *resource.Info {
	u = u.DeepCopy()
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	return &resource.Info{Client: f.client(), Name: u.GetName(), Namespace: "shop", Object: u, Mapping: &meta.RESTMapping{
		Resource:         schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
		Scope:            meta.RESTScopeNamespace,
	}}
}

func testApplier(ctx context.Context, f *fakeAPI, revisions map[int][]*unstructured.Unstructured) *Applier {
	return New(ctx, nil, Revisions{
		Release: "web", Namespace: "shop", Log: func(string, ...any) {},
		History: func() ([]*helmrelease.Release, error) {
			var out []*helmrelease.Release
			for v, objs := range revisions {
				var docs []string
				for _, o := range objs {
					docs = append(docs, "# Source: web/templates/"+o.GetName()+".yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+o.GetName()+"\n")
				}
				out = append(out, &helmrelease.Release{Name: "web", Version: v, Manifest: "---\n" + strings.Join(docs, "---\n")})
			}
			return out, nil
		},
		Build: func(manifest string) (kube.ResourceList, error) {
			f.mu.Lock()
			f.built++
			f.mu.Unlock()
			var rl kube.ResourceList
			for _, doc := range releaseutil.SplitManifests(manifest) {
				u := &unstructured.Unstructured{}
				if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
					return nil, err
				}
				rl = append(rl, f.info(configMap(u.GetName(), "", nil)))
			}
			return rl, nil
		},
	})
}

// helmManaged sets the managed fields a client-side write by manager
// leaves: an Update entry owning data.KEY.
func helmManaged(u *unstructured.Unstructured, manager, key string) *unstructured.Unstructured {
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{
		Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1",
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{".":{},"f:` + key + `":{}}}`)},
	}})
	return u
}

func TestUpdateTakesOverClientSideFieldsThenAppliesServerSide(t *testing.T) {
	f := newFakeAPI(
		helmManaged(configMap("web", "web", map[string]any{"color": "blue", "legacy": "on"}), "helm", "legacy"),
		configMap("db", "web", map[string]any{"size": "1"}), // written by bundle's apply already: nothing to take over
	)
	a := testApplier(context.Background(), f, nil)
	target := kube.ResourceList{
		f.info(configMap("web", "web", map[string]any{"color": "green"})),
		f.info(configMap("db", "web", map[string]any{"size": "2"})),
		f.info(configMap("cache", "web", map[string]any{"ttl": "60"})),
	}
	res, err := a.Update(nil, target)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET web",
		"PATCH web application/json-patch+json ?fieldManager=helm",
		"PATCH web application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET db",
		"PATCH db application/apply-patch+yaml ?fieldManager=helm&force=true",
		"GET cache",
		"PATCH cache application/apply-patch+yaml ?fieldManager=helm&force=true",
	}
	f.wantSent(t, want)
	var takeOver []map[string]any
	if err := json.Unmarshal(f.bodies["PATCH web application/json-patch+json"], &takeOver); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(takeOver); !strings.Contains(string(b), `"manager":"helm","operation":"Apply"`) || !strings.Contains(string(b), `"f:legacy"`) ||
		!strings.Contains(string(b), `{"op":"replace","path":"/metadata/resourceVersion","value":"7"}`) {
		t.Errorf("the take-over patch does not hand helm's fields to bundle's Apply, conditionally: %s", b)
	}
	if applied := string(f.bodies["PATCH web application/apply-patch+yaml"]); strings.Contains(applied, "managedFields") || !strings.Contains(applied, `"data":{"color":"green"}`) {
		t.Errorf("applied %s; want the rendered object without managedFields", applied)
	}
	if len(res.Created) != 1 || res.Created[0].Name != "cache" || len(res.Updated) != 2 {
		t.Errorf("result: created %v, updated %v", res.Created, res.Updated)
	}
}

func TestUpdateDeletesWhatOtherRevisionsLeftThatIsStillTheReleases(t *testing.T) {
	keep := configMap("kept", "web", nil)
	keep.SetAnnotations(map[string]string{kubeobj.ReleaseNameAnnotation: "web", kubeobj.ReleaseNamespaceAnnotation: "shop", kube.ResourcePolicyAnno: kube.KeepPolicy})
	f := newFakeAPI(
		configMap("web", "web", nil),
		configMap("left", "web", nil),      // a failed revision's: deleted
		configMap("adopted", "shop", nil),  // another release's now: kept
		configMap("mine", "", nil),         // not marked as any release's: kept
		keep,                               // helm.sh/resource-policy: keep
		configMap("dropped", "other", nil), // in original: deleted as Helm deletes it
	)
	revisions := map[int][]*unstructured.Unstructured{
		1: {configMap("web", "", nil), configMap("dropped", "", nil), configMap("kept", "", nil)},
		2: {configMap("web", "", nil), configMap("left", "", nil), configMap("adopted", "", nil), configMap("mine", "", nil), configMap("gone", "", nil)},
	}
	a := testApplier(context.Background(), f, revisions)
	original := kube.ResourceList{f.info(configMap("web", "", nil)), f.info(configMap("dropped", "", nil))}
	target := kube.ResourceList{f.info(configMap("web", "web", nil))}
	res, err := a.Update(original, target)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, info := range res.Deleted {
		deleted = append(deleted, info.Name)
	}
	if got := strings.Join(deleted, " "); got != "dropped left" {
		t.Errorf("deleted %q, want dropped (of the revision Helm starts from) and left (a failed revision's)", got)
	}
	for _, name := range []string{"adopted", "mine", "kept", "web"} {
		if f.objects[name] == nil {
			t.Errorf("%s was deleted", name)
		}
	}
	if f.built != 1 {
		t.Errorf("the history's manifests were built %d times, want once (only the objects the target and original leave out)", f.built)
	}

	// Nothing left over: nothing built.
	f.built = 0
	a = testApplier(context.Background(), f, map[int][]*unstructured.Unstructured{1: {configMap("web", "", nil)}})
	if _, err := a.Update(nil, target); err != nil {
		t.Fatal(err)
	}
	if f.built != 0 {
		t.Errorf("a history with no other object was built %d times", f.built)
	}
}

func TestCreateRefusesAnObjectThatExists(t *testing.T) {
	f := newFakeAPI(configMap("web", "web", nil))
	a := testApplier(context.Background(), f, nil)
	_, err := a.Create(kube.ResourceList{f.info(configMap("web", "web", nil)), f.info(configMap("db", "web", nil))})
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("Create of an existing object: %v, want AlreadyExists (install skips CRDs already there)", err)
	}
	if f.objects["db"] == nil || !strings.Contains(strings.Join(f.sent, "\n"), "PATCH db application/apply-patch+yaml ?fieldManager=helm&force=true") {
		t.Errorf("the new object was not applied: %v", f.sent)
	}
}

func TestNothingIsAppliedOnceInterrupted(t *testing.T) {
	f := newFakeAPI()
	ctx, cancel := context.WithCancelCause(context.Background())
	interrupted := errors.New("interrupted")
	cancel(interrupted)
	a := testApplier(ctx, f, nil)
	target := kube.ResourceList{f.info(configMap("web", "web", nil))}
	if _, err := a.Update(nil, target); !errors.Is(err, interrupted) {
		t.Errorf("Update: %v, want the interruption", err)
	}
	if _, err := a.Create(target); !errors.Is(err, interrupted) {
		t.Errorf("Create: %v, want the interruption", err)
	}
	if len(f.sent) > 0 {
		t.Errorf("sent %v after the interruption", f.sent)
	}
}

func TestApplyBodyAppliesSecretsAsTheyAreStored(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "db", "managedFields": []any{map[string]any{"manager": "helm"}}},
		"data":       map[string]any{"user": base64.StdEncoding.EncodeToString([]byte("root")), "password": "b2xk"},
		"stringData": map[string]any{"password": "s3cret"},
	}}
	body, err := ApplyBody(secret)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"user": "cm9vdA==", "password": base64.StdEncoding.EncodeToString([]byte("s3cret"))}
	if fmt.Sprint(got["data"]) != fmt.Sprint(want) || got["stringData"] != nil {
		t.Errorf("data %v, stringData %v; want stringData merged into data, as the API server stores it", got["data"], got["stringData"])
	}
	if md := got["metadata"].(map[string]any); md["managedFields"] != nil {
		t.Errorf("managedFields are applied: %v", md)
	}
	if secret.Object["stringData"] == nil {
		t.Error("applyBody changed the rendered object")
	}
}

func TestTheClientSideManagersTakenOver(t *testing.T) {
	got := ClientSideManagers()
	for _, want := range []string{"helm", "bundle", filepath.Base(os.Args[0])} {
		if !got.Has(want) {
			t.Errorf("%s is not taken over (%v)", want, got)
		}
	}
	for _, hand := range []string{"kubectl-edit", "kubectl-client-side-apply", "kube-controller-manager"} {
		if got.Has(hand) {
			t.Errorf("%s is taken over", hand)
		}
	}
}

func TestAnObjectTheAPIServerCannotApplyIsWrittenAsHelmWritesIt(t *testing.T) {
	f := newFakeAPI(configMap("web", "web", map[string]any{"color": "blue"}))
	f.refuse = map[string]bool{"web": true, "db": true}
	a := testApplier(context.Background(), f, nil)
	original := kube.ResourceList{f.info(configMap("web", "web", map[string]any{"color": "blue"}))}
	target := kube.ResourceList{f.info(configMap("web", "web", map[string]any{"color": "green"})), f.info(configMap("db", "web", nil))}
	if _, err := a.Update(original, target); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET web",
		"PATCH web application/apply-patch+yaml ?fieldManager=helm&force=true",
		// Not applies: strict, as Helm's client-side validation was
		// (the API server refuses a field no schema declares).
		"PATCH web application/strategic-merge-patch+json ?fieldManager=helm&fieldValidation=Strict",
		"GET db",
		"PATCH db application/apply-patch+yaml ?fieldManager=helm&force=true",
		"POST configmaps ?fieldManager=helm&fieldValidation=Strict db",
	}
	f.wantSent(t, want)
	if p := string(f.bodies["PATCH web application/strategic-merge-patch+json"]); p != `{"data":{"color":"green"}}` {
		t.Errorf("patched web with %s, want Helm's three-way merge patch from the original", p)
	}
}
