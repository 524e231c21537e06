package bluegreen

// The guard (release.Guard): what an operation on one of a blue-green
// app's releases, run on its own, must not break.

import (
	"context"
	"maps"
	"strings"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release"
)

// kind is what a release is to blue/green, read once (classify) and then
// switched on, as Flux's helm-controller reads a release's state before it
// acts.
type kind int

const (
	plain  kind = iota // a release of its own
	router             // a blue-green app's router: the app itself
	colour             // a colour of an app whose router is installed
	orphan             // marked a colour, of an app with no router (or not named as a colour of it)
)

// classify reads what release rec is to blue/green and, but for a plain
// release, its app.
func (b *Client) classify(rec *release.Record) (kind, string) {
	if parseRouter(rec) != nil {
		return router, rec.Name
	}
	app := rec.Annotations[annColorOf]
	switch {
	case app == "":
		return plain, ""
	case rec.Name != ColorRelease(app, Colors[0]) && rec.Name != ColorRelease(app, Colors[1]):
		return orphan, app
	}
	if st, _, err := b.routerState(app); err != nil || st == nil {
		return orphan, app
	}
	return colour, app
}

// WholeOf is the blue-green app rec belongs to, as its router or a colour
// (its mark); empty for another release.
func (b *Client) WholeOf(rec *release.Record) string {
	_, app := b.classify(rec)
	return app
}

// CheckUpgrade refuses to upgrade a router in place (its stable Services
// would be replaced with the bundle), and makes the upgrade of a colour on
// its own (bundle upgrade NAME-green, or diff upgrade) the upgrade of a
// colour: wired to the app's claims, its Ingresses left to the router, its
// mark kept, the app's lease held. Nothing is switched.
func (b *Client) CheckUpgrade(_ context.Context, last *release.Record, opts release.UpgradeOptions) (release.PartOf, string, error) {
	switch k, app := b.classify(last); k {
	case router:
		return release.PartOf{}, "", errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"upgrade", last.Name, opts.Reference, "-n", b.ns, "--strategy", Strategy}}},
			"release %q in namespace %q is a blue-green app (its stable Services): an upgrade in place would replace them with the bundle", last.Name, b.ns)
	case colour:
		return release.PartOf{
			ClaimHolder: app,
			Reshape:     colorPost{app: app, color: strings.TrimPrefix(last.Name, app+"-"), ingresses: new(string)}.Run,
			Annotations: map[string]string{annColorOf: app},
		}, app, nil
	}
	return release.PartOf{}, "", nil
}

// CheckPerform refuses to upgrade colour rev.Name of blue-green app on its
// own so that it claims what the app's router does not hold (a claim is
// made for the app, by its router, before a colour uses it).
func (b *Client) CheckPerform(_ context.Context, rev *release.Revision, app string) error {
	if !b.IsApp(app) {
		return nil
	}
	return b.checkColorClaims(app, rev.Name, rev.Options.Reference, rev.Plan)
}

// CheckRollback refuses to roll a router back to a revision of its own
// (that would put back Services, Ingresses and claims of colours that may
// be gone, and a wrong record), and to roll a colour back to a revision
// that claims what the app's router does not hold; for a colour it holds
// the app's lease, whose router's claims it reads.
func (b *Client) CheckRollback(ctx context.Context, last, target *release.Record) (context.Context, func(), error) {
	k, app := b.classify(last)
	switch k {
	case router:
		return ctx, nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"rollback", last.Name, "-n", b.ns}}},
			"release %q in namespace %q is a blue-green app, not rolled back to a revision of its own (that would restore Services and claims of colours that may be gone): roll it back without a revision to switch to its spare, or roll back a colour release", last.Name, b.ns)
	case plain, orphan:
		return ctx, nil, nil
	}
	ctx, end, err := b.rel.Hold(ctx, release.OpRollback, app)
	if err != nil {
		return ctx, nil, err
	}
	claimed := map[string]string{}
	for _, r := range target.Resolved() {
		if r.Claim && r.Bound != "" {
			claimed[r.Instance] = r.Bound
		}
	}
	if err := b.checkHeld(app, last.Name, claimed, []errdefs.Fix{{See: []string{"history", last.Name, "-n", b.ns}}}); err != nil {
		end()
		return ctx, nil, err
	}
	return ctx, end, nil
}

// CheckUninstall refuses to uninstall a router but with its app
// (Uninstall), and, without Force, the live colour of a blue-green app on
// its own (its router records it so, or one of its stable Services selects
// it: they would select nothing); for a colour it holds the app's lease,
// so that the app is not switched to it while it goes.
func (b *Client) CheckUninstall(ctx context.Context, last *release.Record, opts release.UninstallOptions) (context.Context, func(), error) {
	if opts.WithWhole {
		return ctx, nil, nil
	}
	k, app := b.classify(last)
	switch {
	case k == router:
		return ctx, nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"uninstall", last.Name, "-n", b.ns}}},
			"release %q in namespace %q is a blue-green app: it is uninstalled with its colours, as one (bluegreen.Client.Uninstall)", last.Name, b.ns)
	case k != colour || opts.Force:
		return ctx, nil, nil
	}
	end := func() {}
	if !opts.DryRun {
		var err error
		if ctx, end, err = b.rel.Hold(ctx, release.OpUninstall, app); err != nil {
			return ctx, nil, err
		}
	}
	st, _, err := b.routerState(app)
	if err != nil || st == nil {
		return ctx, end, nil
	}
	live := st.LiveRelease() == last.Name
	s, err := b.served(ctx, st)
	if err != nil {
		end()
		return ctx, nil, err
	}
	for col := range maps.Values(s) {
		if col != "" && ColorRelease(app, col) == last.Name {
			live = true
		}
	}
	if !live {
		return ctx, end, nil
	}
	end()
	fixes := []errdefs.Fix{{Run: []string{"uninstall", app, "-n", b.ns}}}
	if st.Spare != "" {
		fixes = append(fixes, errdefs.Fix{Run: []string{"rollback", app, "-n", b.ns}})
	}
	fixes = append(fixes, errdefs.Fix{Options: []string{"force"}, Use: true})
	return ctx, nil, errdefs.Fixable(errdefs.ErrConflict, fixes, "release %q is the live colour of blue-green app %q: its stable Services would select nothing", last.Name, app)
}
