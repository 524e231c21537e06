// Package e2e runs bundle against a real Kubernetes control plane (the local
// one that make cluster-up starts: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok). Set
// BUNDLE_TEST_KUBECONFIG to its kubeconfig; make test does.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/cli"
	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/repo"
)

// TestMain removes the bundle binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBundleBinary()
	os.Exit(code)
}

type env struct {
	kubeconfig string
	cfg        *rest.Config
	cs         kubernetes.Interface
}

func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, testutil.Kubeconfig(t))
}

// setupIn is setup and a fresh namespace name (see namespace).
func setupIn(t *testing.T, prefix string) (*env, string) {
	t.Helper()
	e := setup(t)
	return e, e.namespace(t, prefix)
}

// setupWith is setup for the control plane of kubeconfig kc.
func setupWith(t testing.TB, kc string) *env {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{kubeconfig: kc, cfg: cfg, cs: cs}
}

// namespace names a fresh namespace, deleted when the test ends.
func (e *env) namespace(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	ns := prefix + "-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		e.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	return ns
}

// bundle runs the CLI in-process against the test cluster.
func (e *env) bundle(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"bundle"}, args...)
	clusterCommands := []string{"install", "upgrade", "rollback", "uninstall", "list", "status", "history", "prune", "grant", "revoke"}
	if len(args) > 1 && contains(clusterCommands, args[1]) && !contains(args, "--kubeconfig") {
		args = append(args, "--kubeconfig", e.kubeconfig)
	}
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func (e *env) mustBundle(t testing.TB, args ...string) string {
	t.Helper()
	code, out, errs := e.bundle(t, args...)
	if code != 0 {
		t.Fatalf("bundle %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// createNamespace creates a fresh namespace, deleted when the test ends.
func (e *env) createNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := e.namespace(t, prefix)
	if _, err := e.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

func (e *env) helmStorage(ns string) releasetest.Records {
	return releasetest.StorageRecords(storage.Init(driver.NewSecrets(e.cs.CoreV1().Secrets(ns))))
}

// lastRevision is the release's latest revision in Helm's storage.
func (e *env) lastRevision(t *testing.T, ns, name string) *helmrelease.Release {
	t.Helper()
	rel, err := e.helmStorage(ns).Last(name)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if ok, why := testutil.Poll(timeout, 250*time.Millisecond, cond); !ok {
		t.Fatalf("%s: not after %s: %s", what, timeout, why)
	}
}

// deploymentChart writes chart web 1.0.0: a Deployment whose pods go where
// values.nodeSelector says, and the template of file beside it; its values
// are nodeSelector: {} and values.
func deploymentChart(t *testing.T, values, file, template string) string {
	t.Helper()
	return testutil.Chart{
		Name:   "web",
		Values: values + "nodeSelector: {}\n",
		Templates: map[string]string{"deploy.yaml": testutil.DeploymentYAML("{{ .Release.Name }}", testutil.Replicas("1"), testutil.PodSpec(`nodeSelector: {{ toJson .Values.nodeSelector }}
containers: [{name: web, image: nginx}]`))},
		Files: map[string]string{file: template},
	}.Write(t, filepath.Join(t.TempDir(), "web"))
}

func TestLifecycle(t *testing.T) {
	e, ns := setupIn(t, "lifecycle")
	ctx := context.Background()
	st := e.helmStorage(ns)
	var password string

	testutil.Phase(t, "install brings up the app and its database, stored as Helm stores releases", func(t *testing.T) {
		out := e.mustBundle(t, "install", "stable/mediawiki", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")
		if !strings.Contains(out, `Release "mediawiki" installed`) || !strings.Contains(out, "database: mariadb 1.3.0 from stable") {
			t.Errorf("install output:\n%s", out)
		}
		dep, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "mediawiki", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !deploymentAvailable(dep) {
			t.Errorf("Deployment mediawiki not Available: %+v", dep.Status)
		}
		sts, err := e.cs.AppsV1().StatefulSets(ns).Get(ctx, "mediawiki-database", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sts.Status.ReadyReplicas != 1 {
			t.Errorf("StatefulSet mediawiki-database: %d ready replicas", sts.Status.ReadyReplicas)
		}
		for _, claim := range []string{"data-mediawiki-database-0", "mediawiki"} {
			pvc, err := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pvc.Status.Phase != corev1.ClaimBound {
				t.Errorf("PVC %s is %s, want Bound", claim, pvc.Status.Phase)
			}
		}
		rel, err := st.Deployed("mediawiki")
		if err != nil {
			t.Fatalf("Helm storage: %v", err)
		}
		if rel.Version != 1 || rel.Chart.Metadata.Name != "mediawiki" {
			t.Errorf("Helm sees %s revision %d", rel.Chart.Metadata.Name, rel.Version)
		}
		secret, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1.mediawiki.v1", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("release Secret: %v", err)
		}
		if secret.Type != "helm.sh/release.v1" || secret.Labels["owner"] != "helm" {
			t.Errorf("release Secret type %s labels %v", secret.Type, secret.Labels)
		}
		password = secretValue(t, e, ns, "mediawiki-database", "mariadb-password")
	})
	testutil.Phase(t, "status and list show it deployed and ready", func(t *testing.T) {
		status := e.mustBundle(t, "status", "mediawiki", "-n", ns)
		for _, want := range []string{"STATUS:     deployed", "READY:      yes", "database  mariadb  1.3.0", "StatefulSet            mediawiki-database           ready", "PersistentVolumeClaim  data-mediawiki-database-0    ready"} {
			if !strings.Contains(status, want) {
				t.Errorf("status lacks %q:\n%s", want, status)
			}
		}
		list := e.mustBundle(t, "list", "-n", ns)
		if !strings.Contains(list, "mediawiki") || !strings.Contains(list, "deployed") {
			t.Errorf("list:\n%s", list)
		}
	})
	testutil.Phase(t, "an upgrade with a changed value keeps the passwords", func(t *testing.T) {
		e.mustBundle(t, "upgrade", "mediawiki", "stable/mediawiki", "-n", ns, "--set", "wiki.name=Team Wiki", "--wait")
		rel, err := st.Get("mediawiki", 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := dig(rel.Config, "wiki", "name"); got != "Team Wiki" {
			t.Errorf("revision 2 wiki.name = %v", got)
		}
		if !strings.Contains(configMap(t, e, ns, "mediawiki"), "$wgSitename = 'Team Wiki';") {
			t.Error("ConfigMap not upgraded")
		}
		if got := secretValue(t, e, ns, "mediawiki-database", "mariadb-password"); got != password {
			t.Error("the database password changed on upgrade")
		}
	})
	testutil.Phase(t, "rollback restores the old value, app and database together", func(t *testing.T) {
		e.mustBundle(t, "rollback", "mediawiki", "-n", ns, "--wait")
		rel, err := st.Last("mediawiki")
		if err != nil {
			t.Fatal(err)
		}
		if rel.Version != 3 || dig(rel.Config, "wiki", "name") != nil {
			t.Errorf("after rollback: revision %d, wiki.name %v", rel.Version, dig(rel.Config, "wiki", "name"))
		}
		if !strings.Contains(configMap(t, e, ns, "mediawiki"), "$wgSitename = 'My Wiki';") {
			t.Error("ConfigMap not rolled back")
		}
		hist := e.mustBundle(t, "history", "mediawiki", "-n", ns)
		if n := strings.Count(hist, "mediawiki-1.2.2"); n != 3 {
			t.Errorf("history shows %d revisions:\n%s", n, hist)
		}
	})
	testutil.Phase(t, "uninstall --delete-data removes every object, claims included", func(t *testing.T) {
		// TestUninstallKeepsData: without it the claims stay.
		e.mustBundle(t, "uninstall", "mediawiki", "-n", ns, "--delete-data", "--wait")
		e.emptied(t, ns)
	})
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func secretValue(t *testing.T, e *env, ns, name, key string) string {
	t.Helper()
	s, err := e.cs.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Data[key]) == 0 {
		t.Fatalf("Secret %s has no %s", name, key)
	}
	return string(s.Data[key])
}

func configMap(t *testing.T, e *env, ns, name string) string {
	t.Helper()
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["LocalSettings.php"]
}

// leftovers lists the objects in ns other than what Kubernetes itself puts
// in every namespace.
func leftovers(ctx context.Context, e *env, ns string) []string {
	dyn, err := dynamic.NewForConfig(e.cfg)
	if err != nil {
		return []string{err.Error()}
	}
	var left []string
	for _, r := range []struct{ group, version, resource, kind string }{
		{"apps", "v1", "deployments", "Deployment"},
		{"apps", "v1", "statefulsets", "StatefulSet"},
		{"apps", "v1", "replicasets", "ReplicaSet"},
		{"", "v1", "pods", "Pod"},
		{"", "v1", "services", "Service"},
		{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"},
		{"", "v1", "secrets", "Secret"},
		{"", "v1", "configmaps", "ConfigMap"},
		{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"},
		{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"},
		{"networking.k8s.io", "v1", "ingresses", "Ingress"},
		{"batch", "v1", "cronjobs", "CronJob"},
		{"batch", "v1", "jobs", "Job"},
	} {
		l, err := dyn.Resource(schema.GroupVersionResource{Group: r.group, Version: r.version, Resource: r.resource}).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			left = append(left, fmt.Sprintf("listing %s: %v", r.resource, err))
			continue
		}
		for _, o := range l.Items {
			if r.kind == "ConfigMap" && o.GetName() == "kube-root-ca.crt" {
				continue // every namespace has it
			}
			left = append(left, r.kind+"/"+o.GetName())
		}
	}
	return left
}

// emptied waits until uninstall has removed every object from ns.
func (e *env) emptied(t *testing.T, ns string) {
	t.Helper()
	eventually(t, 90*time.Second, "namespace empty after uninstall", func() (bool, string) {
		left := leftovers(context.Background(), e, ns)
		return len(left) == 0, strings.Join(left, ", ")
	})
}

var dig = testutil.Dig

// TestTemplateServerSideDryRun sends every object each catalog bundle
// renders (with defaults, and with optional objects switched on) to the API
// server as a server-side dry run: the server validates it fully (schema,
// defaulting, admission) and stores nothing.
func TestTemplateServerSideDryRun(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.createNamespace(t, "dryrun")
	cfg := rest.CopyConfig(e.cfg)
	cfg.QPS, cfg.Burst = 200, 400 // a few hundred dry runs; client-go's default 5/s makes that half a minute
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(e.cs.Discovery()))
	cases := [][]string{
		// Optional objects switched on, so they are checked too.
		{"stable/mediawiki", "--set", "ingress.enabled=true"},
		{"stable/wordpress", "--set", "ingress.enabled=true,objectCache.enabled=true"},
		{"stable/magento", "--set", "ingress.enabled=true"},
		{"stable/redis", "--set", "persistence.enabled=true"},
		{"stable/redis-ha", "--set", "persistence.enabled=true"},
		{"stable/opensearch", "--set", "replicas=3,sysctlInit.enabled=true"},
	}
	names, err := repo.Stable().Names() // the library chart is not installable
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		cases = append(cases, []string{"stable/" + name})
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := e.mustBundle(t, append([]string{"template", args[0], "-n", ns}, args[1:]...)...)
			n := 0
			for _, doc := range strings.Split(out, "\n---") {
				var obj map[string]any
				if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
					t.Fatal(err)
				}
				if obj == nil {
					continue
				}
				u := &unstructured.Unstructured{Object: obj}
				gvk := u.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Fatalf("%s: the server does not serve it: %v", gvk, err)
				}
				_, err = dyn.Resource(m.Resource).Namespace(ns).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "bundle-e2e", DryRun: []string{metav1.DryRunAll}})
				if err != nil {
					t.Errorf("%s %s rejected by the API server: %v", gvk.Kind, u.GetName(), err)
				}
				n++
			}
			if n < 2 {
				t.Errorf("only %d objects rendered", n)
			}
		})
	}
	if left := leftovers(ctx, e, ns); len(left) > 0 {
		t.Errorf("a dry run stored objects: %v", left)
	}
}

// TestBadInputLeavesNothing: each bad input fails with one line and a
// non-zero exit, and nothing reaches the cluster.
func TestBadInputLeavesNothing(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.createNamespace(t, "badinput")
	bad := t.TempDir() + "/bad.yaml"
	os.WriteFile(bad, []byte("wiki:\n  name: [\n"), 0o644)
	closed := "../../internal/cli/testdata/kubeconfig-unreachable.yaml"

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown bundle", []string{"install", "stable/mediawik", "-n", ns}, "Error: bundle stable/mediawik not found"},
		{"bad version constraint", []string{"install", "stable/mediawiki", "-n", ns, "--version", ">=>1"}, `Error: --version: invalid version constraint ">=>1"`},
		{"malformed values file", []string{"install", "stable/mediawiki", "-n", ns, "-f", bad}, "Error: " + bad + ":"},
		{"values the schema refuses", []string{"install", "stable/mediawiki", "-n", ns, "--set", "database.service.port=0"}, "Error: "},
		{"unreachable cluster", []string{"install", "stable/mediawiki", "-n", ns, "--kubeconfig", closed}, "Error: cannot reach the cluster at https://127.0.0.1:1"},
		{"unknown kube context", []string{"install", "stable/mediawiki", "-n", ns, "--kube-context", "nope"}, `Error: cannot use the kubeconfig: context "nope" does not exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := e.bundle(t, c.args...)
			if code == 0 {
				t.Fatalf("exit 0; stdout %q", out)
			}
			if !strings.HasPrefix(errs, c.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting %q", errs, c.want)
			}
			if left := leftovers(ctx, e, ns); len(left) > 0 {
				t.Errorf("left in the cluster: %v", left)
			}
		})
	}

	// --dry-run validates against the server, prints the manifests and
	// creates nothing.
	out := e.mustBundle(t, "install", "stable/mediawiki", "-n", ns, "--dry-run", "--locked")
	if !strings.Contains(out, "kind: StatefulSet") || !strings.Contains(out, "# dry run:") {
		t.Errorf("dry run output:\n%s", out)
	}
	if left := leftovers(ctx, e, ns); len(left) > 0 {
		t.Errorf("a dry run left: %v", left)
	}

	// A taken release name: the second install is refused and the first
	// release is untouched.
	e.mustBundle(t, "install", "stable/mariadb", "-n", ns, "--set", "auth.database=first")
	code, _, errs := e.bundle(t, "install", "stable/mariadb", "-n", ns, "--set", "auth.database=second")
	want := fmt.Sprintf(`Error: release "mariadb" already exists in namespace %q (revision 1, deployed): run bundle upgrade mariadb stable/mariadb -n %s`, ns, ns)
	if code == 0 || strings.TrimSpace(errs) != want {
		t.Errorf("exit %d, stderr %q; want %q", code, errs, want)
	}
	if rel := e.lastRevision(t, ns, "mariadb"); rel.Version != 1 || dig(rel.Config, "auth", "database") != "first" {
		t.Errorf("the existing release changed: revision %d, values %v", rel.Version, rel.Config)
	}
	// A release that does not exist.
	code, _, errs = e.bundle(t, "status", "nope", "-n", ns)
	if code == 0 || !strings.HasPrefix(errs, fmt.Sprintf(`Error: release "nope" not found in namespace %q`, ns)) {
		t.Errorf("status of a missing release: exit %d, %q", code, errs)
	}
	if _, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1.mariadb.v2", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a second revision was written: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestInstallFromOCI pushes a catalog bundle to a registry and installs it
// from there into the cluster.
func TestInstallFromOCI(t *testing.T) {
	e, ns := setupIn(t, "oci")
	ctx := context.Background()
	dest := "oci://" + testregistry.Start(t) + "/bundles"
	e.mustBundle(t, "push", "../../bundles/stable/mariadb", dest, "--plain-http")
	out := e.mustBundle(t, "install", "db", dest+"/mariadb", "--version", "^1", "-n", ns, "--create-namespace", "--plain-http", "--wait", "--timeout", "2m")
	if !strings.Contains(out, `Release "db" installed`) {
		t.Errorf("install output:\n%s", out)
	}
	sts, err := e.cs.AppsV1().StatefulSets(ns).Get(ctx, "db-mariadb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sts.Status.ReadyReplicas != 1 {
		t.Errorf("StatefulSet db-mariadb: %d ready", sts.Status.ReadyReplicas)
	}
	e.mustBundle(t, "uninstall", "db", "-n", ns, "--wait")
}

// TestHelmCLISeesBundles: the helm CLI lists a bundle release and pulls and
// templates a bundle we pushed to a registry.
func TestHelmCLISeesBundles(t *testing.T) {
	e, ns := setupIn(t, "helmcli")
	helm := helmCLI(t)
	e.mustBundle(t, "install", "stable/mariadb", "-n", ns, "--create-namespace")
	if out := runHelm(t, helm, "list", "-n", ns, "--kubeconfig", e.kubeconfig); !strings.Contains(out, "mariadb") || !strings.Contains(out, "deployed") {
		t.Errorf("helm list:\n%s", out)
	}
	if out := runHelm(t, helm, "status", "mariadb", "-n", ns, "--kubeconfig", e.kubeconfig); !strings.Contains(out, "STATUS: deployed") {
		t.Errorf("helm status:\n%s", out)
	}
	host := testregistry.Start(t)
	e.mustBundle(t, "push", "../../bundles/stable/mediawiki", "oci://"+host+"/bundles", "--plain-http")
	dir := t.TempDir()
	runHelm(t, helm, "pull", "oci://"+host+"/bundles/mediawiki", "--version", "1.2.2", "--plain-http", "-d", dir)
	out := runHelm(t, helm, "show", "chart", filepath.Join(dir, "mediawiki-1.2.2.tgz"))
	if !strings.Contains(out, "name: mediawiki") {
		t.Errorf("helm show chart:\n%s", out)
	}
	e.mustBundle(t, "uninstall", "mariadb", "-n", ns, "--wait")

	// The other way: a chart packaged and pushed by helm installs with bundle.
	runHelm(t, helm, "push", helmPackage(t, helm, "mariadb"), "oci://"+host+"/helm", "--plain-http")
	out = e.mustBundle(t, "install", "fromhelm", "oci://"+host+"/helm/mariadb", "--version", "1.3.0", "-n", ns, "--plain-http", "--wait", "--timeout", "2m")
	if !strings.Contains(out, `Release "fromhelm" installed`) {
		t.Errorf("install of a Helm-pushed chart:\n%s", out)
	}
	e.mustBundle(t, "uninstall", "fromhelm", "-n", ns, "--wait")
}

// TestExternalDatabase installs mediawiki against an existing database: no
// database objects are created and the app is wired to the given service.
func TestExternalDatabase(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.createNamespace(t, "external")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "wiki-db"}, StringData: map[string]string{"password": "from-the-dba"}}
	if _, err := e.cs.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--wait", "--timeout", "2m",
		"--set", "database.external.host=db.example.com,database.external.port=3306,database.external.database=wiki",
		"--set", "database.external.username=wiki,database.external.passwordSecret=wiki-db,database.external.passwordKey=password")
	if l, _ := e.cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("an external database still created %d StatefulSets", len(l.Items))
	}
	dep, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "wiki-mediawiki", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, env := range dep.Spec.Template.Spec.Containers[0].Env {
		if env.Name == "MEDIAWIKI_DB_HOST" && env.Value == "db.example.com" {
			found = true
		}
	}
	if !found {
		t.Error("the app is not wired to db.example.com")
	}
	e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--wait")
}

// TestExampleAppRollback installs the example app (outside the catalog)
// with its database as one release; a rollback restores both together.
func TestExampleAppRollback(t *testing.T) {
	e, ns := setupIn(t, "shop")
	ctx := context.Background()
	e.mustBundle(t, "install", "../../examples/shop", "-n", ns, "--create-namespace", "--locked", "--wait", "--timeout", "2m")
	dep, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "shop-shop", metav1.GetOptions{})
	if err != nil || !deploymentAvailable(dep) {
		t.Fatalf("shop Deployment: %v", err)
	}
	dbConfig := func() string {
		cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-catalog", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cm.Data["bundle.cnf"]
	}
	appConfig := func() string {
		cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-shop", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cm.Data["index.php"]
	}
	db1, app1 := dbConfig(), appConfig()
	e.mustBundle(t, "upgrade", "shop", "../../examples/shop", "-n", ns, "--wait",
		"--set", "catalog.config=max_connections = 50", "--set", "shop.title=Sale")
	if !strings.Contains(dbConfig(), "max_connections = 50") || !strings.Contains(appConfig(), "Sale") {
		t.Fatal("upgrade did not reach both app and database")
	}
	e.mustBundle(t, "rollback", "shop", "-n", ns, "--wait")
	if dbConfig() != db1 || appConfig() != app1 {
		t.Error("rollback did not restore app and database together")
	}
	e.mustBundle(t, "uninstall", "shop", "-n", ns, "--wait")
}

// TestEveryCatalogBundle installs each stable bundle on its own with --wait,
// checks status says Ready, and that uninstall --delete-data leaves nothing
// behind.
func TestEveryCatalogBundle(t *testing.T) {
	everyCatalogBundle(t, setup(t))
}

// TestEveryCatalogBundleOnOneNode: every stable bundle, with default
// values, installs Ready on a cluster of a single node (redis-ha's replicas
// only prefer separate nodes unless hardAntiAffinity=true).
func TestEveryCatalogBundleOnOneNode(t *testing.T) {
	e := setupWith(t, testutil.KubeconfigOneNode(t))
	nodes, err := e.cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 1 {
		t.Fatalf("BUNDLE_TEST_KUBECONFIG_ONE_NODE's cluster has %d nodes, want 1", len(nodes.Items))
	}
	everyCatalogBundle(t, e)
}

func everyCatalogBundle(t *testing.T, e *env) {
	names, err := repo.Stable().Names() // the library chart is not installable
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each in its own namespace
			ns := e.namespace(t, "cat-"+name)
			e.mustBundle(t, "install", "stable/"+name, "-n", ns, "--create-namespace", "--wait", "--timeout", "2m")
			if st := e.mustBundle(t, "status", name, "-n", ns); !strings.Contains(st, "READY:      yes") {
				t.Errorf("status:\n%s", st)
			}
			e.mustBundle(t, "uninstall", name, "-n", ns, "--delete-data", "--wait")
			e.emptied(t, ns)
		})
	}
}
