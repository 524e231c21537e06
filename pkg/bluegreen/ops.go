package bluegreen

// A blue-green app's rollback and prune, and the checks that keep an
// operation on one of its releases from breaking the app.

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// Rollback switches app name back to its spare colour at once:
// the spare becomes live, and the colour that was live the spare. No pod
// is created: the spare has been running all along. Which colour is live
// is what the stable Services select; when they do not all select one
// colour, they are all pointed at the one the router last switched to
// completely.
func (b *Client) Rollback(ctx context.Context, name string) (*State, error) {
	ctx, end, st, err := b.holdRouter(ctx, release.OpRollback, name)
	if err != nil {
		return nil, err
	}
	defer end()
	if st == nil {
		return nil, errdefs.Fixable(errdefs.ErrNotFound, nil, "release %q not found in namespace %q", name, b.ns)
	}
	to, from := st.Spare, st.Live
	if st.repair {
		to, from = st.Live, st.Spare
	}
	if to == "" {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, nil, "blue-green app %q has no spare to switch back to (it was pruned, or never upgraded since its first install)", name)
	}
	// The spare's lease too: it is not uninstalled or upgraded on its own
	// while it is switched to.
	toRel := ColorRelease(name, to)
	ctx, endSpare, err := b.rel.Hold(ctx, release.OpRollback, toRel)
	if err != nil {
		return nil, err
	}
	defer endSpare()
	spare, err := b.rel.Stored(toRel, 0)
	if err != nil || !spare.Deployed() {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, nil, "blue-green app %q: its spare %s is not deployed, cannot switch back to it", name, toRel)
	}
	h, err := b.heldBy(ctx, st.router)
	if err != nil {
		return nil, err
	}
	next := &State{Name: name, Live: to, Spare: from, Revision: spare.Revision}
	if err := b.route(ctx, next, h); err != nil {
		return nil, err
	}
	if st.Reconciled != "" {
		next.Reconciled = st.Reconciled + ": the rollback recorded what it switched to"
	}
	return next, nil
}

// Prune uninstalls app name's spare colour and records that
// there is none; the live colour and the router are left as they are. The
// colour the stable Services select is never removed: they are read again
// right before the spare is uninstalled.
func (b *Client) Prune(ctx context.Context, name string) (*State, *release.Uninstalled, error) {
	ctx, end, st, err := b.holdRouter(ctx, release.OpUninstall, name)
	if err != nil {
		return nil, nil, err
	}
	defer end()
	if st == nil {
		return nil, nil, errdefs.Fixable(errdefs.ErrNotFound, nil, "release %q in namespace %q is not a blue-green app: nothing to prune", name, b.ns)
	}
	if st.Spare == "" {
		return st, nil, nil
	}
	live, err := b.rel.Stored(st.LiveRelease(), 0)
	if err != nil || !live.Installed() {
		return nil, nil, errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Run: []string{"rollback", name, "-n", b.ns}}},
			"blue-green app %q: its stable Services select %s, which is not installed: nothing of the app serves, and its other colour %s is not pruned", name, st.LiveRelease(), st.SpareRelease())
	}
	h, err := b.heldBy(ctx, st.router)
	if err != nil {
		return nil, nil, err
	}
	// The claims only the spare used go with it.
	h.claims = claimsUsedBy(h, live)
	h.made = madeClaims(h, h.claims)
	// A spare already gone (uninstalled by hand, or by a prune that was
	// cut short before the router recorded it) is pruned already.
	un := &release.Uninstalled{Release: &release.Release{Name: st.SpareRelease(), Namespace: b.ns}}
	if rel, err := b.rel.Stored(st.SpareRelease(), 0); err == nil && rel.Installed() {
		if err := b.checkNotServed(ctx, st, st.Spare); err != nil {
			return nil, nil, err
		}
		if un, err = b.rel.Uninstall(ctx, release.UninstallOptions{ReleaseName: st.SpareRelease(), WaitOptions: release.WaitOptions{Wait: true}}); err != nil {
			return nil, nil, err
		}
	}
	delete(h.ingresses, st.Spare)
	next := &State{Name: name, Live: st.Live, Revision: live.Revision, Reconciled: st.Reconciled}
	if err := b.route(ctx, next, h); err != nil {
		return nil, nil, err
	}
	return next, un, nil
}

// checkNotServed refuses when a stable Service of app st selects colour
// col, read from the cluster now.
func (b *Client) checkNotServed(ctx context.Context, st *State, col string) error {
	s, err := b.served(ctx, st)
	if err != nil {
		return err
	}
	for _, n := range slices.Sorted(maps.Keys(s)) {
		if s[n] == col {
			return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{See: []string{"status", st.Name, "-n", b.ns}}},
				"blue-green app %q: %s is not removed: its stable Service %s selects it now (it serves)", st.Name, ColorRelease(st.Name, col), n)
		}
	}
	return nil
}

// uninstallColors uninstalls the colours of blue-green app st (those
// its router names, and any other release marked as its colour) with
// opts, before its router.
func (b *Client) uninstallColors(ctx context.Context, st *State, opts release.UninstallOptions) ([]*release.Uninstalled, error) {
	var out []*release.Uninstalled
	for _, name := range b.colorReleases(st) {
		o := opts
		o.ReleaseName, o.WithWhole = name, true
		un, err := b.rel.Uninstall(ctx, o)
		if err != nil {
			return out, fmt.Errorf("uninstalling blue-green app %q: %w", st.Name, err)
		}
		out = append(out, un)
	}
	return out, nil
}

// colorReleases are the installed colour releases of blue-green app st:
// those its router names, and any other release marked as its colour.
func (b *Client) colorReleases(st *State) []string {
	var out []string
	for _, col := range Colors {
		name := ColorRelease(st.Name, col)
		rel, err := b.rel.Stored(name, 0)
		if err != nil || !rel.Installed() {
			continue
		}
		marked := rel.Annotations[annColorOf] == st.Name
		if marked || col == st.Live || col == st.Spare {
			out = append(out, name)
		}
	}
	return out
}

// checkColorClaims refuses to upgrade colour name of blue-green app on
// its own to plan p when p claims what the app's router does not hold
// (a claim is made for the app, by its router, before a colour uses it).
func (b *Client) checkColorClaims(app, name, ref string, p *plan.Plan) error {
	claimed := map[string]string{}
	for inst, bd := range p.Bound {
		if bd.Claims() != nil {
			claimed[inst] = bd.Target()
		}
	}
	return b.checkHeld(app, name, claimed, []errdefs.Fix{{Run: []string{"upgrade", app, ref, "-n", b.ns, "--strategy", Strategy}}})
}

// checkHeld refuses to change colour name of blue-green app so that it
// claims (INSTANCE: NAMESPACE/PROVIDER) what the app's router does not
// hold, with fixes.
func (b *Client) checkHeld(app, name string, claimed map[string]string, fixes []errdefs.Fix) error {
	router, err := b.rel.Stored(app, 0)
	if err != nil {
		return err
	}
	held := map[string]string{}
	for _, r := range router.Resolved() {
		if r.Claim {
			held[r.Instance] = r.Bound
		}
	}
	for _, inst := range slices.Sorted(maps.Keys(claimed)) {
		if held[inst] != claimed[inst] {
			return errdefs.Fixable(errdefs.ErrInvalid, fixes,
				"changing %q on its own refused: it is a colour of blue-green app %q, whose router holds no claim for %s on %s (the claims of a blue-green app are made for the app, before its colour)", name, app, inst, claimed[inst])
		}
	}
	return nil
}
