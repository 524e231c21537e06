package release

// A revision as a value, in Helm's own prepare/perform shape (action.
// Rollback's prepareRollback and performRollback): Prepare reads, binds,
// resolves and renders a release's next revision once, changing nothing;
// Perform installs or upgrades it. A diff (DiffRevision) and a dry run
// perform the same prepared revision, so that an upgrade shown first
// (--diff) or checked first (a blue-green colour, dry-run before its
// claims are made) reads and resolves its bundle once.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// Revision is a release's next revision, prepared (Prepare) and not yet
// performed: its bundle read, bound, resolved, its values computed with
// Helm's rules and its chart rendered, once. Perform installs or upgrades
// it; a revision may be performed as a dry run (Options.DryRun) any number
// of times, and for real once.
type Revision struct {
	// Name and Namespace are the release's.
	Name, Namespace string
	// Number is the number the revision is stored as.
	Number int
	// Plan is the resolved plan: the bundle, its requirements, their
	// bindings and the values the revision is rendered with.
	Plan *plan.Plan
	// Install says the revision is installed, not upgraded: the release
	// has no revision (Replace: only an uninstalled one whose history was
	// kept, or a failed first install).
	Install, Replace bool
	// Base is the release's last revision when the revision was prepared
	// (0: none). Perform refuses with ErrStale when the release has moved
	// on since: the revision would undo what came in between. An install
	// (Install's, not upgrade --install's) has none: it refuses a release
	// that exists, unless it may replace it.
	Base int
	// Options are those of the operation, as prepared: what it reads
	// (Source, the values rules, bindings) is spent; how it is performed
	// (DryRun, Wait, Atomic, ...) may be changed before Perform.
	Options UpgradeOptions

	// fresh: prepared by Install, which refuses a release that exists.
	fresh bool
	// last is the release's last revision when prepared (nil: none);
	// leased, that it was prepared holding the release's lease, so that
	// nothing moved it before Perform, which holds it still.
	last   *helmrelease.Release
	leased bool
	// start is the revision whose values and bindings the new one starts
	// from (nil: none, an install).
	start *helmrelease.Release
	// whole, for a release of a whole upgraded on its own (a colour of a
	// blue-green app), is the whole, whose lease Perform holds too (see
	// Guard).
	whole  string
	chart  *chart.Chart
	values map[string]any
}

// PrepareOptions say which revision Prepare makes: exactly one of Install
// and Upgrade, as Install and Upgrade would make it.
type PrepareOptions struct {
	Install *InstallOptions
	Upgrade *UpgradeOptions
}

// Prepare makes the next revision of a release as Install or Upgrade
// would, changing nothing: it reads the bundle, binds and resolves it once
// (an upgrade keeps the installed requirement versions while they fit),
// computes the values and renders the chart. The cluster is read (the
// release's revisions, its providers), not written, and no lease is taken:
// Perform checks that the release is still as it was.
func (c *Client) Prepare(ctx context.Context, opts PrepareOptions) (*Revision, error) {
	if (opts.Install == nil) == (opts.Upgrade == nil) {
		return nil, errors.New("prepare: give one operation, an install or an upgrade")
	}
	if opts.Install != nil {
		return c.prepareInstall(ctx, *opts.Install)
	}
	in, err := c.read(ctx, *opts.Upgrade)
	if err != nil {
		return nil, err
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	return c.prepareUpgrade(ctx, in, *opts.Upgrade)
}

// read is what of an upgrade needs no cluster: its bundle read, and its
// options checked.
func (c *Client) read(ctx context.Context, opts UpgradeOptions) (*plan.Input, error) {
	in, err := plan.Read(ctx, c.repos, opts.Source)
	if err != nil {
		return nil, err
	}
	if err := opts.PostRenderer.Check(); err != nil {
		return nil, err
	}
	if opts.MaxHistory < 0 {
		return nil, &errdefs.OptionError{Option: "MaxHistory", Value: fmt.Sprint(opts.MaxHistory), Msg: "give a number of revisions, or 0 to keep all"}
	}
	if err := checkLabels(opts.Labels); err != nil {
		return nil, err
	}
	return in, nil
}

// prepareInstall is Prepare of an install: the release is named (a grant
// is made for the release's name, so before binding), bound and resolved.
func (c *Client) prepareInstall(ctx context.Context, opts InstallOptions) (*Revision, error) {
	up := opts.upgrade()
	in, err := c.read(ctx, up)
	if err != nil {
		return nil, err
	}
	if up.ReleaseName, err = render.ReleaseName(in.Root.Name, opts.ReleaseName, opts.Naming, time.Now()); err != nil {
		return nil, err
	}
	if err := chartutil.ValidateReleaseName(up.ReleaseName); err != nil {
		return nil, fmt.Errorf("release name %q: %v", up.ReleaseName, err)
	}
	if err := c.links.bind(ctx, in, up.ReleaseName, cmp.Or(up.ClaimHolder, up.ReleaseName), "", nil, nil); err != nil {
		return nil, err
	}
	p, err := in.Resolve(ctx, nil)
	if err != nil {
		return nil, err
	}
	holdClaims(p, up.ClaimHolder)
	rev := &Revision{Name: up.ReleaseName, Namespace: c.namespace, Plan: p, Install: true, Options: up, fresh: true}
	if err := rev.render(p.Values, render.ReleaseOptions{Name: rev.Name, Namespace: c.namespace}); err != nil {
		return nil, err
	}
	// Whether the name is free, or may be replaced, is known once its
	// lease is held (Perform): taking it recovers a revision a stopped
	// operation left pending.
	return rev, nil
}

// errExists refuses to install over release last, which exists.
func (c *Client) errExists(last *helmrelease.Release, ref string) error {
	return errdefs.Fixable(ErrExists, []errdefs.Fix{{Run: []string{"upgrade", last.Name, ref, "-n", c.namespace}}},
		"release %q already exists in namespace %q (revision %d, %s)", last.Name, c.namespace, last.Version, last.Info.Status)
}

// prepareUpgrade is Prepare of an upgrade of bundle in: one resolution,
// keeping the installed requirement versions while they still fit (unless
// told to move them); an install when the release has no revision and
// opts.Install is set.
func (c *Client) prepareUpgrade(ctx context.Context, in *plan.Input, opts UpgradeOptions) (*Revision, error) {
	name := opts.ReleaseName
	rev := &Revision{Name: name, Namespace: c.namespace, Options: opts, leased: ctx.Value(holding{name}) != nil}
	if opts.StartFrom != "" {
		start, err := c.hist.stored(opts.StartFrom, 0)
		if err != nil {
			return nil, fmt.Errorf("upgrading %q from %q: %w", name, opts.StartFrom, err)
		}
		rev.start = c.hist.upgradeBase(start)
	}
	last, err := recordsOf(c.cfg).Last(name)
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, err
	}
	if err == nil {
		rev.last = last
	}
	if err != nil || last.Info.Status == rcommon.StatusUninstalled {
		if !opts.Install {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{Run: []string{"install", name, opts.Reference, "-n", c.namespace}}},
				"release %q not found in namespace %q", name, c.namespace)
		}
		rev.Install = true
		if err == nil { // an uninstalled release whose history was kept
			rev.Replace, rev.Base = true, last.Version
		}
		var recorded []plan.Resolved
		var unbind []string
		if rev.start != nil {
			recorded, unbind = recordedBindings(rev.start), opts.Unbind
		}
		if err := c.links.bind(ctx, in, name, cmp.Or(opts.ClaimHolder, name), opts.Reference, recorded, unbind); err != nil {
			return nil, err
		}
		p, err := in.Resolve(ctx, nil)
		if err != nil {
			return nil, err
		}
		holdClaims(p, opts.ClaimHolder)
		if rev.start != nil {
			if p.Values, p.RootValues, err = upgradeValues(rev.start, p.Values, opts); err != nil {
				return nil, err
			}
		}
		rev.Plan = p
		if err := chartutil.ValidateReleaseName(name); err != nil {
			return nil, fmt.Errorf("release name %q: %v", name, err)
		}
		return rev, rev.render(p.Values, render.ReleaseOptions{Name: name, Namespace: c.namespace})
	}
	rev.Base = last.Version
	if opts.ClaimHolder == "" {
		var err error
		if rev.Options, rev.whole, err = c.guards.upgrade(ctx, last, opts); err != nil {
			return nil, err
		}
		opts = rev.Options
	}
	from := c.hist.upgradeBase(last)
	var installed []plan.Resolved
	if !opts.UpdateDeps && from.Chart != nil && from.Chart.Metadata != nil {
		installed, _ = plan.ParseResolved(from.Chart.Metadata.Annotations)
	}
	if rev.start == nil {
		rev.start = from
	}
	if err := c.links.bind(ctx, in, name, cmp.Or(opts.ClaimHolder, name), opts.Reference, recordedBindings(rev.start), opts.Unbind); err != nil {
		return nil, err
	}
	p, err := in.Resolve(ctx, plan.PreferInstalled(installed))
	if err != nil {
		return nil, err
	}
	holdClaims(p, opts.ClaimHolder)
	rev.Plan = p
	if rev.whole != "" {
		if err := c.guards.perform(ctx, rev, rev.whole); err != nil {
			return nil, err
		}
	}
	if err := c.links.checkConsumersAllow(ctx, name, p.Root.Bundle, fmt.Sprintf("upgrading %q to %s", name, p.Root.Bundle)); err != nil {
		return nil, err
	}
	user, defaults, err := upgradeValues(rev.start, p.Values, opts)
	if err != nil {
		return nil, err
	}
	p.RootValues = defaults
	return rev, rev.render(user, render.ReleaseOptions{Name: name, Namespace: c.namespace, Revision: last.Version + 1, IsUpgrade: true})
}

// render composes and renders the revision's chart and values from its
// plan and the user's values, with what the revision records (its
// annotations, a provider's outputs).
func (rev *Revision) render(user map[string]any, rel render.ReleaseOptions) error {
	chrt, err := render.Chart(rev.Plan, user)
	if err != nil {
		return err
	}
	annotate(chrt, rev.Options.Annotations)
	vals, err := render.Values(rev.Plan, user, rel)
	if err != nil {
		return err
	}
	if err := render.RecordResolution(rev.Plan, chrt, vals); err != nil {
		return err
	}
	if err := recordProvider(chrt, rev.Plan, vals, rel); err != nil {
		return err
	}
	rev.chart, rev.values = chrt, vals
	rev.Number = max(rel.Revision, 1)
	return nil
}

// Perform installs or upgrades prepared revision rev, as its Options say,
// holding the release's lease (with DryRun, none: nothing is stored). It
// is refused with ErrStale when the release's last revision is no longer
// the one rev was prepared over (Base).
func (c *Client) Perform(ctx context.Context, rev *Revision) (*Release, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	return c.perform(ctx, rev)
}

// perform is Perform once the cluster answered.
func (c *Client) perform(ctx context.Context, rev *Revision) (*Release, error) {
	opts := rev.Options
	if rev.Install && opts.CreateNamespace && !opts.DryRun {
		// Before the lease, which lives in it.
		if err := c.installNamespace(ctx, rev.Name); err != nil {
			return nil, fmt.Errorf("installing %s as %q: %w", rev.Plan.Root.Bundle, rev.Name, err)
		}
	}
	op := OpUpgrade
	if rev.fresh {
		op = OpInstall
	}
	ctx, end, err := c.begin(ctx, op, rev.Name, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	if rev.whole != "" {
		// The whole's lease too: the guard reads it again.
		var endWhole func()
		if ctx, endWhole, err = c.begin(ctx, OpUpgrade, rev.whole, opts.DryRun); err != nil {
			return nil, err
		}
		defer endWhole()
		if err := c.guards.perform(ctx, rev, rev.whole); err != nil {
			return nil, err
		}
	}
	last, err := rev.last, error(nil)
	if !rev.leased {
		last, err = recordsOf(c.cfg).Last(rev.Name)
	} else if last == nil {
		err = driver.ErrReleaseNotFound
	}
	now := 0
	if err == nil {
		now = last.Version
	}
	replace := rev.Replace
	if rev.fresh {
		if err == nil && !c.hist.replaceable(last) {
			return nil, c.errExists(last, opts.Reference)
		}
		replace, now = err == nil, rev.Base
	}
	if now != rev.Base {
		return nil, errdefs.Fixable(errdefs.ErrStale, []errdefs.Fix{{See: []string{"history", rev.Name, "-n", c.namespace}}},
			"release %q in namespace %q moved on (revision %d, prepared over %d) while its next revision was prepared: nothing was changed, run the operation again", rev.Name, c.namespace, now, rev.Base)
	}
	if rev.Install {
		return c.performInstall(ctx, rev, replace)
	}
	return c.performUpgrade(ctx, rev, last)
}

// clone is a copy of the revision's chart and values for one run of a
// Helm action, which changes them (it drops disabled subcharts, imports
// values): a revision may be performed dry, then for real.
func (rev *Revision) clone() (*chart.Chart, map[string]any) {
	return cloneChart(rev.chart), render.CopyValues(rev.values)
}

// cloneChart copies chart c as far as Helm's actions change it: its
// metadata, values and dependencies; templates and files are shared.
func cloneChart(c *chart.Chart) *chart.Chart {
	out := *c
	if c.Metadata != nil {
		md := *c.Metadata
		md.Annotations = make(map[string]string, len(c.Metadata.Annotations))
		for k, v := range c.Metadata.Annotations {
			md.Annotations[k] = v
		}
		md.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
		for i, d := range c.Metadata.Dependencies {
			dd := *d
			md.Dependencies[i] = &dd
		}
		out.Metadata = &md
	}
	if c.Lock != nil {
		lock := *c.Lock
		out.Lock = &lock
	}
	out.Values = render.CopyValues(c.Values)
	deps := make([]*chart.Chart, 0, len(c.Dependencies()))
	for _, d := range c.Dependencies() {
		deps = append(deps, cloneChart(d))
	}
	out.SetDependencies(deps...)
	return &out
}

// Reshape runs on a revision's rendered manifests (not its hooks) after
// the user's post-renderer and the image pins, and returns those to apply:
// a blue-green colour's Ingresses are taken out for its app's router.
type Reshape func(manifests *bytes.Buffer) (*bytes.Buffer, error)

// Run makes a Reshape one of Helm's post-renderers.
func (r Reshape) Run(in *bytes.Buffer) (*bytes.Buffer, error) { return r(in) }

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
