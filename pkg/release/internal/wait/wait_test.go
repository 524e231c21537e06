package wait

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/clusterreader"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/object"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// The waiter over client-go's fake clients: the dynamic one that kstatus
// watches, the typed one for pods and events.

var waitKinds = map[schema.GroupVersionResource]string{
	{Group: "apps", Version: "v1", Resource: "deployments"}:  "DeploymentList",
	{Group: "apps", Version: "v1", Resource: "statefulsets"}: "StatefulSetList",
	{Group: "apps", Version: "v1", Resource: "replicasets"}:  "ReplicaSetList",
	{Group: "batch", Version: "v1", Resource: "jobs"}:        "JobList",
	{Version: "v1", Resource: "pods"}:                        "PodList",
	{Version: "v1", Resource: "persistentvolumeclaims"}:      "PersistentVolumeClaimList",
}

type fakeCluster struct {
	dyn *dynamicfake.FakeDynamicClient
	cs  *k8sfake.Clientset
}

func newFakeCluster(t *testing.T, objs ...*unstructured.Unstructured) *fakeCluster {
	t.Helper()
	ros := make([]runtime.Object, len(objs))
	for i, o := range objs {
		ros[i] = o
	}
	return &fakeCluster{
		dyn: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), waitKinds, ros...),
		cs:  k8sfake.NewClientset(),
	}
}

func (f *fakeCluster) waiter(ctx context.Context, progress Progress) *Waiter {
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "apps", Version: "v1"}, {Group: "batch", Version: "v1"}, {Version: "v1"}})
	for gvr, list := range waitKinds {
		mapper.Add(gvr.GroupVersion().WithKind(strings.TrimSuffix(list, "List")), meta.RESTScopeNamespace)
	}
	return New(ctx, Config{Dyn: f.dyn, Mapper: mapper, Clientset: f.cs, Host: "https://127.0.0.1:6443", Progress: progress})
}

func (f *fakeCluster) update(t *testing.T, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	t.Helper()
	if _, err := f.dyn.Resource(gvr).Namespace(obj.GetNamespace()).Update(context.Background(), obj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func obj(apiVersion, kind, name string, spec, status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "shop", "generation": int64(1)},
		"spec":     spec,
	}}
	if status != nil {
		status["observedGeneration"] = int64(1)
		u.Object["status"] = status
	}
	return u
}

func idOf(u *unstructured.Unstructured) object.ObjMetadata {
	return object.UnstructuredToObjMetadata(u)
}

func deployment(available int64) *unstructured.Unstructured {
	return obj("apps/v1", "Deployment", "web", map[string]any{
		"replicas": int64(2), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
	}, map[string]any{
		"replicas": int64(2), "updatedReplicas": int64(2), "readyReplicas": available, "availableReplicas": available,
		"conditions": []any{map[string]any{"type": "Available", "status": "True"}},
	})
}

// recorder collects what a wait reports.
type recorder struct {
	mu     sync.Mutex
	states []ResourceState
	ready  chan struct{} // closed at the first StateReady
}

func (r *recorder) progress(rs ResourceState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, rs)
	if rs.State == StateReady && r.ready != nil {
		close(r.ready)
		r.ready = nil
	}
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.states {
		out = append(out, s.String()+" "+string(s.State)+" "+s.Message)
	}
	return out
}

func TestWaitReportsEveryChangeAndEndsWhenTheLastResourceIsReady(t *testing.T) {
	d := deployment(1)
	f := newFakeCluster(t, d)
	rec := &recorder{}
	w := f.waiter(context.Background(), rec.progress)
	done := make(chan error, 1)
	go func() { done <- w.wait(object.ObjMetadataSet{idOf(d)}, time.Minute) }()

	time.Sleep(300 * time.Millisecond) // the watch has seen it in progress
	readyAt := time.Now()
	f.update(t, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, deployment(2))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		if d := time.Since(readyAt); d > time.Second {
			t.Errorf("wait returned %s after the deployment became ready, want under 1s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return after the deployment became ready")
	}
	want := []string{
		"Deployment web waiting ",
		"Deployment web in progress Available: 1/2",
		"Deployment web ready Deployment is available. Replicas: 2",
	}
	if got := rec.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWaitTimeoutExplainsEachResourceNotReadyFromItsPodsAndEvents(t *testing.T) {
	sts := obj("apps/v1", "StatefulSet", "magento-cache", map[string]any{
		"replicas": int64(3), "selector": map[string]any{"matchLabels": map[string]any{"app": "cache"}},
	}, map[string]any{"replicas": int64(2), "readyReplicas": int64(1), "currentReplicas": int64(2)})
	claim := obj("v1", "PersistentVolumeClaim", "data", map[string]any{}, map[string]any{"phase": "Pending"})
	ready := deployment(2)
	f := newFakeCluster(t, sts, claim, ready)
	ctx := context.Background()
	pod := func(name string, ready bool, conds ...corev1.PodCondition) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "cache"}}}
		p.Status.Phase = corev1.PodPending
		if ready {
			p.Status.Phase = corev1.PodRunning
			conds = append(conds, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
		}
		p.Status.Conditions = conds
		if _, err := f.cs.CoreV1().Pods("shop").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod("magento-cache-0", true)
	pod("magento-cache-1", false, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules."})
	warn := func(kind, name, reason, msg string, at time.Time) {
		e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name + "." + reason, Namespace: "shop"}, Type: corev1.EventTypeWarning,
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: "shop"}, Reason: reason, Message: msg,
			LastTimestamp: metav1.NewTime(at)}
		if _, err := f.cs.CoreV1().Events("shop").Create(ctx, e, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	warn("PersistentVolumeClaim", "data", "ProvisioningFailed", "storageclass.storage.k8s.io \"fast\" not found", now)
	warn("PersistentVolumeClaim", "data", "Old", "an older warning", now.Add(-time.Minute))

	err := f.waiter(ctx, nil).wait(object.ObjMetadataSet{idOf(sts), idOf(claim), idOf(ready)}, 500*time.Millisecond)
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v (%T), want a *WaitError", err, err)
	}
	if !errors.Is(err, errdefs.ErrFailed) {
		t.Error("a WaitError does not match errdefs.ErrFailed")
	}
	if got, want := err.Error(), "2 of 3 resources not ready after 500ms: StatefulSet magento-cache, PersistentVolumeClaim data"; got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	var lines []string
	for _, r := range we.Resources {
		lines = append(lines, r.String())
	}
	want := []string{
		"StatefulSet magento-cache: 1/3 ready: pod magento-cache-1 Pending: 0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.",
		`PersistentVolumeClaim data: Pending: ProvisioningFailed: storageclass.storage.k8s.io "fast" not found`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("explanation:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestWaitFailsAtOnceWhenAJobFails(t *testing.T) {
	job := obj("batch/v1", "Job", "migrate", map[string]any{
		"selector": map[string]any{"matchLabels": map[string]any{"job-name": "migrate"}},
	}, map[string]any{"failed": int64(2), "conditions": []any{map[string]any{
		"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
	}}})
	f := newFakeCluster(t, job)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "migrate-x1", Namespace: "shop", Labels: map[string]string{"job-name": "migrate"}}}
	p.Status.Phase = corev1.PodFailed
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}}}}
	if _, err := f.cs.CoreV1().Pods("shop").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := f.waiter(context.Background(), nil).wait(object.ObjMetadataSet{idOf(job)}, time.Minute)
	if time.Since(start) > 5*time.Second {
		t.Errorf("a failed Job was reported after %s, not at once", time.Since(start))
	}
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a *WaitError", err)
	}
	if got, want := err.Error(), "Job migrate failed while waiting for readiness (1 of 1 resources not ready)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := we.Resources[0].String(), "Job migrate: failed: BackoffLimitExceeded: Job has reached the specified backoff limit: pod migrate-x1 Failed: container migrate exited with code 3: Error"; got != want {
		t.Errorf("explanation:\n%s\nwant:\n%s", got, want)
	}
}

// lossyMapper fails as a lost connection to the API server does while
// down is set.
type lossyMapper struct {
	meta.RESTMapper
	mu   sync.Mutex
	down bool
}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

func (m *lossyMapper) set(down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = down
}

func (m *lossyMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m.mu.Lock()
	down := m.down
	m.mu.Unlock()
	if down {
		return nil, errRefused
	}
	return m.RESTMapper.RESTMapping(gk, versions...)
}

// A connection lost during a wait is retried within its timeout: the
// wait goes on once the API server answers again.
func TestWaitGoesOnThroughALostConnection(t *testing.T) {
	d := deployment(1)
	f := newFakeCluster(t, d)
	w := f.waiter(context.Background(), nil)
	m := &lossyMapper{RESTMapper: w.mapper, down: true}
	w.mapper = m
	go func() {
		time.Sleep(time.Second)
		m.set(false)
		f.update(t, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, deployment(2))
	}()
	if err := w.wait(object.ObjMetadataSet{idOf(d)}, time.Minute); err != nil {
		t.Fatalf("wait: %v", err)
	}
}

// When the timeout passes while the API server does not answer, the error
// says so, since when and why, with the resources as last seen.
func TestWaitSaysHowLongTheAPIServerWasUnreachable(t *testing.T) {
	d := deployment(1)
	f := newFakeCluster(t, d)
	w := f.waiter(context.Background(), nil)
	w.mapper = &lossyMapper{RESTMapper: w.mapper, down: true}
	start := time.Now()
	err := w.wait(object.ObjMetadataSet{idOf(d)}, 1500*time.Millisecond)
	if took := time.Since(start); took < 1500*time.Millisecond || took > 5*time.Second {
		t.Errorf("the wait ended after %s, want at its timeout", took)
	}
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a *WaitError", err)
	}
	if !errors.Is(err, errdefs.ErrUnreachable) || !errors.Is(err, errdefs.ErrFailed) {
		t.Errorf("err = %v, want it to match ErrUnreachable and ErrFailed", err)
	}
	if got, want := err.Error(), "the API server at https://127.0.0.1:6443 was unreachable for the last 1s of the 1.5s wait (dial tcp: connect: connection refused); 1 of 1 resources not ready: Deployment web"; got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
}

func TestWaitEndsWithTheInterruption(t *testing.T) {
	d := deployment(1)
	f := newFakeCluster(t, d)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel(errors.New("interrupt")) }()
	err := f.waiter(ctx, nil).wait(object.ObjMetadataSet{idOf(d)}, time.Minute)
	if err == nil || err.Error() != "interrupt" {
		t.Errorf("err = %v, want the interruption", err)
	}
}

func TestConnectionLost(t *testing.T) {
	for _, c := range []struct {
		err  error
		lost bool
	}{
		{syscall.ECONNREFUSED, true},
		{syscall.ECONNRESET, true},
		{context.Canceled, false},
		{errors.New(`deployments.apps "web" is forbidden`), false},
	} {
		if got := connectionLost(c.err); got != c.lost {
			t.Errorf("connectionLost(%v) = %v, want %v", c.err, got, c.lost)
		}
	}
}

func TestNotReadyLines(t *testing.T) {
	for _, c := range []struct {
		n    NotReady
		want string
	}{
		{NotReady{ResourceState: ResourceState{Kind: "Deployment", Name: "web"}, Reason: "0/2 available",
			Pod: &PodProblem{Name: "web-1", Phase: "Pending", Why: "container app ImagePullBackOff", Others: 1}},
			"Deployment web: 0/2 available: pod web-1 Pending: container app ImagePullBackOff (and 1 more pods not ready)"},
		{NotReady{ResourceState: ResourceState{Kind: "Database", Name: "orders"}, Reason: "Ready False: NotSynced: no upstream"},
			"Database orders: Ready False: NotSynced: no upstream"},
		{NotReady{ResourceState: ResourceState{Kind: "Service", Name: "web", State: StateWaiting}, Reason: "not seen in the cluster yet"},
			"Service web: not seen in the cluster yet"},
	} {
		if got := c.n.String(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

func TestReasonOfACustomResourceIsItsReadyCondition(t *testing.T) {
	cr := obj("example.com/v1", "Database", "orders", map[string]any{}, map[string]any{"conditions": []any{
		map[string]any{"type": "Ready", "status": "False", "reason": "NotSynced", "message": "no\nupstream"},
	}})
	if got, want := reasonOf(ResourceState{Kind: "Database"}, cr.Object), "Ready False: NotSynced: no upstream"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMain(m *testing.M) {
	// client-go's fake dynamic client does not stream lists (no initial
	// events' bookmark), which informers otherwise wait for; the API
	// server does.
	os.Setenv("KUBE_FEATURE_WatchListClient", "false")
	os.Exit(m.Run())
}

// podObj is pod NAME of app web, created age ago, with status.
func podObj(name string, age time.Duration, st map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "shop", "labels": map[string]any{"app": "web"},
			"creationTimestamp": time.Now().Add(-age).UTC().Format(time.RFC3339)},
		"spec":   map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}},
		"status": st,
	}}
	return u
}

func unschedulable() map[string]any {
	return map[string]any{"phase": "Pending", "conditions": []any{map[string]any{
		"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
		"message": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
	}}}
}

func waitingContainer(phase, reason string) map[string]any {
	return map[string]any{"phase": phase, "containerStatuses": []any{map[string]any{
		"name": "web", "ready": false, "restartCount": int64(4), "state": map[string]any{"waiting": map[string]any{"reason": reason}},
	}}}
}

// The readiness judgement: a resource is failed only when it cannot
// become ready without a change; what the cluster goes on trying (a pod
// no node fits yet, a container restarting until its database is up, a
// rollout past its progress deadline) is in progress, however long it has
// been so, and waited for until the timeout.
func TestReadinessJudgement(t *testing.T) {
	web := map[string]any{"matchLabels": map[string]any{"app": "web"}}
	sts := obj("apps/v1", "StatefulSet", "db", map[string]any{"replicas": int64(1), "selector": web},
		map[string]any{"replicas": int64(1), "readyReplicas": int64(0), "currentReplicas": int64(1)})
	rs := obj("apps/v1", "ReplicaSet", "web-1", map[string]any{"replicas": int64(1), "selector": web},
		map[string]any{"replicas": int64(1), "readyReplicas": int64(0), "availableReplicas": int64(0), "fullyLabeledReplicas": int64(1)})
	deadline := obj("apps/v1", "Deployment", "web", map[string]any{"replicas": int64(1), "selector": web},
		map[string]any{"replicas": int64(1), "updatedReplicas": int64(1), "conditions": []any{
			map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": `ReplicaSet "web-1" has timed out progressing.`},
		}})
	job := obj("batch/v1", "Job", "migrate", map[string]any{}, map[string]any{"failed": int64(7), "startTime": "2026-01-01T00:00:00Z",
		"conditions": []any{map[string]any{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}}})
	running := obj("batch/v1", "Job", "migrate", map[string]any{}, map[string]any{"active": int64(1), "startTime": "2026-01-01T00:00:00Z"})
	done := obj("batch/v1", "Job", "migrate", map[string]any{}, map[string]any{"succeeded": int64(1), "startTime": "2026-01-01T00:00:00Z",
		"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}})
	stalled := obj("example.com/v1", "Database", "orders", map[string]any{}, map[string]any{"conditions": []any{
		map[string]any{"type": "Stalled", "status": "True", "reason": "InvalidSpec", "message": "size: must be positive"}}})
	notReady := obj("example.com/v1", "Database", "orders", map[string]any{}, map[string]any{"conditions": []any{
		map[string]any{"type": "Ready", "status": "False", "reason": "NotSynced", "message": "upstream unreachable"}}})
	for _, c := range []struct {
		name string
		obj  *unstructured.Unstructured
		pods []*unstructured.Unstructured
		want status.Status
	}{
		{"pod unschedulable for a minute", podObj("web-0", time.Minute, unschedulable()), nil, status.InProgressStatus},
		{"pod unschedulable just now", podObj("web-0", time.Second, unschedulable()), nil, status.InProgressStatus},
		{"pod crash-looping", podObj("web-0", time.Minute, waitingContainer("Running", "CrashLoopBackOff")), nil, status.InProgressStatus},
		{"pod pulling its image in vain", podObj("web-0", time.Minute, waitingContainer("Pending", "ImagePullBackOff")), nil, status.InProgressStatus},
		{"StatefulSet whose pod is unschedulable for a minute", sts, []*unstructured.Unstructured{podObj("db-0", time.Minute, unschedulable())}, status.InProgressStatus},
		{"ReplicaSet whose pod crash-loops", rs, []*unstructured.Unstructured{podObj("web-1-x", time.Minute, waitingContainer("Running", "CrashLoopBackOff"))}, status.InProgressStatus},
		{"Deployment past its progress deadline", deadline, nil, status.InProgressStatus},
		{"custom resource not Ready", notReady, nil, status.InProgressStatus},
		{"Job running", running, nil, status.InProgressStatus},
		{"Job complete", done, nil, status.CurrentStatus},
		{"Job failed", job, nil, status.FailedStatus},
		{"custom resource Stalled", stalled, nil, status.FailedStatus},
		{"Deployment available", deployment(2), nil, status.CurrentStatus},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeCluster(t, append([]*unstructured.Unstructured{c.obj}, c.pods...)...)
			w := f.waiter(context.Background(), nil)
			w.mapper.(*meta.DefaultRESTMapper).Add(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Database"}, meta.RESTScopeNamespace)
			reader := &clusterreader.DynamicClusterReader{DynamicClient: f.dyn, Mapper: w.mapper}
			rs, err := newStatusReader(w.mapper).ReadStatusForObject(context.Background(), reader, c.obj)
			if err != nil {
				t.Fatal(err)
			}
			if rs.Status != c.want {
				t.Errorf("%s: %s (%s), want %s", c.name, rs.Status, rs.Message, c.want)
			}
		})
	}
}

// A StatefulSet whose pod no node fits is waited for until the timeout
// (kstatus alone calls it failed after 15s), whose explanation says why.
func TestWaitWaitsForAnUnschedulablePodUntilTheTimeout(t *testing.T) {
	sts := obj("apps/v1", "StatefulSet", "db", map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}},
		map[string]any{"replicas": int64(1), "readyReplicas": int64(0), "currentReplicas": int64(1)})
	pod := podObj("db-0", time.Minute, unschedulable())
	f := newFakeCluster(t, sts, pod)
	var p corev1.Pod
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(pod.Object, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cs.CoreV1().Pods("shop").Create(context.Background(), &p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := f.waiter(context.Background(), nil).wait(object.ObjMetadataSet{idOf(sts)}, 2*time.Second)
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("the wait ended after %s, before its timeout: %v", took, err)
	}
	var we *WaitError
	if !errors.As(err, &we) || we.Timeout != 2*time.Second {
		t.Fatalf("err = %v, want a *WaitError of the timeout", err)
	}
	if got, want := we.Resources[0].String(), "StatefulSet db: 0/1 ready: pod db-0 Pending: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."; got != want {
		t.Errorf("explanation:\n%s\nwant:\n%s", got, want)
	}
}
