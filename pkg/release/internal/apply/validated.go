package apply

// Fewer round trips per object. Before an install, upgrade or rollback
// writes anything, the validation sends every object of its manifest in a
// dry-run apply (package validate); the API server's answer is the object
// as the apply would store it. The applier takes from it what it would
// otherwise read from the cluster before applying:
//
//   - whether the object exists: the answer to a dry-run apply of an
//     object that does not exist has no resourceVersion. Create then
//     applies it without reading it first.
//   - whether client-side managers own fields of it: their Update entries
//     are in the answer, unless the apply would take every field they own
//     (then there is nothing of theirs left for the apply to remove, and
//     nothing to take over). Update then applies it without reading it
//     first; otherwise it reads it and takes over, as before.
//
// Each answer is used once, by the first write to its object, and none
// after the Update that applies the revision validated; an object
// without one (a hook, a custom resource of a CRD of the release, an
// object written by --force) is read first as before. Whether an apply
// created its object is told by the API server's status (201 Created),
// not by the answer.
//
// The objects of a kind are applied a few at a time (applyConcurrency),
// kind after kind in the manifest's order, as Helm's kube client creates
// them; their errors are reported in the manifest's order.

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"helm.sh/helm/v4/pkg/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// applyConcurrency bounds the objects of one kind the applier writes at
// once.
const applyConcurrency = kubeobj.Concurrency

// answer is what a dry-run apply of an object told of it.
type answer struct {
	// exists: the object is in the cluster (the answer has a
	// resourceVersion).
	exists bool
	// clientSide: client-side managers (Applier.managers) own fields of
	// it that the apply does not take.
	clientSide bool
}

// answers are the validation's answers by object, each taken once.
type answers struct {
	mu sync.Mutex
	m  map[string]answer
}

// objectKey names info's object: its group, kind, namespace and name.
func objectKey(info *resource.Info) string {
	return info.Mapping.GroupVersionKind.GroupKind().String() + "/" + info.Namespace + "/" + info.Name
}

func (as *answers) put(info *resource.Info, a answer) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.m == nil {
		as.m = map[string]answer{}
	}
	as.m[objectKey(info)] = a
}

// forget forgets every answer.
func (as *answers) forget() {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.m = nil
}

// any reports whether one of rl's objects has an answer.
func (as *answers) any(rl kube.ResourceList) bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, info := range rl {
		if info.Mapping != nil {
			if _, ok := as.m[objectKey(info)]; ok {
				return true
			}
		}
	}
	return false
}

// take returns the answer for info's object and forgets it.
func (as *answers) take(info *resource.Info) (answer, bool) {
	if info.Mapping == nil {
		return answer{}, false
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	k := objectKey(info)
	a, ok := as.m[k]
	delete(as.m, k)
	return a, ok
}

// Validated records stored, what the API server answered to a dry-run
// apply of info's object as FieldManager (forced) just before the
// operation writes anything: the applier's first write to the object
// applies it without reading it first.
func (a *Applier) Validated(info *resource.Info, stored *unstructured.Unstructured) {
	if info.Mapping == nil || stored == nil {
		return
	}
	a.validated.put(info, answer{exists: stored.GetResourceVersion() != "", clientSide: a.clientSideOwned(stored)})
}

// clientSideOwned reports whether obj has fields to take over before it
// is applied: an Update entry of the client-side managers in its managed
// fields (csaupgrade converts those), or the Apply entry bundle left as
// FormerFieldManager (TakeOverPatch hands it to FieldManager).
func (a *Applier) clientSideOwned(obj metav1.Object) bool {
	for _, e := range obj.GetManagedFields() {
		switch {
		case e.Subresource != "":
		case e.Operation == metav1.ManagedFieldsOperationUpdate && a.managers.Has(e.Manager):
			return true
		case e.Operation == metav1.ManagedFieldsOperationApply && e.Manager == FormerFieldManager:
			return true
		}
	}
	return false
}

// applyValidated applies an object the validation answered for without
// reading it first, and reports whether the apply created it. done is
// false, with nothing sent, when there is no answer, with force, or when
// client-side managers' fields are to be taken over first; and, after the
// apply, when the API server cannot apply the object server-side: update
// then reads it and goes on as without an answer.
func (a *Applier) applyValidated(info *resource.Info, force bool) (created, done bool, err error) {
	ans, ok := a.validated.take(info)
	if !ok || force || ans.clientSide {
		return false, false, nil
	}
	created, err = a.applyAndTell(info, a.helper(info))
	switch {
	case CannotApplyServerSide(err):
		return false, false, nil
	case err != nil && !ans.exists:
		return true, true, fmt.Errorf("failed to create resource: %w", err)
	case err != nil:
		return false, true, fmt.Errorf("cannot apply %s: %w", kubeobj.Describe(info), err)
	case created:
		a.log("created %s", kubeobj.Describe(info))
	default:
		a.log("applied %s", kubeobj.Describe(info))
	}
	return created, true, nil
}

// applyAndTell is apply, sent with the operation's context, reporting
// whether the apply created the object (the API server answers 201).
func (a *Applier) applyAndTell(info *resource.Info, helper *resource.Helper) (created bool, err error) {
	body, err := ApplyBody(info.Object)
	if err != nil {
		return false, err
	}
	force := true
	opts := &metav1.PatchOptions{Force: &force, FieldManager: helper.FieldManager}
	var code int
	obj, err := helper.RESTClient.Patch(types.ApplyPatchType).
		NamespaceIfScoped(info.Namespace, helper.NamespaceScoped).
		Resource(helper.Resource).
		Name(info.Name).
		VersionedParams(opts, metav1.ParameterCodec).
		Body(body).
		Do(a.ctx).
		StatusCode(&code).
		Get()
	if err != nil {
		return false, err
	}
	return code == http.StatusCreated, info.Refresh(obj, true)
}

// updateAll brings every object of target to the revision (update): kind
// after kind, the objects of a kind a few at a time (byKind). It adds each
// object it started to res, as created or updated, and returns the errors,
// both in target's order; stopped says which object it did not start once
// the operation's context was done.
func (a *Applier) updateAll(res *kube.Result, original, target kube.ResourceList, force bool) (failed []string, stopped error) {
	type outcome struct {
		created bool
		err     error
	}
	out := make([]outcome, len(target))
	n := a.byKind(target, func(i int) {
		info := target[i]
		var orig runtime.Object
		if o := original.Get(info); o != nil {
			orig = o.Object
		}
		out[i].created, out[i].err = a.update(info, orig, force)
	})
	// The answers were for the revision this Update applies: the next
	// (an --atomic rollback's) applies another.
	a.validated.forget()
	for i, info := range target[:n] {
		if out[i].created {
			res.Created = append(res.Created, info)
		} else {
			res.Updated = append(res.Updated, info)
		}
		if err := out[i].err; err != nil {
			a.log("error applying %s: %v", kubeobj.Describe(info), err)
			failed = append(failed, err.Error())
		}
	}
	if n < len(target) {
		return failed, fmt.Errorf("stopped before applying %s: %w", kubeobj.Describe(target[n]), context.Cause(a.ctx))
	}
	return failed, nil
}

// byKind calls fn(i) for every object of infos: kind by kind in order (a
// kind's objects are those in a row of one kind, as Helm's batchPerform
// groups them), the objects of a kind at most applyConcurrency at a time.
// Once the operation's context is done it starts no more. It returns the
// number of objects it started, all of which have ended.
func (a *Applier) byKind(infos kube.ResourceList, fn func(i int)) int {
	kind := func(i int) string { return infos[i].Object.GetObjectKind().GroupVersionKind().Kind }
	for start := 0; start < len(infos); {
		end := start + 1
		for end < len(infos) && kind(end) == kind(start) {
			end++
		}
		if n := kubeobj.Each(a.ctx, end-start, applyConcurrency, func(i int) { fn(start + i) }); n < end-start {
			return start + n
		}
		start = end
	}
	return len(infos)
}
