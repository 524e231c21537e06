package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/pkg/render"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	ReleaseName string
	// Revision to roll back to; zero means the previous one.
	Revision int
	WaitOptions
	DryRun bool
}

// Rollback restores an earlier revision: app and infrastructure together,
// as one new revision.
func (c *Client) Rollback(ctx context.Context, opts RollbackOptions) (*Release, error) {
	ctx, end, last, err := c.open(ctx, OpRollback, opts.ReleaseName, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	cfg, err := c.opConfig(ctx, opts.ReleaseName, false, opts.WaitOptions)
	if err != nil {
		return nil, err
	}
	v, err := c.validator(ctx, cfg.KubeClient, true, false)
	if err != nil {
		return nil, err
	}
	rb := action.NewRollback(v.gate(cfg))
	if rb.Version, err = c.hist.rollbackTarget(last, opts.Revision); err != nil {
		return nil, err
	}
	if err := c.links.checkRollbackAllowed(ctx, opts.ReleaseName, rb.Version); err != nil {
		return nil, err
	}
	target, err := c.hist.stored(opts.ReleaseName, rb.Version)
	if err != nil {
		return nil, err
	}
	ctx, endGuard, err := c.guards.check(ctx, func(g Guard, ctx context.Context) (context.Context, func(), error) {
		return g.CheckRollback(ctx, record(last), record(target))
	})
	if err != nil {
		return nil, err
	}
	defer endGuard()
	rb.WaitStrategy, rb.WaitOptions = waitFor(ctx, opts.Wait)
	rb.ServerSideApply = serverSideApply
	rb.Timeout = opts.timeout()
	rb.DryRunStrategy = dryRunStrategy(opts.DryRun)
	if err := orLost(ctx, rb.Run(opts.ReleaseName)); err != nil {
		return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, render.HelmError(err))
	}
	if opts.DryRun {
		// Helm's dry run stores nothing, so the gate did not see it:
		// the target revision's objects are validated as they would be.
		target, err := recordsOf(c.cfg).Get(opts.ReleaseName, rb.Version)
		if err != nil {
			return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, err)
		}
		next := *target
		next.Version = last.Version + 1
		info := *target.Info
		info.Status = rcommon.StatusPendingRollback
		next.Info = &info
		if err := v.release(&next); err != nil {
			return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, err)
		}
	}
	if !opts.DryRun && grantable(last) {
		if err := c.regrant(ctx, opts.ReleaseName, opts.WaitOptions); err != nil {
			return nil, fmt.Errorf("rolled back %q, but %w", opts.ReleaseName, err)
		}
	}
	r, err := c.hist.stored(opts.ReleaseName, 0)
	if err != nil {
		return nil, err
	}
	d, err := details(r)
	if err != nil {
		return nil, err
	}
	return d.Release, nil
}
