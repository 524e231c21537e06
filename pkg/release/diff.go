package release

// Diff: what an install or upgrade would do, object by object, without
// doing it. The revision is made exactly as Install and Upgrade make it
// (their own code path, in a dry run: one resolution keeping the installed
// requirement versions, the values rules, Helm's rendering with lookups
// against the cluster, the validation of validate.go), then every object of
// it is sent to the API server in a dry run as bundle's applier will send
// it (applied server-side as FieldManager, taking over the fields of
// client-side managers and of bundle's former manager first; replaced
// with --force: apply.go),
// and what the API server answers it would store is compared (pkg/diff)
// with the live object. Objects of the current revision the new one drops
// are deleted, unless they carry helm.sh/resource-policy: keep, and so are
// those of the release's other revisions still in the cluster as the
// release's (applier.leftovers).
//
// Nothing is changed: the operation runs as a dry run (no lease, no
// revision stored, no namespace or CRD created) and every request that
// writes is dryRun=All.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/dynamic"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/plan"
)

// DiffOptions configure Diff: the operation to compare, exactly one of
// Install and Upgrade, with the options it would run with (DryRun, Wait
// and Atomic are ignored: nothing is applied).
type DiffOptions struct {
	Install *InstallOptions
	Upgrade *UpgradeOptions
	diff.Options
}

// Diff says what an install or upgrade would do, changing nothing: the
// bundle and requirement versions before (the release's recorded
// resolution) and after (the new plan's), and every object of the release
// before (live) and after (as the API server would store it), with the
// fields nobody reads dropped and Secrets' values masked (see pkg/diff).
// Hooks are not compared. An object the API server would reject fails
// Diff with a *RejectedError, as it fails the operation.
func (c *Client) Diff(ctx context.Context, opts DiffOptions) (*diff.Plan, error) {
	if (opts.Install == nil) == (opts.Upgrade == nil) {
		return nil, errors.New("diff: give one operation, an install or an upgrade")
	}
	rev, err := c.Prepare(ctx, PrepareOptions{Install: opts.Install, Upgrade: opts.Upgrade})
	if err != nil {
		return nil, err
	}
	return c.DiffRevision(ctx, rev, opts.Options)
}

// DiffRevision is Diff of prepared revision rev: it is performed as a dry
// run (nothing applied, waited for or stored) and compared with the
// cluster; rev may be performed after.
func (c *Client) DiffRevision(ctx context.Context, rev *Revision, o diff.Options) (*diff.Plan, error) {
	dry := *rev
	dry.Options.DryRun, dry.Options.Wait, dry.Options.Atomic = true, false, false
	name, force := rev.Name, rev.Options.Force
	if err := c.reachable(); err != nil {
		return nil, err
	}
	// The revision the operation starts from, read before it runs.
	var base *helmrelease.Release
	if !rev.fresh {
		base = c.hist.base(name)
	}
	rel, err := c.perform(ctx, &dry) // the cluster answered above
	if err != nil {
		return nil, err
	}
	if base != nil && base.Info.Status == rcommon.StatusUninstalled {
		base = nil // upgrade --install over an uninstalled release: installed anew
	}
	p, err := compare(name, o, func() (before, after []*unstructured.Unstructured, err error) {
		return c.dryRunObjects(ctx, rel, base, force)
	})
	if err != nil {
		return nil, err
	}
	oldRoot, oldResolved := resolutionOf(base)
	p.Bundle = diff.Root(oldRoot, &plan.Resolved{Bundle: rel.Bundle, Version: rel.Version})
	p.Requirements = diff.Requirements(oldResolved, rel.Resolved)
	if !rev.fresh {
		explainMoves(p.Requirements, rev.Options.UpdateDeps)
	}
	var oldValues map[string]any
	if base != nil {
		oldValues = base.Config
	}
	p.Wiring = diff.Wiring(oldValues, rel.Values)
	p.Elsewhere = rel.Elsewhere
	for _, r := range rel.Resolved {
		if r.Bound != "" {
			p.Providers = append(p.Providers, r.Instance+": "+r.Bound)
		}
	}
	if base != nil {
		if p.Consumers, err = c.consumerNames(ctx, name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// explainMoves says why an upgrade moves a requirement: an upgrade keeps
// every installed version that still fits (plan.PreferInstalled), so a
// move is asked for (UpdateDeps), or the installed version no longer fits
// what the new revision requires, or the requirement names another bundle
// or repository.
func explainMoves(rs []diff.Resolution, updateDeps bool) {
	for i := range rs {
		r := &rs[i]
		if r.Action != diff.Change || r.Before.Bound != "" || r.After.Bound != "" {
			continue
		}
		switch {
		case r.Before.Bundle != r.After.Bundle:
			r.Why = "the requirement now names bundle " + r.After.Bundle
		case r.Before.Repository != r.After.Repository:
			r.Why = "the requirement now names repository " + r.After.Repository
		case updateDeps:
			r.Why = "UpdateDeps moves requirements to their newest fitting versions"
		default:
			r.Why = "the installed " + r.Before.Version + " no longer fits what the new revision requires"
		}
	}
}

// compare is the plan of the objects before and after (what objects
// reads), an error reading or comparing them said as comparing release
// name with the cluster.
func compare(name string, o diff.Options, objects func() (before, after []*unstructured.Unstructured, err error)) (*diff.Plan, error) {
	before, after, err := objects()
	if err != nil {
		return nil, fmt.Errorf("comparing %q with the cluster: %w", name, err)
	}
	p, err := diff.Compute(before, after, o)
	if err != nil {
		return nil, fmt.Errorf("comparing %q with the cluster: %w", name, err)
	}
	return p, nil
}

// comparing returns the validator whose dry runs a diff compares with the
// cluster, and the objects of manifest (what names them in errors).
func (c *Client) comparing(ctx context.Context, kc kube.Interface, manifest, what string, force bool) (*validator, kube.ResourceList, error) {
	if kc == nil {
		kc = c.reading()
	}
	v, err := c.validator(ctx, kc, false, force)
	if err != nil {
		return nil, nil, err
	}
	if v == nil {
		return nil, nil, errors.New("no dynamic client to read the cluster's objects with (Env.Dynamic)")
	}
	target, err := v.kube.Build(strings.NewReader(manifest), false)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the objects of %s: %w", what, err)
	}
	return v, target, nil
}

// dryRunObjects returns the objects of the release before (live) and after
// rel's manifest is applied over base's (nil: nothing installed), as the
// API server answers dry runs of Helm's requests.
func (c *Client) dryRunObjects(ctx context.Context, rel *Release, base *helmrelease.Release, force bool) (before, after []*unstructured.Unstructured, err error) {
	v, target, err := c.comparing(ctx, nil, rel.Manifest, "the new revision", force)
	if err != nil {
		return nil, nil, err
	}
	labelled(target, &helmrelease.Release{Name: rel.Name, Namespace: rel.Namespace})
	var original kube.ResourceList
	if base != nil && strings.TrimSpace(base.Manifest) != "" {
		if original, err = v.kube.Build(strings.NewReader(base.Manifest), false); err != nil {
			return nil, nil, fmt.Errorf("reading the objects of revision %d: %w", base.Version, err)
		}
	}
	err = dryRunEach(ctx, v.dyn, target, original, force, func(live, stored *unstructured.Unstructured) error {
		if live != nil {
			before = append(before, live)
		}
		after = append(after, stored)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	dropped, err := deleted(ctx, v.dyn, original.Difference(target), nil)
	if err != nil {
		return nil, nil, err
	}
	before = append(before, dropped...)
	// The objects of the release's other stored revisions the applier
	// deletes (applier.leftovers): still in the cluster as the release's.
	a := &applier{
		ctx: ctx, release: rel.Name, namespace: c.namespace, log: c.log,
		history: func() ([]*helmrelease.Release, error) { return recordsOf(c.cfg).History(rel.Name) },
		build:   func(m string) (kube.ResourceList, error) { return v.kube.Build(strings.NewReader(m), false) },
	}
	left, err := deleted(ctx, v.dyn, a.leftovers(original, target), func(live *unstructured.Unstructured) bool {
		return !a.owns(live) || live.GetDeletionTimestamp() != nil
	})
	if err != nil {
		return nil, nil, err
	}
	return append(before, left...), after, nil
}

// deleted are the live objects of infos that deleting them deletes: not
// those already gone, nor those marked helm.sh/resource-policy: keep
// (Helm leaves them), nor those leave (when set) says are left.
func deleted(ctx context.Context, dyn dynamic.Interface, infos kube.ResourceList, leave func(live *unstructured.Unstructured) bool) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, info := range infos {
		live, err := resourceFor(dyn, info).Get(ctx, info.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue // already gone
		case err != nil:
			return nil, fmt.Errorf("%s %s: %w", info.Mapping.GroupVersionKind.Kind, info.Name, err)
		case live.GetAnnotations()[kube.ResourcePolicyAnno] == kube.KeepPolicy, leave != nil && leave(live):
			continue // Helm leaves it
		}
		out = append(out, live)
	}
	return out, nil
}

// dryRunEach sends every object of target, in order, in a dry run over
// original (dryRunResult) and hands use the live object and what the API
// server answers it would store. An error, the dry run's or use's, is said
// with the object's kind and name.
func dryRunEach(ctx context.Context, dyn dynamic.Interface, target, original kube.ResourceList, force bool, use func(live, stored *unstructured.Unstructured) error) error {
	defined := definedKinds(target)
	// The objects are independent: their GETs and dry runs go out a few
	// at a time (each is two or three round trips), and their answers are
	// used in the target's order.
	type answer struct {
		live, stored *unstructured.Unstructured
		err          error
	}
	answers := make([]answer, len(target))
	slots := make(chan struct{}, dryRunConcurrency)
	var wg sync.WaitGroup
	for i, info := range target {
		if err := ctx.Err(); err != nil {
			answers[i].err = err
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func(a *answer, info *resource.Info) {
			defer func() { <-slots; wg.Done() }()
			obj, err := asUnstructured(info.Object)
			if err != nil {
				a.err = err
				return
			}
			a.live, a.stored, a.err = dryRunResult(ctx, resourceFor(dyn, info), info, obj, original, force, defined)
		}(&answers[i], info)
	}
	wg.Wait()
	for i, info := range target {
		err := answers[i].err
		if err == nil {
			err = use(answers[i].live, answers[i].stored)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", info.Mapping.GroupVersionKind.Kind, info.Name, err)
		}
	}
	return nil
}

// dryRunConcurrency bounds the objects dryRunEach compares at once: few
// enough to stay well inside the client's rate limit (50 a second, see
// validator) and the API server's fairness.
const dryRunConcurrency = 8

// dryRunResult sends obj in a dry run as the applier will send it
// (applier.update): applied server-side as FieldManager, taking over
// conflicting fields; replaced with force; or, when the API server cannot
// apply it server-side, created or patched as Helm sends it. It returns
// the live object (nil when missing) and what the API server answers it
// would store, as the applier's take-over of client-side managers and
// apply would leave it (takenOver). Objects the API server
// cannot take yet (custom resources whose CRD comes with the release or is
// not served, and objects of a namespace an install would create) are
// returned as rendered.
func dryRunResult(ctx context.Context, ri dynamic.ResourceInterface, info *resource.Info, obj *unstructured.Unstructured, original kube.ResourceList, force bool, defined map[string]bool) (live, stored *unstructured.Unstructured, err error) {
	live, err = ri.Get(ctx, info.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
		if defined[info.Mapping.GroupVersionKind.GroupKind().String()] {
			return nil, obj, nil
		}
		stored, err = dryRunApply(ctx, ri, info, obj)
		if cannotApplyServerSide(err) {
			stored, err = ri.Create(ctx, obj, metav1.CreateOptions{DryRun: dryRunAll, FieldManager: FieldManager})
		}
		if apierrors.IsNotFound(err) && (notServed(err) || namespaceMissing(err, info.Namespace)) {
			return nil, obj, nil
		}
		if err == nil {
			unallocated(obj, stored)
		}
		return nil, stored, err
	case err != nil:
		if apierrors.IsNotFound(err) && notServed(err) {
			return nil, obj, nil
		}
		return nil, nil, err
	}
	if force {
		o := obj.DeepCopy()
		o.SetResourceVersion(live.GetResourceVersion())
		stored, err = ri.Update(ctx, o, metav1.UpdateOptions{DryRun: dryRunAll, FieldManager: FieldManager})
		return live, stored, err
	}
	stored, err = dryRunApply(ctx, ri, info, obj)
	if err == nil {
		stored, err = takenOver(ctx, ri, info, obj, stored)
		return live, stored, err
	}
	if !cannotApplyServerSide(err) {
		return nil, nil, err
	}
	// Patched as the applier patches it (applier.patch), from the object
	// in the revision Helm starts from, else the live one.
	from := runtime.Object(live)
	if o := original.Get(info); o != nil {
		from = o.Object
	}
	patch, pt, err := helmPatch(info, from, obj, live)
	if err != nil {
		return nil, nil, err
	}
	if len(patch) == 0 || string(patch) == "{}" {
		return live, live, nil // Helm sends nothing
	}
	stored, err = ri.Patch(ctx, info.Name, pt, patch, metav1.PatchOptions{DryRun: dryRunAll, FieldManager: FieldManager})
	return live, stored, err
}

// takenOver is stored, the API server's answer to a dry-run apply of obj,
// as the applier's take-over of client-side managers and apply leave it:
// without the fields the take-over hands to the apply to remove
// (takenBack), and then, as the API server fills in defaults in what it
// stores after the apply removed them, with those defaults again (a dry-run
// update of what is left; without it, every field the server defaulted at
// a client-side create, which the creator's entry owns, would show
// removed). Its managedFields are the apply's. When the object changed
// between the two requests, the apply's dry run is sent again.
func takenOver(ctx context.Context, ri dynamic.ResourceInterface, info *resource.Info, obj, stored *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	for attempt := 0; ; attempt++ {
		n, err := takenBack(stored, clientSideManagers())
		if err != nil || n == 0 {
			return stored, err
		}
		o := stored.DeepCopy()
		o.SetManagedFields(nil)
		out, err := ri.Update(ctx, o, metav1.UpdateOptions{DryRun: dryRunAll, FieldManager: FieldManager})
		if err == nil {
			out.SetManagedFields(stored.GetManagedFields())
			return out, nil
		}
		if !apierrors.IsConflict(err) || attempt == 4 {
			return nil, err
		}
		if stored, err = dryRunApply(ctx, ri, info, obj); err != nil {
			return nil, err
		}
	}
}

// dryRunApply is the applier's apply of obj in a dry run: server-side, as
// FieldManager, taking over conflicting fields.
func dryRunApply(ctx context.Context, ri dynamic.ResourceInterface, info *resource.Info, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	body, err := applyBody(obj)
	if err != nil {
		return nil, err
	}
	takeOver := true
	return ri.Patch(ctx, info.Name, types.ApplyPatchType, body, metav1.PatchOptions{DryRun: dryRunAll, FieldManager: FieldManager, Force: &takeOver})
}

// unallocated removes from stored, what the API server answered a dry-run
// create of obj, the addresses it allocates only for real: a Service's
// cluster IPs (a dry run answers a placeholder) when obj asks for none.
func unallocated(obj, stored *unstructured.Unstructured) {
	if stored == nil || stored.GroupVersionKind().Group != "" || stored.GetKind() != "Service" {
		return
	}
	for _, f := range []string{"clusterIP", "clusterIPs"} {
		if _, set, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec", f); !set {
			unstructured.RemoveNestedField(stored.Object, "spec", f)
		}
	}
}
