// Package release installs, upgrades, rolls back and uninstalls bundles on a
// Kubernetes cluster through the Helm SDK. Releases are stored exactly as
// Helm stores them (Secrets of type helm.sh/release.v1), so helm list and
// other Helm tooling see bundle releases; the resolved bundle versions are
// recorded in the release's chart annotations.
package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bundlesh/bundle/internal/errs"
	"github.com/bundlesh/bundle/internal/releaseenv"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnreachable: the cluster in the kubeconfig does not answer.
	ErrUnreachable = errors.New("cluster unreachable")
	// ErrExists: a release of that name is already installed.
	ErrExists = errors.New("release exists")
	// ErrNotFound: no release of that name.
	ErrNotFound = errors.New("release not found")
)

// DefaultTimeout bounds waiting operations when no timeout is given.
const DefaultTimeout = 5 * time.Minute

// KubeOptions say which cluster and namespace to use, as kubectl's flags do.
type KubeOptions struct {
	Kubeconfig string // empty: $KUBECONFIG or ~/.kube/config
	Context    string // empty: the kubeconfig's current context
	Namespace  string // empty: the context's namespace, else "default"
	// Debug, when set, receives Helm's log and one line per request sent
	// to the cluster, Secret data and credentials redacted.
	Debug io.Writer
	// RequestTimeout bounds each request to the cluster; zero: no bound.
	RequestTimeout time.Duration
}

// Client runs lifecycle operations against one cluster and namespace.
type Client struct {
	cfg       *action.Configuration
	flags     *genericclioptions.ConfigFlags
	namespace string
	repos     *repo.Set
	env       *releaseenv.Env
}

// New returns a client for the cluster and namespace in opts, resolving
// bundles through repos. It does not contact the cluster.
func New(opts KubeOptions, repos *repo.Set) (*Client, error) {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &opts.Kubeconfig
	flags.Context = &opts.Context
	ns := opts.Namespace
	if ns == "" {
		var err error
		ns, _, err = flags.ToRawKubeConfigLoader().Namespace()
		if err != nil || ns == "" {
			ns = "default"
		}
	}
	flags.Namespace = &ns
	if opts.RequestTimeout > 0 {
		t := opts.RequestTimeout.String()
		flags.Timeout = &t
	}
	logf := func(string, ...any) {}
	if opts.Debug != nil {
		logf = debugLog(opts.Debug)
		flags.WrapConfigFn = debugTransport(opts.Debug)
	}
	cfg := &action.Configuration{}
	if err := cfg.Init(flags, ns, "secret", logf); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	env := &releaseenv.Env{
		Config:    cfg,
		Namespace: ns,
		AllNamespaces: func() (*action.Configuration, error) {
			all := &action.Configuration{}
			return all, all.Init(flags, "", "secret", logf)
		},
		Clientset: cfg.KubernetesClientSet,
	}
	return &Client{cfg: cfg, flags: flags, namespace: ns, repos: repos, env: env}, nil
}

// Namespace returns the namespace the client works in.
func (c *Client) Namespace() string { return c.namespace }

// reachable checks the cluster answers, with one clear line when not.
func (c *Client) reachable() error {
	host := "the cluster"
	if c.flags != nil { // nil: NewWithEnv, no kubeconfig behind the client
		rc, err := c.flags.ToRESTConfig()
		if err != nil {
			return errs.New(ErrUnreachable, "cannot use the kubeconfig: %v (pass --kubeconfig, or start a local cluster with make cluster-up)", oneLine(err))
		}
		host = rc.Host
	}
	if err := c.cfg.KubeClient.IsReachable(); err != nil {
		msg := strings.TrimPrefix(oneLine(err), "Kubernetes cluster unreachable: ")
		return errs.New(ErrUnreachable, "cannot reach the cluster at %s: %s (check --kubeconfig and --kube-context, or start a local cluster with make cluster-up)", host, msg)
	}
	return nil
}

// Release is a summary of one release revision.
type Release struct {
	Name       string
	Namespace  string
	Revision   int
	Status     string
	Updated    time.Time
	Bundle     string // root bundle name
	Version    string // root bundle version
	AppVersion string
	// Resolved lists the requirement instances and their bundle versions.
	Resolved    []render.Resolved
	Description string
	Notes       string
	// Values are the values the user supplied (with the wiring bundle
	// computed under requires:).
	Values   map[string]any
	Manifest string
}

func summarize(r *helmrelease.Release) *Release {
	out := &Release{Name: r.Name, Namespace: r.Namespace, Revision: r.Version, Values: r.Config, Manifest: r.Manifest}
	if r.Info != nil {
		out.Status = r.Info.Status.String()
		out.Updated = r.Info.LastDeployed.Time
		out.Notes = r.Info.Notes
		out.Description = r.Info.Description
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		out.Bundle = r.Chart.Metadata.Name
		out.Version = r.Chart.Metadata.Version
		out.AppVersion = r.Chart.Metadata.AppVersion
		out.Resolved, _ = render.ParseResolved(r.Chart.Metadata.Annotations)
	}
	return out
}

// Source says which bundle to install or upgrade to.
type Source struct {
	// Reference is REPO/NAME (stable/mediawiki) or a directory.
	Reference string
	// Version is a semver constraint on the root bundle; empty means the
	// newest stable version.
	Version string
	// Values are the user's -f files and --set settings.
	Values bundle.ValuesOptions
	// Locked installs exactly what the bundle's bundle.lock says, after
	// checking it against bundle.yaml and the digests the sources serve.
	Locked bool
}

// Prepared is a resolved bundle and the user's values: everything computed
// before touching the cluster.
type Prepared struct {
	plan   *render.Plan
	values map[string]any
}

// prepare parses and resolves everything that needs no cluster, so bad input
// fails before anything is sent.
func (c *Client) prepare(ctx context.Context, src Source) (*Prepared, error) {
	return Prepare(ctx, c.repos, src)
}

// Prepare loads, resolves and reads the values of a Source without a
// cluster: every user error (reference, constraint, values, resolution)
// surfaces here.
func Prepare(ctx context.Context, repos *repo.Set, src Source) (*Prepared, error) {
	ref, err := repo.ParseReference(src.Reference)
	if err != nil {
		return nil, err
	}
	var constraint *semver.Constraints
	if src.Version != "" {
		c, err := bundle.ParseConstraint(src.Version)
		if err != nil {
			return nil, fmt.Errorf("--version: %v (write a semver range such as ^1.0.0)", err)
		}
		constraint = c
	}
	vals, err := src.Values.Merge()
	if err != nil {
		return nil, err
	}
	root, err := repos.LoadReference(ctx, ref, constraint)
	if err != nil {
		return nil, err
	}
	plan, err := render.NewPlan(ctx, repos, root, render.PlanOptions{Locked: src.Locked})
	if err != nil {
		return nil, err
	}
	return &Prepared{plan: plan, values: vals}, nil
}

// Plan returns the resolved composition.
func (p *Prepared) Plan() *render.Plan { return p.plan }

// Values returns the user's merged values.
func (p *Prepared) Values() map[string]any { return p.values }

// WaitOptions are shared by operations that can wait for readiness.
type WaitOptions struct {
	// Wait until every resource is ready (Deployments available,
	// StatefulSets ready, claims bound, ...).
	Wait bool
	// Timeout bounds waiting; zero means DefaultTimeout.
	Timeout time.Duration
}

func (w WaitOptions) timeout() time.Duration {
	if w.Timeout <= 0 {
		return DefaultTimeout
	}
	return w.Timeout
}

// InstallOptions configure Install.
type InstallOptions struct {
	Source
	// ReleaseName defaults to the root bundle's name.
	ReleaseName string
	WaitOptions
	CreateNamespace bool
	// Atomic uninstalls the release if the install fails (implies Wait).
	Atomic bool
	// DryRun renders against the cluster and validates, creating nothing.
	DryRun bool
}

// Install installs a bundle with all its requirements as one release.
func (c *Client) Install(ctx context.Context, opts InstallOptions) (*Release, error) {
	p, err := c.prepare(ctx, opts.Source)
	if err != nil {
		return nil, err
	}
	name := opts.ReleaseName
	if name == "" {
		name = p.plan.Root.Bundle.Name
	}
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return nil, fmt.Errorf("release name %q: %v", name, err)
	}
	chrt, err := p.plan.Chart(p.values)
	if err != nil {
		return nil, err
	}
	vals, err := p.plan.Values(p.values, render.ReleaseOptions{Name: name, Namespace: c.namespace})
	if err != nil {
		return nil, err
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if last, err := c.cfg.Releases.Last(name); err == nil && last.Info.Status != helmrelease.StatusUninstalled {
		return nil, errs.New(ErrExists, "release %q already exists in namespace %q (revision %d, %s): upgrade it with bundle upgrade %s %s, or choose another name", name, c.namespace, last.Version, last.Info.Status, name, opts.Reference)
	}
	inst := action.NewInstall(c.cfg)
	inst.ReleaseName = name
	inst.Namespace = c.namespace
	inst.CreateNamespace = opts.CreateNamespace
	inst.Wait = opts.Wait || opts.Atomic
	inst.Atomic = opts.Atomic
	inst.Timeout = opts.timeout()
	if opts.DryRun {
		inst.DryRun = true
		inst.DryRunOption = "server"
	}
	rel, err := inst.RunWithContext(ctx, chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("installing %s as %q: %w", p.plan.Root.Bundle, name, render.HelmErrorFor(p.plan.Root.Bundle.Name, err))
	}
	return summarize(rel), nil
}

// UpgradeOptions configure Upgrade.
type UpgradeOptions struct {
	Source
	ReleaseName string
	WaitOptions
	Atomic bool
	DryRun bool
	// ReuseValues starts from the values of the current revision (as
	// Helm's --reuse-values) and applies the new ones over them.
	ReuseValues bool
	// Install installs the release when it does not exist yet.
	Install         bool
	CreateNamespace bool
	// UpdateDeps lets the requirements move to their newest fitting
	// versions; otherwise the installed versions are kept while they fit.
	UpdateDeps bool
}

// Upgrade moves a release to a new bundle version or new values. The
// requirement graph is resolved again and the outputs recomputed.
func (c *Client) Upgrade(ctx context.Context, opts UpgradeOptions) (*Release, error) {
	name := opts.ReleaseName
	// Everything that needs no cluster is checked first.
	p, err := c.prepare(ctx, opts.Source)
	if err != nil {
		return nil, err
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	last, err := c.cfg.Releases.Last(name)
	if err == nil && !opts.UpdateDeps && last.Chart != nil && last.Chart.Metadata != nil {
		// Keep the installed requirement versions while they still fit.
		installed, _ := render.ParseResolved(last.Chart.Metadata.Annotations)
		if len(installed) > 0 {
			prefer := map[string]*semver.Version{}
			for _, r := range installed {
				if v, err := semver.StrictNewVersion(r.Version); err == nil {
					prefer[r.Bundle] = v
				}
			}
			// Only the resolution changes: the bundle and values are loaded.
			if p.plan, err = render.NewPlan(ctx, c.repos, p.plan.Root.Bundle, render.PlanOptions{Locked: opts.Locked, Prefer: prefer}); err != nil {
				return nil, err
			}
		}
	}
	if err != nil || last.Info.Status == helmrelease.StatusUninstalled {
		if opts.Install {
			return c.Install(ctx, InstallOptions{Source: opts.Source, ReleaseName: name, WaitOptions: opts.WaitOptions, CreateNamespace: opts.CreateNamespace, Atomic: opts.Atomic, DryRun: opts.DryRun})
		}
		return nil, errs.New(ErrNotFound, "release %q not found in namespace %q: install it first with bundle install %s %s", name, c.namespace, name, opts.Reference)
	}
	user := p.values
	if opts.ReuseValues {
		old := render.CopyValues(last.Config)
		delete(old, bundle.RequiresKey)
		user = bundle.MergeMaps(old, user)
	}
	chrt, err := p.plan.Chart(user)
	if err != nil {
		return nil, err
	}
	vals, err := p.plan.Values(user, render.ReleaseOptions{Name: name, Namespace: c.namespace, Revision: last.Version + 1, IsUpgrade: true})
	if err != nil {
		return nil, err
	}
	up := action.NewUpgrade(c.cfg)
	up.Namespace = c.namespace
	up.Wait = opts.Wait || opts.Atomic
	up.Atomic = opts.Atomic
	up.Timeout = opts.timeout()
	up.ResetValues = true // the values are computed in full above
	if opts.DryRun {
		up.DryRun = true
		up.DryRunOption = "server"
	}
	rel, err := up.RunWithContext(ctx, name, chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("upgrading %q to %s: %w", name, p.plan.Root.Bundle, render.HelmErrorFor(p.plan.Root.Bundle.Name, err))
	}
	return summarize(rel), nil
}

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	ReleaseName string
	// Revision to roll back to; zero means the previous one.
	Revision int
	WaitOptions
	DryRun bool
}

// Rollback restores an earlier revision: app and infrastructure together,
// as one new revision.
func (c *Client) Rollback(ctx context.Context, opts RollbackOptions) (*Release, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if _, err := c.last(opts.ReleaseName); err != nil {
		return nil, err
	}
	rb := action.NewRollback(c.cfg)
	rb.Version = opts.Revision
	rb.Wait = opts.Wait
	rb.Timeout = opts.timeout()
	rb.DryRun = opts.DryRun
	if err := rb.Run(opts.ReleaseName); err != nil {
		return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, render.HelmError(err))
	}
	return c.latest(ctx, opts.ReleaseName)
}

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	ReleaseName string
	WaitOptions
	// KeepHistory keeps the release records (helm uninstall --keep-history).
	KeepHistory bool
	DryRun      bool
}

// Uninstall deletes every object of a release and its records.
func (c *Client) Uninstall(ctx context.Context, opts UninstallOptions) (*Release, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if _, err := c.last(opts.ReleaseName); err != nil {
		return nil, err
	}
	un := action.NewUninstall(c.cfg)
	un.Wait = opts.Wait
	un.Timeout = opts.timeout()
	un.KeepHistory = opts.KeepHistory
	un.DryRun = opts.DryRun
	un.DeletionPropagation = "foreground"
	res, err := un.Run(opts.ReleaseName)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, render.HelmError(err))
	}
	return summarize(res.Release), nil
}

func (c *Client) last(name string) (*helmrelease.Release, error) {
	r, err := c.cfg.Releases.Last(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, errs.New(ErrNotFound, "release %q not found in namespace %q (see bundle list -A)", name, c.namespace)
		}
		return nil, err
	}
	return r, nil
}

// History returns every stored revision of a release, oldest first.
func (c *Client) History(ctx context.Context, name string) ([]*Release, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if _, err := c.last(name); err != nil {
		return nil, err
	}
	h := action.NewHistory(c.cfg)
	rels, err := h.Run(name)
	if err != nil {
		return nil, fmt.Errorf("history of %q: %w", name, err)
	}
	out := make([]*Release, 0, len(rels))
	for _, r := range rels {
		out = append(out, summarize(r))
	}
	sortByRevision(out)
	return out, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

func sortByRevision(rs []*Release) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Revision < rs[j].Revision })
}
