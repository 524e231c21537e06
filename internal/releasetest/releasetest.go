// Package releasetest runs pkg/release over Helm's memory storage and fake
// Kubernetes clients: tests store release records, build a client with
// release.NewWithEnv over its Config, AllNamespaces and Kubernetes, and
// check what it reports.
package releasetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	hrelease "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	k8sfake "k8s.io/client-go/kubernetes/fake"
)

// Fixture is a namespace's worth of Helm state in memory.
type Fixture struct {
	Namespace string
	// Kube is the Kubernetes client Helm's actions use; set its errors
	// (WatchUntilReadyError, ...) to make hooks fail.
	Kube *kubefake.FailingKubeClient
	// Clientset serves typed reads (pods, logs, claims).
	Clientset *k8sfake.Clientset

	mu  sync.Mutex
	mem *driver.Memory
	cfg *action.Configuration
}

// New returns an empty fixture for namespace ns.
func New(ns string) *Fixture {
	f := &Fixture{
		Namespace: ns,
		Kube:      &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}},
		Clientset: k8sfake.NewClientset(),
		mem:       driver.NewMemory(),
	}
	f.cfg = f.config(ns)
	return f
}

// Config is Helm's configuration over the fixture's storage and fake kube
// client, for its namespace (release.Env.Config).
func (f *Fixture) Config() *action.Configuration { return f.cfg }

// AllNamespaces is a configuration whose storage sees every namespace
// (release.Env.AllNamespaces).
func (f *Fixture) AllNamespaces() (*action.Configuration, error) { return f.config(""), nil }

// ConfigFor is a configuration over the fixture's storage for another
// namespace (a second client's Env.Config).
func (f *Fixture) ConfigFor(ns string) *action.Configuration { return f.config(ns) }

// Kubernetes returns the fake typed client (release.Env.Clientset).
func (f *Fixture) Kubernetes() (kubernetes.Interface, error) { return f.Clientset, nil }

func (f *Fixture) config(ns string) *action.Configuration {
	// A Configuration's zero logger discards Helm's log.
	return &action.Configuration{
		Releases:     storage.Init(&view{f: f, ns: ns}),
		KubeClient:   f.Kube,
		Capabilities: common.DefaultCapabilities,
	}
}

// Store saves release records (any namespace) as Helm would.
func (f *Fixture) Store(t testing.TB, rels ...*helmrelease.Release) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rels {
		if err := f.mem.Create(fmt.Sprintf("sh.helm.release.v1.%s.v%d", r.Name, r.Version), r); err != nil {
			t.Fatalf("storing %s revision %d: %v", r.Name, r.Version, err)
		}
	}
}

// Last returns the stored latest revision of a release in the fixture's
// namespace.
func (f *Fixture) Last(t testing.TB, name string) *helmrelease.Release {
	t.Helper()
	r, err := RecordsOf(f.cfg).Last(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Release builds a release record: chart NAME-VERSION (app version
// APP), the given revision and status, deployed at a fixed time plus
// revision minutes. Tests adjust the fields they care about.
func Release(name, namespace string, revision int, status rcommon.Status, chartName, version, app string) *helmrelease.Release {
	deployed := Time(revision)
	return &helmrelease.Release{
		Name:      name,
		Namespace: namespace,
		Version:   revision,
		Info: &helmrelease.Info{
			FirstDeployed: Time(1),
			LastDeployed:  deployed,
			Status:        status,
			Description:   "Install complete",
		},
		Chart: &chart.Chart{
			Metadata: &chart.Metadata{APIVersion: "v2", Name: chartName, Version: version, AppVersion: app},
			Values:   map[string]any{},
		},
		Config: map[string]any{},
		Labels: map[string]string{"name": name, "owner": "helm", "status": string(status), "version": fmt.Sprint(revision)},
	}
}

// Time is the fixtures' clock: 2024-05-01 10:00 UTC plus n minutes.
func Time(n int) time.Time {
	return time.Date(2024, 5, 1, 10, n, 0, 0, time.UTC)
}

// view is the memory driver seen from one namespace ("" for all), so the
// namespace's configuration and the all-namespaces one share the records.
type view struct {
	f  *Fixture
	ns string
}

func (v *view) use() func() {
	v.f.mu.Lock()
	v.f.mem.SetNamespace(v.ns)
	return v.f.mu.Unlock
}

func (v *view) Name() string { return v.f.mem.Name() }

func (v *view) Create(key string, r hrelease.Releaser) error {
	defer v.use()()
	return v.f.mem.Create(key, r)
}

func (v *view) Update(key string, r hrelease.Releaser) error {
	defer v.use()()
	return v.f.mem.Update(key, r)
}

func (v *view) Delete(key string) (hrelease.Releaser, error) {
	defer v.use()()
	return v.f.mem.Delete(key)
}

func (v *view) Get(key string) (hrelease.Releaser, error) {
	defer v.use()()
	return v.f.mem.Get(key)
}

func (v *view) List(filter func(hrelease.Releaser) bool) ([]hrelease.Releaser, error) {
	defer v.use()()
	return v.f.mem.List(filter)
}

func (v *view) Query(labels map[string]string) ([]hrelease.Releaser, error) {
	defer v.use()()
	return v.f.mem.Query(labels)
}

// APIServer serves just enough of the Kubernetes API for Helm's secrets
// driver to list the given releases (stored in namespace ns with Helm's own
// encoding), over TLS and only with the bearer token Token. It returns a
// kubeconfig for it (context namespace ns).
func APIServer(t testing.TB, ns string, rels ...*helmrelease.Release) (kubeconfig string) {
	t.Helper()
	cs := k8sfake.NewClientset()
	d := driver.NewSecrets(cs.CoreV1().Secrets(ns))
	for _, r := range rels {
		if err := d.Create(fmt.Sprintf("sh.helm.release.v1.%s.v%d", r.Name, r.Version), r); err != nil {
			t.Fatal(err)
		}
	}
	secrets, err := cs.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secrets.APIVersion, secrets.Kind = "v1", "SecretList"
	// client-go sends credentials over TLS only.
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+Token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			w.Write([]byte(`{"major":"1","minor":"34","gitVersion":"v1.34.4"}`))
		case "/api/v1/namespaces/" + ns + "/secrets":
			json.NewEncoder(w).Encode(secrets)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(api.Close)
	kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	err = os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+api.URL+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: "`+Token+`"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: `+ns+`}}]
current-context: c
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// Token is the bearer token APIServer requires.
const Token = "tok-abcdef-123456"
