// Package apply is the kube engine's applier: Helm's kube client with
// converging apply, and the pieces of it a dry run mirrors (the body of an
// apply, Helm's patch, the take-over of client-side managers' fields).
package apply

// Converging apply: install, upgrade and rollback bring every object of a
// release to exactly the revision they deploy, whatever an earlier
// operation that failed or was cut off left behind.
//
// Helm 3's kube client patches each object with a three-way merge from the
// manifest of the revision it takes as the one running; what another
// revision set (one that failed half-way, or was killed) and the target
// leaves out stays live, and objects such a revision created are never
// deleted. bundle's kube client (Applier) instead:
//
//   - applies every object with server-side apply, as field manager
//     FieldManager ("helm", as helm 4 applies), taking over conflicting
//     fields (force): the API server removes from the object every field
//     bundle or helm 4 applied before and the target leaves out, whichever
//     revision applied it;
//   - before its first apply to an object written with client-side
//     requests (by the helm CLI, or by bundle before it applied
//     server-side), converts the fields those managers own into bundle's
//     applied set (k8s.io/client-go/util/csaupgrade), and so the fields
//     bundle applied before it applied as FieldManager (its Apply entry as
//     FormerFieldManager), so that they are removed too when the target
//     leaves them out (TakeOverPatch);
//   - deletes, besides what Helm deletes (objects of the revision it starts
//     from that the target leaves out), every object of the release's
//     stored revisions that the target leaves out and that is still in
//     the cluster as this release's (Helm's ownership label and
//     annotations), unless it carries helm.sh/resource-policy: keep.
//
// --force keeps Helm's meaning: objects are replaced (PUT), not applied.
// An object the API server cannot apply server-side because of its shape
// (a list with two entries of one key, e.g. two env vars of one name,
// which client-side writes pass with a warning) is written as Helm writes
// it, and converges only as far as Helm's patches do.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	jsonpatch "github.com/evanphx/json-patch"
	"helm.sh/helm/v4/pkg/kube"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// FieldManager is the field manager bundle applies objects as (server-side
// apply): "helm", the manager both helm CLIs write as (helm 3 client-side,
// operation Update; helm 4 server-side, operation Apply, without forcing
// conflicts). kubectl get --show-managed-fields lists it with operation
// Apply. Sharing helm 4's Apply entry is what makes hand-overs exact:
//
//   - a field a revision leaves out is removed whichever of helm 4 and
//     bundle applied it last: the API server removes from an object the
//     fields an apply leaves out only when no other manager owns them, so
//     under a name of its own, fields helm 4 applied would outlive
//     bundle's upgrades, and bundle's helm 4's;
//   - helm 4, which applies without forcing, never conflicts with what
//     bundle applied: an apply conflicts only with other managers' fields
//     (and with an Update entry of its own name, which helm 4 and bundle
//     both hand to their Apply entry first: csaupgrade);
//   - what helm 3 wrote (helm, Update) is taken over as the same name
//     both by bundle and by helm 4's own move from client-side to
//     server-side apply.
//
// The cost: managedFields no longer tell bundle from helm. Objects bundle
// applied before under its own name (FormerFieldManager) are handed to
// FieldManager before their first apply (TakeOverPatch).
const FieldManager = "helm"

// FormerFieldManager is the field manager bundle applied objects as
// before it applied as FieldManager (and wrote client-side as, before it
// applied server-side, Helm 3's kube client naming it after the binary).
// Its entries, Apply and Update, are bundle's own: handed to FieldManager
// before bundle's first apply (TakeOverPatch), and counted as bundle's by
// the dry runs of diff and drift (TakenBack).
const FormerFieldManager = "bundle"

// ClientSideManagers are the field managers whose fields bundle takes over
// before it first applies an object: those Helm 3's kube client writes as,
// named after the binary (helm.sh/helm/v3/pkg/kube: ManagedFieldsManager,
// else the base name of os.Args[0]): "helm" for the helm CLI,
// FormerFieldManager for bundle before it applied server-side, and this
// binary's own name. Only their Update entries are taken over (and
// FormerFieldManager's Apply entry: TakeOverPatch); hand edits
// (kubectl-edit, kubectl-patch, ...) keep theirs.
func ClientSideManagers() sets.Set[string] {
	s := sets.New("helm", FormerFieldManager)
	if kube.ManagedFieldsManager != "" {
		s.Insert(kube.ManagedFieldsManager)
	}
	if len(os.Args) > 0 && os.Args[0] != "" {
		s.Insert(filepath.Base(os.Args[0]))
	}
	return s
}

// Revisions are a release's stored revisions as the applier reads them:
// the objects of each that the revision applied leaves out are deleted,
// while still in the cluster as the release's.
type Revisions struct {
	Release, Namespace string
	// History returns the release's stored revisions; Build reads their
	// manifests (Helm's Build).
	History func() ([]*helmrelease.Release, error)
	Build   func(manifest string) (kube.ResourceList, error)
	// Log is the debug log.
	Log func(string, ...any)
}

// Applier is Helm's kube client with converging apply: Create and Update
// apply server-side; everything else (Build, Delete, waits, logs) is
// Helm's. One applier serves one operation on one release.
type Applier struct {
	*kube.Client
	// ctx is the operation's: once it is done, no further object is
	// applied.
	ctx  context.Context
	revs Revisions
	// managers are the client-side managers to take over.
	managers sets.Set[string]
	// Force replaces objects (PUT) instead of applying them: --force.
	Force bool
	// Lax lets the writes of an object the API server cannot apply
	// server-side (created or patched as Helm writes them) pass fields no
	// schema declares, with the API server's warning
	// (--disable-openapi-validation); otherwise they are strict, as the
	// validation's dry runs of them are.
	Lax bool
	// validated holds what the validation's dry runs answered (see
	// Validated).
	validated answers
}

// New returns the applier of an operation (ctx) on the release of revs,
// over Helm's client hc.
func New(ctx context.Context, hc *kube.Client, revs Revisions) *Applier {
	return &Applier{Client: hc, ctx: ctx, revs: revs, managers: ClientSideManagers()}
}

func (a *Applier) log(format string, args ...any) { a.revs.Log(format, args...) }

// Create creates the objects that do not exist yet, by server-side apply,
// kind by kind in order and the objects of a kind at once, as Helm does.
// An object that exists is an AlreadyExists error, as Helm's create has it
// (install tells CRDs already there, hooks, a namespace from it).
func (a *Applier) Create(resources kube.ResourceList, _ ...kube.ClientCreateOption) (*kube.Result, error) {
	a.log("creating %d resource(s) by server-side apply", len(resources))
	if !a.validated.any(resources) {
		// A hook (or a CRD): while it runs, anything may create or
		// change the release's objects, so the validation's answers are
		// no longer the cluster's.
		a.validated.forget()
	}
	err := a.perform(resources, func(info *resource.Info) error {
		helper := a.helper(info)
		if ans, ok := a.validated.take(info); ok && !ans.exists {
			return a.create(info, helper)
		}
		if _, err := helper.Get(info.Namespace, info.Name); err == nil {
			return apierrors.NewAlreadyExists(info.Mapping.Resource.GroupResource(), info.Name)
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		return a.create(info, helper)
	})
	if err != nil {
		return nil, err
	}
	return &kube.Result{Created: resources}, nil
}

// Update applies every object of target (creating those missing), one by
// one in order, then deletes the release's objects the target leaves out:
// those of original, as Helm does, and those of the release's other
// revisions still in the cluster as the release's. As Helm's, it returns
// what it did also when it fails. Helm's options are not read (they are
// opaque): the applier applies server-side, and replaces with a.Force.
func (a *Applier) Update(original, target kube.ResourceList, _ ...kube.ClientUpdateOption) (*kube.Result, error) {
	force := a.Force
	res := &kube.Result{}
	a.log("applying %d resource(s) server-side", len(target))
	failed, err := a.updateAll(res, original, target, force)
	if err != nil {
		return res, err
	}
	if len(failed) > 0 {
		return res, errors.New(strings.Join(failed, " && "))
	}
	for _, info := range original.Difference(target) {
		if a.remove(info, false) {
			res.Deleted = append(res.Deleted, info)
		}
	}
	for _, info := range a.revs.Leftovers(original, target) {
		if a.remove(info, true) {
			res.Deleted = append(res.Deleted, info)
		}
	}
	return res, nil
}

func (a *Applier) helper(info *resource.Info) *resource.Helper {
	return resource.NewHelper(info.Client, info.Mapping).WithFieldManager(FieldManager)
}

// strict makes helper's writes refuse fields no schema declares, unless
// a.Lax: for the writes that are not applies (an apply refuses them).
func (a *Applier) strict(helper *resource.Helper) *resource.Helper {
	if a.Lax {
		return helper
	}
	return helper.WithFieldValidation(metav1.FieldValidationStrict)
}

// update brings one object to target: created when missing, replaced with
// force, else applied after its client-side managers are taken over. orig
// is the object in the revision Helm starts from (nil: none), from which
// an object the API server cannot apply server-side is patched instead.
func (a *Applier) update(info *resource.Info, orig runtime.Object, force bool) (created bool, err error) {
	if created, done, err := a.applyValidated(info, force); done {
		return created, err
	}
	helper := a.helper(info)
	live, err := helper.Get(info.Namespace, info.Name)
	switch {
	case apierrors.IsNotFound(err):
		if err := a.create(info, helper); err != nil {
			return true, fmt.Errorf("failed to create resource: %w", err)
		}
		a.log("created %s", kubeobj.Describe(info))
		return true, nil
	case err != nil:
		return false, fmt.Errorf("could not get information about %s: %w", kubeobj.Describe(info), err)
	case force:
		// A controller writing the object's status between Replace's
		// read of its resourceVersion and its write makes a conflict:
		// Replace reads it again.
		var obj runtime.Object
		err := retry.RetryOnConflict(retry.DefaultRetry, func() (err error) {
			obj, err = a.strict(helper).Replace(info.Namespace, info.Name, true, info.Object)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("failed to replace %s: %w", kubeobj.Describe(info), err)
		}
		a.log("replaced %s", kubeobj.Describe(info))
		return false, info.Refresh(obj, true)
	}
	if err := a.takeOver(info, helper, live); err != nil {
		return false, fmt.Errorf("taking over the fields of %s from %s: %w", kubeobj.Describe(info), strings.Join(sets.List(a.managers), ", "), err)
	}
	err = a.apply(info, helper)
	if CannotApplyServerSide(err) {
		a.log("warning: %s cannot be applied server-side, so it is patched as Helm patches it: %v", kubeobj.Describe(info), err)
		if orig == nil {
			orig = live // Helm's baseline for an object not in the revision it starts from
		}
		err = a.patch(info, helper, orig, live)
	}
	if err != nil {
		return false, fmt.Errorf("cannot apply %s: %w", kubeobj.Describe(info), err)
	}
	a.log("applied %s", kubeobj.Describe(info))
	return false, nil
}

// CannotApplyServerSide reports whether the API server refused to apply an
// object server-side because of its shape rather than its values: a list
// with two entries of one key (two env vars of one name, say), which
// client-side writes pass with a warning. Such an object is written as
// Helm writes it; it converges only as far as Helm's patches do.
func CannotApplyServerSide(err error) bool {
	return err != nil && strings.Contains(err.Error(), "failed to create typed patch object")
}

// create creates an object that does not exist: applied server-side, or
// created as Helm creates it when it cannot be applied.
func (a *Applier) create(info *resource.Info, helper *resource.Helper) error {
	err := a.apply(info, helper)
	if !CannotApplyServerSide(err) {
		return err
	}
	a.log("warning: %s cannot be applied server-side, so it is created as Helm creates it: %v", kubeobj.Describe(info), err)
	obj, err := a.strict(helper).Create(info.Namespace, true, info.Object)
	if err != nil {
		return err
	}
	return info.Refresh(obj, true)
}

// patch sends the patch Helm's kube client sends to bring live to the
// object, from orig.
func (a *Applier) patch(info *resource.Info, helper *resource.Helper, orig, live runtime.Object) error {
	target, err := kubeobj.AsUnstructured(info.Object)
	if err != nil {
		return err
	}
	current, err := kubeobj.AsUnstructured(live)
	if err != nil {
		return err
	}
	p, pt, err := HelmPatch(info, orig, target, current)
	if err != nil {
		return err
	}
	if len(p) == 0 || string(p) == "{}" {
		return info.Get()
	}
	obj, err := a.strict(helper).Patch(info.Namespace, info.Name, pt, p, nil)
	if err != nil {
		return err
	}
	return info.Refresh(obj, true)
}

// HelmPatch is the patch Helm's kube client sends to update live to
// target, applied from original (kube.Client's createPatch): a three-way
// strategic merge patch for the kinds Kubernetes builds in, a JSON merge
// patch from original to target for the others.
func HelmPatch(info *resource.Info, original runtime.Object, target, live *unstructured.Unstructured) ([]byte, types.PatchType, error) {
	oldData, err := json.Marshal(original)
	if err != nil {
		return nil, "", err
	}
	newData, err := json.Marshal(target)
	if err != nil {
		return nil, "", err
	}
	liveData, err := json.Marshal(live)
	if err != nil {
		return nil, "", err
	}
	versioned := kube.AsVersioned(&resource.Info{Object: target, Mapping: info.Mapping})
	if _, unstr := versioned.(runtime.Unstructured); unstr || info.Mapping.GroupVersionKind.Group == "apiextensions.k8s.io" {
		p, err := jsonpatch.CreateMergePatch(oldData, newData)
		return p, types.MergePatchType, err
	}
	meta, err := strategicpatch.NewPatchMetaFromStruct(versioned)
	if err != nil {
		return nil, "", err
	}
	p, err := strategicpatch.CreateThreeWayMergePatch(oldData, newData, liveData, meta, true)
	return p, types.StrategicMergePatchType, err
}

// takeOver converts the fields the client-side managers and bundle's
// former Apply entry own into bundle's applied set (TakeOverPatch),
// retrying when the object changed meanwhile. Nothing is sent when there
// is nothing to convert.
func (a *Applier) takeOver(info *resource.Info, helper *resource.Helper, live runtime.Object) error {
	for attempt := 0; ; attempt++ {
		patch, err := TakeOverPatch(live, a.managers)
		if err != nil || patch == nil {
			return err
		}
		_, err = helper.Patch(info.Namespace, info.Name, types.JSONPatchType, patch, nil)
		if err == nil {
			a.log("took over the fields of %s from its client-side managers", kubeobj.Describe(info))
			return nil
		}
		if !apierrors.IsConflict(err) || attempt == 4 {
			return err
		}
		if live, err = helper.Get(info.Namespace, info.Name); err != nil {
			return err
		}
	}
}

// TakeOverPatch is the JSON patch of live's metadata.managedFields,
// conditional on its resourceVersion, that hands FieldManager's Apply
// entry the fields bundle applied before as FormerFieldManager (that
// Apply entry merged into FieldManager's, or renamed when there is none)
// and those the client-side managers wrote (their Update entries:
// csaupgrade), so that FieldManager's next apply removes those it leaves
// out. As csaupgrade's, the fields of an entry of another API version
// than FieldManager's are dropped rather than merged. nil when there is
// nothing to hand over.
func TakeOverPatch(live runtime.Object, managers sets.Set[string]) ([]byte, error) {
	acc, err := meta.Accessor(live)
	if err != nil {
		return nil, err
	}
	before := acc.GetManagedFields()
	entries, err := formerApplyTakenOver(before)
	if err != nil {
		return nil, err
	}
	after := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ManagedFields: entries}}
	if err := csaupgrade.UpgradeManagedFields(after, managers, FieldManager); err != nil {
		return nil, err
	}
	if reflect.DeepEqual(before, after.ManagedFields) {
		return nil, nil
	}
	return json.Marshal([]map[string]any{
		{"op": "replace", "path": "/metadata/managedFields", "value": after.ManagedFields},
		{"op": "replace", "path": "/metadata/resourceVersion", "value": acc.GetResourceVersion()},
	})
}

// formerApplyTakenOver returns entries with FormerFieldManager's Apply
// entry merged into FieldManager's, or renamed FieldManager when there is
// none; entries themselves are not changed.
func formerApplyTakenOver(entries []metav1.ManagedFieldsEntry) ([]metav1.ManagedFieldsEntry, error) {
	applied := func(manager string) func(metav1.ManagedFieldsEntry) bool {
		return func(e metav1.ManagedFieldsEntry) bool {
			return e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == ""
		}
	}
	former := slices.IndexFunc(entries, applied(FormerFieldManager))
	if former < 0 {
		return entries, nil
	}
	out := slices.Clone(entries)
	own := slices.IndexFunc(out, applied(FieldManager))
	if own < 0 {
		out[former].Manager = FieldManager
		return out, nil
	}
	if out[own].APIVersion == out[former].APIVersion {
		union := &fieldpath.Set{}
		for _, e := range []metav1.ManagedFieldsEntry{out[own], out[former]} {
			if e.FieldsV1 == nil {
				continue
			}
			s := &fieldpath.Set{}
			if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
				return nil, fmt.Errorf("reading the fields of manager %s: %w", e.Manager, err)
			}
			union = union.Union(s)
		}
		raw, err := union.ToJSON()
		if err != nil {
			return nil, err
		}
		out[own].FieldsType, out[own].FieldsV1 = "FieldsV1", &metav1.FieldsV1{Raw: raw}
	}
	return slices.Delete(out, former, former+1), nil
}

// apply sends the object server-side, taking over conflicting fields.
func (a *Applier) apply(info *resource.Info, helper *resource.Helper) error {
	body, err := ApplyBody(info.Object)
	if err != nil {
		return err
	}
	force := true
	obj, err := helper.Patch(info.Namespace, info.Name, types.ApplyPatchType, body, &metav1.PatchOptions{Force: &force})
	if err != nil {
		return err
	}
	return info.Refresh(obj, true)
}

// ApplyBody is the object as rendered, to apply: without managedFields
// (an apply must not set them), and for a Secret with stringData merged
// into data, as the API server stores it. Applied as stringData, the keys
// would be owned as stringData, which the server never keeps, and a key
// the next revision leaves out would stay in data.
func ApplyBody(obj runtime.Object) ([]byte, error) {
	u, err := kubeobj.AsUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u = u.DeepCopy()
	u.SetManagedFields(nil)
	if gvk := u.GroupVersionKind(); gvk.Group == "" && gvk.Kind == "Secret" {
		if sd, ok, _ := unstructured.NestedMap(u.Object, "stringData"); ok {
			data, _, _ := unstructured.NestedMap(u.Object, "data")
			if data == nil {
				data = map[string]any{}
			}
			for k, v := range sd {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("Secret %s: stringData.%s is not a string", u.GetName(), k)
				}
				data[k] = base64.StdEncoding.EncodeToString([]byte(s))
			}
			unstructured.RemoveNestedField(u.Object, "stringData")
			if err := unstructured.SetNestedMap(u.Object, data, "data"); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(u.Object)
}

// perform runs fn on every object: kind by kind in order, the objects of
// one kind a few at a time (byKind; Helm's batchPerform sends them all at
// once), starting no further object once the operation's context is
// done.
func (a *Applier) perform(infos kube.ResourceList, fn func(*resource.Info) error) error {
	if len(infos) == 0 {
		return kube.ErrNoObjectsVisited
	}
	errs := make([]error, len(infos))
	if n := a.byKind(infos, func(i int) { errs[i] = fn(infos[i]) }); n < len(infos) {
		return fmt.Errorf("stopped before creating %s: %w", kubeobj.Describe(infos[n]), context.Cause(a.ctx))
	}
	return errors.Join(errs...)
}
