package release

import (
	"github.com/bundlesh/bundle/internal/releaseenv"
	"github.com/bundlesh/bundle/pkg/repo"
)

// NewWithEnv returns a client over a prepared Helm environment instead of a
// kubeconfig. Only this module can build an Env (its package is internal):
// tests use it to run the client over Helm's memory storage and fake
// Kubernetes clients (internal/releasetest).
func NewWithEnv(env *releaseenv.Env, repos *repo.Set) *Client {
	return &Client{cfg: env.Config, namespace: env.Namespace, repos: repos, env: env}
}
