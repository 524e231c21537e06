package release

import "github.com/bundlesh/bundle/internal/releasetest"

// envOf is the environment of a fixture over Helm's memory storage and
// fake clients.
func envOf(f *releasetest.Fixture) *Env {
	return &Env{Config: f.Config(), Namespace: f.Namespace, AllNamespaces: f.AllNamespaces, Clientset: f.Kubernetes}
}
