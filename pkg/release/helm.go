package release

// The shapes of the Helm 4 SDK bundle adapts to, in one place: releases
// handed out as release.Releaser (read as v1 releases), a Configuration
// that holds a lock and a logger (copied field by field), and actions that
// need a wait strategy named.

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	hrelease "helm.sh/helm/v4/pkg/release"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"

	"github.com/bundlesh/bundle/pkg/release/internal/helmsdk"
)

// v1 is a release Helm handed out, as the v1 release bundle reads.
func v1(r hrelease.Releaser) (*helmrelease.Release, error) { return helmsdk.V1(r) }

// v1s are releases Helm handed out, as v1 releases.
func v1s(rs []hrelease.Releaser) ([]*helmrelease.Release, error) { return helmsdk.V1s(rs) }

// v1Of is v1 of what an action or the storage returned with err: err
// first.
func v1Of(r hrelease.Releaser, err error) (*helmrelease.Release, error) {
	if err != nil {
		return nil, err
	}
	return v1(r)
}

// v1sOf is v1s of what the storage returned with err: err first.
func v1sOf(rs []hrelease.Releaser, err error) ([]*helmrelease.Release, error) {
	if err != nil {
		return nil, err
	}
	return v1s(rs)
}

// copyConfig returns a copy of cfg for one operation (helmsdk.CopyConfig).
func copyConfig(cfg *action.Configuration) *action.Configuration { return helmsdk.CopyConfig(cfg) }

// waitStrategy is the wait strategy of an action: Helm's status watcher's
// slot, which bundle's waiter fills (see waitConfig), when it waits;
// hooks only (Helm's default without --wait) when it does not.
func waitStrategy(wait bool) kube.WaitStrategy {
	if wait {
		return kube.StatusWatcherStrategy
	}
	return kube.HookOnlyStrategy
}

// log writes to c's log: Helm's logger at debug level (--debug prints it).
func (c *Client) log(format string, args ...any) {
	if c.cfg != nil {
		c.cfg.Logger().Debug(fmt.Sprintf(format, args...))
	}
}

// records is a configuration's release storage, read as v1 releases.
type records struct{ s *storage.Storage }

// recordsOf reads cfg's release storage.
func recordsOf(cfg *action.Configuration) records { return records{cfg.Releases} }

// Get returns revision version of release name.
func (r records) Get(name string, version int) (*helmrelease.Release, error) {
	return v1Of(r.s.Get(name, version))
}

// Last returns the last revision of release name.
func (r records) Last(name string) (*helmrelease.Release, error) { return v1Of(r.s.Last(name)) }

// History returns every stored revision of release name.
func (r records) History(name string) ([]*helmrelease.Release, error) {
	return v1sOf(r.s.History(name))
}

// Deployed returns the deployed revision of release name.
func (r records) Deployed(name string) (*helmrelease.Release, error) {
	return v1Of(r.s.Deployed(name))
}

// DeployedAll returns the deployed revisions of release name.
func (r records) DeployedAll(name string) ([]*helmrelease.Release, error) {
	return v1sOf(r.s.DeployedAll(name))
}

// waitFor is an action's wait strategy and options: ctx bounds Helm's own
// waits (its hooks').
func waitFor(ctx context.Context, wait bool) (kube.WaitStrategy, []kube.WaitOption) {
	return waitStrategy(wait), []kube.WaitOption{kube.WithWaitContext(ctx)}
}

// dryRunStrategy is an action's dry-run strategy: a dry run renders
// against the cluster (lookups, capabilities) and writes nothing.
func dryRunStrategy(dry bool) action.DryRunStrategy {
	if dry {
		return action.DryRunServer
	}
	return action.DryRunNone
}

// serverSideApply is what upgrades and rollbacks tell Helm of the apply
// method: bundle's applier always applies server-side, and the revision
// records it (apply_method "ssa"), so that helm 4 goes on applying
// server-side after bundle.
const serverSideApply = "true"
