package release

import (
	"helm.sh/helm/v4/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/bundlesh/bundle/pkg/plan"
)

// Env is everything a Client talks to: Helm's action configuration (release
// storage and Kubernetes client) and the Kubernetes clients it needs
// besides. New builds one from a kubeconfig; tests build one over Helm's own
// memory storage driver and fake kube client (internal/releasetest) and
// hand it to NewWithEnv. It is the one place pkg/release's API names Helm
// types.
type Env struct {
	// Config is Helm's configuration for the namespace: its release
	// storage and Kubernetes client.
	Config *action.Configuration
	// Namespace the configuration works in.
	Namespace string
	// AllNamespaces returns a configuration whose storage sees the
	// releases of every namespace (for list -A).
	AllNamespaces func() (*action.Configuration, error)
	// Clientset returns a typed Kubernetes client (readiness of claims,
	// test pod logs).
	Clientset func() (kubernetes.Interface, error)
	// Dynamic returns a dynamic client and a REST mapper, with which
	// bundle waits for readiness itself (see WaitOptions); nil leaves
	// waiting to Config's kube client, as Helm does.
	Dynamic func() (dynamic.Interface, meta.RESTMapper, error)
	// Notify: as KubeOptions.Notify.
	Notify func(string)
}

// NewWithEnv returns a client over a prepared Helm environment instead of a
// kubeconfig.
func NewWithEnv(env *Env, repos plan.References) *Client {
	return newClient(&Client{cfg: env.Config, namespace: env.Namespace, repos: repos, env: env, fence: newFence(), notify: env.Notify})
}
