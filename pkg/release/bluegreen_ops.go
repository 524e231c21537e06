package release

// A blue-green app's rollback and prune, and the checks that keep an
// operation on one of its releases from breaking the app.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// BlueGreenRollback switches app name back to its spare colour at once:
// the spare becomes live, and the colour that was live the spare. No pod
// is created: the spare has been running all along. Which colour is live
// is what the stable Services select; when they do not all select one
// colour, they are all pointed at the one the router last switched to
// completely.
func (c *Client) BlueGreenRollback(ctx context.Context, name string) (*BlueGreen, error) {
	ctx, end, st, err := c.holdRouter(ctx, OpRollback, name)
	if err != nil {
		return nil, err
	}
	defer end()
	if st == nil {
		return nil, errdefs.Fixable(ErrNotFound, nil, "release %q not found in namespace %q", name, c.namespace)
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
	ctx, endSpare, err := c.begin(ctx, OpRollback, toRel, false)
	if err != nil {
		return nil, err
	}
	defer endSpare()
	spare, err := c.cfg.Releases.Last(toRel)
	if err != nil || spare.Info.Status != helmrelease.StatusDeployed {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, nil, "blue-green app %q: its spare %s is not deployed, cannot switch back to it", name, toRel)
	}
	h, err := c.heldBy(ctx, st.router)
	if err != nil {
		return nil, err
	}
	next := &BlueGreen{Name: name, Live: to, Spare: from, Revision: spare.Version}
	if err := c.route(ctx, next, h); err != nil {
		return nil, err
	}
	if st.Reconciled != "" {
		next.Reconciled = st.Reconciled + ": the rollback recorded what it switched to"
	}
	return next, nil
}

// BlueGreenPrune uninstalls app name's spare colour and records that
// there is none; the live colour and the router are left as they are. The
// colour the stable Services select is never removed: they are read again
// right before the spare is uninstalled.
func (c *Client) BlueGreenPrune(ctx context.Context, name string) (*BlueGreen, *Uninstalled, error) {
	ctx, end, st, err := c.holdRouter(ctx, OpUninstall, name)
	if err != nil {
		return nil, nil, err
	}
	defer end()
	if st == nil {
		return nil, nil, errdefs.Fixable(ErrNotFound, nil, "release %q in namespace %q is not a blue-green app: nothing to prune", name, c.namespace)
	}
	if st.Spare == "" {
		return st, nil, nil
	}
	live, err := c.cfg.Releases.Last(st.LiveRelease())
	if err != nil || live.Info.Status == helmrelease.StatusUninstalled {
		return nil, nil, errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Run: []string{"rollback", name, "-n", c.namespace}}},
			"blue-green app %q: its stable Services select %s, which is not installed: nothing of the app serves, and its other colour %s is not pruned", name, st.LiveRelease(), st.SpareRelease())
	}
	h, err := c.heldBy(ctx, st.router)
	if err != nil {
		return nil, nil, err
	}
	// The claims only the spare used go with it.
	h.claims = usedBy(h, live)
	h.made = keepMade(h, h.claims)
	// A spare already gone (uninstalled by hand, or by a prune that was
	// cut short before the router recorded it) is pruned already.
	un := &Uninstalled{Release: &Release{Name: st.SpareRelease(), Namespace: c.namespace}}
	if rel, err := c.cfg.Releases.Last(st.SpareRelease()); err == nil && rel.Info.Status != helmrelease.StatusUninstalled {
		if err := c.checkNotServed(ctx, st, st.Spare); err != nil {
			return nil, nil, err
		}
		if un, err = c.Uninstall(ctx, UninstallOptions{ReleaseName: st.SpareRelease(), WaitOptions: WaitOptions{Wait: true}}); err != nil {
			return nil, nil, err
		}
	}
	delete(h.ingresses, st.Spare)
	next := &BlueGreen{Name: name, Live: st.Live, Revision: live.Version, Reconciled: st.Reconciled}
	if err := c.route(ctx, next, h); err != nil {
		return nil, nil, err
	}
	return next, un, nil
}

// checkNotServed refuses when a stable Service of app st selects colour
// col, read from the cluster now.
func (c *Client) checkNotServed(ctx context.Context, st *BlueGreen, col string) error {
	s, err := c.served(ctx, st)
	if err != nil {
		return err
	}
	for _, n := range slices.Sorted(maps.Keys(s)) {
		if s[n] == col {
			return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{See: []string{"status", st.Name, "-n", c.namespace}}},
				"blue-green app %q: %s is not removed: its stable Service %s selects it now (it serves)", st.Name, ColorRelease(st.Name, col), n)
		}
	}
	return nil
}

// uninstallColors uninstalls the colours of blue-green app st (those
// its router names, and any other release marked as its colour) with
// opts, before its router.
func (c *Client) uninstallColors(ctx context.Context, st *BlueGreen, opts UninstallOptions) ([]*Uninstalled, error) {
	var out []*Uninstalled
	for _, name := range c.colorReleases(st) {
		o := opts
		o.ReleaseName, o.WithItsApp = name, true
		un, err := c.Uninstall(ctx, o)
		if err != nil {
			return out, fmt.Errorf("uninstalling blue-green app %q: %w", st.Name, err)
		}
		out = append(out, un)
	}
	return out, nil
}

// colorReleases are the installed colour releases of blue-green app st:
// those its router names, and any other release marked as its colour.
func (c *Client) colorReleases(st *BlueGreen) []string {
	var out []string
	for _, col := range Colors {
		name := ColorRelease(st.Name, col)
		rel, err := c.cfg.Releases.Last(name)
		if err != nil || rel.Info.Status == helmrelease.StatusUninstalled {
			continue
		}
		marked := rel.Chart != nil && rel.Chart.Metadata != nil && rel.Chart.Metadata.Annotations[annColorOf] == st.Name
		if marked || col == st.Live || col == st.Spare {
			out = append(out, name)
		}
	}
	return out
}

// checkColorClaims refuses to upgrade colour name of blue-green app on
// its own to plan p when p claims what the app's router does not hold
// (a claim is made for the app, by its router, before a colour uses it).
func (c *Client) checkColorClaims(app, name, ref string, p *plan.Plan) error {
	claimed := map[string]string{}
	for inst, b := range p.Bound {
		if b.Claims() != nil {
			claimed[inst] = b.Target()
		}
	}
	return c.checkHeld(app, name, claimed, []errdefs.Fix{{Run: []string{"upgrade", app, ref, "-n", c.namespace, "--strategy", StrategyBlueGreen}}})
}

// checkHeld refuses to change colour name of blue-green app so that it
// claims (INSTANCE: NAMESPACE/PROVIDER) what the app's router does not
// hold, with fixes.
func (c *Client) checkHeld(app, name string, claimed map[string]string, fixes []errdefs.Fix) error {
	router, err := c.cfg.Releases.Last(app)
	if err != nil {
		return err
	}
	held := map[string]string{}
	for _, r := range recordedBindings(router) {
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

// checkColorRollback refuses to roll colour last of a blue-green app back
// to revision rev when rev claims what the app's router does not hold.
func (c *Client) checkColorRollback(ctx context.Context, last *helmrelease.Release, rev int) (context.Context, func(), error) {
	app := blueGreenApp(last)
	if app == "" || app == last.Name {
		return ctx, func() {}, nil
	}
	if st, _, err := c.routerState(app); err != nil || st == nil {
		return ctx, func() {}, nil
	}
	// The app's lease: its router's claims are read.
	ctx, end, err := c.begin(ctx, OpRollback, app, false)
	if err != nil {
		return ctx, func() {}, err
	}
	target, err := c.cfg.Releases.Get(last.Name, rev)
	if err != nil {
		end()
		return ctx, func() {}, err
	}
	claimed := map[string]string{}
	for _, r := range recordedBindings(target) {
		if r.Claim && r.Bound != "" {
			claimed[r.Instance] = r.Bound
		}
	}
	if err := c.checkHeld(app, last.Name, claimed, []errdefs.Fix{{See: []string{"history", last.Name, "-n", c.namespace}}}); err != nil {
		end()
		return ctx, func() {}, err
	}
	return ctx, end, nil
}

// blueGreenApp is the blue-green app rel belongs to, as its router or a
// colour (its mark); empty for another release.
func blueGreenApp(rel *helmrelease.Release) string {
	if parseRouter(rel) != nil {
		return rel.Name
	}
	if rel.Chart == nil || rel.Chart.Metadata == nil {
		return ""
	}
	return rel.Chart.Metadata.Annotations[annColorOf]
}

// asColor makes opts, an upgrade of release last, the upgrade of a colour
// when last is a colour of a blue-green app that exists (upgraded on its
// own: bundle upgrade NAME-green, or diff upgrade): wired to the app's
// claims, its Ingresses left to the router, its mark kept. Nothing is
// switched.
func (c *Client) asColor(opts UpgradeOptions, last *helmrelease.Release) (_ UpgradeOptions, app string) {
	if last.Chart == nil || last.Chart.Metadata == nil {
		return opts, ""
	}
	app = last.Chart.Metadata.Annotations[annColorOf]
	color := strings.TrimPrefix(last.Name, app+"-")
	if app == "" || ColorRelease(app, color) != last.Name {
		return opts, ""
	}
	if st, _, err := c.routerState(app); err != nil || st == nil {
		return opts, ""
	}
	opts.ClaimHolder = app
	if opts.Reshape == nil {
		opts.Reshape = colorPost{app: app, color: color, ingresses: new(string)}.Run
	}
	ann := map[string]string{annColorOf: app}
	for k, v := range opts.Annotations {
		ann[k] = v
	}
	opts.Annotations = ann
	return opts, app
}

// checkNotLive refuses to uninstall rel on its own when it is the live
// colour of a blue-green app (its router records it so, or one of its
// stable Services selects it): its stable Services would select nothing.
func (c *Client) checkNotLive(ctx context.Context, rel *helmrelease.Release) error {
	if rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil
	}
	app := rel.Chart.Metadata.Annotations[annColorOf]
	if app == "" {
		return nil
	}
	st, _, err := c.routerState(app)
	if err != nil || st == nil {
		return nil
	}
	live := st.LiveRelease() == rel.Name
	s, err := c.served(ctx, st)
	if err != nil {
		return err
	}
	for _, col := range s {
		if col != "" && ColorRelease(app, col) == rel.Name {
			live = true
		}
	}
	if !live {
		return nil
	}
	fixes := []errdefs.Fix{{Run: []string{"uninstall", app, "-n", c.namespace}}}
	if st.Spare != "" {
		fixes = append(fixes, errdefs.Fix{Run: []string{"rollback", app, "-n", c.namespace}})
	}
	fixes = append(fixes, errdefs.Fix{Options: []string{"force"}, Use: true})
	return errdefs.Fixable(errdefs.ErrConflict, fixes, "release %q is the live colour of blue-green app %q: its stable Services would select nothing", rel.Name, app)
}
