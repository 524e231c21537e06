package release

// Readiness: bundle waits for a release's resources itself, with kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus), instead of Helm's wait. Helm's
// actions still decide when to wait (after applying, before post-install
// hooks, with --atomic's uninstall or rollback and the failed release
// record on failure): bundle hands them a kube client whose Wait and
// WaitWithJobs are the waiter below. The waiter watches every resource
// (informers, no polling), so a wait ends as soon as the cluster reports
// the last resource ready; it reports each change of state through
// WaitOptions.Progress, says which resources are not ready and why when it
// gives up (WaitError), and fails at once when the connection to the
// cluster is lost.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/event"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/kstatus/watcher"
	"sigs.k8s.io/cli-utils/pkg/object"

	"github.com/bundlesh/bundle/pkg/errdefs"
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

// waiter waits for resources with kstatus' watcher.
type waiter struct {
	ctx    context.Context // the operation's: Ctrl-C ends the wait
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	// cs looks up pods and events to explain what is not ready; nil: no
	// explanations beyond the resources' own status.
	cs kubernetes.Interface
	// host is the API server's address, for a lost connection.
	host string
	// lost receives the connection errors the transport sees; nil when
	// there is no transport to watch (fake clients).
	lost     <-chan error
	progress Progress
}

// wait waits until every resource in ids is ready, at most timeout.
func (w *waiter) wait(ids object.ObjMetadataSet, timeout time.Duration) error {
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
	sw := watcher.NewDefaultStatusWatcher(w.dyn, w.mapper)
	sw.StatusReader = newStatusReader(w.mapper)
	// One watch per kind and namespace (kstatus would watch the whole
	// cluster when the resources are in more than one namespace): a user
	// with rights in those namespaces only can wait.
	events := sw.Watch(ctx, ids, watcher.Options{RESTScopeStrategy: watcher.RESTScopeNamespace})
	for {
		select {
		case err := <-w.lost:
			return w.lostError(err)
		case <-ctx.Done():
			return w.gaveUp(ctx, ids, states, seen, timeout)
		case e, ok := <-events:
			if !ok {
				return w.gaveUp(ctx, ids, states, seen, timeout)
			}
			switch e.Type {
			case event.ErrorEvent:
				if ctx.Err() != nil {
					return w.gaveUp(ctx, ids, states, seen, timeout)
				}
				if connectionLost(e.Error) {
					return w.lostError(e.Error)
				}
				return fmt.Errorf("watching the release's resources: %w", e.Error)
			case event.ResourceUpdateEvent:
				rs := e.Resource
				if rs == nil {
					continue
				}
				if rs.Error != nil && connectionLost(rs.Error) {
					return w.lostError(rs.Error)
				}
				states[rs.Identifier] = rs
				st := ResourceState{Kind: rs.Identifier.GroupKind.Kind, Namespace: rs.Identifier.Namespace, Name: rs.Identifier.Name,
					State: stateOf(rs.Status), Message: oneLineString(rs.Message)}
				report(rs.Identifier, st)
				if st.State == StateFailed {
					return w.explain(ctx, ids, states, seen, 0)
				}
				if allReady(ids, seen) {
					return nil
				}
			}
		}
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
// explanation, or the interruption.
func (w *waiter) gaveUp(ctx context.Context, ids object.ObjMetadataSet, states map[object.ObjMetadata]*event.ResourceStatus, seen map[object.ObjMetadata]ResourceState, timeout time.Duration) error {
	select {
	case err := <-w.lost:
		return w.lostError(err)
	default:
	}
	if context.Cause(ctx) != errWaitTimeout {
		if cause := context.Cause(w.ctx); cause != nil {
			return cause
		}
		return ctx.Err()
	}
	return w.explain(w.ctx, ids, states, seen, timeout)
}

// explain returns the WaitError for the resources not ready, each with
// the reason from its status, its pods and its events.
func (w *waiter) explain(ctx context.Context, ids object.ObjMetadataSet, states map[object.ObjMetadata]*event.ResourceStatus, seen map[object.ObjMetadata]ResourceState, timeout time.Duration) error {
	// The look-ups are bounded: an explanation must not hang the command.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	stop := context.AfterFunc(w.ctx, cancel) // but Ctrl-C still ends them
	defer stop()
	out := &WaitError{Timeout: timeout, Total: len(ids)}
	for _, id := range ids {
		st := seen[id]
		if st.State == StateReady {
			continue
		}
		var obj map[string]any
		if rs := states[id]; rs != nil && rs.Resource != nil {
			obj = rs.Resource.Object
		}
		out.Resources = append(out.Resources, describe(ctx, w.cs, st, obj))
	}
	return out
}

func (w *waiter) lostError(err error) error {
	return errdefs.Fixable(ErrUnreachable, checkKubeconfig, "lost the connection to the cluster at %s while waiting: %s", w.host, oneLine(err))
}

// connectionLost tells a failure to reach the API server (refused, reset,
// cut off) from the errors the server answers with.
func connectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op)
}

// lostTransport passes the first connection failure of any request on.
type lostTransport struct {
	http.RoundTripper
	lost chan error
}

func (t lostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.RoundTripper.RoundTrip(req)
	if err != nil && req.Context().Err() == nil && connectionLost(err) {
		select {
		case t.lost <- err:
		default:
		}
	}
	return resp, err
}

// opConfig returns Helm's configuration for an install, upgrade or
// rollback of release name: its kube client applies converging (see
// apply.go) and waits with bundle's waiter (waitConfig).
func (c *Client) opConfig(ctx context.Context, name string, opts WaitOptions) (*action.Configuration, error) {
	cfg := *c.cfg
	cfg.KubeClient = c.applying(ctx, c.cfg.KubeClient, name)
	return c.waitConfig(ctx, &cfg, opts)
}

// waitConfig returns base for an operation that waits for readiness, with
// bundle's waiter in place of Helm's wait. Without Wait, or with an Env
// that has no dynamic client (Helm's fake kube client in tests), it is
// base as it is.
func (c *Client) waitConfig(ctx context.Context, base *action.Configuration, opts WaitOptions) (*action.Configuration, error) {
	if !opts.Wait {
		return base, nil
	}
	w := &waiter{ctx: ctx, progress: opts.Progress, host: "the cluster"}
	switch {
	case c.flags != nil:
		rc, err := c.flags.ToRESTConfig()
		if err != nil {
			return nil, errdefs.Fixable(ErrUnreachable, checkKubeconfig, "cannot use the kubeconfig: %v", oneLine(err))
		}
		rc = rest.CopyConfig(rc)
		rc.Timeout = 0 // watches are long requests; --request-timeout bounds the others
		lost := make(chan error, 1)
		rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return lostTransport{RoundTripper: rt, lost: lost} })
		w.host, w.lost = rc.Host, lost
		if w.dyn, err = dynamic.NewForConfig(rc); err != nil {
			return nil, err
		}
		dc, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			return nil, err
		}
		// A fresh mapper for every operation: it knows the CRDs just created.
		w.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		if w.cs, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, err
		}
	case c.env != nil && c.env.Dynamic != nil:
		var err error
		if w.dyn, w.mapper, err = c.env.Dynamic(); err != nil {
			return nil, err
		}
		if c.env.Clientset != nil {
			w.cs, _ = c.env.Clientset()
		}
	default:
		return base, nil
	}
	cfg := *base
	cfg.KubeClient = waitingKube{Interface: base.KubeClient, w: w}
	return &cfg, nil
}

// waitingKube is Helm's kube client with bundle's waiter.
type waitingKube struct {
	kube.Interface
	w *waiter
}

// Wait waits for every resource but Jobs, as Helm's Wait does.
func (k waitingKube) Wait(rl kube.ResourceList, timeout time.Duration) error {
	return k.w.wait(idsOf(rl, false), timeout)
}

// WaitWithJobs waits for every resource, Jobs to complete.
func (k waitingKube) WaitWithJobs(rl kube.ResourceList, timeout time.Duration) error {
	return k.w.wait(idsOf(rl, true), timeout)
}

func idsOf(rl kube.ResourceList, jobs bool) object.ObjMetadataSet {
	var ids object.ObjMetadataSet
	for _, r := range rl {
		if r.Mapping == nil {
			continue
		}
		gk := r.Mapping.GroupVersionKind.GroupKind()
		if !jobs && gk.Group == "batch" && gk.Kind == "Job" {
			continue
		}
		ids = append(ids, object.ObjMetadata{Namespace: r.Namespace, Name: r.Name, GroupKind: gk})
	}
	return ids
}

// The optional interfaces of Helm's kube client, which its actions look
// for (Install calls UpdateThreeWayMerge without asking).

func (k waitingKube) WaitForDelete(rl kube.ResourceList, timeout time.Duration) error {
	if e, ok := k.Interface.(kube.InterfaceExt); ok {
		return e.WaitForDelete(rl, timeout)
	}
	return nil
}

func (k waitingKube) UpdateThreeWayMerge(original, target kube.ResourceList, force bool) (*kube.Result, error) {
	if m, ok := k.Interface.(kube.InterfaceThreeWayMerge); ok {
		return m.UpdateThreeWayMerge(original, target, force)
	}
	return k.Interface.Update(original, target, force)
}

func (k waitingKube) DeleteWithPropagationPolicy(rl kube.ResourceList, policy metav1.DeletionPropagation) (*kube.Result, []error) {
	if d, ok := k.Interface.(kube.InterfaceDeletionPropagation); ok {
		return d.DeleteWithPropagationPolicy(rl, policy)
	}
	return k.Interface.Delete(rl)
}

func (k waitingKube) GetPodList(namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	if l, ok := k.Interface.(kube.InterfaceLogs); ok {
		return l.GetPodList(namespace, opts)
	}
	return &corev1.PodList{}, nil
}

func (k waitingKube) OutputContainerLogsForPodList(pods *corev1.PodList, namespace string, writerFunc func(namespace, pod, container string) io.Writer) error {
	if l, ok := k.Interface.(kube.InterfaceLogs); ok {
		return l.OutputContainerLogsForPodList(pods, namespace, writerFunc)
	}
	return nil
}

func (k waitingKube) Get(rl kube.ResourceList, related bool) (map[string][]runtime.Object, error) {
	if r, ok := k.Interface.(kube.InterfaceResources); ok {
		return r.Get(rl, related)
	}
	return nil, nil
}

func (k waitingKube) BuildTable(reader io.Reader, validate bool) (kube.ResourceList, error) {
	if r, ok := k.Interface.(kube.InterfaceResources); ok {
		return r.BuildTable(reader, validate)
	}
	return k.Interface.Build(reader, validate)
}
