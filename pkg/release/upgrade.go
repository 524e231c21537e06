package release

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// UpgradeOptions configure Upgrade.
type UpgradeOptions struct {
	// Source is the bundle to upgrade to, with the user's values.
	plan.Source
	ReleaseName string
	WaitOptions
	HelmOptions
	Atomic bool
	DryRun bool
	// Which values the new revision starts from, as in Helm. Without any
	// of the three, the current revision's values are kept when no values
	// are given (Source.Values is empty), and dropped otherwise.
	//
	// ResetValues starts from the bundle's defaults only (--reset-values);
	// it wins over the other two.
	ResetValues bool
	// ReuseValues applies the given values over the current revision's,
	// and, as helm does, over the current revision's defaults instead of
	// the new version's: defaults added by the new version are not seen
	// (--reuse-values).
	ReuseValues bool
	// ResetThenReuseValues applies the given values over the current
	// revision's, over the new version's defaults
	// (--reset-then-reuse-values).
	ResetThenReuseValues bool
	// Force replaces objects (PUT) instead of applying them
	// (--force-replace, --force).
	Force bool
	// CleanupOnFail deletes the resources this upgrade created when it
	// fails (--cleanup-on-fail).
	CleanupOnFail bool
	// MaxHistory keeps at most this many revisions, deleting the oldest;
	// zero keeps all (--history-max, whose default is 10).
	MaxHistory int
	// Install installs the release when it does not exist yet.
	Install         bool
	CreateNamespace bool
	// UpdateDeps lets the requirements move to their newest fitting
	// versions; otherwise the installed versions are kept while they fit.
	UpdateDeps bool
	// Unbind names requirements bound to a release (see plan.Binding)
	// that the new revision installs in the app's release instead. The
	// bindings the current revision recorded are kept otherwise.
	Unbind []string

	// StartFrom, when set, names the release whose current revision (its
	// last deployed one) the values (Helm's rules above) and recorded
	// bindings start from, in place of the release's own: a blue-green
	// upgrade starts the new colour from the live colour.
	StartFrom string
	PartOf
}

// Upgrade moves a release to a new bundle version or new values: Prepare,
// holding the release's lease, then Perform. The requirement graph is
// resolved again and the outputs recomputed: the wiring under requires: is
// never taken from the current revision, whichever values are reused.
func (c *Client) Upgrade(ctx context.Context, opts UpgradeOptions) (*Release, error) {
	// Everything that needs no cluster is checked first.
	in, err := c.read(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	ctx, end, err := c.begin(ctx, OpUpgrade, opts.ReleaseName, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	rev, err := c.prepareUpgrade(ctx, in, opts)
	if err != nil {
		return nil, err
	}
	return c.perform(ctx, rev)
}

// upgradeValues applies Helm's rules (action.Upgrade's reuseValues) for
// the values an upgrade starts from to the user's values: it returns the
// user values to compose with and, for --reuse-values, the chart defaults
// that replace the new version's. Only what the user gave is reused, never
// the wiring under requires:.
func upgradeValues(last *helmrelease.Release, given map[string]any, opts UpgradeOptions) (user, defaults map[string]any, err error) {
	old := userValues(last)
	switch {
	case opts.ResetValues:
		return given, nil, nil
	case opts.ReuseValues:
		coalesced, err := commonutil.CoalesceValues(last.Chart, last.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("the values of revision %d, to reuse: %w", last.Version, err)
		}
		defaults = coalesced.AsMap()
		stripRequires(defaults, last)
		return commonutil.CoalesceTables(render.CopyValues(given), old), defaults, nil
	case opts.ResetThenReuseValues:
		return commonutil.CoalesceTables(render.CopyValues(given), old), nil, nil
	case len(given) == 0:
		return old, nil, nil
	}
	return given, nil, nil
}

// userValues returns the values a user gave a release: its values without
// the wiring bundle computed under requires:.
func userValues(rel *helmrelease.Release) map[string]any {
	vals := render.CopyValues(rel.Config)
	if vals == nil {
		vals = map[string]any{}
	}
	stripRequires(vals, rel)
	return vals
}

// stripRequires deletes the requires: key bundle wrote into vals: at the top
// and in the values of every instance the release's chart recorded (a
// nested requirement's outputs are under its parent's). An instance's map
// left empty (Plan.Values makes one for every instance) is deleted too.
func stripRequires(vals map[string]any, rel *helmrelease.Release) {
	var resolved []plan.Resolved
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		resolved, _ = plan.ParseResolved(rel.Chart.Metadata.Annotations)
	}
	// Deepest instances first, so that emptied parents go too.
	paths := make([]string, 0, len(resolved))
	for _, r := range resolved {
		paths = append(paths, r.Instance)
	}
	sort.Slice(paths, func(i, j int) bool { return strings.Count(paths[i], ".") > strings.Count(paths[j], ".") })
	for _, path := range paths {
		keys := strings.Split(path, ".")
		parent := vals
		for _, k := range keys[:len(keys)-1] {
			parent, _ = parent[k].(map[string]any)
		}
		m, ok := parent[keys[len(keys)-1]].(map[string]any)
		if !ok {
			continue
		}
		delete(m, bundle.RequiresKey)
		if len(m) == 0 {
			delete(parent, keys[len(keys)-1])
		}
	}
	delete(vals, bundle.RequiresKey)
}

// performUpgrade upgrades release last to rev, holding its lease; a
// provider's grants are made again for its new outputs (regrant).
func (c *Client) performUpgrade(ctx context.Context, rev *Revision, last *helmrelease.Release) (*Release, error) {
	opts := rev.Options
	p := rev.Plan
	opts.Wait = opts.Wait || opts.Atomic
	cfg, v, err := c.helmConfig(ctx, rev.Name, p, opts.WaitOptions, !opts.NoHooks, applyOptions{force: opts.Force, lax: opts.DisableOpenAPIValidation})
	if err != nil {
		return nil, err
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = c.namespace
	up.WaitStrategy, up.WaitOptions = waitFor(ctx, opts.Wait)
	up.RollbackOnFailure = opts.Atomic
	up.ServerSideApply = serverSideApply
	up.Timeout = opts.timeout()
	up.WaitForJobs = opts.WaitForJobs
	up.Description = opts.Description
	up.DisableHooks = opts.NoHooks
	up.SkipCRDs = opts.SkipCRDs
	up.DisableOpenAPIValidation = v.openAPIValidation(opts.DisableOpenAPIValidation)
	up.ForceReplace = opts.Force
	up.CleanupOnFail = opts.CleanupOnFail
	up.MaxHistory = opts.MaxHistory
	up.Labels = opts.Labels
	if pr := withPost(postRenderer(p, opts.PostRenderer), opts.Reshape); pr != nil {
		up.PostRenderer = pr
	}
	// The values are computed in full (Prepare), with Helm's rules for
	// which to reuse; Helm must take them as they are.
	up.ResetValues = true
	up.DryRunStrategy = dryRunStrategy(opts.DryRun)
	chrt, vals := rev.clone()
	rel, err := v1Of(up.RunWithContext(ctx, rev.Name, chrt, vals))
	if err == nil && opts.DryRun {
		err = v.dryRun(rel, p)
	}
	if err = orLost(ctx, err); err != nil {
		return nil, fmt.Errorf("upgrading %q to %s: %w", rev.Name, p.Root.Bundle, render.HelmErrorFor(p.Root.Bundle.Name, err))
	}
	if !opts.DryRun && grantable(last) {
		if err := c.regrant(ctx, rev.Name, opts.WaitOptions); err != nil {
			return nil, fmt.Errorf("upgraded %q to %s, but %w", rev.Name, p.Root.Bundle, err)
		}
	}
	return c.summarizeRun(rel, opts.DryRun), nil
}
