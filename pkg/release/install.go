package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// InstallOptions configure Install.
type InstallOptions struct {
	// Source is the bundle to install, with the user's values.
	plan.Source
	// ReleaseName defaults to the one Naming makes, else to the root
	// bundle's name.
	ReleaseName string
	render.Naming
	WaitOptions
	HelmOptions
	CreateNamespace bool
	// Atomic uninstalls the release if the install fails (implies Wait):
	// --rollback-on-failure, --atomic.
	Atomic bool
	// Force replaces objects (PUT) instead of applying them: those a
	// release it replaces left in the cluster (--force-replace, --force).
	Force bool
	// DryRun renders against the cluster and validates, creating nothing.
	DryRun bool

	PartOf
}

// Install installs a bundle with all its requirements as one release:
// Prepare, then Perform.
func (c *Client) Install(ctx context.Context, opts InstallOptions) (*Release, error) {
	rev, err := c.prepareInstall(ctx, opts)
	if err != nil {
		return nil, err
	}
	return c.Perform(ctx, rev)
}

// upgrade is opts as the options of the upgrade that installs the
// release, which a revision carries.
func (opts InstallOptions) upgrade() UpgradeOptions {
	return UpgradeOptions{
		Source: opts.Source, ReleaseName: opts.ReleaseName, WaitOptions: opts.WaitOptions, HelmOptions: opts.HelmOptions,
		Atomic: opts.Atomic, Force: opts.Force, DryRun: opts.DryRun, Install: true, CreateNamespace: opts.CreateNamespace, PartOf: opts.PartOf,
	}
}

// PartOf are the knobs of a release that is part of a larger whole,
// performed by an orchestrator above this package (a blue-green app's
// colours: pkg/bluegreen). Their zero values are a release on its own.
type PartOf struct {
	// ClaimHolder, when set, is the release that holds the claims of the
	// release's bindings (plan.Binding.ClaimHolder), made by it for every
	// release it holds them for: a blue-green app's router, for its
	// colours. The release's own claims are rendered by no one.
	ClaimHolder string
	// Annotations are added to the chart's (a blue-green colour's mark,
	// which says whose colour it is).
	Annotations map[string]string
	// Reshape, when set, runs on the manifests last (a blue-green
	// colour's Ingresses taken out for its router).
	Reshape Reshape
}

// performInstall installs rev, holding its lease; replace takes over
// the name of a release it may replace (uninstalled with its history
// kept, or whose first install failed).
func (c *Client) performInstall(ctx context.Context, rev *Revision, replace bool) (*Release, error) {
	opts := rev.Options
	p := rev.Plan
	opts.Wait = opts.Wait || opts.Atomic
	cfg, v, err := c.helmConfig(ctx, rev.Name, p, opts.WaitOptions, !opts.NoHooks, applyOptions{force: opts.Force, lax: opts.DisableOpenAPIValidation})
	if err != nil {
		return nil, err
	}
	if v != nil && opts.CreateNamespace && opts.DryRun {
		v.creates = c.namespace
	}
	if v != nil && !opts.CreateNamespace {
		if ok, err := v.namespaceExists(c.namespace); err != nil {
			return nil, err
		} else if !ok {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{Options: []string{"create-namespace"}, Use: true}},
				"installing %s as %q: namespace %q does not exist", p.Root.Bundle, rev.Name, c.namespace)
		}
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName = rev.Name
	inst.Namespace = c.namespace
	inst.CreateNamespace = opts.CreateNamespace
	inst.WaitStrategy, inst.WaitOptions = waitFor(ctx, opts.Wait)
	inst.RollbackOnFailure = opts.Atomic
	inst.ServerSideApply = true
	inst.Timeout = opts.timeout()
	inst.WaitForJobs = opts.WaitForJobs
	inst.Description = opts.Description
	inst.DisableHooks = opts.NoHooks
	inst.SkipCRDs = opts.SkipCRDs
	inst.DisableOpenAPIValidation = v.openAPIValidation(opts.DisableOpenAPIValidation)
	inst.Replace = replace
	inst.ForceReplace = opts.Force
	inst.Labels = opts.Labels
	if pr := withPost(postRenderer(p, opts.PostRenderer), opts.Reshape); pr != nil {
		inst.PostRenderer = pr
	}
	inst.DryRunStrategy = dryRunStrategy(opts.DryRun)
	chrt, vals := rev.clone()
	rel, err := v1Of(inst.RunWithContext(ctx, chrt, vals))
	if err == nil && opts.DryRun {
		err = v.dryRun(rel, p)
	}
	if err = orLost(ctx, err); err != nil {
		return nil, fmt.Errorf("installing %s as %q: %w", p.Root.Bundle, rev.Name, render.HelmErrorFor(p.Root.Bundle.Name, err))
	}
	return c.summarizeRun(rel, opts.DryRun), nil
}
