package wait

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// WaitError is a wait that ended with resources not ready: its timeout
// passed, or a resource failed; or, with Deleting, a wait for deleted
// resources to be gone whose timeout passed. Error() is one line;
// Resources say, one each, why every resource that is not ready (not
// gone) is not. It matches errdefs.ErrFailed.
type WaitError struct {
	// Timeout is the wait's timeout when it passed; zero when a resource
	// failed before it.
	Timeout time.Duration
	// Total is the number of resources waited for.
	Total int
	// Resources are those not ready, in the order of the manifest.
	Resources []NotReady
	// Unreachable, when the API server at Host had not answered for
	// this long when the timeout passed, is why; Cause is its last
	// failure ("dial tcp …: connection refused", "no answer to GET … for
	// 9s"), and Resources are as last seen.
	Unreachable time.Duration
	Host, Cause string
	// Deleting: the wait was for the resources to be gone (an uninstall's);
	// Resources are those still there, or not seen gone.
	Deleting bool
}

func (e *WaitError) Error() string {
	names := make([]string, 0, len(e.Resources))
	var failed []string
	for _, r := range e.Resources {
		names = append(names, r.ResourceState.String())
		if r.State == StateFailed {
			failed = append(failed, r.ResourceState.String())
		}
	}
	notReady := "not ready"
	if e.Deleting {
		notReady = "not yet deleted"
	}
	if e.Unreachable > 0 {
		return fmt.Sprintf("the API server at %s was unreachable for the last %s of the %s wait (%s); %d of %d resources %s: %s",
			e.Host, e.Unreachable, e.Timeout, e.Cause, len(e.Resources), e.Total, notReady, strings.Join(names, ", "))
	}
	if e.Timeout == 0 && len(failed) > 0 {
		return fmt.Sprintf("%s failed while waiting for readiness (%d of %d resources not ready)", strings.Join(failed, ", "), len(e.Resources), e.Total)
	}
	return fmt.Sprintf("%d of %d resources %s after %s: %s", len(e.Resources), e.Total, notReady, e.Timeout, strings.Join(names, ", "))
}

// Is makes a WaitError match errdefs.ErrFailed, and errdefs.ErrUnreachable
// when the API server did not answer.
func (e *WaitError) Is(target error) bool {
	return target == errdefs.ErrFailed || target == errdefs.ErrUnreachable && e.Unreachable > 0
}

// NotReady is a resource that is not ready, with why.
type NotReady struct {
	ResourceState
	// Reason is its own status in short: "1/3 ready", "0/1 available",
	// "failed: BackoffLimitExceeded: Job has reached the specified backoff
	// limit", "Pending", "Ready False: NotSynced: no upstream".
	Reason string
	// Pod is the first of its pods that is not ready; nil when it has
	// none or none is found.
	Pod *PodProblem
	// Event is its latest warning event, "REASON: MESSAGE"; empty when
	// none (or when its pod already says why).
	Event string
}

// PodProblem is a pod that is not ready, and why.
type PodProblem struct {
	Name  string
	Phase string // Pending, Running, Failed
	// Why, from its conditions, containers or events: "0/3 nodes are
	// available: 3 node(s) didn't match Pod's node affinity/selector".
	Why string
	// Others is how many more of the resource's pods are not ready.
	Others int
}

// String is the resource's line of explanation, e.g. "StatefulSet
// magento-cache: 1/3 ready: pod magento-cache-1 Pending: 0/1 nodes are
// available: 1 node(s) didn't match pod anti-affinity rules".
func (n NotReady) String() string {
	parts := []string{n.ResourceState.String()}
	if n.Reason != "" {
		parts = append(parts, n.Reason)
	}
	if p := n.Pod; p != nil {
		s := "pod " + p.Name + " " + p.Phase
		if p.Why != "" {
			s += ": " + p.Why
		}
		if p.Others > 0 {
			s += fmt.Sprintf(" (and %d more pods not ready)", p.Others)
		}
		parts = append(parts, s)
	}
	if n.Event != "" {
		parts = append(parts, n.Event)
	}
	return strings.Join(parts, ": ")
}

// describe explains why one resource is not ready: its status (obj is
// the object as last seen, nil when never seen), its pods and its events,
// looked up with cs when not nil.
func describe(ctx context.Context, cs kubernetes.Interface, st ResourceState, obj map[string]any) NotReady {
	n := NotReady{ResourceState: st, Reason: reasonOf(st, obj)}
	if cs == nil || obj == nil {
		return n
	}
	if sel, ok := podSelector(st.Kind, obj); ok {
		n.Pod = podProblem(ctx, cs, st.Namespace, sel)
	}
	if n.Pod == nil || n.Pod.Why == "" {
		n.Event = latestWarning(ctx, cs, st.Namespace, st.Kind, st.Name)
	}
	if n.Pod != nil && n.Pod.Why == "" {
		n.Pod.Why = latestWarning(ctx, cs, st.Namespace, "Pod", n.Pod.Name)
		if n.Pod.Why != "" {
			n.Event = ""
		}
	}
	return n
}

// reasonOf is a resource's own status in short.
func reasonOf(st ResourceState, obj map[string]any) string {
	if obj == nil {
		if st.State == StateNotFound {
			return "not found in the cluster"
		}
		return "not seen in the cluster yet"
	}
	num := func(path ...string) int64 {
		v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
		switch n := v.(type) {
		case int64:
			return n
		case float64:
			return int64(n)
		case int:
			return int64(n)
		}
		return 0
	}
	replicas := func() int64 {
		if _, found, _ := unstructured.NestedFieldNoCopy(obj, "spec", "replicas"); !found {
			return 1
		}
		return num("spec", "replicas")
	}
	switch st.Kind {
	case "StatefulSet":
		return fmt.Sprintf("%d/%d ready", num("status", "readyReplicas"), replicas())
	case "Deployment":
		return fmt.Sprintf("%d/%d available", num("status", "availableReplicas"), replicas())
	case "ReplicaSet":
		return fmt.Sprintf("%d/%d ready", num("status", "readyReplicas"), replicas())
	case "DaemonSet":
		return fmt.Sprintf("%d/%d ready", num("status", "numberReady"), num("status", "desiredNumberScheduled"))
	case "Job":
		if c := condition(obj, "Failed"); c != nil && c["status"] == "True" {
			return joinNonEmpty("failed", str(c["reason"]), str(c["message"]))
		}
		completions := int64(1)
		if _, found, _ := unstructured.NestedFieldNoCopy(obj, "spec", "completions"); found {
			completions = num("spec", "completions")
		}
		return fmt.Sprintf("%d/%d complete, %d failed", num("status", "succeeded"), completions, num("status", "failed"))
	case "PersistentVolumeClaim":
		phase, _, _ := unstructured.NestedString(obj, "status", "phase")
		if phase == "" {
			phase = "Pending"
		}
		return phase
	}
	for _, t := range []string{"Stalled", "Ready"} {
		if c := condition(obj, t); c != nil && (t == "Ready" || c["status"] == "True") {
			return joinNonEmpty(t+" "+str(c["status"]), str(c["reason"]), str(c["message"]))
		}
	}
	if st.Message != "" {
		return st.Message
	}
	return string(st.State)
}

func condition(obj map[string]any, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = errdefs.OneLine(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}

// podSelector is the label selector of the pods a workload runs.
func podSelector(kind string, obj map[string]any) (string, bool) {
	switch kind {
	case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job":
	default:
		return "", false
	}
	m, found, _ := unstructured.NestedMap(obj, "spec", "selector")
	if !found {
		return "", false
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &ls); err != nil {
		return "", false
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || sel.Empty() {
		return "", false
	}
	return sel.String(), true
}

// podProblem finds the first pod of the selector that is not ready.
func podProblem(ctx context.Context, cs kubernetes.Interface, ns, selector string) *PodProblem {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil
	}
	items := pods.Items
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	var out *PodProblem
	for i := range items {
		p := &items[i]
		if podReady(p) {
			continue
		}
		if out != nil {
			out.Others++
			continue
		}
		out = &PodProblem{Name: p.Name, Phase: string(p.Status.Phase), Why: podWhy(p)}
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded {
		return true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podWhy says why a pod is not ready: unscheduled, a container waiting
// or exited, or its Ready condition's message.
func podWhy(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return joinNonEmpty(c.Message)
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, s := range statuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return joinNonEmpty("container "+s.Name+" "+w.Reason, w.Message)
		}
		if t := s.State.Terminated; t != nil && t.ExitCode != 0 {
			return joinNonEmpty(fmt.Sprintf("container %s exited with code %d", s.Name, t.ExitCode), t.Reason, t.Message)
		}
	}
	if p.Status.Reason != "" || p.Status.Message != "" {
		return joinNonEmpty(p.Status.Reason, p.Status.Message)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
			return joinNonEmpty(c.Reason, c.Message)
		}
	}
	return ""
}

// latestWarning is the newest warning event of an object, "REASON:
// MESSAGE"; empty when none.
func latestWarning(ctx context.Context, cs kubernetes.Interface, ns, kind, name string) string {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.kind", kind),
		fields.OneTermEqualSelector("involvedObject.name", name),
		fields.OneTermEqualSelector("type", corev1.EventTypeWarning),
	).String()
	evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return ""
	}
	var last *corev1.Event
	for i := range evs.Items {
		e := &evs.Items[i]
		// The fake clientset ignores field selectors: check again.
		if e.InvolvedObject.Kind != kind || e.InvolvedObject.Name != name || e.Type != corev1.EventTypeWarning {
			continue
		}
		if last == nil || eventTime(e).After(eventTime(last)) {
			last = e
		}
	}
	if last == nil {
		return ""
	}
	return joinNonEmpty(last.Reason, last.Message)
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
