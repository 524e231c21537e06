package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bundlesh/bundle/internal/cli"
	"github.com/bundlesh/bundle/internal/testutil"
)

// readinessBundle is a local bundle with one resource of every kind a wait
// must understand: a custom resource with a Ready condition (its CRD in
// crds/; the test plays its controller through the status subresource), a
// Deployment rollout, a StatefulSet, a claim and a Job. With broken=true
// each of them cannot become ready: pods that no node fits, a Job past its
// deadline, a claim of a StorageClass that does not exist.
const readinessBundle = "testdata/readiness"

var databases = schema.GroupVersionResource{Group: "readiness.bundle.test", Version: "v1", Resource: "databases"}

// setReady plays the Database's controller: it sets its Ready condition
// through the status subresource.
func (e *env) setReady(t *testing.T, ns, status, reason, message string) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(e.cfg)
	ctx := context.Background()
	db, err := dc.Resource(databases).Namespace(ns).Get(ctx, "orders", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unstructured.SetNestedSlice(db.Object, []any{map[string]any{"type": "Ready", "status": status, "reason": reason, "message": message,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}, "status", "conditions")
	if _, err := dc.Resource(databases).Namespace(ns).UpdateStatus(ctx, db, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitForDatabase waits until the install has created the Database.
func (e *env) waitForDatabase(t *testing.T, ns string) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(e.cfg)
	eventually(t, 60*time.Second, "the Database created", func() (bool, string) {
		_, err := dc.Resource(databases).Namespace(ns).Get(context.Background(), "orders", metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil, "no Database orders"
	})
}

// lockedBuffer is a bytes.Buffer that a running command writes to while
// the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type result struct {
	code     int
	stderr   string
	returned time.Time
}

// startInProcess runs bundle in the background, its stderr readable as it runs.
func (e *env) startInProcess(args ...string) (<-chan result, *lockedBuffer) {
	errb := &lockedBuffer{}
	done := make(chan result, 1)
	go func() {
		code := cli.Run(context.Background(), append([]string{"bundle"}, args...), strings.NewReader(""), io.Discard, errb)
		done <- result{code, errb.String(), time.Now()}
	}()
	return done, errb
}

// returned waits for the command startInProcess started to return; the
// test stops, saying late, when it has not after timeout.
func returned(t *testing.T, done <-chan result, timeout time.Duration, late string) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(timeout):
		t.Fatal(late)
		return result{}
	}
}

// --wait waits for every kind, says each change of state, and returns as
// soon as the last resource is ready.
func TestWaitEndsPromptlyWhenTheLastResourceIsReady(t *testing.T) {
	e, ns := setupIn(t, "ready")
	done, stderr := e.startInProcess("install", "ready", readinessBundle, "-n", ns, "--create-namespace", "--wait", "--wait-for-jobs", "--timeout", "2m", "--kubeconfig", e.kubeconfig)
	e.waitForDatabase(t, ns)
	// Everything but the Database becomes ready on its own (kwok runs the
	// pods and completes the Job, claims bind).
	eventually(t, 60*time.Second, "every resource but the Database ready", func() (bool, string) {
		out := stderr.String()
		for _, r := range []string{"Deployment web: ready", "StatefulSet db: ready", "PersistentVolumeClaim data: ready", "Job migrate: ready"} {
			if !strings.Contains(out, r) {
				return false, "not yet " + r + " in:\n" + out
			}
		}
		return true, ""
	})
	select {
	case r := <-done:
		t.Fatalf("install returned (exit %d) before the Database was ready: %s", r.code, r.stderr)
	case <-time.After(500 * time.Millisecond):
	}
	readyAt := time.Now()
	e.setReady(t, ns, "True", "Provisioned", "")
	r := returned(t, done, 30*time.Second, "install did not return after the last resource became ready")
	if r.code != 0 {
		t.Fatalf("install: exit %d: %s", r.code, r.stderr)
	}
	took := r.returned.Sub(readyAt)
	t.Logf("--wait returned %s after the last resource became ready", took)
	if took > 2*time.Second {
		t.Errorf("--wait returned %s after the last resource became ready, want under 2s", took)
	}
	for _, want := range []string{
		"Deployment web: ready",
		"Database orders: in progress: waiting for the controller",
		"Database orders: ready",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the progress lacks %q:\n%s", want, r.stderr)
		}
	}
}

// When resources cannot become ready, the error is one line, then one
// line per resource with the reason its status, pods and events give; the
// release is recorded failed, as Helm does.
func TestWaitFailureSaysWhyEachResourceIsNotReady(t *testing.T) {
	e, ns := setupIn(t, "notready")
	done, _ := e.startInProcess("install", "ready", readinessBundle, "-n", ns, "--create-namespace", "--wait", "--wait-for-jobs", "--timeout", "2m",
		"--set", "broken=true", "--kubeconfig", e.kubeconfig)
	e.waitForDatabase(t, ns)
	e.setReady(t, ns, "False", "NotSynced", "upstream unreachable")
	r := returned(t, done, 90*time.Second, "install did not fail when the Job failed")
	if r.code == 0 {
		t.Fatalf("install of a broken bundle succeeded: %s", r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	var errLine string
	var rest []string
	for i, l := range lines {
		if strings.HasPrefix(l, "Error: ") {
			errLine, rest = l, lines[i+1:]
			break
		}
	}
	if !strings.Contains(errLine, "Job migrate failed while waiting for readiness") {
		t.Errorf("error line: %q", errLine)
	}
	explained := strings.Join(rest, "\n")
	for _, want := range []string{
		"  Job migrate: failed: DeadlineExceeded: Job was active longer than specified deadline",
		"  Deployment web: 0/2 available: pod web-",
		"didn't match Pod's node affinity/selector",
		`  PersistentVolumeClaim data: Pending: ProvisioningFailed: storageclass.storage.k8s.io "missing" not found`,
		"  Database orders: Ready False: NotSynced: upstream unreachable",
		"Try: kubectl describe -n " + ns,
	} {
		if !strings.Contains(explained, want) {
			t.Errorf("the explanation lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(explained, "StatefulSet db") {
		t.Errorf("a ready StatefulSet is explained:\n%s", explained)
	}
	if rel := e.lastRevision(t, ns, "ready"); rel.Info.Status != "failed" {
		t.Errorf("release status %s, want failed", rel.Info.Status)
	}
}

// --atomic keeps Helm's meaning when bundle waits: the failed install is
// uninstalled.
func TestAtomicUninstallsWhenTheWaitFails(t *testing.T) {
	e, ns := setupIn(t, "atomic")
	code, _, errs := e.bundle(t, "install", "ready", readinessBundle, "-n", ns, "--create-namespace", "--atomic", "--timeout", "5s")
	if code == 0 {
		t.Fatal("an install whose Database never becomes ready succeeded")
	}
	if !strings.Contains(errs, "has been uninstalled due to rollback-on-failure being set") || !strings.Contains(errs, "  Database orders: Ready Unknown: Provisioning: waiting for the controller") {
		t.Errorf("stderr:\n%s", errs)
	}
	if _, err := e.helmStorage(ns).Last("ready"); err == nil {
		t.Error("the release is still recorded after --atomic")
	}
}

// fired waits until the proxy rule has matched a request, failing the
// test when the command startInProcess started ends first.
func fired(t *testing.T, r *proxyRule, done <-chan result, what string) {
	t.Helper()
	select {
	case <-r.fired:
	case res := <-done:
		t.Fatalf("the command ended before %s: exit %d: %s", what, res.code, res.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("no %s after a minute", what)
	}
}

// fromTheFirstWatch matches every request from the first watch on (the
// wait's), as an API server whose etcd is gone takes requests and
// answers none.
func fromTheFirstWatch() func(*http.Request) bool {
	var on atomic.Bool
	return func(req *http.Request) bool {
		if watchRequest(req) {
			on.Store(true)
		}
		return on.Load()
	}
}

// Faults of the API server while --wait waits (through the proxy in front
// of it): a restart is waited through and the install succeeds, also when
// the API server is gone for longer than the release's lease (its
// renewals fail meanwhile: the lease is unconfirmed, not lost, and renewed
// once the API server is back); an API server gone, or one that takes
// requests and answers none (its etcd lost), ends the command soon after
// --timeout, saying how long the API server was unreachable.
func TestWaitThroughAPIServerFaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const slack = 25 * time.Second // the failure's record, the lease, a loaded machine
	for _, c := range []struct {
		name    string
		timeout time.Duration
		// inject starts the fault once the wait has started; the command
		// ran through p.
		inject func(t *testing.T, p *apiProxy, ns string, done <-chan result) (from time.Time)
		// says is what the error says; "" when the install succeeds.
		says []string
	}{
		{name: "API server restarted", timeout: 2 * time.Minute, inject: func(t *testing.T, p *apiProxy, ns string, done <-chan result) time.Time {
			fired(t, p.rule(releaseRecord, watchRequest, false), done, "the wait's watch")
			e.waitForDatabase(t, ns)
			time.Sleep(time.Second)
			p.cut()
			time.Sleep(4 * time.Second) // down
			p.restart()
			e.setReady(t, ns, "True", "Provisioned", "")
			return time.Now()
		}},
		{name: "API server gone past the lease", timeout: 90 * time.Second, inject: func(t *testing.T, p *apiProxy, ns string, done <-chan result) time.Time {
			fired(t, p.rule(releaseRecord, watchRequest, false), done, "the wait's watch")
			e.waitForDatabase(t, ns)
			time.Sleep(time.Second)
			p.cut()
			time.Sleep(20 * time.Second) // down: longer than the lease's 15s
			p.restart()
			e.setReady(t, ns, "True", "Provisioned", "")
			return time.Now()
		}},
		{name: "API server gone", timeout: 10 * time.Second, inject: func(t *testing.T, p *apiProxy, ns string, done <-chan result) time.Time {
			fired(t, p.rule(releaseRecord, watchRequest, false), done, "the wait's watch")
			p.cut()
			return time.Now()
		}, says: []string{"was unreachable for the last", "connection refused", "Database orders", "Try: kubectl get --raw /readyz"}},
		{name: "requests unanswered (etcd lost)", timeout: 10 * time.Second, inject: func(t *testing.T, p *apiProxy, ns string, done <-chan result) time.Time {
			fired(t, p.rule(releaseRecord, fromTheFirstWatch(), true), done, "the wait's watch")
			return time.Now()
		}, says: []string{"was unreachable for the last", "no answer to GET", "Try: kubectl get --raw /readyz"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ns := e.createNamespace(t, "fault")
			p := newAPIProxy(t, e)
			done, _ := e.startInProcess("install", "ready", readinessBundle, "-n", ns, "--wait", "--timeout", c.timeout.String(), "--kubeconfig", p.kubeconfig)
			from := c.inject(t, p, ns, done)
			r := returned(t, done, c.timeout+time.Minute, "the install still runs a minute after its timeout")
			took := r.returned.Sub(from)
			t.Logf("the install ended %s after the fault: exit %d: %s", took.Round(time.Millisecond), r.code, r.stderr)
			if c.says == nil {
				if r.code != 0 {
					t.Fatalf("the install failed: %s", r.stderr)
				}
				if st := e.lastRevision(t, ns, "ready").Info.Status; st != "deployed" {
					t.Errorf("release ready is %s, want deployed", st)
				}
				return
			}
			if took > c.timeout+slack {
				t.Errorf("the install ended %s after the fault, want within its timeout %s and %s", took.Round(time.Millisecond), c.timeout, slack)
			}
			if r.code == 0 {
				t.Fatal("the install succeeded")
			}
			for _, want := range c.says {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the error does not say %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// lateChart writes chart late: a StatefulSet (a database at its first
// start), a Deployment and a Service, whose pods fit only a node labelled
// label=yes.
func lateChart(t *testing.T, label string) string {
	t.Helper()
	pod := `nodeSelector: {` + label + `: "yes"}
containers: [{name: app, image: nginx, ports: [{containerPort: 80}]}]`
	return testutil.Chart{Name: "late", Templates: map[string]string{
		"web.yaml": testutil.DeploymentYAML("{{ .Release.Name }}", testutil.Replicas("1"), testutil.PodSpec(pod)),
		"db.yaml": testutil.Object("apps/v1", "StatefulSet", "{{ .Release.Name }}-db", `spec:
  replicas: 1
  serviceName: {{ .Release.Name }}
  selector: {matchLabels: {app: {{ .Release.Name }}-db}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}-db}}
    spec:
`+testutil.Indent(pod+"\n", "      ")),
		"service.yaml": testutil.Object("v1", "Service", "{{ .Release.Name }}", `spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{name: http, port: 80, targetPort: 80}]
`),
	}}.Write(t, filepath.Join(t.TempDir(), "late"))
}

// labelANode labels one of the simulated nodes label=yes, and takes the
// label off when the test ends (pods running there stay).
func (e *env) labelANode(t *testing.T, label string) {
	t.Helper()
	ctx := context.Background()
	nodes, err := e.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("no simulated node to label: %v", err)
	}
	name := nodes.Items[0].Name
	patch := func(v string) error {
		_, err := e.cs.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"labels":{"`+label+`":`+v+`}}}`), metav1.PatchOptions{})
		return err
	}
	t.Cleanup(func() { patch("null") })
	if err := patch(`"yes"`); err != nil {
		t.Fatal(err)
	}
}

// touchStatefulSets annotates every StatefulSet in ns.
func (e *env) touchStatefulSets(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	list, err := e.cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		if _, err := e.cs.AppsV1().StatefulSets(ns).Patch(ctx, s.Name, types.MergePatchType, []byte(`{"metadata":{"annotations":{"bundle.test/touched":"yes"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// A pod no node fits for 25s (an autoscaler adding a node, a volume
// provisioned slowly: every database at its first start) is waited for
// until --timeout, as Helm 3 waits: install --wait, install --atomic and a
// blue/green upgrade all succeed once a node fits; none gives up at 15s,
// --atomic uninstalls nothing and blue/green switches to the new colour.
func TestWaitOutlastsAPodUnschedulableFor25s(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := make([]byte, 3)
	rand.Read(b)
	label := "bundle.test/late-" + hex.EncodeToString(b)
	chart := lateChart(t, label)
	ops := []struct {
		name string
		args []string
	}{
		{"install --wait", []string{"install", "app", chart, "--wait"}},
		{"install --atomic", []string{"install", "app", chart, "--atomic"}},
		{"blue/green upgrade", []string{"upgrade", "app", chart, "--strategy", "blue-green"}},
	}
	type running struct {
		ns     string
		done   <-chan result
		stderr *lockedBuffer
	}
	runs := make([]running, len(ops))
	start := time.Now()
	for i, op := range ops {
		ns := e.createNamespace(t, "late")
		done, stderr := e.startInProcess(append(op.args, "-n", ns, "--timeout", "2m", "--kubeconfig", e.kubeconfig)...)
		runs[i] = running{ns, done, stderr}
	}
	// At 20s, the StatefulSets change (as their status does when
	// anything happens to them): their readiness is judged again, past
	// kstatus' 15s.
	time.Sleep(20*time.Second - time.Since(start))
	for _, r := range runs {
		e.touchStatefulSets(t, r.ns)
	}
	time.Sleep(25*time.Second - time.Since(start))
	for i, r := range runs {
		select {
		case res := <-r.done:
			t.Errorf("%s ended after %s, before a node fitted its pods: exit %d: %s", ops[i].name, res.returned.Sub(start).Round(time.Second), res.code, res.stderr)
		default:
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	e.labelANode(t, label)
	fits := time.Now()
	for i, r := range runs {
		res := returned(t, r.done, 90*time.Second, ops[i].name+" still waiting 90s after a node fits its pods")
		t.Logf("%s returned %s after a node fitted", ops[i].name, res.returned.Sub(fits).Round(time.Millisecond))
		if res.code != 0 {
			t.Errorf("%s: exit %d: %s", ops[i].name, res.code, res.stderr)
			continue
		}
		rel := "app"
		if ops[i].name == "blue/green upgrade" {
			rel = "app-blue"
			svc, err := e.cs.CoreV1().Services(r.ns).Get(context.Background(), "app", metav1.GetOptions{})
			if err != nil || svc.Spec.Selector["app"] != "app-blue" {
				t.Errorf("%s: the stable Service app: %v, %v; want it switched to app-blue", ops[i].name, err, svc.Spec.Selector)
			}
		}
		if st := e.lastRevision(t, r.ns, rel).Info.Status; st != "deployed" {
			t.Errorf("%s: release %s is %s, want deployed", ops[i].name, rel, st)
		}
	}
}

// scopedUser makes a ServiceAccount in namespaces[0] with the admin role
// in each of namespaces and nowhere else, and returns a kubeconfig with
// its token.
func (e *env) scopedUser(t *testing.T, namespaces ...string) string {
	t.Helper()
	ctx := context.Background()
	home := namespaces[0]
	if _, err := e.cs.CoreV1().ServiceAccounts(home).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range namespaces {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "deployer-admin"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: home}},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		}
		if _, err := e.cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := e.cs.CoreV1().ServiceAccounts(home).CreateToken(ctx, "deployer", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: e.cfg.Host, CertificateAuthorityData: e.cfg.CAData, CertificateAuthority: e.cfg.CAFile}
	kc.AuthInfos["deployer"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["deployer"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "deployer", Namespace: home}
	kc.CurrentContext = "deployer"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptrTo[T any](v T) *T { return &v }

// A user with rights only in the two namespaces a release's objects are
// in (a claim's objects in the provider's namespace) can --wait for it:
// the wait watches each namespace, not the whole cluster, which the user
// may not.
func TestANamespaceScopedUserWaitsForAReleaseInTwoNamespaces(t *testing.T) {
	t.Parallel()
	e := setup(t)
	app, other := e.createNamespace(t, "scoped"), e.createNamespace(t, "scoped-other")
	kc := e.scopedUser(t, app, other)
	chart := testutil.Chart{Name: "spread", Values: "other: \"\"\n", Templates: map[string]string{
		"web.yaml": testutil.DeploymentYAML("web", testutil.Replicas("1"), testutil.PodSpec("containers: [{name: web, image: nginx}]")),
		"worker.yaml": testutil.DeploymentYAML("worker", testutil.Metadata("namespace: {{ .Values.other }}"), testutil.Replicas("1"),
			testutil.PodSpec("containers: [{name: worker, image: nginx}]")),
	}}.Write(t, filepath.Join(t.TempDir(), "spread"))
	code, _, errs := e.bundle(t, "install", "spread", chart, "-n", app, "--set", "other="+other, "--wait", "--timeout", "2m", "--kubeconfig", kc)
	if code != 0 {
		t.Fatalf("install --wait as a user of namespaces %s and %s: exit %d: %s", app, other, code, errs)
	}
	for _, ns := range []string{app, other} {
		list, err := e.cs.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil || len(list.Items) != 1 || !deploymentAvailable(&list.Items[0]) {
			t.Errorf("namespace %s: Deployments %v, %v; want one available", ns, list, err)
		}
	}
	if st := e.lastRevision(t, app, "spread").Info.Status; st != "deployed" {
		t.Errorf("release spread is %s, want deployed", st)
	}
}
