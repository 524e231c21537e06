package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
)

// Converging apply: after an install, upgrade or rollback that failed, was
// interrupted or cut off at any point, the plain next command leaves the
// live objects exactly as its revision says: fields and objects the
// stopped operation added are gone. Releases installed by the helm CLI
// (or by bundle before it applied server-side) upgrade as cleanly.

// convergeChart writes a chart of a ConfigMap (data from values.data), a
// ConfigMap per values.extras, and a Deployment with values.env and
// values.nodeSelector.
func convergeChart(t *testing.T) string {
	t.Helper()
	return testutil.Chart{Name: "conv", Values: "data: {color: blue}\nextras: []\nenv: {}\nnodeSelector: {}\n", Templates: map[string]string{
		"cm.yaml": testutil.Object("v1", "ConfigMap", "{{ .Release.Name }}", "data: {{ toJson .Values.data }}\n") + `{{- range .Values.extras }}
---
` + testutil.Object("v1", "ConfigMap", "{{ $.Release.Name }}-{{ . }}", "data: {extra: {{ . | quote }}}\n") + `{{- end }}
`,
		"deploy.yaml": testutil.DeploymentYAML("{{ .Release.Name }}", testutil.Replicas("1"), testutil.PodSpec(`{{- with .Values.nodeSelector }}
nodeSelector: {{ toJson . }}
{{- end }}
containers:
- name: web
  image: nginx
  {{- with .Values.env }}
  env:
  {{- range $k, $v := . }}
  - {name: {{ $k }}, value: {{ $v | quote }}}
  {{- end }}
  {{- end }}
`)),
	}}.Write(t, filepath.Join(t.TempDir(), "conv"))
}

// The values of the three revisions the tests move between. stopped is
// what the operation that fails or is stopped deploys: a changed and an
// added ConfigMap key, two more ConfigMaps, an added env var and a
// nodeSelector no node has (so that a wait never ends). next is what the
// plain next command deploys.
var (
	firstValues   = map[string]any{"data": map[string]any{"color": "blue"}, "env": map[string]any{"A": "1"}}
	stoppedValues = map[string]any{"data": map[string]any{"color": "red", "added": "yes"}, "extras": []any{"x", "y"},
		"env": map[string]any{"A": "1", "B": "2"}, "nodeSelector": map[string]any{"node": "nowhere"}}
	nextValues = map[string]any{"data": map[string]any{"color": "green"}, "env": map[string]any{"C": "3"}}
)

func valuesFile(t *testing.T, vals map[string]any) string {
	t.Helper()
	b, err := yaml.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// converged checks that the release's last revision is deployed and that
// the live objects are exactly its manifest: each object equals what the
// API server makes of a fresh create of it (a server-side dry run, which
// defaults it as the live one was), but for what controllers add; and no
// object of another revision is left unless the last one has it.
func (e *env) converged(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	hist, err := e.helmStorage(ns).History(name)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	last := hist[len(hist)-1]
	if last.Info.Status != rcommon.StatusDeployed {
		t.Errorf("revision %d is %s, want deployed: %s", last.Version, last.Info.Status, last.Info.Description)
	}
	dyn := e.dynamic(t)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(e.cs.Discovery()))
	target := map[string]bool{}
	for _, obj := range manifestObjects(t, last.Manifest) {
		target[obj.GetKind()+"/"+obj.GetName()] = true
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		ri := dyn.Resource(m.Resource).Namespace(ns)
		live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
			continue
		}
		// Helm's marks, as it applies them.
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["app.kubernetes.io/managed-by"] = "Helm"
		obj.SetLabels(labels)
		obj.SetAnnotations(map[string]string{"meta.helm.sh/release-name": name, "meta.helm.sh/release-namespace": ns})
		obj.SetNamespace(ns)
		obj.SetName("")
		obj.SetGenerateName(live.GetName() + "-")
		fresh, err := ri.Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatalf("%s %s: a dry-run create: %v", obj.GetKind(), live.GetName(), err)
		}
		if diff := objectDiff(fresh, live); diff != "" {
			t.Errorf("%s %s is not exactly revision %d: %s", obj.GetKind(), live.GetName(), last.Version, diff)
		}
	}
	for _, rel := range hist[:len(hist)-1] {
		for _, obj := range manifestObjects(t, rel.Manifest) {
			if target[obj.GetKind()+"/"+obj.GetName()] {
				continue
			}
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Fatal(err)
			}
			live, err := dyn.Resource(m.Resource).Namespace(ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				t.Error(err)
			case live.GetDeletionTimestamp() == nil:
				target[obj.GetKind()+"/"+obj.GetName()] = true // said once
				t.Errorf("%s %s of revision %d is left, though revision %d leaves it out", obj.GetKind(), obj.GetName(), rel.Version, last.Version)
			}
		}
	}
}

// objectDiff compares a live object with a fresh one: labels, the
// annotations but those controllers add, and everything outside metadata
// and status.
func objectDiff(fresh, live *unstructured.Unstructured) string {
	var diffs []string
	if !reflect.DeepEqual(fresh.GetLabels(), live.GetLabels()) {
		diffs = append(diffs, fmt.Sprintf("labels %v, want %v", live.GetLabels(), fresh.GetLabels()))
	}
	ann := map[string]string{}
	for k, v := range live.GetAnnotations() {
		if !strings.HasPrefix(k, "deployment.kubernetes.io/") {
			ann[k] = v
		}
	}
	if want := fresh.GetAnnotations(); !reflect.DeepEqual(want, ann) && !(len(want) == 0 && len(ann) == 0) {
		diffs = append(diffs, fmt.Sprintf("annotations %v, want %v", ann, want))
	}
	keys := map[string]bool{}
	for k := range fresh.Object {
		keys[k] = true
	}
	for k := range live.Object {
		keys[k] = true
	}
	for k := range keys {
		if k == "metadata" || k == "status" {
			continue
		}
		if !reflect.DeepEqual(fresh.Object[k], live.Object[k]) {
			a, _ := yaml.Marshal(live.Object[k])
			b, _ := yaml.Marshal(fresh.Object[k])
			diffs = append(diffs, fmt.Sprintf("%s is\n%swant\n%s", k, a, b))
		}
	}
	return strings.Join(diffs, "; ")
}

// manifestObjects reads the objects of a release manifest.
func manifestObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetKind()+out[i].GetName() < out[j].GetKind()+out[j].GetName() })
	return out
}

// managers lists an object's field managers as "MANAGER OPERATION", the
// status subresource's left out.
func managers(obj metav1.Object) []string {
	var out []string
	for _, m := range obj.GetManagedFields() {
		if m.Subresource == "" {
			out = append(out, m.Manager+" "+string(m.Operation))
		}
	}
	sort.Strings(out)
	return out
}

// A fault the converging tests inject into a command.
type fault struct {
	name string
	// args are added to the command (--wait, --timeout).
	args []string
	// inject starts the command (start) and runs while it runs: it
	// returns when the command has ended. p is the proxy the command
	// talks through. The proxy's rules are set before the command starts:
	// a fast command may be past the point a late rule waits for.
	inject func(t *testing.T, p *apiProxy, start func() *process) *process
	// proxied: the recovery talks through the (restarted) proxy too.
	proxied bool
	// applied: the stopped command applied the ConfigMaps (the fault
	// came after them).
	applied bool
}

var waitLong = []string{"--wait", "--timeout", "5m"}

// endsSoon waits until the command has ended, at most 30s.
func endsSoon(t *testing.T, proc *process) {
	t.Helper()
	select {
	case <-proc.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the command runs on 30s after the fault")
	}
}

// signalAt sends sig when the command sends a request the rule (after the
// revision's record is stored) matches, holding it if hold.
func signalAt(sig syscall.Signal, match func(*http.Request) bool, hold bool) func(*testing.T, *apiProxy, func() *process) *process {
	return func(t *testing.T, p *apiProxy, start func() *process) *process {
		r := p.rule(releaseRecord, match, hold)
		proc := start()
		r.waitFired(t, "the request to interrupt at", proc)
		proc.cmd.Process.Signal(sig)
		endsSoon(t, proc)
		r.free()
		return proc
	}
}

var faults = []fault{
	{name: "fails waiting", args: []string{"--wait", "--timeout", "2s"}, applied: true, inject: func(t *testing.T, _ *apiProxy, start func() *process) *process {
		proc := start()
		endsSoon(t, proc)
		if proc.err == nil {
			t.Fatal("the command succeeded; want its wait to fail")
		}
		return proc
	}},
	{name: "SIGINT before apply", args: waitLong, inject: signalAt(syscall.SIGINT, objectRequest("configmaps", "deployments"), true)},
	{name: "SIGINT mid-apply", args: waitLong, applied: true, inject: signalAt(syscall.SIGINT, objectRequest("deployments"), true)},
	{name: "SIGINT while waiting", args: waitLong, applied: true, inject: signalAt(syscall.SIGINT, watchRequest, false)},
	{name: "SIGKILL mid-apply", args: waitLong, applied: true, inject: signalAt(syscall.SIGKILL, objectRequest("deployments"), true)},
	{name: "API server lost mid-apply", args: waitLong, proxied: true, applied: true, inject: func(t *testing.T, p *apiProxy, start func() *process) *process {
		r := p.rule(releaseRecord, objectRequest("deployments"), true)
		proc := start()
		r.waitFired(t, "the Deployment's apply", proc)
		p.cut()
		endsSoon(t, proc)
		if proc.err == nil {
			t.Fatal("the command succeeded without the API server")
		}
		r.free()
		p.restart()
		return proc
	}},
}

// After an install, upgrade or rollback failed, was interrupted (SIGINT)
// or killed (SIGKILL) at any point, or lost the API server half-way, the
// plain next command succeeds and the live objects are exactly its
// revision: the ConfigMap key, the env var, the nodeSelector and the two
// ConfigMaps the stopped revision added are gone.
func TestTheNextCommandConvergesAfterAFault(t *testing.T) {
	t.Parallel()
	e := setup(t)
	chart := convergeChart(t)
	first, stopped, next := valuesFile(t, firstValues), valuesFile(t, stoppedValues), valuesFile(t, nextValues)
	bundleBinary(t) // built before the clocks start
	ops := []struct {
		name    string
		prepare [][]string // commands before the one that fails
		faulty  []string   // the command that fails or is stopped
		next    []string   // the plain next command
	}{
		{name: "install",
			faulty: []string{"install", "web", chart, "-f", stopped},
			next:   []string{"install", "web", chart, "-f", next}},
		{name: "upgrade",
			prepare: [][]string{{"install", "web", chart, "-f", first}},
			faulty:  []string{"upgrade", "web", chart, "-f", stopped},
			next:    []string{"upgrade", "web", chart, "-f", next}},
		{name: "rollback",
			prepare: [][]string{{"install", "web", chart, "-f", stopped}, {"upgrade", "web", chart, "-f", next}},
			faulty:  []string{"rollback", "web", "1"},
			next:    []string{"rollback", "web"}},
	}
	for _, op := range ops {
		for _, f := range faults {
			t.Run(op.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				started := time.Now()
				ns := e.createNamespace(t, "conv")
				for _, cmd := range op.prepare {
					e.mustBundle(t, append(cmd, "-n", ns)...)
				}
				p := newAPIProxy(t, e)
				proc := f.inject(t, p, func() *process {
					return startBinaryWith(t, p.kubeconfig, append(append(append([]string{}, op.faulty...), "-n", ns), f.args...)...)
				})
				<-proc.done
				if proc.err == nil {
					t.Fatalf("the faulty command succeeded: %s", proc.stderr.String())
				}
				_, err := e.cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "web-x", metav1.GetOptions{})
				if f.applied != (err == nil) {
					t.Fatalf("after the fault, ConfigMap web-x: %v; want it applied: %v", err, f.applied)
				}
				kc := e.kubeconfig
				if f.proxied {
					kc = p.kubeconfig
				}
				recovering := time.Now()
				code, _, errs := e.bundle(t, append(append([]string{}, op.next...), "-n", ns, "--wait", "--timeout", "60s", "--kubeconfig", kc)...)
				if code != 0 {
					t.Fatalf("the next command: exit %d: %s\n(the faulty one said: %s)", code, errs, proc.stderr.String())
				}
				e.converged(t, ns, "web")
				if got := configMapData(t, e, ns, "web"); !reflect.DeepEqual(got, map[string]string{"color": "green"}) {
					t.Errorf("ConfigMap web: %v, want the next revision's", got)
				}
				t.Logf("%s in all, the next command %s", time.Since(started).Round(time.Millisecond), time.Since(recovering).Round(time.Millisecond))
			})
		}
	}
}

func configMapData(t *testing.T, e *env, ns, name string) map[string]string {
	t.Helper()
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data
}

// webVersions writes two versions of a chart: 2.0.0 drops a label, an
// env var, a ConfigMap key and the nodeSelector of 1.0.0 and adds others.
func webVersions(t *testing.T) (v1, v2 string) {
	t.Helper()
	write := func(version, label, key, env, nodeSelector string) string {
		return testutil.Chart{Name: "web", Version: version, Templates: map[string]string{
			"cm.yaml": testutil.Object("v1", "ConfigMap", "web", `data: {color: blue, `+key+`: "on"}`+"\n"),
			"deploy.yaml": testutil.DeploymentYAML("web", testutil.Metadata(`labels: {`+label+`: "yes"}`), testutil.Replicas("1"),
				testutil.PodSpec(nodeSelector+`containers:
- name: web
  image: nginx
  env: [{name: `+env+`, value: "1"}]`)),
		}}.Write(t, filepath.Join(t.TempDir(), "web"))
	}
	return write("1.0.0", "old", "legacy", "OLD", "nodeSelector: {disk: ssd}\n"),
		write("2.0.0", "new", "modern", "NEW", "")
}

// A release the helm CLI installed (or bundle before it applied
// server-side, whose client-side writes Helm's kube client named after the
// binary: "bundle", or bundle before it applied as helm, server-side as
// "bundle") upgrades to exactly the new chart version: what the version drops is gone, bundle owns
// every field it applies (server-side, as manager helm: Apply), the earlier manager none. A
// hand edit of a field bundle applies is undone by the next upgrade; a
// field added by hand, which no revision has, is kept (as Helm's
// three-way merge and kubectl apply keep it), but not by --force, which
// replaces objects as Helm's does.
func TestAReleaseTheHelmCLIInstalledUpgradesToExactlyTheNewVersion(t *testing.T) {
	t.Parallel()
	helm := helmCLI(t)
	e := setup(t)
	v1, v2 := webVersions(t)
	for _, tt := range []struct {
		name, manager string
		op            metav1.ManagedFieldsOperationType
	}{
		{"helm", "helm", metav1.ManagedFieldsOperationUpdate},          // the helm CLI
		{"bundle", "bundle", metav1.ManagedFieldsOperationUpdate},      // bundle before it applied server-side
		{"bundle-apply", "bundle", metav1.ManagedFieldsOperationApply}, // bundle before it applied as helm
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ns := e.namespace(t, "from-"+tt.name)
			op := tt.op
			if op == metav1.ManagedFieldsOperationUpdate {
				runHelm(t, helm, "install", "web", v1, "-n", ns, "--create-namespace", "--kubeconfig", e.kubeconfig)
			} else {
				e.mustBundle(t, "install", "web", v1, "-n", ns, "--create-namespace")
			}
			if tt.manager != "helm" {
				// As the objects of an older bundle: renamed in place.
				d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.JSONPatchType, renameManager(t, d, "helm", tt.manager, op), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
				c, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.cs.CoreV1().ConfigMaps(ns).Patch(ctx, "web", types.JSONPatchType, renameManager(t, c, "helm", tt.manager, op), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			dep, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := managers(dep); !reflect.DeepEqual(got, []string{tt.manager + " " + string(op)}) {
				t.Fatalf("the Deployment is written as %v, want %s %s", got, tt.manager, op)
			}

			e.mustBundle(t, "upgrade", "web", v2, "-n", ns)
			e.converged(t, ns, "web")
			dep, err = e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range []metav1.Object{dep, cm} {
				if got := managers(obj); !reflect.DeepEqual(got, []string{"helm Apply"}) {
					t.Errorf("%s's field managers: %v, want only helm Apply", obj.GetName(), got)
				}
			}
			fields := string(dep.GetManagedFields()[0].FieldsV1.Raw)
			for _, want := range []string{`"f:new"`, `"k:{\"name\":\"NEW\"}"`} {
				if !strings.Contains(fields, want) {
					t.Errorf("bundle does not own %s of the Deployment: %s", want, fields)
				}
			}

			// Hand edits, client-side as kubectl edit sends them (read
			// again when the controller wrote the status meanwhile).
			err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				dep, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
				if err != nil {
					return err
				}
				dep.Spec.Template.Spec.Containers[0].Env[0].Value = "by hand"
				dep.Labels["hand"] = "made"
				_, err = e.cs.AppsV1().Deployments(ns).Update(ctx, dep, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			cm.Data["color"] = "by hand"
			if _, err := e.cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
				t.Fatal(err)
			}
			e.mustBundle(t, "upgrade", "web", v2, "-n", ns)
			dep, err = e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if env := dep.Spec.Template.Spec.Containers[0].Env; len(env) != 1 || env[0].Value != "1" {
				t.Errorf("the env var edited by hand is %v after the upgrade, want NEW=1", env)
			}
			if dep.Labels["hand"] != "made" {
				t.Errorf("the label added by hand is gone: %v", dep.Labels)
			}
			if got := configMapData(t, e, ns, "web"); !reflect.DeepEqual(got, map[string]string{"color": "blue", "modern": "on"}) {
				t.Errorf("ConfigMap web after the upgrade: %v, want color blue, modern on", got)
			}

			// --force replaces, as Helm's: the label added by hand goes
			// too. The next upgrade applies again, as bundle alone.
			e.mustBundle(t, "upgrade", "web", v2, "-n", ns, "--force")
			e.converged(t, ns, "web")
			e.mustBundle(t, "upgrade", "web", v2, "-n", ns)
			e.converged(t, ns, "web")
			dep, err = e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := managers(dep); !reflect.DeepEqual(got, []string{"helm Apply"}) {
				t.Errorf("after --force and an upgrade the Deployment's field managers are %v, want only helm Apply", got)
			}
		})
	}
}

// renameManager is a JSON patch that renames an object's field manager
// from to to, in its entry of operation op.
func renameManager(t *testing.T, obj metav1.Object, from, to string, op metav1.ManagedFieldsOperationType) []byte {
	t.Helper()
	for i, m := range obj.GetManagedFields() {
		if m.Manager == from && m.Operation == op {
			return []byte(fmt.Sprintf(`[{"op": "test", "path": "/metadata/managedFields/%d/manager", "value": %q}, {"op": "replace", "path": "/metadata/managedFields/%d/manager", "value": %q}]`, i, from, i, to))
		}
	}
	t.Fatalf("%s has no field manager %s", obj.GetName(), from)
	return nil
}

// A chart with an object server-side apply refuses (two env vars of one
// name, which the API server only warns of on client-side writes)
// installs, upgrades and validates as with helm: that object is written as
// Helm writes it.
func TestAnObjectServerSideApplyRefusesIsWrittenAsHelmWritesIt(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ns := e.namespace(t, "dup")
	chart := testutil.Chart{Name: "dup", Values: "image: nginx:1.26\n", Templates: map[string]string{
		"deploy.yaml": testutil.DeploymentYAML("dup", testutil.PodSpec(`containers:
- name: web
  image: {{ .Values.image }}
  env: [{name: A, value: "1"}, {name: A, value: "2"}]
`)),
	}}.Write(t, filepath.Join(t.TempDir(), "dup"))
	e.mustBundle(t, "install", "dup", chart, "-n", ns, "--create-namespace")
	e.mustBundle(t, "upgrade", "dup", chart, "-n", ns, "--set", "image=nginx:1.27")
	dep, err := e.cs.AppsV1().Deployments(ns).Get(context.Background(), "dup", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := dep.Spec.Template.Spec.Containers[0]; c.Image != "nginx:1.27" || len(c.Env) != 2 {
		t.Errorf("after the upgrade: image %s, env %v", c.Image, c.Env)
	}
}
