package diff

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// obj parses one object from YAML.
func obj(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// deployment is Deployment web as the API server returns it: with the
// fields a diff drops (uid, resourceVersion, managedFields, status, …).
var deployment = testutil.DeploymentYAML("web", testutil.App(""),
	testutil.Metadata(`namespace: shop
uid: 1234
resourceVersion: "42"
generation: 3
creationTimestamp: "2026-01-01T00:00:00Z"
managedFields: [{manager: helm, operation: Update}]
annotations:
  kubectl.kubernetes.io/last-applied-configuration: '{"secret": "x"}'`),
	testutil.Replicas("1"),
	testutil.PodSpec(`containers:
- name: web
  image: nginx:1.27
  terminationMessagePath: /dev/termination-log`)) + "status:\n  availableReplicas: 1\n"

func TestCompute(t *testing.T) {
	scaled := strings.Replace(deployment, "replicas: 1", "replicas: 3", 1)
	noise := strings.NewReplacer(`resourceVersion: "42"`, `resourceVersion: "43"`, "generation: 3", "generation: 4", "availableReplicas: 1", "availableReplicas: 0").Replace(deployment)
	service := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n"
	tests := []struct {
		name          string
		before, after []string
		want          []Action
		diff          []string // substrings of the first object's diff
		noDiff        []string // not in it
	}{
		{"install: all created", nil, []string{deployment, service}, []Action{Create, Create}, []string{"+kind: Deployment", "+      - image: nginx:1.27"}, []string{"uid", "resourceVersion", "managedFields", "status", "last-applied", "generation", "creationTimestamp"}},
		{"unchanged", []string{deployment}, []string{deployment}, []Action{Unchanged}, nil, nil},
		{"only dropped fields differ", []string{deployment}, []string{noise}, []Action{Unchanged}, nil, nil},
		{"one field", []string{deployment}, []string{scaled}, []Action{Change}, []string{"-  replicas: 1\n+  replicas: 3\n"}, []string{"image", "generation"}},
		{"deleted", []string{deployment, service}, []string{service}, []Action{Unchanged, Delete}, []string{"-kind: Deployment"}, nil},
		{"another API version is the same object", []string{strings.Replace(service, "v1", "v1", 1)}, []string{service}, []Action{Unchanged}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after []*unstructured.Unstructured
			for _, s := range tt.before {
				before = append(before, obj(t, s))
			}
			for _, s := range tt.after {
				after = append(after, obj(t, s))
			}
			p, err := Compute(before, after, Options{Context: 1})
			if err != nil {
				t.Fatal(err)
			}
			var got []Action
			for _, o := range p.Objects {
				got = append(got, o.Action)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("actions %v, want %v", got, tt.want)
			}
			// The Deployment's diff: a Service is created before it.
			first := p.Objects[0]
			for _, o := range p.Objects {
				if o.Kind == "Deployment" {
					first = o
				}
			}
			d := first.Diff
			for _, s := range tt.diff {
				if !strings.Contains(d, s) {
					t.Errorf("diff lacks %q:\n%s", s, d)
				}
			}
			for _, s := range tt.noDiff {
				if strings.Contains(d, s) {
					t.Errorf("diff has %q:\n%s", s, d)
				}
			}
			if first.Action == Unchanged && d != "" {
				t.Errorf("unchanged with a diff:\n%s", d)
			}
		})
	}
}

func TestInstallOrder(t *testing.T) {
	in := []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n",
	}
	var after []*unstructured.Unstructured
	for _, s := range in {
		after = append(after, obj(t, s))
	}
	before := []*unstructured.Unstructured{obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: gone}\n")}
	p, err := Compute(before, after, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range p.Objects {
		got = append(got, o.Kind+"/"+o.Name)
	}
	want := "[Namespace/ns ConfigMap/c Service/gone Deployment/b Deployment/a Widget/w]"
	if fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestContext(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\n"
	b := "a\nb\nc\nD\ne\nf\ng\n"
	for n, want := range map[int]string{
		0: "@@ -4 +4 @@\n-d\n+D\n",
		1: "@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n",
		3: "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n",
	} {
		got, err := Unified(a, b, n)
		if err != nil || got != want {
			t.Errorf("context %d: %q, %v; want %q", n, got, err, want)
		}
	}
	if got, _ := Unified("x\n", "x\n", 3); got != "" {
		t.Errorf("equal texts: %q", got)
	}
	if got, _ := Unified("", "x", 3); got != "@@ -0,0 +1 @@\n+x\n" {
		t.Errorf("from nothing: %q", got)
	}
}

// secret bytes a test puts in Secrets: none may appear in any output.
var secretBytes = []string{"hunter2", "s3cr3t-old", "s3cr3t-new", "topsecret", "same-value", "plain-string"}

func secret(name string, data map[string]string, stringData map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"password\":\"%s\"}}'\ntype: Opaque\n", name, base64.StdEncoding.EncodeToString([]byte("hunter2")))
	if len(data) > 0 {
		b.WriteString("data:\n")
		for k, v := range data {
			fmt.Fprintf(&b, "  %s: %s\n", k, base64.StdEncoding.EncodeToString([]byte(v)))
		}
	}
	if len(stringData) > 0 {
		b.WriteString("stringData:\n")
		for k, v := range stringData {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	return b.String()
}

func TestSecretsMasked(t *testing.T) {
	before := []*unstructured.Unstructured{
		obj(t, secret("db", map[string]string{"password": "s3cr3t-old", "user": "same-value", "old": "topsecret"}, nil)),
		obj(t, secret("gone", map[string]string{"token": "hunter2"}, nil)),
	}
	after := []*unstructured.Unstructured{
		obj(t, secret("db", map[string]string{"password": "s3cr3t-new", "user": "same-value"}, map[string]string{"extra": "plain-string"})),
		obj(t, secret("new", nil, map[string]string{"key": "topsecret"})),
		obj(t, secret("same", map[string]string{"k": "same-value"}, nil)),
	}
	before = append(before, obj(t, secret("same", nil, map[string]string{"k": "same-value"})))
	p, err := Compute(before, after, Options{Context: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range p.Objects {
		got[o.Name] = fmt.Sprintf("%s %v", o.Action, o.SecretKeys)
	}
	want := map[string]string{
		"db":   "change [{extra added} {old removed} {password changed} {user unchanged}]",
		"new":  "create [{key added}]",
		"same": "unchanged [{k unchanged}]", // data or stringData: the same stored value
		"gone": "delete [{token removed}]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, o := range p.Objects {
		text.WriteString(o.Diff)
	}
	for _, out := range []string{string(js), text.String()} {
		for _, s := range secretBytes {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
				if strings.Contains(out, form) {
					t.Errorf("output holds the secret %q:\n%s", form, out)
				}
			}
		}
	}
	if !strings.Contains(text.String(), "+  name: new") {
		t.Errorf("a created Secret's metadata is shown:\n%s", text.String())
	}
}

func TestRequirements(t *testing.T) {
	r := func(inst, b, v string) plan.Resolved {
		return plan.Resolved{Instance: inst, Bundle: b, Version: v, Repository: "stable"}
	}
	got := Requirements(
		[]plan.Resolved{r("database", "mariadb", "1.0.1"), r("cache", "memcached", "1.0.0"), r("search", "opensearch", "1.0.0")},
		[]plan.Resolved{r("database", "mariadb", "1.0.2"), r("cache", "memcached", "1.0.0"), r("sessions", "redis", "1.0.0")},
	)
	var s []string
	for _, x := range got {
		s = append(s, x.Instance+":"+string(x.Action))
	}
	if want := "[database:change cache:unchanged sessions:create search:delete]"; fmt.Sprint(s) != want {
		t.Errorf("got %v, want %s", s, want)
	}
	if a := Root(nil, &plan.Resolved{Bundle: "wiki", Version: "1.0.0"}).Action; a != Create {
		t.Errorf("root on install: %s", a)
	}
	p := &Plan{Bundle: Root(&plan.Resolved{Bundle: "wiki", Version: "1"}, &plan.Resolved{Bundle: "wiki", Version: "1"}), Requirements: got[1:2]}
	if p.Changed() {
		t.Error("nothing changes, but Changed")
	}
	p.Requirements = got[:1]
	if !p.Changed() {
		t.Error("a requirement moves, but not Changed")
	}
}

// TestGolden holds the diffs of an upgrade of a small app to a golden file
// (go test ./pkg/diff -update rewrites it).
func TestGolden(t *testing.T) {
	before := []*unstructured.Unstructured{
		obj(t, deployment),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: shop, labels: {app: web}}\ndata:\n  site: Docs\n  theme: dark\n  lang: en\n"),
		obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: old, namespace: shop}\nspec: {ports: [{port: 80}]}\n"),
		obj(t, secret("db", map[string]string{"password": "s3cr3t-old", "user": "same-value"}, nil)),
	}
	after := []*unstructured.Unstructured{
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: shop, labels: {app: web}}\ndata:\n  site: Team docs\n  theme: dark\n  lang: en\n"),
		obj(t, secret("db", map[string]string{"password": "s3cr3t-new", "user": "same-value"}, nil)),
		obj(t, strings.Replace(deployment, "nginx:1.27", "nginx:1.28", 1)),
		obj(t, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  rules:\n  - host: docs.example.com\n"),
	}
	p, err := Compute(before, after, Options{Context: 2})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range p.Objects {
		fmt.Fprintf(&b, "%s %s\n", o.Action, o)
		for _, k := range o.SecretKeys {
			fmt.Fprintf(&b, "  %s: %s\n", k.Key, k.State)
		}
		b.WriteString(o.Diff)
	}
	testutil.Golden(t, "testdata/upgrade.golden", b.String(), *update)
}

// A one-line change among hundreds of repeated lines is one small hunk
// (difflib's autojunk heuristic would ignore the repeated lines).
func TestRepeatedLines(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 600; i++ {
		name := "x"
		if i == 300 {
			name = "y"
		}
		fmt.Fprintf(&a, "  - name: x\n    value: %d\n", i%3)
		fmt.Fprintf(&b, "  - name: %s\n    value: %d\n", name, i%3)
	}
	got, err := Unified(a.String(), b.String(), 1)
	if want := "@@ -600,3 +600,3 @@\n     value: 2\n-  - name: x\n+  - name: y\n     value: 0\n"; got != want || err != nil {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
}

// A long document of few distinct lines is diffed quickly and minimally.
func TestLargeDocument(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 20000; i++ {
		name := "x"
		if i%1000 == 0 {
			name = "y"
		}
		fmt.Fprintf(&a, "  - name: x\n    value: %d\n", i%7)
		fmt.Fprintf(&b, "  - name: %s\n    value: %d\n", name, i%7)
	}
	start := time.Now()
	got, err := Unified(a.String(), b.String(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(got, "\n@@ ") + 1; n != 20 || strings.Count(got, "\n+  - name: y") != 20 {
		t.Errorf("%d hunks:\n%.2000s", n, got)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
}

// Outside lists what a release holds outside its namespace, by
// namespace, cluster-scoped first; objects deleted and those of the
// release's own namespace are not listed.
func TestOutside(t *testing.T) {
	objs := []Object{
		{Action: Create, Kind: "Deployment", Group: "apps", Namespace: "web", Name: "wiki"},
		{Action: Create, Kind: "Secret", Namespace: "data", Name: "wiki-database-1a2b"},
		{Action: Unchanged, Kind: "ConfigMap", Namespace: "data", Name: "wiki-database-1a2b"},
		{Action: Change, Kind: "ClusterRole", Group: "rbac.authorization.k8s.io", Name: "wiki"},
		{Action: Delete, Kind: "ConfigMap", Namespace: "old", Name: "gone"},
		{Action: Create, Kind: "Job", Group: "batch", Namespace: "data", Name: "wiki-database-claim-5e6f"},
	}
	hooks := []Object{{Kind: "Job", Group: "batch", Namespace: "data", Name: "wiki-database-unclaim"}, {Kind: "Pod", Namespace: "web", Name: "test"}}
	got := Outside("web", objs, hooks)
	want := []Elsewhere{
		{Objects: []string{"ClusterRole.rbac.authorization.k8s.io wiki"}},
		{Namespace: "data", Objects: []string{"ConfigMap wiki-database-1a2b", "Job.batch wiki-database-claim-5e6f", "Secret wiki-database-1a2b"}, Hooks: []string{"Job.batch wiki-database-unclaim"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Outside = %+v\nwant %+v", got, want)
	}
	if got := Outside("web", objs[:1], nil); got != nil {
		t.Errorf("a release within its namespace: %+v", got)
	}
}
