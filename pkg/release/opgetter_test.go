package release

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// countingGetter is a RESTClientGetter over a fake discovery that serves
// ConfigMaps, counting the discovery clients, REST mappers and REST
// configs it makes, each anew as genericclioptions.ConfigFlags (not
// persistent) makes them.
type countingGetter struct {
	mu                         sync.Mutex
	discoveries, mappers, cfgs int
}

func (g *countingGetter) ToRESTConfig() (*rest.Config, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfgs++
	return &rest.Config{Host: "https://127.0.0.1:1"}, nil
}

func (g *countingGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.mu.Lock()
	g.discoveries++
	g.mu.Unlock()
	return g.discovery(), nil
}

func (g *countingGetter) discovery() discovery.CachedDiscoveryInterface {
	fake := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{}}
	fake.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: []string{"get", "patch"}},
	}}}
	return memory.NewMemCacheClient(fake)
}

func (g *countingGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.mu.Lock()
	g.mappers++
	g.mu.Unlock()
	return restmapper.NewDeferredDiscoveryRESTMapper(g.discovery()), nil
}

func (g *countingGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{})
}

// made is the number of discovery clients and REST mappers g made.
func (g *countingGetter) made() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.discoveries + g.mappers
}

// Helm's Build asks its getter for a REST mapper and a REST config for
// every object: an operation's kube client makes them once for the
// operation, however many objects and manifests it reads, and the next
// operation anew.
func TestAnOperationReadsTheDiscoveryOnceForAllItsObjects(t *testing.T) {
	const n = 50
	var docs []string
	for i := range n {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n", i))
	}
	manifest := strings.Join(docs, "---\n")
	base := &countingGetter{}
	hc := kube.New(base)
	hc.Namespace = "shop"
	for op := 1; op <= 2; op++ {
		cfg := &action.Configuration{KubeClient: hc, RESTClientGetter: base}
		kc := operationKube(cfg)
		for range 3 { // Helm's Build, validateManifest, the validation's
			rl, err := kc.Build(strings.NewReader(manifest), false)
			if err != nil {
				t.Fatal(err)
			}
			if len(rl) != n || rl[0].Namespace != "shop" {
				t.Fatalf("built %d objects, the first in %q", len(rl), rl[0].Namespace)
			}
		}
		if got := base.made(); got != op {
			t.Errorf("after operation %d, %d discovery clients and REST mappers were made, want %d (one per operation)", op, got, op)
		}
		if base.cfgs > op {
			t.Errorf("after operation %d, %d REST configs were made, want %d", op, base.cfgs, op)
		}
		if cfg.RESTClientGetter == base {
			t.Error("Helm's actions still reset and read through the Client's getter")
		}
	}
}
