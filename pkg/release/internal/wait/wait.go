// Package wait is the kube engine's waiter: bundle waits for a release's
// resources to be ready, and for deleted ones to be gone, itself, instead
// of Helm's wait; and it follows whether the API server answers (Health).
package wait

// Readiness: bundle waits for a release's resources itself, with kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus), instead of Helm's wait. Helm's
// actions still decide when to wait (after applying, before post-install
// hooks, with --atomic's uninstall or rollback and the failed release
// record on failure): bundle hands them a kube client whose Wait and
// WaitWithJobs are the waiter below. The waiter watches every resource
// (informers, no polling), so a wait ends as soon as the cluster reports
// the last resource ready; it reports each change of state through
// Progress, and says which resources are not ready and why
// when it gives up (WaitError). A resource is failed only when it cannot
// become ready (readyConditionReader); a lost connection or an API server
// that does not answer is waited through until the timeout (Health).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/event"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/kstatus/watcher"
	"sigs.k8s.io/cli-utils/pkg/object"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// State is how far a resource is from ready, as kstatus computes it for
// every kind (Deployments, StatefulSets, Jobs, claims, custom resources
// with a Ready condition, ...).
type State string

const (
	// StateWaiting: not seen in the cluster yet.
	StateWaiting State = "waiting"
	// StateInProgress: seen, not ready yet.
	StateInProgress State = "in progress"
	// StateReady: the cluster reports it ready (kstatus Current).
	StateReady State = "ready"
	// StateFailed: it will not become ready without a change (a Job
	// past its backoff limit, a resource whose Stalled condition is True).
	StateFailed State = "failed"
	// StateTerminating: being deleted.
	StateTerminating State = "terminating"
	// StateNotFound: it is not in the cluster.
	StateNotFound State = "not found"
)

func stateOf(s status.Status) State {
	switch s {
	case status.CurrentStatus:
		return StateReady
	case status.InProgressStatus:
		return StateInProgress
	case status.FailedStatus:
		return StateFailed
	case status.TerminatingStatus:
		return StateTerminating
	case status.NotFoundStatus:
		return StateNotFound
	}
	return StateWaiting
}

// ResourceState is the readiness of one resource of a release, as the
// cluster last reported it.
type ResourceState struct {
	Kind      string // StatefulSet
	Namespace string // empty for cluster-scoped resources
	Name      string
	State     State
	// Message is the status in short, as kstatus words it: "Ready: 1/3",
	// "Job Completed. succeeded: 1/1", a Ready condition's message.
	Message string
}

func (r ResourceState) String() string { return r.Kind + " " + r.Name }

// Progress receives the state of each resource a wait watches: once when
// the wait starts, then at every change. It is called from one goroutine
// at a time, in order.
type Progress func(ResourceState)

// errWaitTimeout is the cause of a wait's context when its timeout passes.
var errWaitTimeout = errors.New("wait timed out")

// Config is what a Waiter reads the cluster with.
type Config struct {
	Dyn    dynamic.Interface
	Mapper meta.RESTMapper
	// Clientset looks up pods and events to explain what is not ready,
	// and asks the API server whether it answers again; nil: no
	// explanations beyond the resources' own status.
	Clientset kubernetes.Interface
	// Host is the API server's address, for an unreachable one.
	Host string
	// Health follows the answers to the wait's requests; nil when there
	// is no transport to follow (fake clients).
	Health *Health
	// Progress, when set, receives the state of each resource waited
	// for as it changes.
	Progress Progress
}

// Waiter waits for resources with kstatus' watcher.
type Waiter struct {
	ctx      context.Context // the operation's: Ctrl-C ends the wait
	dyn      dynamic.Interface
	mapper   meta.RESTMapper
	cs       kubernetes.Interface
	host     string
	health   *Health
	progress Progress
}

// New returns the waiter of an operation (ctx: Ctrl-C ends its waits).
func New(ctx context.Context, c Config) *Waiter {
	return &Waiter{ctx: ctx, dyn: c.Dyn, mapper: c.Mapper, cs: c.Clientset, host: c.Host, health: c.Health, progress: c.Progress}
}

// retryAfter is the pause before the n-th try (from 0) to reach the API
// server again: 0.5s, doubling, at most 5s.
func retryAfter(n int) time.Duration {
	d := 500 * time.Millisecond
	for ; n > 0 && d < 5*time.Second; n-- {
		d *= 2
	}
	return min(d, 5*time.Second)
}

// wait waits until every resource in ids is ready, at most timeout. It
// watches each kind in each namespace the resources are in (a user with
// rights in those namespaces only can wait). When the API server does
// not answer (connections refused or reset, a restart, a lost etcd), it
// keeps the states last seen, asks again with a growing pause and, once
// the server answers, watches anew; the timeout still bounds it all.
func (w *Waiter) wait(ids object.ObjMetadataSet, timeout time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeoutCause(w.ctx, timeout, errWaitTimeout)
	defer cancel()
	states := make(map[object.ObjMetadata]*event.ResourceStatus, len(ids))
	seen := make(map[object.ObjMetadata]ResourceState, len(ids))
	report := func(id object.ObjMetadata, rs ResourceState) {
		if old, ok := seen[id]; ok && old == rs {
			return
		}
		seen[id] = rs
		if w.progress != nil && w.ctx.Err() == nil {
			w.progress(rs)
		}
	}
	for _, id := range ids {
		report(id, ResourceState{Kind: id.GroupKind.Kind, Namespace: id.Namespace, Name: id.Name, State: StateWaiting})
	}

	var (
		events <-chan event.Event
		stop   = func() {}
		// lost: the API server did not answer; retry ticks until it does.
		lost  *outage
		retry <-chan time.Time
		tries int
	)
	watch := func() {
		stop()
		if events != nil {
			go drain(events)
		}
		wctx, c := context.WithCancel(ctx)
		stop = c
		sw := watcher.NewDefaultStatusWatcher(w.dyn, w.mapper)
		sw.StatusReader = newStatusReader(w.mapper)
		events = sw.Watch(wctx, ids, watcher.Options{RESTScopeStrategy: watcher.RESTScopeNamespace})
	}
	defer func() {
		stop()
		if events != nil {
			go drain(events)
		}
	}()
	lose := func(err error) {
		if lost == nil {
			lost, tries = &outage{since: time.Now()}, 0
		}
		if retry == nil {
			retry = time.After(retryAfter(tries))
			tries++
		}
		if err != nil {
			lost.cause = kubeobj.OneLine(err)
		}
	}
	select { // failures before the wait are no news
	case <-w.health.failures():
	default:
	}
	watch()
	for {
		select {
		case <-w.health.failures():
			lose(nil)
		case <-retry:
			retry = nil
			if !w.answers(ctx) {
				retry = time.After(retryAfter(tries))
				tries++
				continue
			}
			watch() // the outage ends with the first news
		case <-ctx.Done():
			return w.gaveUp(ctx, ids, states, seen, timeout, lost)
		case e, ok := <-events:
			if !ok { // the watch stopped (after an error): watch again
				events = nil
				lose(nil)
				continue
			}
			switch e.Type {
			case event.SyncEvent:
				lost = nil
			case event.ErrorEvent:
				if ctx.Err() != nil {
					return w.gaveUp(ctx, ids, states, seen, timeout, lost)
				}
				err := e.Error
				if err == nil {
					// kstatus says a watch could not start without why:
					// its kind's mapping failed (discovery).
					if err = w.mappingError(ids); err == nil {
						lose(nil)
						continue
					}
				}
				if retryable(err) {
					lose(err)
					continue
				}
				return fmt.Errorf("watching the release's resources: %w", err)
			case event.ResourceUpdateEvent:
				rs := e.Resource
				if rs == nil {
					continue
				}
				if rs.Error != nil && retryable(rs.Error) {
					lose(rs.Error) // its status is read again once the server answers
					continue
				}
				lost = nil
				states[rs.Identifier] = rs
				st := ResourceState{Kind: rs.Identifier.GroupKind.Kind, Namespace: rs.Identifier.Namespace, Name: rs.Identifier.Name,
					State: stateOf(rs.Status), Message: errdefs.OneLine(rs.Message)}
				report(rs.Identifier, st)
				if st.State == StateFailed {
					return w.explain(ctx, ids, states, seen, 0, nil)
				}
				if allReady(ids, seen) {
					return nil
				}
			}
		}
	}
}

// mappingError is the error of the first kind of ids the mapper cannot
// map but for a kind it does not know (which kstatus waits for).
func (w *Waiter) mappingError(ids object.ObjMetadataSet) error {
	done := map[schema.GroupKind]bool{}
	for _, id := range ids {
		if done[id.GroupKind] {
			continue
		}
		done[id.GroupKind] = true
		if _, err := w.mapper.RESTMapping(id.GroupKind); err != nil && !meta.IsNoMatchError(err) {
			return err
		}
	}
	return nil
}

// outage is a time the API server did not answer a wait.
type outage struct {
	since time.Time
	cause string
}

// answers asks the API server whether it answers again (its version);
// without a clientset to ask with, it is taken to.
func (w *Waiter) answers(ctx context.Context) bool {
	if w.cs == nil || w.health == nil {
		return true
	}
	rc := w.cs.Discovery().RESTClient()
	if rc == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return rc.Get().AbsPath("/version").Do(ctx).Error() == nil
}

func drain(events <-chan event.Event) {
	for range events {
	}
}

func allReady(ids object.ObjMetadataSet, seen map[object.ObjMetadata]ResourceState) bool {
	for _, id := range ids {
		if seen[id].State != StateReady {
			return false
		}
	}
	return true
}

// gaveUp is the error of a wait whose context is done: the timeout's
// explanation, or the interruption. lost is the outage going on, if any,
// as the wait saw it (without health to tell).
func (w *Waiter) gaveUp(ctx context.Context, ids object.ObjMetadataSet, states map[object.ObjMetadata]*event.ResourceStatus, seen map[object.ObjMetadata]ResourceState, timeout time.Duration, lost *outage) error {
	lost, err := w.ended(ctx, timeout, lost)
	if err != nil {
		return err
	}
	return w.explain(w.ctx, ids, states, seen, timeout, lost)
}

// ended is how a wait whose context ctx is done ended: the interruption
// (err), or its timeout with the outage going on then, if any (lost, as
// the wait saw it; health, when the waiter has it, knows better), cut to
// the wait's time. Once the API server did not answer, what follows the
// wait (recording the failure, purging records) is given little time.
func (w *Waiter) ended(ctx context.Context, timeout time.Duration, lost *outage) (_ *outage, err error) {
	if context.Cause(ctx) != errWaitTimeout {
		if cause := context.Cause(w.ctx); cause != nil {
			return nil, cause
		}
		return nil, ctx.Err()
	}
	if w.health != nil { // it knows better: every request goes through it
		lost = nil
		if since, cause := w.health.unanswered(time.Now()); !since.IsZero() {
			lost = &outage{since: since, cause: cause}
		}
	}
	if lost != nil {
		if start := time.Now().Add(-timeout); lost.since.Before(start) {
			lost.since = start
		}
		if w.health != nil {
			w.health.giveUp() // what follows ends soon
		}
	}
	return lost, nil
}

// explain returns the WaitError for the resources not ready, each with
// the reason from its status, its pods and its events; with lost (the
// API server did not answer), only from its status as last seen.
func (w *Waiter) explain(ctx context.Context, ids object.ObjMetadataSet, states map[object.ObjMetadata]*event.ResourceStatus, seen map[object.ObjMetadata]ResourceState, timeout time.Duration, lost *outage) error {
	// The look-ups are bounded: an explanation must not hang the command.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	stop := context.AfterFunc(w.ctx, cancel) // but Ctrl-C still ends them
	defer stop()
	out := &WaitError{Timeout: timeout, Total: len(ids)}
	cs := w.cs
	if lost != nil {
		out.Host, out.Unreachable, out.Cause = w.host, roundDuration(time.Since(lost.since)), lost.cause
		cs = nil
	}
	for _, id := range ids {
		st := seen[id]
		if st.State == StateReady {
			continue
		}
		var obj map[string]any
		if rs := states[id]; rs != nil && rs.Resource != nil {
			obj = rs.Resource.Object
		}
		out.Resources = append(out.Resources, describe(ctx, cs, st, obj))
	}
	return out
}

// connectionLost tells a failure to reach the API server (refused, reset,
// cut off) from the errors the server answers with.
func connectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op)
}

// retryable tells the errors of a wait that the API server may not give
// once it answers again: a lost connection, a request without an answer,
// an overloaded or unavailable server, discovery that failed so.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	if connectionLost(err) || errors.Is(err, errNoAnswer) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var gd *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &gd) {
		for _, e := range gd.Groups {
			if retryable(e) {
				return true
			}
		}
	}
	return false
}
