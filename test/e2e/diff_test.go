package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/bundlesh/bundle/internal/testutil"
)

// bundle diff install|upgrade: what the operation would do, object by
// object, changing nothing in the cluster.

// diffChart writes a chart of a ConfigMap (values.site), a Secret
// (values.password), a Service and a Deployment (values.replicas), with
// nothing derived from the values elsewhere (no checksums), so that one
// value changes one field.
func diffChart(t *testing.T) string {
	t.Helper()
	const name = "{{ .Release.Name }}"
	return testutil.Chart{Name: "shop", Values: "site: Docs\npassword: diff-secret-one\nreplicas: 1\n", Templates: map[string]string{
		"cm.yaml":     testutil.Object("v1", "ConfigMap", name, "data:\n  site: {{ .Values.site | quote }}\n  lang: en\n"),
		"secret.yaml": testutil.Object("v1", "Secret", name, "stringData:\n  password: {{ .Values.password | quote }}\n  user: shop\n"),
		"svc.yaml":    testutil.Object("v1", "Service", name, "spec:\n  selector: {app: {{ .Release.Name }}}\n  ports: [{name: http, port: 80}]\n"),
		"deploy.yaml": testutil.DeploymentYAML(name, testutil.Replicas("{{ .Values.replicas }}"), testutil.PodSpec("containers: [{name: web, image: nginx:1.27}]")),
	}}.Write(t, filepath.Join(t.TempDir(), "shop"))
}

// diffNamespace creates a fresh, empty namespace.
func (e *env) diffNamespace(t *testing.T) string {
	t.Helper()
	ns := e.namespace(t, "diff")
	if _, err := e.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// diffRun runs bundle diff against the test cluster and checks that the
// cluster is byte for byte as it was: the objects of the namespace a
// release owns or could leave (its records, leases, the chart's kinds) with
// their resourceVersions, and the namespaces.
func (e *env) diffRun(t *testing.T, ns string, args ...string) (int, string, string) {
	t.Helper()
	before := e.snapshot(t, ns)
	code, out, errs := e.bundle(t, append(append([]string{"diff"}, args...), "-n", ns, "--kubeconfig", e.kubeconfig)...)
	if after := e.snapshot(t, ns); after != before {
		t.Errorf("bundle diff %s changed the cluster:\nbefore:\n%s\nafter:\n%s", strings.Join(args, " "), before, after)
	}
	return code, out, errs
}

// snapshotKinds are the kinds whose objects snapshot compares: those of
// diffChart, the release records (Secrets) and the release's lease.
var snapshotKinds = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "services"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"},
	{Version: "v1", Resource: "persistentvolumeclaims"},
}

// snapshot is the JSON of every object of snapshotKinds in ns, and the
// namespace's resourceVersion, once two readings a moment apart agree (controllers may still be settling what an install made).
func (e *env) snapshot(t *testing.T, ns string) string {
	t.Helper()
	dyn, err := dynamic.NewForConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read := func() string {
		var b strings.Builder
		for _, gvr := range snapshotKinds {
			list, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range list.Items {
				j, err := json.Marshal(item.Object)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%s %s\n", gvr.Resource, j)
			}
		}
		// The namespace itself (not the cluster's list: other tests,
		// running in parallel, create theirs meanwhile).
		n, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "namespace %s %s %s %v\n", n.Name, n.ResourceVersion, n.Status.Phase, n.Labels)
		return b.String()
	}
	last := read()
	for i := 0; i < 20; i++ {
		time.Sleep(200 * time.Millisecond)
		next := read()
		if next == last {
			return next
		}
		last = next
	}
	t.Fatalf("the objects of namespace %s do not settle", ns)
	return ""
}

// hunkLines matches the line numbers of a hunk of context 0.
var hunkLines = regexp.MustCompile(`@@ -[0-9]+ \+[0-9]+ @@`)

// objectLines are the "+ create ..." lines of bundle diff's output.
func objectLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		for _, p := range []string{"+ create ", "- delete ", "~ change "} {
			if strings.HasPrefix(l, p) {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

func TestDiffInstallListsEveryObjectAsCreate(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := diffChart(t)
	code, out, errs := e.diffRun(t, ns, "install", "web", chart)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := []string{
		"+ create Secret " + ns + "/web",
		"+ create ConfigMap " + ns + "/web",
		"+ create Service " + ns + "/web",
		"+ create Deployment.apps " + ns + "/web",
	}
	if got := objectLines(out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("objects:\n%s\nwant:\n%s\noutput:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	for _, s := range []string{
		"Bundle: + shop 1.0.0 (new)",
		"Objects: 4 to create, 0 to change, 0 to delete, 0 unchanged",
		"+  replicas: 1",
		"+      - image: nginx:1.27",
		// What the API server would store: its defaults too.
		"+        terminationMessagePath: /dev/termination-log",
		"+    app.kubernetes.io/managed-by: Helm",
		"+    meta.helm.sh/release-name: web",
		"  data.password: added (value hidden)",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	// A dry run answers placeholder cluster IPs: not shown.
	for _, s := range []string{"diff-secret-one", "uid:", "resourceVersion", "managedFields", "creationTimestamp", "status:", "clusterIP"} {
		if strings.Contains(out, s) {
			t.Errorf("output holds %q:\n%s", s, out)
		}
	}
	// Nothing was installed: a second diff says the same, and the
	// release does not exist.
	if code, _, _ := e.bundle(t, "status", "web", "-n", ns); code == 0 {
		t.Error("bundle diff install installed the release")
	}

	// -o json: a machine-readable plan.
	code, out, errs = e.diffRun(t, ns, "install", "web", chart, "-o", "json")
	if code != 0 {
		t.Fatalf("-o json: exit %d: %s", code, errs)
	}
	var plan struct {
		Changed bool `json:"changed"`
		Bundle  struct {
			Action string `json:"action"`
		} `json:"bundle"`
		Objects []struct {
			Action, Kind, Name, Diff string
		} `json:"objects"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("-o json: %v:\n%s", err, out)
	}
	if !plan.Changed || plan.Bundle.Action != "create" || len(plan.Objects) != 4 || plan.Objects[3].Kind != "Deployment" || plan.Objects[3].Action != "create" {
		t.Errorf("-o json:\n%s", out)
	}
	if strings.Contains(out, "diff-secret-one") {
		t.Errorf("-o json holds the Secret's value:\n%s", out)
	}
}

func TestDiffUpgradeShowsOnlyTheChangedField(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := diffChart(t)
	e.mustBundle(t, "install", "web", chart, "-n", ns, "--wait", "--timeout", "2m")

	// Nothing to change: exit 0 with --detailed-exitcode.
	code, out, errs := e.diffRun(t, ns, "upgrade", "web", chart, "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("no change: exit %d: %s\n%s", code, errs, out)
	}
	if !strings.Contains(out, "Objects: 0 to create, 0 to change, 0 to delete, 4 unchanged") || len(objectLines(out)) != 0 {
		t.Errorf("no change:\n%s", out)
	}

	// One value: exactly that field, and exit 2.
	code, out, errs = e.diffRun(t, ns, "upgrade", "web", chart, "--set", "replicas=3", "--detailed-exitcode", "--context", "0")
	if code != 2 {
		t.Fatalf("one change: exit %d, want 2: %s\n%s", code, errs, out)
	}
	want := "~ change Deployment.apps " + ns + "/web\n@@ -N +N @@\n-  replicas: 1\n+  replicas: 3\n"
	if !strings.HasSuffix(hunkLines.ReplaceAllString(out, "@@ -N +N @@"), want) || len(objectLines(out)) != 1 {
		t.Errorf("one change: got\n%s\nwant it to end with\n%s", out, want)
	}
	if !strings.Contains(out, "Objects: 0 to create, 1 to change, 0 to delete, 3 unchanged") {
		t.Errorf("one change:\n%s", out)
	}

	// A Secret's change: the key, never the values.
	code, out, errs = e.diffRun(t, ns, "upgrade", "web", chart, "--set", "password=diff-secret-two")
	if code != 0 {
		t.Fatalf("secret: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "~ change Secret "+ns+"/web\n  data.password: changed (value hidden)\n  data.user: unchanged (value hidden)\n") || len(objectLines(out)) != 1 {
		t.Errorf("secret:\n%s", out)
	}
	for _, s := range []string{"diff-secret-one", "diff-secret-two", "ZGlmZi1zZWNyZXQt" /* base64 of diff-secret- */} {
		if strings.Contains(out+errs, s) {
			t.Errorf("the Secret's value %q is printed:\n%s%s", s, out, errs)
		}
	}
	code, out, _ = e.diffRun(t, ns, "upgrade", "web", chart, "--set", "password=diff-secret-two", "-o", "json")
	if code != 0 || strings.Contains(out, "diff-secret") || strings.Contains(out, "ZGlmZi1zZWNyZXQt") || !strings.Contains(out, `"state": "changed"`) {
		t.Errorf("secret, -o json: exit %d:\n%s", code, out)
	}

	// A template removed: its object is deleted.
	smaller := diffChart(t)
	if err := os.Remove(filepath.Join(smaller, "templates", "svc.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, errs = e.diffRun(t, ns, "upgrade", "web", smaller)
	if code != 0 || fmt.Sprint(objectLines(out)) != fmt.Sprint([]string{"- delete Service " + ns + "/web"}) {
		t.Errorf("a template removed: exit %d %s:\n%s", code, errs, out)
	}

	// An error: exit 1, with --detailed-exitcode too.
	code, _, errs = e.diffRun(t, ns, "upgrade", "nothere", chart, "--detailed-exitcode")
	if code != 1 || !strings.Contains(errs, `release "nothere" not found`) {
		t.Errorf("a missing release: exit %d: %s", code, errs)
	}

	// The history is as it was: one revision.
	if h := e.mustBundle(t, "history", "web", "-n", ns); strings.Count(h, "\n") != 2 {
		t.Errorf("history after the diffs:\n%s", h)
	}

	// The snapshot sees what an upgrade changes (so that its sameness
	// above means something).
	before := e.snapshot(t, ns)
	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "site=Team")
	if e.snapshot(t, ns) == before {
		t.Error("the snapshot does not see an upgrade")
	}
}

// A catalog bundle with a requirement: an upgrade without changes changes
// nothing (generated passwords are read back, so their Secrets are
// unchanged; no default the API server fills in shows), and one value
// changes only what it feeds.
func TestDiffUpgradeCatalogBundle(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	e.mustBundle(t, "install", "docs", "stable/mediawiki", "-n", ns)
	code, out, errs := e.diffRun(t, ns, "upgrade", "docs", "stable/mediawiki", "--detailed-exitcode")
	if code != 0 || len(objectLines(out)) != 0 || !strings.Contains(out, "  database: mariadb 1.3.0 (unchanged)") {
		t.Fatalf("no change: exit %d %s\n%s", code, errs, out)
	}
	code, out, errs = e.diffRun(t, ns, "upgrade", "docs", "stable/mediawiki", "--set", "wiki.name=Team docs", "--detailed-exitcode")
	want := []string{"~ change ConfigMap " + ns + "/docs-mediawiki", "~ change Deployment.apps " + ns + "/docs-mediawiki"}
	if code != 2 || fmt.Sprint(objectLines(out)) != fmt.Sprint(want) {
		t.Fatalf("wiki.name: exit %d %s\n%s", code, errs, out)
	}
	for _, s := range []string{"-    $wgSitename = 'My Wiki';\n+    $wgSitename = 'Team docs';\n", "+        checksum/config: "} {
		if !strings.Contains(out, s) {
			t.Errorf("wiki.name: output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "Wiring:") {
		t.Errorf("wiki.name changes no requirement's output, yet a wiring change shows:\n%s", out)
	}
	// The database's port: the wiring changes, and the app that uses it.
	code, out, errs = e.diffRun(t, ns, "upgrade", "docs", "stable/mediawiki", "--set", "database.service.port=3307", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "Wiring:\n  ~ database.port (used by the root): \"3306\" -> \"3307\"\n") {
		t.Fatalf("database.service.port: exit %d %s\n%s", code, errs, out)
	}
	if strings.Count(out, "(used by") != 1 {
		t.Errorf("database.service.port: only the port's wiring changes:\n%s", out)
	}
}

// dataChart writes a chart of one ConfigMap holding values.data's keys.
func dataChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	return testutil.WriteTree(t, dir, map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: keys\nversion: 1.0.0\n",
		"values.yaml": "data: {a: \"1\"}\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}}
data:
{{- range $k, $v := .Values.data }}
  {{ $k }}: {{ $v | quote }}
{{- end }}
`,
	})
}

// bundle diff upgrade shows what the converging upgrade will store: a key
// the helm CLI wrote client-side (manager helm), or an older bundle
// applied as manager bundle, that the new revision leaves out is removed
// (the applier's take-over, done in memory by the diff), and a hand edit
// of a field the release sets is taken back; the upgrade then stores
// exactly that.
func TestDiffUpgradeShowsWhatTheTakeOverRemoves(t *testing.T) {
	for _, by := range []string{"helm", "bundle-apply"} {
		t.Run(by, func(t *testing.T) { diffShowsWhatTheTakeOverRemoves(t, by) })
	}
}

// diffShowsWhatTheTakeOverRemoves is TestDiffUpgradeShowsWhatTheTakeOverRemoves
// of a release installed by: "helm" (the helm CLI), "bundle-apply" (bundle,
// its Apply entry renamed bundle as an older bundle left it).
func diffShowsWhatTheTakeOverRemoves(t *testing.T, by string) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := dataChart(t)
	ctx := context.Background()
	if by == "helm" {
		runHelm(t, helmCLI(t), "install", "keys", chart, "-n", ns, "--kubeconfig", e.kubeconfig, "--set", "data.b=2")
	} else {
		e.mustBundle(t, "install", "keys", chart, "-n", ns, "--set", "data.b=2")
		cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "keys", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cs.CoreV1().ConfigMaps(ns).Patch(ctx, "keys", types.JSONPatchType, renameManager(t, cm, "helm", "bundle", metav1.ManagedFieldsOperationApply), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	patch := []byte(`{"data":{"a":"by-hand"}}`)
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Patch(ctx, "keys", "application/merge-patch+json", patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	// Drift of a release the helm CLI wrote client-side (or an older
	// bundle): the hand edit only (b is the release's own).
	code, out, errs := e.diffRun(t, ns, "drift", "keys", "--detailed-exitcode", "--context", "0")
	if want := "~ change ConfigMap " + ns + "/keys\n@@ -N +N @@\n-  a: by-hand\n+  a: \"1\"\n"; code != 2 || !strings.HasSuffix(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) {
		t.Errorf("drift: exit %d %s: got\n%s\nwant it to end with\n%s", code, errs, out, want)
	}
	code, out, errs = e.diffRun(t, ns, "upgrade", "keys", chart, "--reset-values", "--detailed-exitcode", "--context", "0")
	want := "~ change ConfigMap " + ns + "/keys\n@@ -N +N @@\n-  a: by-hand\n-  b: \"2\"\n+  a: \"1\"\n"
	if code != 2 || !strings.HasSuffix(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) {
		t.Fatalf("exit %d %s: got\n%s\nwant it to end with\n%s", code, errs, out, want)
	}
	e.mustBundle(t, "upgrade", "keys", chart, "-n", ns, "--reset-values")
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "keys", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cm.Data) != "map[a:1]" {
		t.Errorf("after the upgrade the diff announced, data is %v, want map[a:1]", cm.Data)
	}
	if code, out, errs := e.diffRun(t, ns, "upgrade", "keys", chart, "--reset-values", "--detailed-exitcode"); code != 0 {
		t.Errorf("after the upgrade: exit %d %s\n%s", code, errs, out)
	}
}

// hunkLines2 matches a hunk header's line numbers, of any context.
var hunkLines2 = regexp.MustCompile(`@@ -[0-9,]+ \+[0-9,]+ @@`)

// bundle diff rollback: the target revision's objects over the live ones;
// bundle diff uninstall: every object deleted, the claim kept (deleted with
// --delete-data). Neither changes the cluster or the history.
func TestDiffRollbackAndUninstall(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := diffChart(t)
	testutil.WriteTree(t, chart, map[string]string{"templates/pvc.yaml": `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: {{ .Release.Name }}-data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`})
	e.mustBundle(t, "install", "web", chart, "-n", ns)
	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "replicas=3")
	history := e.mustBundle(t, "history", "web", "-n", ns)

	code, out, errs := e.diffRun(t, ns, "rollback", "web", "--detailed-exitcode", "--context", "0")
	want := "~ change Deployment.apps " + ns + "/web\n@@ -N +N @@\n-  replicas: 3\n+  replicas: 1\n"
	if code != 2 || !strings.HasSuffix(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) || len(objectLines(out)) != 1 {
		t.Errorf("rollback: exit %d %s: got\n%s\nwant it to end with\n%s", code, errs, out, want)
	}
	if code, out, errs := e.diffRun(t, ns, "rollback", "web", "2", "--detailed-exitcode"); code != 0 || !strings.Contains(out, "0 to change") {
		t.Errorf("rollback to the revision running: exit %d %s\n%s", code, errs, out)
	}
	if code, _, errs := e.diffRun(t, ns, "rollback", "web", "7"); code != 1 || !strings.Contains(errs, "7") {
		t.Errorf("rollback to a revision that is not there: exit %d %s", code, errs)
	}

	code, out, errs = e.diffRun(t, ns, "uninstall", "web", "--detailed-exitcode")
	wantObjects := []string{"- delete Secret " + ns + "/web", "- delete ConfigMap " + ns + "/web", "- delete Service " + ns + "/web", "- delete Deployment.apps " + ns + "/web"}
	if code != 2 || fmt.Sprint(objectLines(out)) != fmt.Sprint(wantObjects) ||
		!strings.Contains(out, "Bundle: - shop 1.0.0 (dropped)") ||
		!strings.Contains(out, "  keep claim "+ns+"/web-data with its data (--delete-data deletes it)") {
		t.Errorf("uninstall: exit %d %s:\n%s", code, errs, out)
	}
	if strings.Contains(out, "diff-secret") {
		t.Errorf("uninstall shows a Secret's value:\n%s", out)
	}
	code, out, errs = e.diffRun(t, ns, "uninstall", "web", "--delete-data", "-o", "json")
	var p struct {
		Objects []struct{ Action, Kind string }
		Claims  []struct{ Action, Name string }
	}
	if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil {
		t.Fatalf("uninstall --delete-data -o json: exit %d %s %v\n%s", code, errs, err, out)
	}
	if len(p.Objects) != 5 || fmt.Sprint(p.Claims) != "[{delete web-data}]" {
		t.Errorf("uninstall --delete-data: objects %v, claims %v", p.Objects, p.Claims)
	}
	if h := e.mustBundle(t, "history", "web", "-n", ns); h != history {
		t.Errorf("the history changed:\n%s\nwas\n%s", h, history)
	}
}

// bundle diff drift: hand edits of fields the release sets (client-go
// patches as another field manager) and an object deleted by hand show;
// replicas set through the scale subresource (as an autoscaler sets them)
// do not. bundle status counts them; bundle upgrade with the same inputs
// takes them back.
func TestDiffDriftShowsHandEditsUntilUpgrade(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := diffChart(t)
	e.mustBundle(t, "install", "web", chart, "-n", ns)
	if code, out, errs := e.diffRun(t, ns, "drift", "web", "--detailed-exitcode"); code != 0 || !strings.Contains(out, "0 to create, 0 to change, 0 to delete, 4 unchanged") {
		t.Fatalf("no drift after the install: exit %d %s\n%s", code, errs, out)
	}
	if st := e.mustBundle(t, "status", "web", "-n", ns); strings.Contains(st, "DRIFTED") {
		t.Errorf("status after the install:\n%s", st)
	}

	ctx := context.Background()
	hand := metav1.PatchOptions{FieldManager: "e2e-hand"}
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"data":{"site":"Edited"}}`), hand); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:hand"}]}}}}`), hand); err != nil {
		t.Fatal(err)
	}
	if err := e.cs.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{FieldManager: "e2e-autoscaler"}, "scale"); err != nil {
		t.Fatal(err)
	}

	code, out, errs := e.diffRun(t, ns, "drift", "web", "--detailed-exitcode", "--context", "0")
	want := []string{"~ change ConfigMap " + ns + "/web", "+ create Service " + ns + "/web", "~ change Deployment.apps " + ns + "/web"}
	if code != 2 || fmt.Sprint(objectLines(out)) != fmt.Sprint(want) {
		t.Fatalf("drift: exit %d %s\n%s", code, errs, out)
	}
	for _, s := range []string{"-  site: Edited\n+  site: Docs\n", "-      - image: nginx:hand\n+      - image: nginx:1.27\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("drift lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "replicas") {
		t.Errorf("drift shows the replicas the scale subresource set:\n%s", out)
	}
	code, out, errs = e.diffRun(t, ns, "drift", "web", "-o", "json")
	if code != 0 || !strings.Contains(out, `"changed": true`) {
		t.Errorf("drift -o json: exit %d %s\n%s", code, errs, out)
	}
	if st := e.mustBundle(t, "status", "web", "-n", ns); !regexp.MustCompile(`DRIFTED: +3 objects`).MatchString(st) {
		t.Errorf("status after the hand edits:\n%s", st)
	}
	if st := e.mustBundle(t, "status", "web", "-n", ns, "-o", "json"); !strings.Contains(st, `"drifted": 3`) {
		t.Errorf("status -o json after the hand edits:\n%s", st)
	}

	e.mustBundle(t, "upgrade", "web", chart, "-n", ns)
	if code, out, errs := e.diffRun(t, ns, "drift", "web", "--detailed-exitcode"); code != 0 {
		t.Errorf("drift after the upgrade: exit %d %s\n%s", code, errs, out)
	}
	if st := e.mustBundle(t, "status", "web", "-n", ns); strings.Contains(st, "DRIFTED") {
		t.Errorf("status after the upgrade:\n%s", st)
	}
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || cm.Data["site"] != "Docs" {
		t.Errorf("after the upgrade: %v %v", cm.Data, err)
	}
}

// bundle upgrade --diff prints the plan, then upgrades; --confirm without
// a terminal is refused with nothing changed, unless --yes.
func TestUpgradeDiffConfirm(t *testing.T) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := diffChart(t)
	e.mustBundle(t, "install", "web", chart, "-n", ns)
	before := e.snapshot(t, ns)
	code, out, errs := e.bundle(t, "upgrade", "web", chart, "-n", ns, "--set", "replicas=2", "--confirm")
	if code == 0 || !strings.Contains(errs, "stdin is not one") || out != "" {
		t.Errorf("--confirm without a terminal: exit %d %s\n%s", code, errs, out)
	}
	if e.snapshot(t, ns) != before {
		t.Error("--confirm without a terminal changed the cluster")
	}
	out = e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "replicas=2", "--confirm", "--yes", "--diff-context", "0")
	want := "~ change Deployment.apps " + ns + "/web\n@@ -N +N @@\n-  replicas: 1\n+  replicas: 2\n\nRelease \"web\" upgraded"
	if !strings.Contains(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) {
		t.Errorf("--confirm --yes: got\n%s\nwant it to contain\n%s", out, want)
	}
	out = e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "replicas=2", "--diff")
	if !strings.Contains(out, "Objects: 0 to create, 0 to change, 0 to delete, 4 unchanged\n\nRelease \"web\" upgraded") {
		t.Errorf("--diff, nothing to change:\n%s", out)
	}
	if h := e.mustBundle(t, "history", "web", "-n", ns); strings.Count(h, "\n") != 4 {
		t.Errorf("history:\n%s", h)
	}
}

// A release the helm CLI installed, of the chart helm create makes, with a
// pod annotation: helm 3 client-side (manager helm, operation Update),
// helm 4 server-side (manager helm, operation Apply). helm 3's entries own
// the fields the API server defaulted too, yet with either bundle status,
// diff drift and diff upgrade with the same inputs show nothing (the
// take-over hands those fields to the apply, which removes them, and the
// server fills them in again); diff upgrade with other values (the
// issue's --set replicaCount=1, the default) shows the annotation
// removed, and only it; a real upgrade then changes nothing. A hand
// edit of a field the release sets shows as drift until the upgrade takes
// it back; a hand edit of a defaulted field the release never sets never
// shows, and the upgrade keeps it.
func TestDiffOfAReleaseTheHelmCLIInstalledShowsOnlyRealChanges(t *testing.T) {
	for _, cli := range []string{"helm3", "helm4"} {
		t.Run(cli, func(t *testing.T) {
			helm := helmCLI(t)
			if cli == "helm4" {
				helm = testutil.Helm4CLI(t)
			}
			diffOfAReleaseTheHelmCLIInstalled(t, helm)
		})
	}
}

// diffOfAReleaseTheHelmCLIInstalled is
// TestDiffOfAReleaseTheHelmCLIInstalledShowsOnlyRealChanges with the helm
// CLI helm.
func diffOfAReleaseTheHelmCLIInstalled(t *testing.T, helm string) {
	e := setup(t)
	ns := e.diffNamespace(t)
	chart := filepath.Join(t.TempDir(), "web")
	runHelm(t, helm, "create", chart)
	set := []string{"--set", "podAnnotations.foo=bar"}
	runHelm(t, helm, append([]string{"install", "web", chart, "-n", ns, "--kubeconfig", e.kubeconfig}, set...)...)
	ctx := context.Background()
	nothing := func(when string) {
		t.Helper()
		if st := e.mustBundle(t, "status", "web", "-n", ns); strings.Contains(st, "DRIFTED") {
			t.Errorf("%s: status:\n%s", when, st)
		}
		if code, out, errs := e.diffRun(t, ns, "drift", "web", "--detailed-exitcode"); code != 0 || !strings.Contains(out, "0 to create, 0 to change, 0 to delete, 3 unchanged") {
			t.Errorf("%s: drift: exit %d %s\n%s", when, code, errs, out)
		}
		if code, out, errs := e.diffRun(t, ns, append([]string{"upgrade", "web", chart, "--detailed-exitcode"}, set...)...); code != 0 || !strings.Contains(out, "0 to create, 0 to change, 0 to delete, 3 unchanged") {
			t.Errorf("%s: diff upgrade with the same inputs: exit %d %s\n%s", when, code, errs, out)
		}
	}
	nothing("after helm install")
	code, out, errs := e.diffRun(t, ns, "upgrade", "web", chart, "--set", "replicaCount=1", "--detailed-exitcode", "--context", "0")
	if want := "~ change Deployment.apps " + ns + "/web\n@@ -N +N @@\n-      annotations:\n-        foo: bar\n"; code != 2 || !strings.HasSuffix(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) || len(objectLines(out)) != 1 {
		t.Errorf("diff upgrade without the annotation: exit %d %s: got\n%s\nwant it to end with\n%s", code, errs, out, want)
	}

	svc, err := e.cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hand := metav1.PatchOptions{FieldManager: "e2e-hand"}
	patch := []byte(`{"spec":{"progressDeadlineSeconds":300,"template":{"spec":{"containers":[{"name":"web","image":"nginx:hand","terminationMessagePolicy":"FallbackToLogsOnError"}]}}}}`)
	if _, err := e.cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, patch, hand); err != nil {
		t.Fatal(err)
	}
	code, out, errs = e.diffRun(t, ns, "drift", "web", "--detailed-exitcode", "--context", "0")
	if want := "~ change Deployment.apps " + ns + "/web\n@@ -N +N @@\n-      - image: nginx:hand\n+      - image: nginx:1.16.0\n"; code != 2 || !strings.HasSuffix(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) || len(objectLines(out)) != 1 {
		t.Errorf("drift after the hand edits: exit %d %s: got\n%s\nwant it to end with\n%s", code, errs, out, want)
	}
	if st := e.mustBundle(t, "status", "web", "-n", ns); !regexp.MustCompile(`DRIFTED: +1 object `).MatchString(st) {
		t.Errorf("status after the hand edits:\n%s", st)
	}
	code, out, errs = e.diffRun(t, ns, append([]string{"upgrade", "web", chart, "--detailed-exitcode", "--context", "0"}, set...)...)
	if want := "~ change Deployment.apps " + ns + "/web\n@@ -N +N @@\n-      - image: nginx:hand\n+      - image: nginx:1.16.0\n"; code != 2 || !strings.HasSuffix(hunkLines2.ReplaceAllString(out, "@@ -N +N @@"), want) || len(objectLines(out)) != 1 {
		t.Errorf("diff upgrade after the hand edits: exit %d %s: got\n%s\nwant it to end with\n%s", code, errs, out, want)
	}

	e.mustBundle(t, append([]string{"upgrade", "web", chart, "-n", ns}, set...)...)
	d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if got := fmt.Sprint(c.Image, " ", c.TerminationMessagePolicy, " ", *d.Spec.ProgressDeadlineSeconds, " ", *d.Spec.RevisionHistoryLimit, " ", c.LivenessProbe.PeriodSeconds); got != "nginx:1.16.0 FallbackToLogsOnError 300 10 10" {
		t.Errorf("after the upgrade: image, terminationMessagePolicy, progressDeadlineSeconds, revisionHistoryLimit, the probe's periodSeconds: %s, want nginx:1.16.0 FallbackToLogsOnError 300 10 10", got)
	}
	after, err := e.cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.Spec, svc.Spec) {
		t.Errorf("the upgrade changed the Service's spec:\n%+v\nwas\n%+v", after.Spec, svc.Spec)
	}
	nothing("after bundle upgrade")
}
