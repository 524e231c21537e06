package bluegreen

// A blue-green upgrade: the colour that is not live prepared once,
// installed or upgraded, waited for, then switched to (route).

import (
	"context"
	"fmt"
	"sort"
	"strings"

	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

// Plan is a blue-green upgrade worked out, changing nothing
// (PlanUpgrade): the colour's revision prepared once, and the switch it
// leads to. DiffPlan shows it; Perform performs it.
type Plan struct {
	// Next is what the switch records: the colour that comes up live,
	// the colour live now its spare, and the claims the router makes
	// first (NewClaims).
	Next *State
	opts release.UpgradeOptions
	// now is the app as it was planned over (nil: no app yet).
	now *State
	bg  *blueGreen
}

// PlanUpgrade works out the blue-green upgrade of app opts.ReleaseName,
// changing nothing and holding no lease: which colour comes up, its
// revision (read, bound, resolved and rendered once, starting from the
// live colour's values and bindings), and what the router holds. What
// would be refused is refused here.
func (b *Client) PlanUpgrade(ctx context.Context, opts release.UpgradeOptions) (*Plan, error) {
	if err := b.rel.Reachable(); err != nil {
		return nil, err
	}
	st, err := b.blueGreenNow(ctx, opts.ReleaseName)
	if err != nil {
		return nil, err
	}
	bg, err := b.planBlueGreen(ctx, opts, st)
	if err != nil {
		return nil, err
	}
	return &Plan{Next: bg.next, opts: opts, now: st, bg: bg}, nil
}

// Upgrade upgrades app opts.ReleaseName with the blue-green strategy:
// PlanUpgrade, then Perform. The bundle is installed (or upgraded) as the
// colour that is not live, waited for until ready, and then the stable
// Services are switched to it; the colour that was live is kept as the hot
// spare. The first blue-green upgrade of a name that does not exist
// installs blue and the router. Every requirement must be bound.
func (b *Client) Upgrade(ctx context.Context, opts release.UpgradeOptions) (*State, error) {
	p, err := b.PlanUpgrade(ctx, opts)
	if err != nil {
		return nil, err
	}
	return b.Perform(ctx, p)
}

// Perform performs planned upgrade p, holding the router's lease from
// reading which colour is live to the switch: refused with ErrStale when
// the app's colours are no longer those it was planned over (and, by
// release.Client.Perform, when the colour's release moved on). With
// DryRun, the colour's upgrade (or install) is dry-run and validated, the
// router left as it is; the result says what the switch would make live,
// with the colour's revision as it would be.
func (b *Client) Perform(ctx context.Context, p *Plan) (*State, error) {
	name, bg := p.opts.ReleaseName, p.bg
	if p.opts.DryRun {
		rel, err := b.rel.Perform(ctx, bg.rev)
		if err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: %s: %w", name, bg.rev.Name, err)
		}
		_, names, err := RouterServices(rel.Manifest, bg.next.Name, bg.next.Live)
		if err != nil {
			return nil, err
		}
		bg.next.Services, bg.next.Revision, bg.next.Release = names, rel.Revision, rel
		return bg.next, nil
	}
	if p.opts.CreateNamespace {
		// Before the router's lease, which lives in it.
		if err := b.rel.CreateNamespace(ctx, name); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: %w", name, err)
		}
	}
	ctx, end, st, err := b.holdRouter(ctx, release.OpUpgrade, name)
	if err != nil {
		return nil, err
	}
	defer end()
	if colours(st) != colours(p.now) {
		return nil, errdefs.Fixable(errdefs.ErrStale, []errdefs.Fix{{See: []string{"status", name, "-n", b.ns}}},
			"blue-green app %q changed while its upgrade was planned (%s, planned over %s): nothing was changed, run the upgrade again", name, colours(st), colours(p.now))
	}
	// The app's claims are held by the router, made before the colour
	// starts: a colour's pods find their credentials there. Nothing is
	// changed for a colour that would not render or validate.
	if bg.claimsChange {
		dry := *bg.rev
		dry.Options.DryRun = true
		if _, err := b.rel.Perform(ctx, &dry); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: %s: %w", name, bg.rev.Name, err)
		}
		now := &State{Name: name}
		if st != nil {
			now = &State{Name: name, Live: st.Live, Spare: st.Spare}
		}
		if err := b.route(ctx, now, bg.holds); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: making the app's claims: %w", name, err)
		}
	}
	// Made now or by an earlier try that stopped waiting: the colour is
	// installed once they are done.
	if len(bg.holds.claims) > 0 {
		if err := b.rel.WaitJobs(ctx, name, p.opts.WaitOptions); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: the app's claims are not ready, %s not installed or upgraded (the live colour is untouched; a claim Job that failed is made again once deleted): %w", name, bg.rev.Name, err)
		}
	}
	rel, err := b.rel.Perform(ctx, bg.rev)
	if err != nil {
		return nil, fmt.Errorf("blue-green upgrade of %q: %s not switched to (the live colour is untouched): %w", name, bg.rev.Name, err)
	}
	if rel.Status != rcommon.StatusDeployed.String() {
		return nil, fmt.Errorf("blue-green upgrade of %q: %s is %s, not switched to", name, bg.rev.Name, rel.Status)
	}
	bg.holds.ingresses[bg.next.Live] = *bg.ingresses
	bg.next.Revision, bg.next.Release = rel.Revision, rel
	if err := b.route(ctx, bg.next, bg.holds); err != nil {
		return nil, err
	}
	if st != nil {
		bg.next.Reconciled = st.Reconciled
	}
	return bg.next, nil
}

// Diff is what a blue-green upgrade of app opts.ReleaseName would change,
// changing nothing: PlanUpgrade, then DiffPlan.
func (b *Client) Diff(ctx context.Context, opts release.UpgradeOptions, o diff.Options) (*diff.Plan, *State, error) {
	p, err := b.PlanUpgrade(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	d, err := b.DiffPlan(ctx, p, o)
	return d, p.Next, err
}

// DiffPlan is what planned upgrade p would change: the diff of the colour
// it would install or upgrade (as bundle diff upgrade NAME-COLOR of a
// colour); p.Next is the state the switch would record. p may be
// performed after.
func (b *Client) DiffPlan(ctx context.Context, p *Plan, o diff.Options) (*diff.Plan, error) {
	if p.now != nil {
		p.Next.Services = p.now.Services
	}
	return b.rel.DiffRevision(ctx, p.bg.rev, o)
}

// blueGreen is what a blue-green upgrade of an app does: the colour's
// revision (rev: installed or upgraded, waited for), then the switch to next,
// with what the router holds; its claims made first when they change.
type blueGreen struct {
	rev          *release.Revision
	next         *State
	holds        holdings
	claimsChange bool
	ingresses    *string // the colour's, as its post-renderer takes them
}

// planBlueGreen works out the blue-green upgrade of app opts.ReleaseName,
// whose router records st (nil: the app is new), changing nothing. What
// would be refused is refused here.
func (b *Client) planBlueGreen(ctx context.Context, opts release.UpgradeOptions, st *State) (*blueGreen, error) {
	name := opts.ReleaseName
	live := ""
	if st != nil {
		live = st.Live
	}
	color := OtherColor(live)
	target := ColorRelease(name, color)

	// The colour's release, when there is one, must be this app's.
	// The router's spare is; otherwise its mark says so.
	if rel, err := b.rel.Stored(target, 0); err == nil && rel.Installed() &&
		(st == nil || st.Spare != color) && rel.Annotations[annColorOf] != name {
		return nil, errdefs.Fixable(errdefs.ErrExists, nil, "blue-green upgrade of %q refused: release %q exists in namespace %q and is not a colour of blue-green app %q (uninstall it, or choose another NAME)", name, target, b.ns, name)
	}
	// The colour's revision, prepared once: bound (the bindings given
	// now and those the live colour recorded), resolved and rendered,
	// starting from the live colour's values. It is switched to only once
	// ready.
	up := opts
	up.ReleaseName, up.Install, up.Wait = target, true, true
	up.Annotations = map[string]string{annColorOf: name}
	up.ClaimHolder = name
	var recorded []plan.Resolved
	var liveRel *release.Record
	if live != "" {
		if rel, err := b.rel.Stored(ColorRelease(name, live), 0); err == nil {
			liveRel = b.rel.Base(rel.Name)
			recorded = liveRel.Resolved()
			up.StartFrom = rel.Name
		}
	}
	ingresses := new(string)
	up.Reshape = colorPost{app: name, color: color, ingresses: ingresses}.Run
	rev, err := b.rel.Prepare(ctx, release.PrepareOptions{Upgrade: &up})
	if err != nil {
		return nil, err
	}
	p := rev.Plan
	if u := UnboundRequirements(p); len(u) > 0 {
		return nil, errUnbound(name, u)
	}
	if err := sameClaims(name, recorded, p); err != nil {
		return nil, err
	}
	var routerRel *release.Record
	if st != nil {
		routerRel = st.router
	}
	h, err := b.heldBy(ctx, routerRel)
	if err != nil {
		return nil, err
	}
	// The router holds what the new colour claims and, until it is
	// pruned, what the colour that becomes the spare claims.
	newClaims, newMade := claimsOf(p, render.ReleaseOptions{Name: name, Namespace: b.ns})
	h.claims, h.made = claimsUsedBy(h, liveRel), madeClaims(h, claimsUsedBy(h, liveRel))
	for _, r := range newClaims {
		h.claims = append(h.claims[:0:0], withoutInstance(h.claims, r.Instance)...)
		h.claims = append(h.claims, r)
		h.made[r.Instance] = newMade[r.Instance]
	}
	routerClaims := routerRel.Resolved()
	bg := &blueGreen{rev: rev, holds: h, claimsChange: claimKeys(h.claims) != claimKeys(routerClaims), ingresses: ingresses}
	bg.next = &State{Name: name, Live: color, Spare: live}
	before := map[string]bool{}
	for _, r := range routerClaims {
		before[r.Instance+"="+r.Bound] = r.Claim
	}
	for _, r := range h.claims {
		if !before[r.Instance+"="+r.Bound] {
			bg.next.NewClaims = append(bg.next.NewClaims, r.Instance+" on "+r.Bound)
		}
	}
	sort.Strings(bg.next.NewClaims)
	return bg, nil
}

// sameClaims refuses to move a claimed requirement of blue-green app name
// to another provider than the live colour's (recorded): the new colour
// would start on an empty database of its own, and the spare and the new
// colour would no longer share their data.
func sameClaims(name string, recorded []plan.Resolved, p *plan.Plan) error {
	claimedBefore := map[string]bool{}
	for _, r := range recorded {
		if r.Claim && r.Bound != "" {
			claimedBefore[r.Instance] = true
		}
	}
	for _, r := range recorded {
		if !r.Claim || r.Bound == "" {
			continue
		}
		if b := p.Bound[r.Instance]; b != nil && b.Target() != r.Bound {
			return errdefs.Fixable(errdefs.ErrInvalid, nil,
				"blue-green upgrade of %q refused: requirement %s has a claim (its own database) on %s; binding it to %s would start the new colour on an empty one while the spare keeps the old (move the data first, then install the app anew, or bind %s=%s)",
				name, r.Instance, r.Bound, b.Target(), r.Instance, r.Bound)
		}
		if p.Bound[r.Instance] != nil {
			continue
		}
		// Dropped: refused when another requirement claims anew on the
		// same provider (a renamed instance: a new, empty database).
		for inst, b := range p.Bound {
			if b.Claims() != nil && b.Target() == r.Bound && !claimedBefore[inst] {
				return errdefs.Fixable(errdefs.ErrInvalid, nil,
					"blue-green upgrade of %q refused: requirement %s, which has a claim (its own database) on %s, is gone and requirement %s would claim anew there: the new colour would start on an empty database while the spare keeps the old (keep the instance name %s in the new version)",
					name, r.Instance, r.Bound, inst, r.Instance)
			}
		}
	}
	return nil
}

// holdings are what a router holds besides its Services.
type holdings struct {
	// claims are the app's bindings that use a claim, as recorded, and
	// made the claims themselves by instance, as the router renders them
	// (and carries them in its chart, claimFile): once for both colours.
	claims []plan.Resolved
	made   map[string]render.HeldClaim
	// ingresses are each colour's Ingresses (colorPost), by colour: the
	// router installs the live colour's.
	ingresses map[string]string
}

// claimsOf is what plan p claims for release rel (a blue-green app's
// router): its bindings that use a claim, and the claims.
func claimsOf(p *plan.Plan, rel render.ReleaseOptions) ([]plan.Resolved, map[string]render.HeldClaim) {
	bound := map[string]*plan.Binding{}
	var rs []plan.Resolved
	for _, r := range p.Resolved() {
		if r.Claim {
			rs = append(rs, r)
			bound[r.Instance] = p.Bound[r.Instance]
		}
	}
	return rs, render.HeldClaims(bound, rel)
}

// claimsUsedBy is what of the claims h holds colour release rel uses (its
// recorded claimed bindings, same instance and provider); none for nil.
func claimsUsedBy(h holdings, rel *release.Record) []plan.Resolved {
	uses := map[string]string{}
	for _, r := range rel.Resolved() {
		if r.Claim {
			uses[r.Instance] = r.Bound
		}
	}
	var out []plan.Resolved
	for _, r := range h.claims {
		if b, ok := uses[r.Instance]; ok && b == r.Bound {
			out = append(out, r)
		}
	}
	return out
}

// madeClaims is h's claims of rs.
func madeClaims(h holdings, rs []plan.Resolved) map[string]render.HeldClaim {
	out := map[string]render.HeldClaim{}
	for _, r := range rs {
		if hc, ok := h.made[r.Instance]; ok {
			out[r.Instance] = hc
		}
	}
	return out
}

// withoutInstance is rs without instance inst's.
func withoutInstance(rs []plan.Resolved, inst string) []plan.Resolved {
	var out []plan.Resolved
	for _, r := range rs {
		if r.Instance != inst {
			out = append(out, r)
		}
	}
	return out
}

// claimKeys is a claim list's identity: each instance, its provider and
// the provider's version.
func claimKeys(rs []plan.Resolved) string {
	var keys []string
	for _, r := range rs {
		if r.Claim {
			keys = append(keys, r.Instance+"="+r.Bound+"@"+r.Version)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
