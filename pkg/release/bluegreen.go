package release

// Blue/green apps (docs/blue-green.md). An app NAME upgraded with the
// blue-green strategy is three Helm releases in one namespace:
//
//   - NAME-blue and NAME-green, the two colours: each the whole bundle,
//     installed and upgraded as any release (its requirements must all be
//     bound to provider releases: stateful infrastructure is never
//     duplicated);
//   - NAME, the router: the app's stable Services, each named as the live
//     colour's Service with the colour taken out of its name
//     (NAME-green-web: NAME-web), with that Service's ports and selector;
//     the live colour's Ingresses (a colour installs none of its own), so
//     named and pointed at the stable Services; and the claims of the app's
//     bindings, made once for the app (NAME's, not a colour's) so that both
//     colours use the same database.
//
// The router's record (its chart's annotations) says which colour is live
// and which is the hot spare; but the truth is what its stable Services
// select, read from the cluster before every upgrade, rollback and prune
// (a switch stores its record before it updates the Services, and may stop
// in between): the router's record is made to agree with them first.
// Switching is an upgrade of the router whose Services select the other
// colour's pods; it is done only once those are ready.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/kube"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

const (
	// StrategyBlueGreen is bundle upgrade --strategy blue-green.
	StrategyBlueGreen = "blue-green"

	// The router's chart name and the annotations of its record.
	routerChart   = "bundle-router"
	annBlueGreen  = "bundle.sh/blue-green"
	annLive       = "bundle.sh/live"
	annSpare      = "bundle.sh/spare"
	annColorOf    = "bundle.sh/color-of"
	colorLabel    = "bundle.sh/color"
	routerVersion = "1.0.0"
)

// Colors are the two colours of a blue/green app.
var Colors = [2]string{"blue", "green"}

// OtherColor is the colour that is not c ("blue" when c is empty).
func OtherColor(c string) string {
	if c == "blue" {
		return "green"
	}
	return "blue"
}

// ColorRelease is the release of app name's colour c: NAME-c.
func ColorRelease(name, c string) string { return name + "-" + c }

// BlueGreen is a blue/green app's state, as its router records it.
type BlueGreen struct {
	Name string
	// Live is the colour the stable Services select; Spare the colour
	// kept as a hot spare, empty when there is none (first upgrade, or
	// pruned).
	Live, Spare string
	// Services are the stable Services' names.
	Services []string
	// Revision is the live colour release's revision.
	Revision int
	// Release, after a blue-green upgrade, is the revision of the colour
	// it made live (with DryRun, would make live).
	Release *Release
	// router is the router's revision this state was read from (nil for
	// a state not yet routed).
	router *helmrelease.Release
	// NewClaims, of a blue-green upgrade, are the claims the router makes
	// for the app before the colour comes up (INSTANCE on
	// NAMESPACE/PROVIDER): those no colour used before.
	NewClaims []string
	// Record, when the router's record says another live colour or spare
	// than its stable Services make (read from the cluster: Live is the
	// colour they select), is what the record says; nil when they agree.
	Record *BlueGreen
	// Reconciled, after an operation that first made the router's record
	// agree with its stable Services (its last revision left pending by an
	// operation that stopped, or failed, or saying another colour), says
	// what was wrong and what it recorded.
	Reconciled string
	// repair: Live is the colour a rollback points stable Services that
	// did not all select one colour at (holdRouter).
	repair bool
}

// LiveRelease and SpareRelease are the releases of the live and spare
// colours; empty without one (no colour switched to yet: the router holds
// the app's claims before its first colour is up; no spare).
func (b *BlueGreen) LiveRelease() string {
	if b.Live == "" {
		return ""
	}
	return ColorRelease(b.Name, b.Live)
}
func (b *BlueGreen) SpareRelease() string {
	if b.Spare == "" {
		return ""
	}
	return ColorRelease(b.Name, b.Spare)
}

// errNotBlueGreen: release name exists and is not a router.
func errNotBlueGreen(name, ns string) error {
	return errdefs.Fixable(ErrExists, []errdefs.Fix{{See: []string{"status", name, "-n", ns}}},
		"release %q in namespace %q is not a blue-green app (it was installed without --strategy blue-green): upgrade it without --strategy, or install the blue-green app under another name", name, ns)
}

// routerState reads the router release name: nil when there is no
// release of that name (or it was uninstalled), errNotBlueGreen when it is
// another release.
func (c *Client) routerState(name string) (*BlueGreen, *helmrelease.Release, error) {
	last, err := c.cfg.Releases.Last(name)
	if err != nil || last.Info.Status == helmrelease.StatusUninstalled {
		return nil, nil, nil
	}
	st := parseRouter(last)
	if st == nil {
		return nil, last, errNotBlueGreen(name, c.namespace)
	}
	return st, last, nil
}

// parseRouter is the state a router release records; nil for a release
// that is not a router.
func parseRouter(rel *helmrelease.Release) *BlueGreen {
	if rel == nil || rel.Chart == nil || rel.Chart.Metadata == nil || rel.Chart.Metadata.Annotations[annBlueGreen] != "router" {
		return nil
	}
	a := rel.Chart.Metadata.Annotations
	st := &BlueGreen{Name: rel.Name, Live: a[annLive], Spare: a[annSpare], router: rel}
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var obj struct {
			Kind     string
			Metadata struct{ Name string } `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &obj) == nil && obj.Kind == "Service" && obj.Metadata.Name != "" {
			st.Services = append(st.Services, obj.Metadata.Name)
		}
	}
	sort.Strings(st.Services)
	return st
}

// BlueGreenState is app name's blue/green state: the colour its stable
// Services select is live (Record says what its router records, when that
// differs); ErrNotFound when name is not a blue-green app, ErrConflict
// when its stable Services do not all select one colour.
func (c *Client) BlueGreenState(ctx context.Context, name string) (*BlueGreen, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	st, err := c.blueGreenNow(ctx, name)
	if err == nil && st == nil {
		err = errdefs.Fixable(ErrNotFound, nil, "release %q in namespace %q is not a blue-green app", name, c.namespace)
	}
	return st, err
}

// blueGreenNow is app name's state as its stable Services make it (truth),
// changing nothing; nil when there is no release of that name.
func (c *Client) blueGreenNow(ctx context.Context, name string) (*BlueGreen, error) {
	st, _, err := c.routerState(name)
	if err != nil || st == nil {
		return nil, err
	}
	return c.truth(ctx, st)
}

// IsBlueGreen reports whether name is a blue-green app's router.
func (c *Client) IsBlueGreen(name string) bool {
	last, err := c.cfg.Releases.Last(name)
	return err == nil && last.Info.Status != helmrelease.StatusUninstalled && parseRouter(last) != nil
}

// UnboundRequirements lists the requirements of the root plan p installs
// in the app's release (not bound to a provider), sorted.
func UnboundRequirements(p *plan.Plan) []string {
	var out []string
	for _, n := range p.Root.Requires {
		if _, ok := p.Bound[n.Path]; !ok {
			out = append(out, n.Path)
		}
	}
	sort.Strings(out)
	return out
}

// errUnbound refuses blue-green for requirements installed in the app.
func errUnbound(name string, unbound []string) error {
	binds := make([]string, len(unbound))
	for i, u := range unbound {
		binds[i] = "--bind " + u + "=RELEASE"
	}
	return errdefs.Fixable(errdefs.ErrInvalid, nil,
		"blue-green upgrade of %q refused: requirement %s would be installed in each colour (stateful infrastructure is never duplicated); bind it to an installed provider release with %s (see docs/bindings.md)",
		name, strings.Join(unbound, ", "), strings.Join(binds, " "))
}

// BlueGreenUpgrade upgrades app opts.ReleaseName with the blue-green
// strategy: the bundle is installed (or upgraded) as the colour that is not
// live, waited for until ready, and then the stable Services are switched
// to it; the colour that was live is kept as the hot spare. The first
// blue-green upgrade of a name that does not exist installs blue and the
// router. Every requirement must be bound.
func (c *Client) BlueGreenUpgrade(ctx context.Context, opts UpgradeOptions) (*BlueGreen, error) {
	name := opts.ReleaseName
	if opts.DryRun {
		return c.blueGreenDryRun(ctx, opts)
	}
	if opts.CreateNamespace {
		// Before the router's lease, which lives in it.
		if err := c.installNamespace(ctx, name); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: %w", name, err)
		}
	}
	// The router's lease, held from reading which colour is live to the
	// switch.
	ctx, end, st, err := c.holdRouter(ctx, OpUpgrade, name)
	if err != nil {
		return nil, err
	}
	defer end()
	bg, err := c.planBlueGreen(ctx, opts, st)
	if err != nil {
		return nil, err
	}
	// The app's claims are held by the router, made before the colour
	// starts: a colour's pods find their credentials there. Nothing is
	// changed for a colour that would not render or validate.
	if bg.claimsChange {
		dry := *bg.rev
		dry.Options.DryRun = true
		if _, err := c.Perform(ctx, &dry); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: %s: %w", name, bg.rev.Name, err)
		}
		now := &BlueGreen{Name: name}
		if st != nil {
			now = &BlueGreen{Name: name, Live: st.Live, Spare: st.Spare}
		}
		if err := c.route(ctx, now, bg.held); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: making the app's claims: %w", name, err)
		}
	}
	// Made now or by an earlier try that stopped waiting: the colour is
	// installed once they are done.
	if len(bg.held.claims) > 0 {
		if err := c.waitClaims(ctx, name, opts.WaitOptions); err != nil {
			return nil, fmt.Errorf("blue-green upgrade of %q: the app's claims are not ready, %s not installed or upgraded (the live colour is untouched; a claim Job that failed is made again once deleted): %w", name, bg.rev.Name, err)
		}
	}
	rel, err := c.Perform(ctx, bg.rev)
	if err != nil {
		return nil, fmt.Errorf("blue-green upgrade of %q: %s not switched to (the live colour is untouched): %w", name, bg.rev.Name, err)
	}
	if rel.Status != helmrelease.StatusDeployed.String() {
		return nil, fmt.Errorf("blue-green upgrade of %q: %s is %s, not switched to", name, bg.rev.Name, rel.Status)
	}
	bg.held.ingresses[bg.next.Live] = *bg.ingresses
	bg.next.Revision, bg.next.Release = rel.Revision, rel
	if err := c.route(ctx, bg.next, bg.held); err != nil {
		return nil, err
	}
	if st != nil {
		bg.next.Reconciled = st.Reconciled
	}
	return bg.next, nil
}

// waitClaims waits until the Jobs of router release name's claims have
// completed (each claim's database and user made on the provider), for at
// most w's timeout, showing w's progress.
func (c *Client) waitClaims(ctx context.Context, name string, w WaitOptions) error {
	rel, err := c.cfg.Releases.Last(name)
	if err != nil {
		return err
	}
	rl, err := c.cfg.KubeClient.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		return err
	}
	var cs kubernetes.Interface
	if c.env != nil && c.env.Clientset != nil {
		if cs, err = c.env.Clientset(); err != nil {
			return err
		}
	}
	var jobs kube.ResourceList
	for _, r := range rl {
		if r.Mapping == nil || r.Mapping.GroupVersionKind.Group != "batch" || r.Mapping.GroupVersionKind.Kind != "Job" {
			continue
		}
		if cs != nil { // one deleted since (done, and cleaned up) is not waited for
			if _, err := cs.BatchV1().Jobs(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				continue
			}
		}
		jobs = append(jobs, r)
	}
	if len(jobs) == 0 {
		return nil
	}
	w.Wait = true
	cfg, err := c.waitConfig(ctx, c.cfg, w)
	if err != nil {
		return err
	}
	return cfg.KubeClient.WaitWithJobs(jobs, w.timeout())
}

// blueGreenDryRun is BlueGreenUpgrade with DryRun: the colour's upgrade
// (or install) dry-run and validated, the router left as it is; the
// result says what the switch would make live, with the colour's
// revision as it would be.
func (c *Client) blueGreenDryRun(ctx context.Context, opts UpgradeOptions) (*BlueGreen, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	st, err := c.blueGreenNow(ctx, opts.ReleaseName)
	if err != nil {
		return nil, err
	}
	bg, err := c.planBlueGreen(ctx, opts, st)
	if err != nil {
		return nil, err
	}
	rel, err := c.Perform(ctx, bg.rev)
	if err != nil {
		return nil, fmt.Errorf("blue-green upgrade of %q: %s: %w", opts.ReleaseName, bg.rev.Name, err)
	}
	_, names, err := RouterServices(rel.Manifest, bg.next.Name, bg.next.Live)
	if err != nil {
		return nil, err
	}
	bg.next.Services, bg.next.Revision, bg.next.Release = names, rel.Revision, rel
	return bg.next, nil
}

// BlueGreenDiff is what a blue-green upgrade of app opts.ReleaseName
// would change, changing nothing: the diff of the colour it would install
// or upgrade (as bundle diff upgrade NAME-COLOR of a colour), and the
// state the switch would record.
func (c *Client) BlueGreenDiff(ctx context.Context, opts UpgradeOptions, o diff.Options) (*diff.Plan, *BlueGreen, error) {
	if err := c.reachable(); err != nil {
		return nil, nil, err
	}
	st, err := c.blueGreenNow(ctx, opts.ReleaseName)
	if err != nil {
		return nil, nil, err
	}
	bg, err := c.planBlueGreen(ctx, opts, st)
	if err != nil {
		return nil, nil, err
	}
	if st != nil {
		bg.next.Services = st.Services
	}
	d, err := c.DiffRevision(ctx, bg.rev, o)
	if err != nil {
		return nil, nil, err
	}
	return d, bg.next, nil
}

// blueGreen is what a blue-green upgrade of an app does: the colour's
// revision (rev: installed or upgraded, waited for), then the switch to next,
// with what the router holds; its claims made first when they change.
type blueGreen struct {
	rev          *Revision
	next         *BlueGreen
	held         held
	claimsChange bool
	ingresses    *string // the colour's, as its post-renderer takes them
}

// planBlueGreen works out the blue-green upgrade of app opts.ReleaseName,
// whose router records st (nil: the app is new), changing nothing. What
// would be refused is refused here.
func (c *Client) planBlueGreen(ctx context.Context, opts UpgradeOptions, st *BlueGreen) (*blueGreen, error) {
	name := opts.ReleaseName
	live := ""
	if st != nil {
		live = st.Live
	}
	color := OtherColor(live)
	target := ColorRelease(name, color)

	// The colour's release, when there is one, must be this app's.
	// The router's spare is; otherwise its mark says so.
	if rel, err := c.cfg.Releases.Last(target); err == nil && rel.Info.Status != helmrelease.StatusUninstalled &&
		(st == nil || st.Spare != color) && (rel.Chart == nil || rel.Chart.Metadata == nil || rel.Chart.Metadata.Annotations[annColorOf] != name) {
		return nil, errdefs.Fixable(ErrExists, nil, "blue-green upgrade of %q refused: release %q exists in namespace %q and is not a colour of blue-green app %q (uninstall it, or choose another NAME)", name, target, c.namespace, name)
	}
	// The colour's revision, prepared once: bound (the bindings given
	// now and those the live colour recorded), resolved and rendered,
	// starting from the live colour's values. It is switched to only once
	// ready.
	in, err := c.read(ctx, opts)
	if err != nil {
		return nil, err
	}
	up := opts
	up.ReleaseName, up.Install, up.Wait = target, true, true
	up.Annotations = map[string]string{annColorOf: name}
	up.ClaimHolder = name
	var recorded []plan.Resolved
	var liveRel *helmrelease.Release
	if live != "" {
		if rel, err := c.cfg.Releases.Last(ColorRelease(name, live)); err == nil {
			liveRel = c.upgradeBase(rel)
			recorded = recordedBindings(liveRel)
			up.StartFrom = rel.Name
		}
	}
	ingresses := new(string)
	up.Reshape = colorPost{app: name, color: color, ingresses: ingresses}.Run
	rev, err := c.prepareUpgrade(ctx, in, up)
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
	var routerRel *helmrelease.Release
	if st != nil {
		routerRel = st.router
	}
	h, err := c.heldBy(ctx, routerRel)
	if err != nil {
		return nil, err
	}
	// The router holds what the new colour claims and, until it is
	// pruned, what the colour that becomes the spare claims.
	newClaims, newMade := claimsOf(p, render.ReleaseOptions{Name: name, Namespace: c.namespace})
	h.claims, h.made = usedBy(h, liveRel), keepMade(h, usedBy(h, liveRel))
	for _, r := range newClaims {
		h.claims = append(h.claims[:0:0], withoutInstance(h.claims, r.Instance)...)
		h.claims = append(h.claims, r)
		h.made[r.Instance] = newMade[r.Instance]
	}
	routerClaims := recordedBindings(routerRel)
	bg := &blueGreen{rev: rev, held: h, claimsChange: claimKeys(h.claims) != claimKeys(routerClaims), ingresses: ingresses}
	bg.next = &BlueGreen{Name: name, Live: color, Spare: live}
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

// holdClaims makes release holder the holder of the claims of p's
// bindings (plan.Binding.ClaimHolder); nothing when holder is empty.
func holdClaims(p *plan.Plan, holder string) {
	if holder == "" {
		return
	}
	for _, b := range p.Bound {
		if b.Claims() != nil {
			b.ClaimHolder = holder
		}
	}
}

// held is what a router holds besides its Services.
type held struct {
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

// usedBy is what of the claims h holds colour release rel uses (its
// recorded claimed bindings, same instance and provider); none for nil.
func usedBy(h held, rel *helmrelease.Release) []plan.Resolved {
	uses := map[string]string{}
	for _, r := range recordedBindings(rel) {
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

// keepMade is h's claims of rs.
func keepMade(h held, rs []plan.Resolved) map[string]render.HeldClaim {
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

// ingressFile is where a router's chart keeps colour c's Ingresses.
func ingressFile(c string) string { return "colors/" + c + "/ingresses.yaml" }

// heldBy reads what router release rel holds (nothing for nil): its
// colours' Ingresses, and its claims as it carries them (claimFile), so
// that a switch or a prune renders them as they were, whatever became of
// the providers: each from its provider's bundle as the repository serves
// it, with the provider's outputs the router carries (heldBinding). A
// router that carries none (made by an earlier version) has its claims
// made again from the providers, bound as a new binding is.
func (c *Client) heldBy(ctx context.Context, rel *helmrelease.Release) (held, error) {
	h := held{made: map[string]render.HeldClaim{}, ingresses: map[string]string{}}
	if rel == nil || rel.Chart == nil {
		return h, nil
	}
	files := map[string][]byte{}
	for _, f := range rel.Chart.Files {
		files[f.Name] = f.Data
	}
	for _, col := range Colors {
		if text, ok := files[ingressFile(col)]; ok {
			h.ingresses[col] = string(text)
		}
	}
	for _, r := range recordedBindings(rel) {
		if !r.Claim || r.Bound == "" {
			continue
		}
		ns, prov, _ := strings.Cut(r.Bound, "/")
		bind := plan.Bind{Instance: r.Instance, Namespace: ns, Release: prov}
		var b *plan.Binding
		if data, ok := files[claimFile(r.Instance)]; ok {
			var hc render.HeldClaim
			if err := json.Unmarshal(data, &hc); err != nil {
				return h, fmt.Errorf("blue-green app %q: the claim it holds for %s: %s is unreadable: %s", rel.Name, r.Instance, claimFile(r.Instance), err)
			}
			var err error
			if b, err = c.heldBinding(ctx, rel.Name, bind, r, hc); err != nil {
				return h, err
			}
		} else {
			// Made by an earlier version, which did not carry it: made
			// again from the provider.
			con, err := bundle.ParseConstraint(r.Constraint)
			if err != nil {
				con, _ = semver.NewConstraint("*")
			}
			req := &bundle.Requirement{Name: r.Instance, Bundle: r.Bundle, Repository: r.Repository, Version: r.Constraint, Constraint: con}
			if b, err = c.binding(ctx, bind, req, true, rel.Name); err != nil {
				return h, fmt.Errorf("blue-green app %q: the claim it holds for %s: %w", rel.Name, r.Instance, err)
			}
		}
		hc, ok := render.HeldClaims(map[string]*plan.Binding{r.Instance: b}, render.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace})[r.Instance]
		if !ok {
			return h, fmt.Errorf("blue-green app %q: the claim it holds for %s cannot be made again: %s (%s) offers no claims now", rel.Name, r.Instance, r.Bound, b.Provider)
		}
		h.claims = append(h.claims, r)
		h.made[r.Instance] = hc
	}
	return h, nil
}

// heldBinding is the binding router app's claim r was made with, as the
// router carries it (hc): the provider's bundle r names, as r's
// repository serves it, whose digest must be the one hc recorded (when
// it recorded one), and the provider's outputs hc was made with. Nothing
// else of hc is used: the claim's templates and its identity are made
// again from the bundle and the router (render.HeldClaims), so that a
// router record rewritten in the cluster renders no template of its own.
func (c *Client) heldBinding(ctx context.Context, app string, bind plan.Bind, r plan.Resolved, hc render.HeldClaim) (*plan.Binding, error) {
	v, err := semver.NewVersion(r.Version)
	if err != nil {
		return nil, fmt.Errorf("blue-green app %q: the claim it holds for %s: version %q: %v", app, r.Instance, r.Version, err)
	}
	full, err := c.loadServed(ctx, r.Repository, r.Bundle, v)
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrFailed, err, "blue-green app %q: the claim it holds for %s (rendered from the provider's bundle as its repository serves it): %s", app, r.Instance, err)
	}
	got, err := plan.Digest(r.Repository, full)
	if err != nil {
		return nil, err
	}
	switch {
	case hc.Digest == "":
		c.log("blue-green app %q: the claim it holds for %s records no digest (made by an earlier version of bundle): rendered from %s %s as %s serves it (%s)", app, r.Instance, r.Bundle, v, r.Repository, got)
	case hc.Digest != got:
		return nil, errdefs.Fixable(errdefs.ErrStale, nil,
			"blue-green app %q: the claim it holds for %s was made from %s %s with digest %s, but %s serves %s: the app's record or the repository changed", app, r.Instance, r.Bundle, v, hc.Digest, r.Repository, got)
	}
	out := &plan.Binding{Bind: bind, Provider: full, Repository: r.Repository, Outputs: hc.HeldOutputs(), Claim: true, Digest: got}
	if bind.Namespace != c.namespace {
		// Granted: the claim's Secret is copied from the grant's.
		out.Grant = &plan.Grant{Namespace: bind.Namespace, Name: render.GrantName(bind.Release, plan.Consumer{Namespace: c.namespace, Release: app, Instance: r.Instance})}
	}
	return out, nil
}

// claimFile is where a router's chart carries its claim of instance inst.
func claimFile(inst string) string { return "claims/" + inst + ".json" }

// holdRouter takes the lease of app name's router release for op and
// reads which colour is live (nil: no blue-green app of that name): the
// colour its stable Services select (truth), whatever the router's record
// says. Taking the lease marks a router revision left pending by an
// operation that stopped failed (begin); then, for an upgrade or a prune,
// the router's record is made to agree with the Services first
// (reconcile). A rollback records what it switches to itself; with Services
// that do not all select one colour it is the fix (repair): refused for
// the others. The caller ends the lease with end, once err is nil.
func (c *Client) holdRouter(ctx context.Context, op Operation, name string) (context.Context, func(), *BlueGreen, error) {
	if err := c.reachable(); err != nil {
		return nil, nil, nil, err
	}
	ctx, end, err := c.begin(ctx, op, name, false)
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (context.Context, func(), *BlueGreen, error) {
		end()
		return nil, nil, nil, err
	}
	rec, _, err := c.routerState(name)
	if err != nil {
		return fail(err)
	}
	if rec == nil {
		return ctx, end, nil, nil
	}
	s, err := c.served(ctx, rec)
	if err != nil {
		return fail(err)
	}
	st, err := c.truthOf(rec, s)
	if err != nil {
		if op != OpRollback {
			return fail(err)
		}
		if st, err = c.repair(rec, s); err != nil {
			return fail(err)
		}
		return ctx, end, st, nil
	}
	if op == OpRollback {
		st.Reconciled = recordNote(rec.router, st)
		return ctx, end, st, nil
	}
	if st, err = c.reconcile(ctx, st); err != nil {
		return fail(err)
	}
	return ctx, end, st, nil
}

// servedBy is what the stable Services of a blue-green app select, read
// from the cluster: for each one found, by name, the colour its selector
// names ("" for neither).
type servedBy map[string]string

// color is the colour every Service found selects ("" when none was
// found); ok is false when they do not all select one colour.
func (s servedBy) color() (color string, ok bool) {
	for _, col := range s {
		if col == "" || (color != "" && col != color) {
			return "", false
		}
		color = col
	}
	return color, true
}

// says is what each Service selects, in name order: "wiki selects
// wiki-green, wiki-admin selects neither colour".
func (s servedBy) says(app string) string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(s)) {
		if s[n] == "" {
			out = append(out, n+" selects neither colour")
		} else {
			out = append(out, n+" selects "+ColorRelease(app, s[n]))
		}
	}
	return strings.Join(out, ", ")
}

// selectedColor is the colour of app whose release selector sel names
// (in one of its values, as RouterServices requires of a colour's
// Service); "" for neither, or both.
func selectedColor(app string, sel map[string]string) string {
	got := ""
	for _, col := range Colors {
		rel := ColorRelease(app, col)
		for _, v := range sel {
			if v == rel || strings.HasPrefix(v, rel+"-") {
				if got != "" && got != col {
					return ""
				}
				got = col
			}
		}
	}
	return got
}

// served reads the stable Services of app st from the cluster: those its
// router's last revision (which an operation that stopped may have left
// unapplied, or half-applied) and the last it completed name. Without a
// Kubernetes client there is nothing to read (none found).
func (c *Client) served(ctx context.Context, st *BlueGreen) (servedBy, error) {
	s := servedBy{}
	if c.env == nil || c.env.Clientset == nil || st.router == nil {
		return s, nil
	}
	names := map[string]bool{}
	for _, r := range []*helmrelease.Release{st.router, c.upgradeBase(st.router)} {
		if rs := parseRouter(r); rs != nil {
			for _, n := range rs.Services {
				names[n] = true
			}
		}
	}
	return c.readServed(ctx, c.namespace, st.Name, slices.Sorted(maps.Keys(names)))
}

// readServed reads the stable Services names of app in namespace ns (see
// served).
func (c *Client) readServed(ctx context.Context, ns, app string, names []string) (servedBy, error) {
	s := servedBy{}
	if len(names) == 0 || c.env == nil || c.env.Clientset == nil {
		return s, nil
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("blue-green app %q: reading its stable Service %s, which says which colour serves: %w", app, n, err)
		}
		s[n] = selectedColor(app, svc.Spec.Selector)
	}
	return s, nil
}

// truth is app st (as its router records it) as its stable Services make
// it, read from the cluster; see truthOf.
func (c *Client) truth(ctx context.Context, st *BlueGreen) (*BlueGreen, error) {
	s, err := c.served(ctx, st)
	if err != nil {
		return nil, err
	}
	return c.truthOf(st, s)
}

// truthOf is app st (as its router records it) as its stable Services s
// make it: the colour they select is live, and the other one the spare
// when it is installed and the record knew it as the app's; Record is st
// when it says otherwise. When no stable Service is found (never applied,
// or deleted) the record is all there is. Services that do not all select
// one colour are refused: which one serves is not known, and a rollback of
// the app is the fix (repair).
func (c *Client) truthOf(st *BlueGreen, s servedBy) (*BlueGreen, error) {
	now, ok := servedTruth(st, s, c.installed)
	if !ok {
		fixes := []errdefs.Fix{{See: []string{"history", st.Name, "-n", c.namespace}}}
		to := "neither colour is deployed to point them at"
		if r := c.repairColor(st); r != "" {
			fixes = []errdefs.Fix{{Run: []string{"rollback", st.Name, "-n", c.namespace}}}
			to = "a rollback of the app points them all at " + ColorRelease(st.Name, r) + ", the colour its router last switched to completely"
		}
		return nil, errdefs.Fixable(errdefs.ErrConflict, fixes,
			"blue-green app %q: its stable Services do not all select one colour (%s): which one serves is not known, so nothing is switched, upgraded or removed; %s", st.Name, s.says(st.Name), to)
	}
	return now, nil
}

// servedTruth is truthOf without its error: ok is false when the Services
// s do not all select one colour. installed says whether a colour's
// release is installed.
func servedTruth(st *BlueGreen, s servedBy, installed func(release string) bool) (_ *BlueGreen, ok bool) {
	col, ok := s.color()
	if !ok {
		return nil, false
	}
	now := *st
	now.Record = nil
	if col == "" || col == st.Live {
		return &now, true
	}
	now.Live, now.Spare = col, ""
	if other := OtherColor(col); (other == st.Live || other == st.Spare) && installed(ColorRelease(st.Name, other)) {
		now.Spare = other
	}
	rec := *st
	now.Record = &rec
	return &now, true
}

// repairColor is the colour the stable Services of app st are all pointed
// at when they do not agree: the live colour of the router's last
// completed revision (what it last switched to completely), else the other
// one, whichever is deployed; "" when neither is.
func (c *Client) repairColor(st *BlueGreen) string {
	first := ""
	if base := parseRouter(c.upgradeBase(st.router)); base != nil {
		first = base.Live
	}
	for _, col := range []string{first, OtherColor(first)} {
		if col == "" {
			continue
		}
		if r, err := c.cfg.Releases.Last(ColorRelease(st.Name, col)); err == nil && r.Info.Status == helmrelease.StatusDeployed {
			return col
		}
	}
	return ""
}

// repair is the rollback of app rec whose stable Services s do not all
// select one colour: it points them all at repairColor, the other colour
// (installed, and known to the record) its spare.
func (c *Client) repair(rec *BlueGreen, s servedBy) (*BlueGreen, error) {
	col := c.repairColor(rec)
	if col == "" {
		return nil, errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{See: []string{"history", rec.Name, "-n", c.namespace}}},
			"blue-green app %q: its stable Services do not all select one colour (%s), and neither colour is deployed to point them at", rec.Name, s.says(rec.Name))
	}
	st := &BlueGreen{Name: rec.Name, Live: col, Services: rec.Services, router: rec.router, repair: true}
	if other := OtherColor(col); (other == rec.Live || other == rec.Spare) && c.installed(ColorRelease(rec.Name, other)) {
		st.Spare = other
	}
	r := *rec
	st.Record = &r
	st.Reconciled = fmt.Sprintf("blue-green app %q: its stable Services did not all select one colour (%s)", rec.Name, s.says(rec.Name))
	return st, nil
}

// installed reports whether release name is installed (recorded, and not
// uninstalled).
func (c *Client) installed(name string) bool {
	r, err := c.cfg.Releases.Last(name)
	return err == nil && r.Info.Status != helmrelease.StatusUninstalled
}

// colours says which colours b has: "live wiki-green, spare wiki-blue",
// "live wiki-green, no spare", "no live colour".
func colours(b *BlueGreen) string {
	if b.Live == "" {
		return "no live colour"
	}
	spare := "no spare"
	if b.Spare != "" {
		spare = "spare " + b.SpareRelease()
	}
	return "live " + b.LiveRelease() + ", " + spare
}

// recordNote says how the router's last revision last differs from now,
// the app as its stable Services make it; "" when it is deployed and
// records now's colours.
func recordNote(last *helmrelease.Release, now *BlueGreen) string {
	rec := parseRouter(last)
	if rec == nil || last.Info == nil {
		return ""
	}
	agree := rec.Live == now.Live && rec.Spare == now.Spare
	if agree && last.Info.Status == helmrelease.StatusDeployed {
		return ""
	}
	note := fmt.Sprintf("blue-green app %q: its router's revision %d (%s)", now.Name, last.Version, last.Info.Status)
	if strings.HasPrefix(last.Info.Description, RecoveredNote) {
		note = fmt.Sprintf("blue-green app %q: its router's revision %d, left pending by an operation that stopped (marked %s),", now.Name, last.Version, last.Info.Status)
	}
	note += " records " + colours(rec)
	switch {
	case agree:
		return note + ", as its stable Services have it"
	case now.Live == rec.Live:
		return note + "; its stable Services select " + now.LiveRelease()
	case now.Live == "":
		return note + "; it has no stable Service in the cluster"
	}
	return note + ", but its stable Services select " + now.LiveRelease()
}

// reconcile makes the router's record agree with now, app st as its stable
// Services make it, before an operation goes on: when its last revision is
// not deployed (failed, or left pending by an operation that stopped and
// marked failed when the lease was taken) or records other colours, a
// router upgrade records now's (its Services already select now's live
// colour: nothing is switched). A revision still pending (no lease could
// be taken: its operation may run) is left to Helm, which refuses to
// upgrade over it; a live colour not installed is left to the operation.
func (c *Client) reconcile(ctx context.Context, now *BlueGreen) (*BlueGreen, error) {
	last := now.router
	note := recordNote(last, now)
	if note == "" || last.Info.Status.IsPending() || (now.Live != "" && !c.installed(now.LiveRelease())) {
		now.Reconciled = note
		return now, nil
	}
	h, err := c.heldBy(ctx, last)
	if err != nil {
		return nil, err
	}
	next := &BlueGreen{Name: now.Name, Live: now.Live, Spare: now.Spare}
	if err := c.route(ctx, next, h); err != nil {
		return nil, fmt.Errorf("%s: recording that: %w", note, err)
	}
	rel, err := c.cfg.Releases.Last(now.Name)
	if err != nil {
		return nil, err
	}
	next.router = rel
	next.Reconciled = fmt.Sprintf("%s: recorded %s (revision %d)", note, colours(next), rel.Version)
	return next, nil
}

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

// route installs or upgrades the router so that its Services select
// st.Live's pods (none without a live colour: the first install's claims
// come before its colour) and its Ingresses are st.Live's, with the claims
// h holds, recording st.
func (c *Client) route(ctx context.Context, st *BlueGreen, h held) error {
	var services string
	if st.Live != "" {
		live, err := c.cfg.Releases.Last(st.LiveRelease())
		if err != nil {
			return fmt.Errorf("blue-green app %q: live colour %s: %w", st.Name, st.LiveRelease(), err)
		}
		manifest, names, err := RouterServices(live.Manifest, st.Name, st.Live)
		if err != nil {
			return err
		}
		services, st.Services = manifest, names
	}
	ann := map[string]string{annBlueGreen: "router", annLive: st.Live, annSpare: st.Spare}
	sort.Slice(h.claims, func(i, j int) bool { return h.claims[i].Instance < h.claims[j].Instance })
	if len(h.claims) > 0 {
		rec, err := json.Marshal(h.claims)
		if err != nil {
			return err
		}
		ann[plan.ResolvedAnnotation] = string(rec)
	}
	// The manifests are the chart's files, which its templates include
	// as they are: a "{{" in them is not a template's.
	chrt := &chart.Chart{
		Metadata: &chart.Metadata{
			APIVersion: chart.APIVersionV2, Name: routerChart, Version: routerVersion, Type: "application",
			Description: "the stable Services, Ingresses and claims of blue-green app " + st.Name,
			Annotations: ann,
		},
		Files:     []*chart.File{{Name: "services.yaml", Data: []byte(services)}},
		Templates: []*chart.File{{Name: "templates/services.yaml", Data: []byte(`{{ .Files.Get "services.yaml" }}`)}},
	}
	for _, col := range Colors {
		text := h.ingresses[col]
		if text == "" || (col != st.Live && col != st.Spare) {
			continue
		}
		chrt.Files = append(chrt.Files, &chart.File{Name: ingressFile(col), Data: []byte(text)})
		if col == st.Live {
			chrt.Templates = append(chrt.Templates, &chart.File{Name: "templates/ingresses.yaml", Data: []byte(`{{ .Files.Get "` + ingressFile(col) + `" }}`)})
		}
	}
	for _, inst := range slices.Sorted(maps.Keys(h.made)) {
		data, err := json.Marshal(h.made[inst])
		if err != nil {
			return err
		}
		chrt.Files = append(chrt.Files, &chart.File{Name: claimFile(inst), Data: data})
	}
	vals := render.AddHeldClaims(chrt, h.made)
	desc := "no live colour yet"
	if st.Live != "" {
		desc = "live: " + st.LiveRelease()
	}
	if st.Spare != "" {
		desc += ", spare: " + st.SpareRelease()
	}
	if len(h.claims) > 0 {
		insts := make([]string, len(h.claims))
		for i, r := range h.claims {
			insts[i] = r.Instance
		}
		desc += ", claims: " + strings.Join(insts, " ")
	}
	// Applied as every release's objects are: server-side, converging
	// (apply.go), so that drift and diff read the router as any release.
	cfg, err := c.opConfig(ctx, st.Name, WaitOptions{})
	if err != nil {
		return err
	}
	if last, err := c.cfg.Releases.Last(st.Name); err == nil && last.Info.Status != helmrelease.StatusUninstalled {
		up := action.NewUpgrade(cfg)
		up.Namespace = c.namespace
		up.Description = desc
		up.MaxHistory = 10
		up.ResetValues = true
		_, err = up.RunWithContext(ctx, st.Name, chrt, vals)
		if err != nil {
			return fmt.Errorf("switching blue-green app %q to %s: %w", st.Name, routed(st), err)
		}
		return nil
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName = st.Name
	inst.Namespace = c.namespace
	inst.Description = desc
	inst.Replace = true
	if _, err := inst.RunWithContext(ctx, chrt, vals); err != nil {
		return fmt.Errorf("routing blue-green app %q to %s: %w", st.Name, routed(st), err)
	}
	return nil
}

// routed says what route routes st to, for its errors.
func routed(st *BlueGreen) string {
	if st.Live == "" {
		return "no colour yet (its claims first)"
	}
	return st.LiveRelease()
}

// issued reports whether an Ingress's metadata asks cert-manager's
// ingress-shim for its TLS certificates (the Secrets it then names).
func issued(meta map[string]any) bool {
	ann, _ := meta["annotations"].(map[string]any)
	for _, k := range []string{"cert-manager.io/issuer", "cert-manager.io/cluster-issuer", "kubernetes.io/tls-acme"} {
		if _, ok := ann[k]; ok {
			return true
		}
	}
	return false
}

// colorPost is the post-renderer of a colour: its Ingresses are taken out
// of its manifests, named and pointed at the stable Services
// (SplitIngresses), and kept in *ingresses for the router.
type colorPost struct {
	app, color string
	ingresses  *string
}

func (s colorPost) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	rest, ingresses, err := SplitIngresses(in.String(), s.app, s.color)
	if err != nil {
		return nil, err
	}
	*s.ingresses = ingresses
	return bytes.NewBufferString(rest), nil
}

// SplitIngresses takes the Ingresses out of manifests (a stream of YAML
// documents) of colour color of app name, and returns the other documents
// as they are and the Ingresses as the router installs them: each named
// as its stable self when named after the colour release (NAME-COLOR-web:
// NAME-web), labelled bundle.sh/color, and each backend Service named
// after the colour release named as its stable Service (NAME-COLOR: NAME),
// and so each TLS secret named after it that cert-manager issues for the
// Ingress (its ingress-shim annotations) and the colour does not make
// itself (a Secret or a Certificate of its manifest).
func SplitIngresses(manifests, name, color string) (rest, ingresses string, err error) {
	rel := ColorRelease(name, color)
	stableName := func(n string) string {
		if n == rel || strings.HasPrefix(n, rel+"-") {
			return name + strings.TrimPrefix(n, rel)
		}
		return n
	}
	backend := func(b any) {
		if bm, ok := b.(map[string]any); ok {
			if svc, ok := bm["service"].(map[string]any); ok {
				if n, ok := svc["name"].(string); ok {
					svc["name"] = stableName(n)
				}
			}
		}
	}
	// Secrets the colour makes itself keep their names in a TLS section;
	// others (cert-manager's, named by the Ingress) take the stable name,
	// so that a switch does not ask for a new certificate.
	own := map[string]bool{}
	for _, doc := range splitDocs(manifests) {
		var obj struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				SecretName string `json:"secretName"`
			}
		}
		if !strings.Contains(doc, "Secret") && !strings.Contains(doc, "Certificate") || yaml.Unmarshal([]byte(doc), &obj) != nil {
			continue
		}
		switch obj.Kind {
		case "Secret":
			own[obj.Metadata.Name] = true
		case "Certificate": // cert-manager's, made by the colour
			own[obj.Spec.SecretName] = true
		}
	}
	var kept, routed strings.Builder
	for _, doc := range splitDocs(manifests) {
		var obj map[string]any
		if !strings.Contains(doc, "Ingress") || yaml.Unmarshal([]byte(doc), &obj) != nil || obj == nil || obj["kind"] != "Ingress" {
			kept.WriteString("---\n")
			kept.WriteString(strings.TrimPrefix(doc, "\n"))
			if !strings.HasSuffix(doc, "\n") {
				kept.WriteString("\n")
			}
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		if n, ok := meta["name"].(string); ok {
			meta["name"] = stableName(n)
		}
		labels := map[string]any{}
		if l, ok := meta["labels"].(map[string]any); ok {
			for k, v := range l {
				if k != "app.kubernetes.io/instance" && k != "helm.sh/chart" {
					labels[k] = v
				}
			}
		}
		labels[colorLabel] = color
		meta["labels"] = labels
		spec, _ := obj["spec"].(map[string]any)
		tls, _ := spec["tls"].([]any)
		for _, t := range tls {
			if tm, ok := t.(map[string]any); ok {
				if n, ok := tm["secretName"].(string); ok && !own[n] && issued(meta) {
					tm["secretName"] = stableName(n)
				}
			}
		}
		backend(spec["defaultBackend"])
		rules, _ := spec["rules"].([]any)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			h, _ := rm["http"].(map[string]any)
			paths, _ := h["paths"].([]any)
			for _, p := range paths {
				if pm, ok := p.(map[string]any); ok {
					backend(pm["backend"])
				}
			}
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return "", "", err
		}
		routed.WriteString("---\n")
		routed.Write(b)
	}
	return kept.String(), routed.String(), nil
}

// splitDocs splits a YAML stream at its document separators.
func splitDocs(s string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

// selectsRelease reports whether selector sel names release rel in one of
// its values: only then do the two colours' pods differ to it.
func selectsRelease(sel map[string]any, rel string) bool {
	for _, v := range sel {
		if s, ok := v.(string); ok && (s == rel || strings.HasPrefix(s, rel+"-")) {
			return true
		}
	}
	return false
}

// RouterServices makes the stable Services of app name from the manifest
// of its colour release NAME-COLOR: one for each Service there, named with
// the colour taken out (NAME-COLOR-web: NAME-web; NAME-COLOR: NAME), with
// its ports and selector, labelled bundle.sh/color. A Service not named
// after the colour release, or without a selector, is refused: it could not
// be switched. It returns the manifests and the Services' names, sorted.
func RouterServices(manifest, name, color string) (string, []string, error) {
	rel := ColorRelease(name, color)
	type svc struct {
		name string
		doc  []byte
	}
	var out []svc
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
			continue
		}
		if obj["kind"] != "Service" || obj["apiVersion"] != "v1" {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		spec, _ := obj["spec"].(map[string]any)
		n, _ := meta["name"].(string)
		if n != rel && !strings.HasPrefix(n, rel+"-") {
			return "", nil, fmt.Errorf("blue-green app %q: Service %q of %s is not named after its release (%s or %s-...): its stable name cannot be known; name Services {{ .Release.Name }}-...", name, n, rel, rel, rel)
		}
		sel, _ := spec["selector"].(map[string]any)
		if len(sel) == 0 {
			return "", nil, fmt.Errorf("blue-green app %q: Service %q of %s has no selector: it cannot be switched", name, n, rel)
		}
		if !selectsRelease(sel, rel) {
			return "", nil, fmt.Errorf("blue-green app %q: Service %q of %s selects its pods without the release name (%v): it would select both colours' pods; select by {{ .Release.Name }} (app.kubernetes.io/instance)", name, n, rel, sel)
		}
		if spec["clusterIP"] == "None" {
			continue // headless: per-colour by nature
		}
		stable := name + strings.TrimPrefix(n, rel)
		newSpec := map[string]any{"selector": sel}
		if t, ok := spec["type"]; ok {
			newSpec["type"] = t
		}
		if ports, ok := spec["ports"].([]any); ok {
			var ps []any
			for _, p := range ports {
				if pm, ok := p.(map[string]any); ok {
					cp := map[string]any{}
					for k, v := range pm {
						if k != "nodePort" {
							cp[k] = v
						}
					}
					ps = append(ps, cp)
				}
			}
			newSpec["ports"] = ps
		}
		labels := map[string]any{colorLabel: color}
		if l, ok := meta["labels"].(map[string]any); ok {
			for k, v := range l {
				if k != "app.kubernetes.io/instance" && k != "helm.sh/chart" {
					labels[k] = v
				}
			}
		}
		labels[colorLabel] = color
		svcObj := map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": stable, "labels": labels},
			"spec":     newSpec,
		}
		b, err := yaml.Marshal(svcObj)
		if err != nil {
			return "", nil, err
		}
		out = append(out, svc{stable, b})
	}
	if len(out) == 0 {
		return "", nil, fmt.Errorf("blue-green app %q: %s has no Service to route to", name, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	var b strings.Builder
	names := make([]string, len(out))
	for i, s := range out {
		names[i] = s.name
		b.WriteString("---\n")
		b.Write(s.doc)
	}
	return b.String(), names, nil
}

// annotate adds annotations to chrt's metadata.
func annotate(chrt *chart.Chart, annotations map[string]string) {
	if len(annotations) == 0 || chrt == nil || chrt.Metadata == nil {
		return
	}
	if chrt.Metadata.Annotations == nil {
		chrt.Metadata.Annotations = map[string]string{}
	}
	for k, v := range annotations {
		chrt.Metadata.Annotations[k] = v
	}
}
