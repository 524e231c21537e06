package bluegreen

// What of an app's other operations differs for a blue-green app: it is
// uninstalled, diffed and shown whole.

import (
	"context"
	"fmt"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release"
)

// Uninstall uninstalls release opts.ReleaseName: a blue-green app whole,
// its colours (Uninstalled.Colors) before its router, which holds the
// app's claims, holding the router's lease throughout; any other release
// as release.Client.Uninstall does.
func (b *Client) Uninstall(ctx context.Context, opts release.UninstallOptions) (*release.Uninstalled, error) {
	st, err := b.appOf(opts.ReleaseName)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return b.rel.Uninstall(ctx, opts)
	}
	if !opts.DryRun {
		var end func()
		if ctx, end, err = b.rel.Hold(ctx, release.OpUninstall, opts.ReleaseName); err != nil {
			return nil, err
		}
		defer end()
	}
	colors, err := b.uninstallColors(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	opts.WithWhole = true
	un, err := b.rel.Uninstall(ctx, opts)
	if err != nil {
		return nil, err
	}
	un.Colors = colors
	return un, nil
}

// appOf is the blue-green app release name is the router of, as its last
// revision records it; nil for another release. The cluster must answer,
// and the release be stored.
func (b *Client) appOf(name string) (*State, error) {
	if err := b.rel.Reachable(); err != nil {
		return nil, err
	}
	last, err := b.rel.Stored(name, 0)
	if err != nil {
		return nil, err
	}
	return parseRouter(last), nil
}

// DiffRollback is release.Client.DiffRollback, but for a blue-green app
// rolled back without a revision, whose rollback switches to its spare
// and changes no object: there is nothing to diff, and it says so.
func (b *Client) DiffRollback(ctx context.Context, opts release.RollbackOptions, o diff.Options) (*diff.Plan, error) {
	rec, err := b.appOf(opts.ReleaseName)
	if err != nil {
		return nil, err
	}
	if rec != nil && opts.Revision == 0 {
		st, err := b.truth(ctx, rec)
		if err != nil {
			return nil, err
		}
		if st.Spare == "" {
			return nil, errdefs.Fixable(errdefs.ErrInvalid, nil, "blue-green app %q has no spare to switch back to", opts.ReleaseName)
		}
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{See: []string{"status", st.SpareRelease(), "-n", b.ns}}},
			"blue-green app %q: its rollback switches the stable Services from %s to the spare %s and changes no object of either colour, so there is no object to diff", opts.ReleaseName, st.LiveRelease(), st.SpareRelease())
	}
	return b.rel.DiffRollback(ctx, opts, o)
}

// DiffUninstall is release.Client.DiffUninstall; a blue-green app goes
// whole: its colours' objects and claims first, as Uninstall removes them.
func (b *Client) DiffUninstall(ctx context.Context, opts release.UninstallOptions, o diff.Options) (*diff.Plan, error) {
	p, err := b.rel.DiffUninstall(ctx, opts, o)
	if err != nil {
		return nil, err
	}
	st, err := b.appOf(opts.ReleaseName)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p, nil
	}
	var objects []diff.Object
	var claims []diff.Claim
	var secrets []diff.DataSecret
	for _, col := range b.colorReleases(st) {
		co := opts
		co.ReleaseName = col
		cp, err := b.rel.DiffUninstall(ctx, co, o)
		if err != nil {
			return nil, fmt.Errorf("blue-green app %q: %w", opts.ReleaseName, err)
		}
		objects, claims, secrets = append(objects, cp.Objects...), append(claims, cp.Claims...), append(secrets, cp.DataSecrets...)
	}
	p.Objects, p.Claims, p.DataSecrets = append(objects, p.Objects...), append(claims, p.Claims...), append(secrets, p.DataSecrets...)
	return p, nil
}

// Status is a release's status (release.Status), with, for a blue-green
// app, which colour is live.
type Status struct {
	*release.Status
	// BlueGreen, for the router of a blue-green app, is which colour is
	// live and which the spare (docs/blue-green.md); nil otherwise.
	BlueGreen *State
	// BlueGreenError, for the router of a blue-green app, says why which
	// colour serves is not known: its stable Services do not all select
	// one colour (BlueGreen is then the router's record).
	BlueGreenError error
}

// Status is release.Client.Status of revision (0: the latest) of release
// name, with, for a blue-green app's router, its state: of its latest
// revision, the colour its stable Services select; of an earlier one, what
// it recorded.
func (b *Client) Status(ctx context.Context, name string, revision int) (*Status, error) {
	rs, err := b.rel.Status(ctx, name, revision)
	if err != nil {
		return nil, err
	}
	st := &Status{Status: rs}
	a := rs.Chart.Annotations
	if a[annBlueGreen] != "router" {
		return st, nil
	}
	st.BlueGreen = &State{Name: name, Live: a[annLive], Spare: a[annSpare], Revision: -1}
	if rec, last, err := b.routerState(name); err == nil && rec != nil && last.Revision == rs.Revision {
		if now, err := b.truth(ctx, rec); err != nil {
			st.BlueGreenError = err
		} else {
			now.Revision, now.Services, now.router = -1, nil, nil
			st.BlueGreen = now
		}
	}
	return st, nil
}
