// Package helmsdk adapts the shapes of the Helm 4 SDK the release layer
// works with: the releases its storage and actions hand out
// (release.Releaser, an interface that can hold any release version) read
// as the v1 releases bundle works with, any other version refused with an
// error naming it; and its Configuration and Storage, which hold locks and
// loggers, copied field by field.
package helmsdk

import (
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/release"
	v1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// V1 returns r as a v1 release; a nil r is a nil release. A record
// without its info (its status, its times) is refused: Helm never stores
// one, and what is stored in the cluster is not trusted.
func V1(r release.Releaser) (*v1.Release, error) {
	var rel *v1.Release
	switch r := r.(type) {
	case *v1.Release:
		rel = r
	case v1.Release:
		rel = &r
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("a stored release of type %T: bundle reads only Helm's v1 releases", r)
	}
	if rel == nil {
		return nil, nil
	}
	if rel.Info == nil {
		return nil, fmt.Errorf("revision %d of release %q is stored without its info (status, times): it was not written by Helm or bundle; delete the Secret sh.helm.release.v1.%s.v%d if it is not yours", rel.Version, rel.Name, rel.Name, rel.Version)
	}
	return rel, nil
}

// V1s returns rs as v1 releases, in order.
func V1s(rs []release.Releaser) ([]*v1.Release, error) {
	out := make([]*v1.Release, 0, len(rs))
	for _, r := range rs {
		v, err := V1(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CopyConfig returns a copy of cfg to change fields of (its kube client,
// its storage) for one operation: the same clients, storage, capabilities
// and logger. A Configuration holds a lock, so it is never copied whole.
func CopyConfig(cfg *action.Configuration) *action.Configuration {
	out := &action.Configuration{
		RESTClientGetter:    cfg.RESTClientGetter,
		Releases:            cfg.Releases,
		KubeClient:          cfg.KubeClient,
		RegistryClient:      cfg.RegistryClient,
		Capabilities:        cfg.Capabilities,
		CustomTemplateFuncs: cfg.CustomTemplateFuncs,
		HookOutputFunc:      cfg.HookOutputFunc,
	}
	out.SetLogger(cfg.Logger().Handler())
	return out
}

// WithDriver returns cfg whose release storage writes through the driver
// wrap makes of its own (same history limit, same logger).
func WithDriver(cfg *action.Configuration, wrap func(driver.Driver) driver.Driver) *action.Configuration {
	out := CopyConfig(cfg)
	st := storage.Init(wrap(cfg.Releases.Driver))
	st.MaxHistory = cfg.Releases.MaxHistory
	st.SetLogger(cfg.Releases.Logger().Handler())
	out.Releases = st
	return out
}
