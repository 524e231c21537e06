package release

// What this package offers the operations built above it that treat
// several releases as one whole (pkg/bluegreen: a blue-green app's router
// and colours): a Guard consulted before an operation on a release of a
// whole, and the primitives such an operation performs with: leases
// (Hold), stored revisions (Stored, Base, Latest), a chart of its own made
// a release (Put), the Jobs of a release waited for (WaitJobs), a claim's
// binding made again (ClaimBinding).

import (
	"context"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// A Guard keeps an operation on one release from breaking the whole it
// is part of. The operations consult it with the release's lease held;
// each hook may refuse, and those that return an end func may hold more
// (the whole's lease) until the operation ends.
type Guard interface {
	// WholeOf names the whole release rec is part of ("" for none): its
	// consumers are told to change the whole, not the release.
	WholeOf(rec *Record) string
	// CheckUpgrade is consulted when an upgrade of release last is prepared:
	// it may refuse it (an upgrade in place of what only the whole
	// changes), or return what the new revision keeps of the whole
	// (PartOf), and the whole whose lease Perform holds too ("" for
	// none).
	CheckUpgrade(ctx context.Context, last *Record, opts UpgradeOptions) (_ PartOf, whole string, _ error)
	// CheckPerform is consulted by Prepare, and by Perform with both
	// leases held, of revision rev of a release of whole (as CheckUpgrade
	// said).
	CheckPerform(ctx context.Context, rev *Revision, whole string) error
	// CheckRollback is consulted before release last is rolled back to
	// revision target.
	CheckRollback(ctx context.Context, last, target *Record) (context.Context, func(), error)
	// CheckUninstall is consulted before release last is uninstalled.
	CheckUninstall(ctx context.Context, last *Record, opts UninstallOptions) (context.Context, func(), error)
}

// Guard makes g a guard of every later operation of the client.
func (c *Client) Guard(g Guard) { c.guards.all = append(c.guards.all, g) }

// guards are a client's Guards, consulted in the order they were added.
type guards struct{ all []Guard }

// wholeOf is the whole a guard says rec is part of; "" for none.
func (gs *guards) wholeOf(rec *Record) string {
	for _, g := range gs.all {
		if w := g.WholeOf(rec); w != "" {
			return w
		}
	}
	return ""
}

// upgrade consults the guards on an upgrade of last; opts comes back
// with the PartOf a guard gave (the first that gave one).
func (gs *guards) upgrade(ctx context.Context, last *helmrelease.Release, opts UpgradeOptions) (UpgradeOptions, string, error) {
	rec := record(last)
	whole := ""
	for _, g := range gs.all {
		part, w, err := g.CheckUpgrade(ctx, rec, opts)
		if err != nil {
			return opts, "", err
		}
		if w != "" && whole == "" {
			whole = w
			opts.PartOf = mergePartOf(part, opts.PartOf)
		}
	}
	return opts, whole, nil
}

// mergePartOf is part with what given sets over it: the annotations of
// both, given's knobs where set.
func mergePartOf(part, given PartOf) PartOf {
	if given.ClaimHolder != "" {
		part.ClaimHolder = given.ClaimHolder
	}
	if given.Reshape != nil {
		part.Reshape = given.Reshape
	}
	ann := map[string]string{}
	for k, v := range part.Annotations {
		ann[k] = v
	}
	for k, v := range given.Annotations {
		ann[k] = v
	}
	if len(ann) > 0 {
		part.Annotations = ann
	}
	return part
}

// perform consults the guards on performing rev, part of whole.
func (gs *guards) perform(ctx context.Context, rev *Revision, whole string) error {
	for _, g := range gs.all {
		if err := g.CheckPerform(ctx, rev, whole); err != nil {
			return err
		}
	}
	return nil
}

// check consults the guards with check (CheckRollback or CheckUninstall),
// chaining the contexts they return; end ends what they hold.
func (gs *guards) check(ctx context.Context, check func(Guard, context.Context) (context.Context, func(), error)) (context.Context, func(), error) {
	var ends []func()
	end := func() {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i]()
		}
	}
	for _, g := range gs.all {
		next, e, err := check(g, ctx)
		if err != nil {
			end()
			return ctx, func() {}, err
		}
		if e != nil {
			ends = append(ends, e)
		}
		if next != nil {
			ctx = next
		}
	}
	return ctx, end, nil
}

// Reachable checks the cluster answers, with one clear line when not
// (ErrUnreachable).
func (c *Client) Reachable() error { return c.reachable() }

// Hold takes release name's lease for operation op (see Operation) and
// recovers a revision an operation that stopped left pending; end
// releases it. A release already held by ctx's operation is not taken
// again. The context is cancelled when the lease is lost.
func (c *Client) Hold(ctx context.Context, op Operation, name string) (_ context.Context, end func(), _ error) {
	return c.begin(ctx, op, name, false)
}

// CreateNamespace creates the client's namespace, for release name,
// unless it exists.
func (c *Client) CreateNamespace(ctx context.Context, name string) error {
	return c.installNamespace(ctx, name)
}

// Clientset is the Kubernetes client of the client's cluster; nil (and
// no error) when its Env has none.
func (c *Client) Clientset() (kubernetes.Interface, error) {
	if c.env == nil || c.env.Clientset == nil {
		return nil, nil
	}
	return c.env.Clientset()
}

// Latest is the last revision of every release of the client's namespace
// (with all, of every namespace), uninstalled ones included.
func (c *Client) Latest(all bool) ([]*Record, error) {
	rels, err := c.links.listLatest(all)
	if err != nil {
		return nil, err
	}
	out := make([]*Record, len(rels))
	for i, r := range rels {
		out[i] = record(r)
	}
	return out, nil
}

// PutOptions configure Put.
type PutOptions struct {
	// Name is the release's.
	Name string
	// Chart and Values are what it installs or upgrades to, made by the
	// caller (render makes the charts of grants; pkg/bluegreen its
	// routers'); the values are taken as they are.
	Chart  *chart.Chart
	Values map[string]any
	// Description is recorded as the revision's.
	Description string
	// MaxHistory keeps at most this many revisions; zero keeps all.
	MaxHistory int
	// WaitOptions: with Wait, its Jobs are waited for too.
	WaitOptions
	// DryRun renders and validates against the cluster, storing nothing.
	DryRun bool
}

// Put installs or upgrades release opts.Name to a chart made elsewhere,
// holding its lease: an upgrade when it is installed and one of its
// revisions was deployed (its last may have failed, or been left pending
// by an operation that stopped), else an install, replacing a release
// uninstalled with its history kept or whose first install failed. Its objects are applied as every
// release's are (server-side, converging).
func (c *Client) Put(ctx context.Context, opts PutOptions) (*Release, error) {
	ctx, end, err := c.begin(ctx, OpInstall, opts.Name, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	cfg, err := c.opConfig(ctx, opts.Name, applyOptions{}, opts.WaitOptions)
	if err != nil {
		return nil, err
	}
	var done *helmrelease.Release
	last, lerr := recordsOf(c.cfg).Last(opts.Name)
	if lerr == nil && last.Info.Status != rcommon.StatusUninstalled && c.hist.wasDeployed(opts.Name) {
		up := action.NewUpgrade(cfg)
		up.Namespace = c.namespace
		up.Description = opts.Description
		up.MaxHistory = opts.MaxHistory
		up.ResetValues = true
		up.WaitStrategy, up.WaitOptions = waitFor(ctx, opts.Wait)
		up.WaitForJobs, up.Timeout = opts.Wait, opts.timeout()
		up.ServerSideApply = serverSideApply
		up.DryRunStrategy = dryRunStrategy(opts.DryRun)
		done, err = v1Of(up.RunWithContext(ctx, opts.Name, opts.Chart, opts.Values))
	} else {
		inst := action.NewInstall(cfg)
		inst.ReleaseName = opts.Name
		inst.Namespace = c.namespace
		inst.Description = opts.Description
		inst.Replace = lerr == nil
		inst.WaitStrategy, inst.WaitOptions = waitFor(ctx, opts.Wait)
		inst.WaitForJobs, inst.Timeout = opts.Wait, opts.timeout()
		inst.ServerSideApply = true
		inst.DryRunStrategy = dryRunStrategy(opts.DryRun)
		done, err = v1Of(inst.RunWithContext(ctx, opts.Chart, opts.Values))
	}
	if err = orLost(ctx, err); err != nil {
		return nil, err
	}
	return c.summarizeRun(done, opts.DryRun), nil
}

// wasDeployed reports whether a revision of release name was deployed
// (deployed or superseded).
func (h history) wasDeployed(name string) bool {
	hist, err := recordsOf(h.cfg).History(name)
	if err != nil {
		return false
	}
	for _, r := range hist {
		if st := r.Info.Status; st == rcommon.StatusDeployed || st == rcommon.StatusSuperseded {
			return true
		}
	}
	return false
}

// WaitJobs waits until the Jobs of release name's last revision that are
// still in the cluster have completed (one deleted since, done and cleaned
// up, is not waited for), for at most w's timeout, showing w's progress.
func (c *Client) WaitJobs(ctx context.Context, name string, w WaitOptions) error {
	rel, err := recordsOf(c.cfg).Last(name)
	if err != nil {
		return err
	}
	rl, err := c.cfg.KubeClient.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		return err
	}
	cs, err := c.Clientset()
	if err != nil {
		return err
	}
	var jobs kube.ResourceList
	for _, r := range rl {
		if r.Mapping == nil || r.Mapping.GroupVersionKind.Group != "batch" || r.Mapping.GroupVersionKind.Kind != "Job" {
			continue
		}
		if cs != nil {
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
	wt, err := cfg.KubeClient.GetWaiter(waitStrategy(true))
	if err != nil {
		return err
	}
	return wt.WaitWithJobs(jobs, w.timeout())
}

// ClaimBinding is the binding claim r (a requirement bound to provider
// r.Bound with a claim of its own) of release holder was made with. With
// held, the claim as holder carries it: the provider's bundle r names,
// as r's repository serves it, whose digest must be the one held recorded
// (when it recorded one), with the provider's outputs held was made
// with; nothing else of held is used, so that a record rewritten in the
// cluster renders no template of its own. Without held (a holder made by
// an earlier version, which carried none), it is bound anew to the
// provider, as a new binding is.
func (c *Client) ClaimBinding(ctx context.Context, holder string, r plan.Resolved, held *render.HeldClaim) (*plan.Binding, error) {
	ns, prov, _ := strings.Cut(r.Bound, "/")
	bind := plan.Bind{Instance: r.Instance, Namespace: ns, Release: prov}
	if held == nil {
		con, err := bundle.ParseConstraint(r.Constraint)
		if err != nil {
			con, _ = semver.NewConstraint("*")
		}
		req := &bundle.Requirement{Name: r.Instance, Bundle: r.Bundle, Repository: r.Repository, Version: r.Constraint, Constraint: con}
		return c.links.binding(ctx, bind, req, true, holder)
	}
	v, err := semver.NewVersion(r.Version)
	if err != nil {
		return nil, fmt.Errorf("version %q: %v", r.Version, err)
	}
	full, err := c.links.loadServed(ctx, r.Repository, r.Bundle, v)
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrFailed, err, "rendered from the provider's bundle as its repository serves it: %s", err)
	}
	got, err := plan.Digest(r.Repository, full)
	if err != nil {
		return nil, err
	}
	switch {
	case held.Digest == "":
		c.log("the claim %q holds for %s records no digest (made by an earlier version of bundle): rendered from %s %s as %s serves it (%s)", holder, r.Instance, r.Bundle, v, r.Repository, got)
	case held.Digest != got:
		return nil, errdefs.Fixable(errdefs.ErrStale, nil,
			"it was made from %s %s with digest %s, but %s serves %s: the record or the repository changed", r.Bundle, v, held.Digest, r.Repository, got)
	}
	out := &plan.Binding{Bind: bind, Provider: full, Repository: r.Repository, Outputs: held.HeldOutputs(), Claim: true, Digest: got}
	if bind.Namespace != c.namespace {
		// Granted: the claim's Secret is copied from the grant's.
		out.Grant = &plan.Grant{Namespace: bind.Namespace, Name: render.GrantName(bind.Release, plan.Consumer{Namespace: c.namespace, Release: holder, Instance: r.Instance})}
	}
	return out, nil
}
