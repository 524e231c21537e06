package wait

// Waiting for deletion: bundle waits for the objects an uninstall (or a
// hook's delete policy) deleted itself, instead of Helm's WaitForDelete,
// whose requests have no deadline (with an API server that takes requests
// and answers none, it never ends). WaitDeleted asks for each object left
// until the API server says it is not found; every request is bounded by
// the time the wait has left, a lost connection or an unanswered request
// is asked again until the timeout, and at the timeout the error names
// what is not yet gone.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// goingObject is an object waited for until it is gone.
type goingObject struct {
	st   ResourceState
	gvr  schema.GroupVersionResource
	last *unstructured.Unstructured // as last seen; nil: not seen
}

// WaitDeleted waits until every object of rl is gone (not found), at most
// timeout, polling with a growing pause (0.5s to 2s).
func (w *Waiter) WaitDeleted(rl kube.ResourceList, timeout time.Duration) error {
	var left []*goingObject
	for _, r := range rl {
		if r.Mapping == nil {
			continue
		}
		ns := r.Namespace
		if r.Mapping.Scope != nil && r.Mapping.Scope.Name() == meta.RESTScopeNameRoot {
			ns = ""
		}
		left = append(left, &goingObject{
			st:  ResourceState{Kind: r.Mapping.GroupVersionKind.Kind, Namespace: ns, Name: r.Name, State: StateTerminating},
			gvr: r.Mapping.Resource,
		})
	}
	if len(left) == 0 {
		return nil
	}
	total := len(left)
	ctx, cancel := context.WithTimeoutCause(w.ctx, timeout, errWaitTimeout)
	defer cancel()
	select { // failures before the wait are no news
	case <-w.health.failures():
	default:
	}
	var lost *outage
	for n := 0; ; n++ {
		still := left[:0]
		for _, d := range left {
			obj, err := w.dyn.Resource(d.gvr).Namespace(d.st.Namespace).Get(ctx, d.st.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				if w.progress != nil && w.ctx.Err() == nil {
					st := d.st
					st.State = StateNotFound
					w.progress(st)
				}
				continue
			case err == nil:
				d.last, lost = obj, nil
			case ctx.Err() != nil:
			case retryable(err):
				if lost == nil {
					lost = &outage{since: time.Now()}
				}
				lost.cause = kubeobj.OneLine(err)
			default:
				return fmt.Errorf("waiting for %s to be deleted: %w", d.st, err)
			}
			still = append(still, d)
		}
		left = still
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return w.notDeleted(ctx, left, total, timeout, lost)
		case <-time.After(min(retryAfter(n), 2*time.Second)):
		}
	}
}

// notDeleted is the error of a deletion wait whose context is done: the
// objects not yet gone, or the interruption.
func (w *Waiter) notDeleted(ctx context.Context, left []*goingObject, total int, timeout time.Duration, lost *outage) error {
	lost, err := w.ended(ctx, timeout, lost)
	if err != nil {
		return err
	}
	out := &WaitError{Timeout: timeout, Total: total, Deleting: true}
	if lost != nil {
		out.Host, out.Unreachable, out.Cause = w.host, roundDuration(time.Since(lost.since)), lost.cause
	}
	for _, d := range left {
		out.Resources = append(out.Resources, NotReady{ResourceState: d.st, Reason: goneReason(d.last)})
	}
	return out
}

// goneReason says why an object is not gone, as last seen.
func goneReason(obj *unstructured.Unstructured) string {
	switch {
	case obj == nil:
		return "not seen gone"
	case obj.GetDeletionTimestamp() == nil:
		return "not deleted"
	case len(obj.GetFinalizers()) > 0:
		return "terminating: finalizers " + strings.Join(obj.GetFinalizers(), ", ")
	}
	return "terminating"
}
