package release

import (
	"context"
	"fmt"
	"unicode/utf8"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/render"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	ReleaseName string
	// Revision to roll back to; zero means the previous one.
	Revision int
	WaitOptions
	DryRun bool
	// Description is recorded as the new revision's description, at most
	// MaxDescriptionLength characters; empty means Helm's ("Rollback to
	// N") (--description).
	Description string
	// NoHooks rolls back without running the target's rollback hooks
	// (--no-hooks).
	NoHooks bool
	// WaitForJobs, with Wait, also waits until every Job has completed
	// (--wait-for-jobs).
	WaitForJobs bool
	// Force replaces objects (PUT) instead of applying them, as Helm's
	// --force-replace (--force) does.
	Force bool
	// CleanupOnFail deletes the objects this rollback created when it
	// fails (--cleanup-on-fail).
	CleanupOnFail bool
	// MaxHistory keeps at most this many revisions, deleting the oldest
	// (not before the new revision is validated); zero keeps all
	// (--history-max).
	MaxHistory int
}

// MaxDescriptionLength is the most characters a rollback's description
// may have, as in Helm.
const MaxDescriptionLength = action.MaxDescriptionLength

// Rollback restores an earlier revision: app and infrastructure together,
// as one new revision.
func (c *Client) Rollback(ctx context.Context, opts RollbackOptions) (*Release, error) {
	if opts.MaxHistory < 0 {
		return nil, &errdefs.OptionError{Option: "MaxHistory", Value: fmt.Sprint(opts.MaxHistory), Msg: "give a number of revisions, or 0 to keep all"}
	}
	if n := utf8.RuneCountInString(opts.Description); n > MaxDescriptionLength {
		return nil, &errdefs.OptionError{Option: "Description", Value: fmt.Sprintf("%d characters", n), Msg: fmt.Sprintf("give at most %d", MaxDescriptionLength)}
	}
	ctx, end, last, err := c.open(ctx, OpRollback, opts.ReleaseName, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	cfg, err := c.opConfig(ctx, opts.ReleaseName, applyOptions{force: opts.Force}, opts.WaitOptions)
	if err != nil {
		return nil, err
	}
	v, err := c.validator(ctx, cfg.KubeClient, !opts.NoHooks, opts.Force)
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
	rb.Description = opts.Description
	rb.DisableHooks = opts.NoHooks
	rb.WaitForJobs = opts.WaitForJobs
	rb.ForceReplace = opts.Force
	rb.CleanupOnFail = opts.CleanupOnFail
	rb.MaxHistory = opts.MaxHistory
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
