// Package validate is the kube engine's validation before change: a
// revision's objects sent to the API server in dry runs before anything
// is changed, and the release storage that holds an action's writes until
// its revision passes.
package validate

// Validation before change: every object of a new revision is sent to the
// API server in a dry run (dryRun=All) before anything is changed, so that
// an object the API server rejects (a bad nodeSelector key, a port out of
// range, an admission webhook's refusal) fails the operation with nothing
// changed: no object patched, no revision recorded, no history pruned.
//
// Helm renders the revision inside its actions; bundle sees it at the
// first write to the release storage: the pending record Helm stores just
// before it applies anything. There the release's storage driver (gate)
// validates the record's objects, and holds every earlier write of the
// action (the records --history-max prunes, the one --replace supersedes)
// until they pass. By then Helm has created the CRDs of crds/ and the
// namespace of --create-namespace, so custom resources and objects of a
// new namespace are validated too. Each object is sent as bundle will send
// it (package apply): a server-side apply, a replace with --force, a create for
// hooks.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	hrelease "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/dynamic"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release/internal/apply"
	"github.com/bundlesh/bundle/pkg/release/internal/helmsdk"
	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// RejectedError says the API server rejected objects of a new revision in
// a dry run: nothing was changed. Objects says why for each.
type RejectedError struct {
	Release  string
	Revision int
	// Total is the number of objects validated.
	Total int
	// Objects are those rejected, in the order of the manifest.
	Objects []Rejected
}

// Rejected is one object the API server rejected, with its reason.
type Rejected struct {
	Kind      string
	Namespace string // empty for cluster-scoped objects
	Name      string
	// Reason is the API server's, without the object's name: for an
	// invalid object, "FIELD: Invalid value: VALUE: why" per field.
	Reason string
}

// String is "Deployment web: REASON".
func (r Rejected) String() string { return r.Kind + " " + r.Name + ": " + r.Reason }

func (e *RejectedError) Error() string {
	names := make([]string, 0, len(e.Objects))
	for _, o := range e.Objects {
		names = append(names, o.Kind+" "+o.Name)
	}
	return fmt.Sprintf("the API server rejects %d of %d objects of revision %d of %q (%s); nothing was changed: correct the values or the bundle and run again",
		len(e.Objects), e.Total, e.Revision, e.Release, strings.Join(names, ", "))
}

// Is makes a RejectedError match errdefs.ErrInvalid.
func (e *RejectedError) Is(target error) bool { return target == errdefs.ErrInvalid }

// Validator validates revisions by server-side dry runs.
type Validator struct {
	Dyn   dynamic.Interface
	Kube  kube.Interface // Build: Helm's own reading of manifests
	Hooks bool           // the operation runs hooks
	Force bool           // objects are replaced, not patched (--force)
	Log   func(string, ...any)
	// Creates is the namespace a dry-run install would create
	// (CreateNamespace): while it does not exist, its objects cannot be
	// sent in a dry run, and are not validated.
	Creates string
	// Lax lets the dry runs that are not applies (objects the API server
	// cannot apply server-side, hooks, --force's replaces) pass unknown
	// fields with the API server's warning (--disable-openapi-validation);
	// otherwise they are strict. Applies are always: server-side apply
	// refuses a field the schema does not declare. So the dry runs are
	// the client-side OpenAPI validation Helm does, with the cluster's own
	// schemas, and Helm's is skipped.
	Lax bool
	// Answered, when set, receives, once a revision passed, what the API
	// server answered it would store for each object of its manifest it
	// validated by a dry-run apply, in the manifest's order: the applier
	// applies it without reading it first (apply.Applier.Validated).
	Answered func(info *resource.Info, stored *unstructured.Unstructured)
}

// Gate returns cfg whose release storage validates a pending revision
// with validate before storing it (see gatedDriver).
func Gate(cfg *action.Configuration, validate func(*helmrelease.Release) error) *action.Configuration {
	return helmsdk.WithDriver(cfg, func(d driver.Driver) driver.Driver {
		return &gatedDriver{Driver: d, validate: validate}
	})
}

// Release validates the objects of rel, a revision about to be applied
// (install, upgrade and rollback say which by its pending status): its
// manifest and the hooks the operation runs.
func (v *Validator) Release(ctx context.Context, rel *helmrelease.Release) error {
	target, err := v.Kube.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		return fmt.Errorf("reading the objects of revision %d of %q to validate them: %w", rel.Version, rel.Name, err)
	}
	kubeobj.Mark(target, rel)
	var hooks kube.ResourceList
	if v.Hooks {
		for _, h := range rel.Hooks {
			if !runsOn(h, rel.Info.Status) {
				continue
			}
			rl, err := v.Kube.Build(strings.NewReader(h.Manifest), false)
			if err != nil {
				v.Log("hook %s of %q not validated before applying: %v", h.Name, rel.Name, err)
				continue
			}
			hooks = append(hooks, rl...)
		}
	}
	fv := metav1.FieldValidationStrict
	if v.Lax {
		fv = ""
	}
	rejected, answers, err := validate(ctx, v.Dyn, target, hooks, v.Force, fv, v.Creates, v.Log)
	if err != nil {
		return fmt.Errorf("validating the objects of revision %d of %q: %w", rel.Version, rel.Name, err)
	}
	if len(rejected) > 0 {
		return &RejectedError{Release: rel.Name, Revision: rel.Version, Total: len(target) + len(hooks), Objects: rejected}
	}
	v.answered(target, answers)
	return nil
}

// NamespaceExists reports whether namespace ns exists.
func (v *Validator) NamespaceExists(ctx context.Context, ns string) (bool, error) {
	_, err := v.Dyn.Resource(namespaces).Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	case apierrors.IsForbidden(err):
		return true, nil // not ours to read: the objects' dry runs tell
	}
	return false, fmt.Errorf("reading namespace %q: %w", ns, err)
}

// namespaces is the resource of Namespaces.
var namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// runsOn reports whether hook h runs in the operation whose revision has
// status st.
func runsOn(h *helmrelease.Hook, st rcommon.Status) bool {
	var events []helmrelease.HookEvent
	switch st {
	case rcommon.StatusPendingInstall:
		events = []helmrelease.HookEvent{helmrelease.HookPreInstall, helmrelease.HookPostInstall}
	case rcommon.StatusPendingUpgrade:
		events = []helmrelease.HookEvent{helmrelease.HookPreUpgrade, helmrelease.HookPostUpgrade}
	case rcommon.StatusPendingRollback:
		events = []helmrelease.HookEvent{helmrelease.HookPreRollback, helmrelease.HookPostRollback}
	}
	for _, e := range h.Events {
		for _, want := range events {
			if e == want {
				return true
			}
		}
	}
	return false
}

// DryRunAll is the dryRun parameter of a request that changes nothing.
var DryRunAll = []string{metav1.DryRunAll}

// validate sends every object of target and hooks to the API server in a
// dry run, as bundle will send it: applied server-side as FieldManager,
// taking over conflicting fields, or replaced with force. Hooks are
// created (Helm deletes an existing hook before it creates it anew). It
// returns the objects rejected, and for each object of target what the
// API server answered it would store when it was sent as an apply (nil
// otherwise); err only when the API server could not be asked. Custom
// resources whose CRD is among target are not validated: the API server
// validates them against the CRD in the cluster, which the operation is
// about to change. The objects are independent: their dry runs go out a
// few at a time (kubeobj.Concurrency), and their answers are used in
// order.
func validate(ctx context.Context, dyn dynamic.Interface, target, hooks kube.ResourceList, force bool, fieldValidation, creates string, logf func(string, ...any)) ([]Rejected, []*unstructured.Unstructured, error) {
	defined := DefinedKinds(target)
	type answer struct {
		stored   *unstructured.Unstructured
		rejected *Rejected
		note     string // why the object is not validated
		err      error
	}
	check := func(info *resource.Info, hook bool) (a answer) {
		obj, err := kubeobj.AsUnstructured(info.Object)
		if err != nil {
			return answer{err: err}
		}
		gvk := info.Mapping.GroupVersionKind
		if defined[gvk.GroupKind().String()] {
			return answer{note: fmt.Sprintf("%s %s not validated before applying: its CRD is part of the release", gvk.Kind, info.Name)}
		}
		a.stored, err = dryRun(ctx, kubeobj.ResourceFor(dyn, info), info, obj, hook, force, fieldValidation)
		switch {
		case err == nil:
			return a
		case hook && apierrors.IsAlreadyExists(err):
			return answer{}
		case apierrors.IsNotFound(err) && NotServed(err):
			return answer{note: fmt.Sprintf("%s %s not validated before applying: the API server does not serve its kind yet", gvk.Kind, info.Name)}
		case creates != "" && NamespaceMissing(err, creates):
			return answer{note: fmt.Sprintf("%s %s not validated before applying: namespace %q does not exist yet (the install creates it)", gvk.Kind, info.Name, creates)}
		}
		var status apierrors.APIStatus
		if !errors.As(err, &status) {
			return answer{err: fmt.Errorf("%s %s: %w", gvk.Kind, info.Name, err)}
		}
		return answer{rejected: &Rejected{Kind: gvk.Kind, Namespace: info.Namespace, Name: info.Name, Reason: reason(err)}}
	}
	all := append(append(kube.ResourceList{}, target...), hooks...)
	answers := make([]answer, len(all))
	if n := kubeobj.Each(ctx, len(all), kubeobj.Concurrency, func(i int) {
		answers[i] = check(all[i], i >= len(target))
	}); n < len(all) {
		return nil, nil, context.Cause(ctx)
	}
	var rejected []Rejected
	stored := make([]*unstructured.Unstructured, len(target))
	for i, a := range answers {
		if a.err != nil {
			return nil, nil, a.err
		}
		if a.note != "" {
			logf("%s", a.note)
		}
		if a.rejected != nil {
			rejected = append(rejected, *a.rejected)
		}
		if i < len(target) {
			stored[i] = a.stored
		}
	}
	return rejected, stored, nil
}

// answered hands v.Answered what the API server answered for each object
// of target validated by a dry-run apply.
func (v *Validator) answered(target kube.ResourceList, stored []*unstructured.Unstructured) {
	if v.Answered == nil {
		return
	}
	for i, info := range target {
		if stored[i] != nil {
			v.Answered(info, stored[i])
		}
	}
}

// dryRun sends obj in a dry run as bundle will send it (Applier.update):
// applied, or, when it cannot be applied server-side, created or patched
// as Helm sends it. The dry run does not take over the fields of
// client-side managers first (one dry run cannot build on another), so a
// field the target leaves out is still in the object validated. It
// returns what the API server answered it would store when obj was sent
// as an apply, else nil.
func dryRun(ctx context.Context, ri dynamic.ResourceInterface, info *resource.Info, obj *unstructured.Unstructured, hook, force bool, fv string) (*unstructured.Unstructured, error) {
	if hook {
		_, err := ri.Create(ctx, obj, metav1.CreateOptions{DryRun: DryRunAll, FieldValidation: fv})
		return nil, err
	}
	if force {
		live, err := ri.Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		if err == nil {
			obj = obj.DeepCopy()
			obj.SetResourceVersion(live.GetResourceVersion())
			_, err = ri.Update(ctx, obj, metav1.UpdateOptions{DryRun: DryRunAll, FieldManager: apply.FieldManager, FieldValidation: fv})
			return nil, err
		}
	}
	body, err := apply.ApplyBody(obj)
	if err != nil {
		return nil, err
	}
	takeOver := true
	stored, err := ri.Patch(ctx, info.Name, types.ApplyPatchType, body, metav1.PatchOptions{DryRun: DryRunAll, FieldManager: apply.FieldManager, Force: &takeOver})
	if err == nil {
		return stored, nil
	}
	if !apply.CannotApplyServerSide(err) {
		return nil, err
	}
	// Sent as Helm sends it (Applier.update), from the live object.
	live, err := ri.Get(ctx, info.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = ri.Create(ctx, obj, metav1.CreateOptions{DryRun: DryRunAll, FieldManager: apply.FieldManager, FieldValidation: fv})
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	patch, pt, err := apply.HelmPatch(info, live, obj, live)
	if err != nil || len(patch) == 0 || string(patch) == "{}" {
		return nil, err
	}
	_, err = ri.Patch(ctx, info.Name, pt, patch, metav1.PatchOptions{DryRun: DryRunAll, FieldManager: apply.FieldManager, FieldValidation: fv})
	return nil, err
}

// DefinedKinds returns the group kinds ("Widget.example.com") whose CRDs
// are among rl.
func DefinedKinds(rl kube.ResourceList) map[string]bool {
	out := map[string]bool{}
	for _, info := range rl {
		if info.Mapping == nil || info.Mapping.GroupVersionKind.GroupKind().String() != "CustomResourceDefinition.apiextensions.k8s.io" {
			continue
		}
		u, err := kubeobj.AsUnstructured(info.Object)
		if err != nil {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		out[kind+"."+group] = true
	}
	return out
}

// NotServed reports whether a NotFound error says the API server does not
// serve the object's kind (rather than, say, that its namespace is
// missing, which names the namespace).
func NotServed(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d == nil || d.Name == ""
}

// NamespaceMissing reports whether err is the API server's refusal of an
// object of namespace ns because ns does not exist: an install with
// CreateNamespace creates it, but not in a dry run.
func NamespaceMissing(err error, ns string) bool {
	var st apierrors.APIStatus
	if ns == "" || !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	return d != nil && d.Kind == "namespaces" && d.Name == ns
}

// reason is the API server's reason for rejecting an object, without the
// object's name: "FIELD: Invalid value: ...: why" per invalid field.
func reason(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		if st.Reason == metav1.StatusReasonInvalid && st.Details != nil && len(st.Details.Causes) > 0 {
			parts := make([]string, 0, len(st.Details.Causes))
			for _, c := range st.Details.Causes {
				if c.Field != "" {
					parts = append(parts, c.Field+": "+c.Message)
				} else {
					parts = append(parts, c.Message)
				}
			}
			return kubeobj.OneLine(errors.New(strings.Join(parts, "; ")))
		}
	}
	return kubeobj.OneLine(err)
}

// gatedDriver is a release storage driver that validates the first pending
// revision an action stores before storing it, and holds the action's
// writes before it (pruning by --history-max, the record --replace
// supersedes) until then: when the revision is rejected, they are dropped
// and the history is as it was.
type gatedDriver struct {
	driver.Driver
	validate func(*helmrelease.Release) error

	mu   sync.Mutex
	open bool
	held []func() error
}

func (d *gatedDriver) Create(key string, r hrelease.Releaser) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	rls, err := helmsdk.V1(r)
	if err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	if !d.open && rls != nil && rls.Info != nil && rls.Info.Status.IsPending() {
		if err := d.validate(rls); err != nil {
			d.held = nil
			return err
		}
		d.open = true
		for _, w := range d.held {
			if err := w(); err != nil {
				return err
			}
		}
		d.held = nil
	}
	return d.Driver.Create(key, rls)
}

func (d *gatedDriver) Update(key string, rls hrelease.Releaser) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open {
		return d.Driver.Update(key, rls)
	}
	if _, err := d.Driver.Get(key); err != nil {
		return err
	}
	d.held = append(d.held, func() error { return d.Driver.Update(key, rls) })
	return nil
}

func (d *gatedDriver) Delete(key string) (hrelease.Releaser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open {
		return d.Driver.Delete(key)
	}
	rls, err := d.Driver.Get(key)
	if err != nil {
		return nil, err
	}
	d.held = append(d.held, func() error {
		_, err := d.Driver.Delete(key)
		return err
	})
	return rls, nil
}
