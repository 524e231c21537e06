// Package releaseenv is the Helm environment pkg/release runs on: Helm's
// action configuration (release storage and Kubernetes client) and the
// Kubernetes clients pkg/release needs besides it. pkg/release builds one
// from a kubeconfig; tests elsewhere in this module build one over Helm's
// memory storage and fake clients (see internal/releasetest) and hand it to
// release.NewWithEnv, so pkg/release's exported API never names a Helm type.
package releaseenv

import (
	"helm.sh/helm/v3/pkg/action"
	"k8s.io/client-go/kubernetes"
)

// Env is everything pkg/release talks to.
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
}
