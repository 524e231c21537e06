// Package release installs, upgrades, rolls back and uninstalls bundles on a
// Kubernetes cluster through the Helm SDK. Releases are stored exactly as
// Helm stores them (Secrets of type helm.sh/release.v1), so helm list and
// other Helm tooling see bundle releases; the resolved bundle versions are
// recorded in the release's chart annotations.
//
// It applies what packages plan and render made: Install and Upgrade read
// a plan.Source (plan.Read), resolve it once (an upgrade first works out
// the installed versions to keep), compose and render it (render), and hand
// the chart and values to Helm's actions. A Client runs over an Env: Helm's
// action configuration from a kubeconfig (New), or any other, such as Helm's
// memory storage and fake kube client in tests (NewWithEnv).
package release

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bundlesh/bundle/pkg/errdefs"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/postrender"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnreachable: the cluster in the kubeconfig does not answer.
	ErrUnreachable = errdefs.ErrUnreachable
	// ErrExists: a release of that name is already installed.
	ErrExists = errdefs.ErrExists
	// ErrNotFound: no release of that name.
	ErrNotFound = errdefs.ErrNotFound
)

// DefaultTimeout bounds waiting operations when no timeout is given.
const DefaultTimeout = 5 * time.Minute

// KubeOptions say which cluster and namespace to use, as kubectl's flags do.
type KubeOptions struct {
	Kubeconfig string // empty: $KUBECONFIG or ~/.kube/config
	Context    string // empty: the kubeconfig's current context
	// Namespace empty means $BUNDLE_NAMESPACE, else the context's
	// namespace, else "default" (see ResolveNamespace).
	Namespace string
	// Getenv looks up $BUNDLE_NAMESPACE, and $KUBECONFIG and $HOME to find
	// the namespace; nil means os.Getenv.
	Getenv func(string) string
	// Debug, when set, receives Helm's log and one line per request sent
	// to the cluster, Secret data and credentials redacted.
	Debug io.Writer
	// RequestTimeout bounds each request to the cluster; zero: no bound.
	RequestTimeout time.Duration
	// Notify, when set, receives a line when an operation waits for
	// something other than readiness: an expired lease of its release,
	// watched before it is taken over (see LeasePrefix).
	Notify func(string)
}

// Client runs lifecycle operations against one cluster and namespace.
type Client struct {
	cfg       *action.Configuration
	flags     *genericclioptions.ConfigFlags
	namespace string
	repos     plan.References
	env       *Env
	// health follows the API server's answers to every request (nil
	// with NewWithEnv); see apiHealth.
	health *apiHealth
	// fence refuses the writes of operations that lost their lease.
	fence  *fence
	notify func(string)
}

// New returns a client for the cluster and namespace in opts, resolving
// bundles through repos. It does not contact the cluster.
func New(opts KubeOptions, repos plan.References) (*Client, error) {
	if err := opts.CheckFiles(); err != nil {
		return nil, err
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &opts.Kubeconfig
	flags.Context = &opts.Context
	ns := opts.ResolveNamespace()
	flags.Namespace = &ns
	if opts.RequestTimeout > 0 {
		t := opts.RequestTimeout.String()
		flags.Timeout = &t
	}
	logf := func(string, ...any) {}
	health := newAPIHealth()
	fence := newFence()
	flags.WrapConfigFn = func(rc *rest.Config) *rest.Config { return health.wrapConfig(fence.wrap(rc)) }
	if opts.Debug != nil {
		logf = debugLog(opts.Debug)
		debug := debugTransport(opts.Debug)
		flags.WrapConfigFn = func(rc *rest.Config) *rest.Config { return health.wrapConfig(fence.wrap(debug(rc))) }
	}
	cfg := &action.Configuration{}
	if err := cfg.Init(flags, ns, "secret", logf); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	env := &Env{
		Config:    cfg,
		Namespace: ns,
		AllNamespaces: func() (*action.Configuration, error) {
			all := &action.Configuration{}
			return all, all.Init(flags, "", "secret", logf)
		},
		Clientset: cfg.KubernetesClientSet,
	}
	return &Client{cfg: cfg, flags: flags, namespace: ns, repos: repos, env: env, health: health, fence: fence, notify: opts.Notify}, nil
}

// Namespace returns the namespace the client works in.
func (c *Client) Namespace() string { return c.namespace }

// checkKubeconfig is the fix when the cluster cannot be used: the settings
// that say which one.
var checkKubeconfig = []errdefs.Fix{{Options: []string{"kubeconfig", "kube-context"}}}

// reachable checks the cluster answers, with one clear line when not.
func (c *Client) reachable() error {
	host := "the cluster"
	if c.flags != nil { // nil: NewWithEnv, no kubeconfig behind the client
		rc, err := c.flags.ToRESTConfig()
		if err != nil {
			return errdefs.Fixable(ErrUnreachable, checkKubeconfig, "cannot use the kubeconfig: %v", oneLine(err))
		}
		host = rc.Host
	}
	if err := c.cfg.KubeClient.IsReachable(); err != nil {
		msg := strings.TrimPrefix(oneLine(err), "Kubernetes cluster unreachable: ")
		return errdefs.Fixable(ErrUnreachable, checkKubeconfig, "cannot reach the cluster at %s: %s", host, msg)
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
	Resolved    []plan.Resolved
	Description string
	Notes       string
	// Values are the values the user supplied (with the wiring bundle
	// computed under requires:).
	Values   map[string]any
	Manifest string
	// Elsewhere, of a dry run, is what the revision would hold outside
	// the release's namespace (its objects and hooks there), by
	// namespace: a binding's claim in the provider's, cluster-scoped
	// objects.
	Elsewhere []diff.Elsewhere
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
		out.Resolved, _ = plan.ParseResolved(r.Chart.Metadata.Annotations)
	}
	return out
}

// summarizeRun is the summary of revision rel an install or upgrade made
// (with dryRun, would make), with, for a dry run, what it would hold
// outside its namespace.
func (c *Client) summarizeRun(rel *helmrelease.Release, dryRun bool) *Release {
	out := summarize(rel)
	if dryRun {
		out.Elsewhere = c.elsewhere(rel)
	}
	return out
}

// elsewhere is what revision rel holds outside its namespace: the objects
// of its manifest and hooks, as Helm reads them (kube.Interface.Build:
// the namespace it defaults to, the kinds that have none).
func (c *Client) elsewhere(rel *helmrelease.Release) []diff.Elsewhere {
	objects := func(manifest string) []diff.Object {
		rl, err := c.cfg.KubeClient.Build(strings.NewReader(manifest), false)
		if err != nil {
			c.log("reading the objects of %q to list those outside its namespace: %v", rel.Name, err)
			return nil
		}
		out := make([]diff.Object, 0, len(rl))
		for _, info := range rl {
			o := diff.Object{Namespace: info.Namespace, Name: info.Name}
			gvk := info.Object.GetObjectKind().GroupVersionKind()
			if info.Mapping != nil {
				gvk = info.Mapping.GroupVersionKind
				if info.Mapping.Scope != nil && info.Mapping.Scope.Name() == meta.RESTScopeNameRoot {
					o.Namespace = ""
				}
			}
			o.Group, o.Kind = gvk.Group, gvk.Kind
			out = append(out, o)
		}
		return out
	}
	var hooks []diff.Object
	for _, h := range rel.Hooks {
		hooks = append(hooks, objects(h.Manifest)...)
	}
	return diff.Outside(rel.Namespace, objects(rel.Manifest), hooks)
}

// WaitOptions are shared by operations that can wait for readiness.
type WaitOptions struct {
	// Wait until every resource is ready (Deployments available,
	// StatefulSets ready, claims bound, custom resources Ready, ...), as
	// kstatus computes readiness, watching the resources in each of their
	// namespaces: the wait ends as soon as the cluster reports the last
	// one ready, or one failed, which is only what cannot become ready
	// without a change (a failed Job, a Stalled resource): a pod no node
	// fits yet, or crash-looping, is waited for.
	Wait bool
	// Timeout bounds waiting, through a lost connection, a restarted
	// API server or one that does not answer (each request inside the
	// wait is bounded by it); zero means DefaultTimeout.
	Timeout time.Duration
	// Progress, when set, receives the state of every resource waited
	// for as it changes (see Wait). On a timeout or a failed resource the
	// error is a *WaitError saying why each resource is not ready, or how
	// long the API server was unreachable (then it also matches
	// ErrUnreachable).
	Progress Progress
}

func (w WaitOptions) timeout() time.Duration {
	if w.Timeout <= 0 {
		return DefaultTimeout
	}
	return w.Timeout
}

// HelmOptions are Helm's options shared by Install and Upgrade, each with
// the meaning of the helm flag named in its comment.
type HelmOptions struct {
	// Description is recorded as the revision's description; empty means
	// Helm's ("Install complete", "Upgrade complete") (--description).
	Description string
	// NoHooks installs or upgrades without running hooks (--no-hooks).
	NoHooks bool
	// SkipCRDs leaves out the CRDs in crds/ (--skip-crds). Otherwise
	// Install creates those of the root bundle and of every enabled
	// requirement (a requirement is a subchart) before anything else, and
	// waits until the cluster serves them. As in Helm, CRDs in crds/ are
	// never upgraded or deleted: Upgrade leaves them as they are (it
	// creates them only when it installs, with Install), and Uninstall
	// leaves them in the cluster, with the custom resources of other
	// releases.
	SkipCRDs bool
	// WaitForJobs, with Wait, also waits until every Job has completed
	// (--wait-for-jobs).
	WaitForJobs bool
	// PostRenderer, when set, receives the rendered manifests (not the
	// hooks) and returns the ones to apply (--post-renderer,
	// --post-renderer-args).
	PostRenderer render.PostRenderer
	// DisableOpenAPIValidation skips validating the manifests against
	// the cluster's OpenAPI schema (--disable-openapi-validation).
	DisableOpenAPIValidation bool
}

// InstallOptions configure Install.
type InstallOptions struct {
	// Source is the bundle to install, with the user's values.
	plan.Source
	// ReleaseName defaults to the one Naming makes, else to the root
	// bundle's name.
	ReleaseName string
	render.Naming
	WaitOptions
	HelmOptions
	CreateNamespace bool
	// Atomic uninstalls the release if the install fails (implies Wait).
	Atomic bool
	// DryRun renders against the cluster and validates, creating nothing.
	DryRun bool

	// replace re-uses the name of an uninstalled release whose history
	// was kept, as helm upgrade --install does.
	replace bool
	// post, when set, runs on the manifests after the others (a
	// blue-green colour's Ingresses pointed at the stable Services).
	post postrender.PostRenderer
	// annotations are added to the chart's (a blue-green colour's mark).
	annotations map[string]string
}

// Install installs a bundle with all its requirements as one release.
func (c *Client) Install(ctx context.Context, opts InstallOptions) (*Release, error) {
	in, err := plan.Read(ctx, c.repos, opts.Source)
	if err != nil {
		return nil, err
	}
	// Named before binding: a grant is made for the release's name.
	if opts.ReleaseName, err = render.ReleaseName(in.Root.Name, opts.ReleaseName, opts.Naming, time.Now()); err != nil {
		return nil, err
	}
	opts.Naming = render.Naming{}
	if err := c.bind(ctx, in, opts.ReleaseName, opts.ReleaseName, "", nil, nil); err != nil {
		return nil, err
	}
	p, err := in.Resolve(ctx, nil)
	if err != nil {
		return nil, err
	}
	return c.install(ctx, p, opts)
}

// install installs a resolved plan.
func (c *Client) install(ctx context.Context, p *plan.Plan, opts InstallOptions) (*Release, error) {
	if err := opts.PostRenderer.Check(); err != nil {
		return nil, err
	}
	name, err := render.ReleaseName(p.Root.Bundle.Name, opts.ReleaseName, opts.Naming, time.Now())
	if err != nil {
		return nil, err
	}
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return nil, fmt.Errorf("release name %q: %v", name, err)
	}
	chrt, err := render.Chart(p, p.Values)
	if err != nil {
		return nil, err
	}
	annotate(chrt, opts.annotations)
	relOpts := render.ReleaseOptions{Name: name, Namespace: c.namespace}
	vals, err := render.Values(p, p.Values, relOpts)
	if err != nil {
		return nil, err
	}
	if err := recordProvider(chrt, p, vals, relOpts); err != nil {
		return nil, err
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if opts.CreateNamespace && !opts.DryRun {
		// Before the lease, which lives in it.
		if err := c.installNamespace(ctx, name); err != nil {
			return nil, fmt.Errorf("installing %s as %q: %w", p.Root.Bundle, name, err)
		}
	}
	ctx, end, err := c.begin(ctx, OpInstall, name, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	if last, err := c.cfg.Releases.Last(name); err == nil {
		if !c.replaceable(last) {
			return nil, errdefs.Fixable(ErrExists, []errdefs.Fix{{Run: []string{"upgrade", name, opts.Reference, "-n", c.namespace}}},
				"release %q already exists in namespace %q (revision %d, %s)", name, c.namespace, last.Version, last.Info.Status)
		}
		opts.replace = true
	}
	opts.Wait = opts.Wait || opts.Atomic
	cfg, v, err := c.helmConfig(ctx, name, p, opts.WaitOptions, !opts.NoHooks, false)
	if err != nil {
		return nil, err
	}
	if v != nil && opts.CreateNamespace && opts.DryRun {
		v.creates = c.namespace
	}
	if v != nil && !opts.CreateNamespace {
		if ok, err := v.namespaceExists(c.namespace); err != nil {
			return nil, err
		} else if !ok {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{Options: []string{"create-namespace"}, Use: true}},
				"installing %s as %q: namespace %q does not exist", p.Root.Bundle, name, c.namespace)
		}
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName = name
	inst.Namespace = c.namespace
	inst.CreateNamespace = opts.CreateNamespace
	inst.Wait = opts.Wait // with Atomic, set above
	inst.Atomic = opts.Atomic
	inst.Timeout = opts.timeout()
	inst.WaitForJobs = opts.WaitForJobs
	inst.Description = opts.Description
	inst.DisableHooks = opts.NoHooks
	inst.SkipCRDs = opts.SkipCRDs
	inst.DisableOpenAPIValidation = opts.DisableOpenAPIValidation
	inst.Replace = opts.replace
	if pr := withPost(postRenderer(p, opts.PostRenderer), opts.post); pr != nil {
		inst.PostRenderer = pr
	}
	if opts.DryRun {
		inst.DryRun = true
		inst.DryRunOption = "server"
	}
	rel, err := inst.RunWithContext(ctx, chrt, vals)
	if err == nil && opts.DryRun {
		err = v.dryRun(rel, p)
	}
	if err = orLost(ctx, err); err != nil {
		return nil, fmt.Errorf("installing %s as %q: %w", p.Root.Bundle, name, render.HelmErrorFor(p.Root.Bundle.Name, err))
	}
	return c.summarizeRun(rel, opts.DryRun), nil
}

// helmConfig is the configuration Install and Upgrade run their Helm
// action with: the operation's (opConfig), whose storage validates the
// pending revision (validator.gate) and pins its hooks' images
// (pinHooks); and the validator.
func (c *Client) helmConfig(ctx context.Context, name string, p *plan.Plan, w WaitOptions, hooks, force bool) (*action.Configuration, *validator, error) {
	cfg, err := c.opConfig(ctx, name, w)
	if err != nil {
		return nil, nil, err
	}
	v, err := c.validator(ctx, cfg.KubeClient, hooks, force)
	if err != nil {
		return nil, nil, err
	}
	return pinHooks(v.gate(cfg), p), v, nil
}

// dryRun does to the revision of a dry run of Install or Upgrade, which
// Helm does not store, what storing it does: its hooks' images pinned
// (pinDryRun), then the revision validated.
func (v *validator) dryRun(rel *helmrelease.Release, p *plan.Plan) error {
	if err := pinDryRun(rel, p); err != nil {
		return err
	}
	return v.release(rel)
}

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
	// Force replaces resources that cannot be updated in place
	// (--force).
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

	// startFrom, when set, is the revision whose values (Helm's rules
	// above) and recorded bindings the upgrade starts from in place of the
	// release's own: a blue-green upgrade starts the new colour from the
	// live colour.
	startFrom *helmrelease.Release
	// post and annotations: as InstallOptions'.
	post        postrender.PostRenderer
	annotations map[string]string
	// colorOf, for a colour upgraded on its own (asColor), is its app.
	colorOf string
	// claimHolder, when set, is the release that holds the claims of the
	// upgrade's bindings (plan.Binding.ClaimHolder): a blue-green app's
	// router, for its colours.
	claimHolder string
}

// Upgrade moves a release to a new bundle version or new values. The
// requirement graph is resolved again and the outputs recomputed: the
// wiring under requires: is never taken from the current revision, whichever
// values are reused.
func (c *Client) Upgrade(ctx context.Context, opts UpgradeOptions) (*Release, error) {
	name := opts.ReleaseName
	// Everything that needs no cluster is checked first.
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
	if err := c.reachable(); err != nil {
		return nil, err
	}
	ctx, end, err := c.begin(ctx, OpUpgrade, name, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	last, err := c.cfg.Releases.Last(name)
	if err != nil || last.Info.Status == helmrelease.StatusUninstalled {
		if !opts.Install {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{Run: []string{"install", name, opts.Reference, "-n", c.namespace}}},
				"release %q not found in namespace %q", name, c.namespace)
		}
		var recorded []plan.Resolved
		var unbind []string
		if opts.startFrom != nil {
			recorded, unbind = recordedBindings(opts.startFrom), opts.Unbind
		}
		if berr := c.bind(ctx, in, name, cmp.Or(opts.claimHolder, name), opts.Reference, recorded, unbind); berr != nil {
			return nil, berr
		}
		p, rerr := in.Resolve(ctx, nil)
		if rerr != nil {
			return nil, rerr
		}
		holdClaims(p, opts.claimHolder)
		if opts.startFrom != nil {
			user, defaults, verr := upgradeValues(opts.startFrom, p.Values, opts)
			if verr != nil {
				return nil, verr
			}
			p.Values, p.RootValues = user, defaults
		}
		return c.install(ctx, p, InstallOptions{
			Source: opts.Source, ReleaseName: name, WaitOptions: opts.WaitOptions, HelmOptions: opts.HelmOptions,
			CreateNamespace: opts.CreateNamespace, Atomic: opts.Atomic, DryRun: opts.DryRun,
			replace: err == nil, // an uninstalled release whose history was kept
			post:    opts.post, annotations: opts.annotations,
		})
	}
	if parseRouter(last) != nil {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"upgrade", name, opts.Reference, "-n", c.namespace, "--strategy", StrategyBlueGreen}}},
			"release %q in namespace %q is a blue-green app (its stable Services): an upgrade in place would replace them with the bundle", name, c.namespace)
	}
	if opts.claimHolder == "" {
		opts = c.asColor(opts, last)
	}
	if opts.colorOf != "" {
		// The app's lease too: its router's claims and record are read.
		var endApp func()
		if ctx, endApp, err = c.begin(ctx, OpUpgrade, opts.colorOf, opts.DryRun); err != nil {
			return nil, err
		}
		defer endApp()
	}
	// One resolution, keeping the installed requirement versions while
	// they still fit (unless told to move them).
	from := c.upgradeBase(last)
	var installed []plan.Resolved
	if !opts.UpdateDeps && from.Chart != nil && from.Chart.Metadata != nil {
		installed, _ = plan.ParseResolved(from.Chart.Metadata.Annotations)
	}
	start := from
	if opts.startFrom != nil {
		start = opts.startFrom
	}
	if err := c.bind(ctx, in, name, cmp.Or(opts.claimHolder, name), opts.Reference, recordedBindings(start), opts.Unbind); err != nil {
		return nil, err
	}
	p, err := in.Resolve(ctx, plan.PreferInstalled(installed))
	if err != nil {
		return nil, err
	}
	holdClaims(p, opts.claimHolder)
	if opts.colorOf != "" {
		if err := c.checkColorClaims(opts.colorOf, name, opts.Reference, p); err != nil {
			return nil, err
		}
	}
	if err := c.checkConsumersAllow(ctx, name, p.Root.Bundle, fmt.Sprintf("upgrading %q to %s", name, p.Root.Bundle)); err != nil {
		return nil, err
	}
	user, defaults, err := upgradeValues(start, p.Values, opts)
	if err != nil {
		return nil, err
	}
	p.RootValues = defaults
	chrt, err := render.Chart(p, user)
	if err != nil {
		return nil, err
	}
	annotate(chrt, opts.annotations)
	relOpts := render.ReleaseOptions{Name: name, Namespace: c.namespace, Revision: last.Version + 1, IsUpgrade: true}
	vals, err := render.Values(p, user, relOpts)
	if err != nil {
		return nil, err
	}
	if err := recordProvider(chrt, p, vals, relOpts); err != nil {
		return nil, err
	}
	opts.Wait = opts.Wait || opts.Atomic
	cfg, v, err := c.helmConfig(ctx, name, p, opts.WaitOptions, !opts.NoHooks, opts.Force)
	if err != nil {
		return nil, err
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = c.namespace
	up.Wait = opts.Wait || opts.Atomic
	up.Atomic = opts.Atomic
	up.Timeout = opts.timeout()
	up.WaitForJobs = opts.WaitForJobs
	up.Description = opts.Description
	up.DisableHooks = opts.NoHooks
	up.SkipCRDs = opts.SkipCRDs
	up.DisableOpenAPIValidation = opts.DisableOpenAPIValidation
	up.Force = opts.Force
	up.CleanupOnFail = opts.CleanupOnFail
	up.MaxHistory = opts.MaxHistory
	if pr := withPost(postRenderer(p, opts.PostRenderer), opts.post); pr != nil {
		up.PostRenderer = pr
	}
	// The values are computed in full above, with Helm's rules for which
	// to reuse; Helm must take them as they are.
	up.ResetValues = true
	if opts.DryRun {
		up.DryRun = true
		up.DryRunOption = "server"
	}
	rel, err := up.RunWithContext(ctx, name, chrt, vals)
	if err == nil && opts.DryRun {
		err = v.dryRun(rel, p)
	}
	if err = orLost(ctx, err); err != nil {
		return nil, fmt.Errorf("upgrading %q to %s: %w", name, p.Root.Bundle, render.HelmErrorFor(p.Root.Bundle.Name, err))
	}
	if !opts.DryRun && grantable(last) {
		if err := c.regrant(ctx, name, opts.WaitOptions); err != nil {
			return nil, fmt.Errorf("upgraded %q to %s, but %w", name, p.Root.Bundle, err)
		}
	}
	return c.summarizeRun(rel, opts.DryRun), nil
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
		coalesced, err := chartutil.CoalesceValues(last.Chart, last.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("the values of revision %d, to reuse: %w", last.Version, err)
		}
		defaults = coalesced.AsMap()
		stripRequires(defaults, last)
		return chartutil.CoalesceTables(render.CopyValues(given), old), defaults, nil
	case opts.ResetThenReuseValues:
		return chartutil.CoalesceTables(render.CopyValues(given), old), nil, nil
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

// open starts an operation on an existing release: the cluster answers, the
// operation holds the release (begin), and the release's last revision.
// Call end when the operation is over.
func (c *Client) open(ctx context.Context, op Operation, name string, dryRun bool) (_ context.Context, end func(), last *helmrelease.Release, err error) {
	if err := c.reachable(); err != nil {
		return ctx, nil, nil, err
	}
	ctx, end, err = c.begin(ctx, op, name, dryRun)
	if err != nil {
		return ctx, nil, nil, err
	}
	if last, err = c.last(name); err != nil {
		end()
		return ctx, nil, nil, err
	}
	return ctx, end, last, nil
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
	ctx, end, last, err := c.open(ctx, OpRollback, opts.ReleaseName, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	if parseRouter(last) != nil {
		// An earlier router revision would put back Services, Ingresses
		// and claims of colours that may be gone, and a wrong record.
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"rollback", opts.ReleaseName, "-n", c.namespace}}},
			"release %q in namespace %q is a blue-green app, not rolled back to a revision of its own (that would restore Services and claims of colours that may be gone): roll it back without a revision to switch to its spare, or roll back a colour release", opts.ReleaseName, c.namespace)
	}
	cfg, err := c.opConfig(ctx, opts.ReleaseName, opts.WaitOptions)
	if err != nil {
		return nil, err
	}
	v, err := c.validator(ctx, cfg.KubeClient, true, false)
	if err != nil {
		return nil, err
	}
	rb := action.NewRollback(v.gate(cfg))
	if rb.Version, err = c.rollbackTarget(last, opts.Revision); err != nil {
		return nil, err
	}
	if err := c.checkRollbackAllowed(ctx, opts.ReleaseName, rb.Version); err != nil {
		return nil, err
	}
	ctx, endApp, err := c.checkColorRollback(ctx, last, rb.Version)
	if err != nil {
		return nil, err
	}
	defer endApp()
	rb.Wait = opts.Wait
	rb.Timeout = opts.timeout()
	rb.DryRun = opts.DryRun
	if err := orLost(ctx, rb.Run(opts.ReleaseName)); err != nil {
		return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, render.HelmError(err))
	}
	if opts.DryRun {
		// Helm's dry run stores nothing, so the gate did not see it:
		// the target revision's objects are validated as they would be.
		target, err := c.cfg.Releases.Get(opts.ReleaseName, rb.Version)
		if err != nil {
			return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, err)
		}
		next := *target
		next.Version = last.Version + 1
		info := *target.Info
		info.Status = helmrelease.StatusPendingRollback
		next.Info = &info
		if err := v.release(&next); err != nil {
			return nil, fmt.Errorf("rolling back %q: %w", opts.ReleaseName, err)
		}
	}
	if !opts.DryRun && grantable(last) {
		if err := c.regrant(ctx, opts.ReleaseName, opts.WaitOptions); err != nil {
			return nil, fmt.Errorf("rolled back %q, but %w", opts.ReleaseName, err)
		}
	}
	return c.latest(ctx, opts.ReleaseName)
}

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	ReleaseName string
	// WaitOptions: with Wait, Uninstall waits until the release's objects
	// (and, with DeleteData, its claims) are gone.
	WaitOptions
	// KeepHistory keeps the release records (helm uninstall --keep-history).
	KeepHistory bool
	// DeleteData deletes the release's claims (see Uninstalled) too, and
	// then its Secrets the data was initialised with (DataSecretLabel);
	// otherwise both are kept, whatever the StatefulSets' claim retention
	// policies and the objects' helm.sh/resource-policy say. It also
	// tells the pre-delete hooks of the claims of the release's bindings
	// to drop their databases with their users (render.DeleteDataEnv, set
	// on the hooks of this uninstall alone: nothing is stored).
	DeleteData bool
	// DryRun changes nothing: the result says what would be kept and
	// deleted.
	DryRun bool
	// Force uninstalls a release that other releases are bound to
	// (Consumers); refused otherwise.
	Force bool
	// NoHooks runs none of the release's hooks (helm uninstall
	// --no-hooks): a claim's pre-delete hook, which drops its user, among
	// them.
	NoHooks bool

	// ofApp: a blue-green app's colour uninstalled with the app (the live
	// colour is refused on its own).
	ofApp bool
}

// Uninstalled is what Uninstall did (or, with DryRun, would do).
type Uninstalled struct {
	*Release
	// Kept lists the release's claims left in the cluster with their
	// data: those its StatefulSets made from their volumeClaimTemplates
	// and those of its manifest. Empty with DeleteData.
	Kept []VolumeClaim
	// Deleted lists the claims deleted, with DeleteData.
	Deleted []VolumeClaim
	// KeptSecrets lists the release's Secrets its data was initialised
	// with (DataSecretLabel), left in the cluster with the claims. Empty
	// with DeleteData.
	KeptSecrets []DataSecret
	// DeletedSecrets lists those deleted, with DeleteData, once the
	// claims were.
	DeletedSecrets []DataSecret
	DryRun         bool
	// Colors, for a blue-green app (its router), are its colours,
	// uninstalled before the router (which holds the app's claims).
	Colors []*Uninstalled
}

// Uninstall deletes every object of a release and its records. The
// release's claims (its data) and the Secrets its data was initialised
// with (DataSecretLabel) are kept unless DeleteData is set: they are found
// before anything is deleted, and listed in the result.
func (c *Client) Uninstall(ctx context.Context, opts UninstallOptions) (*Uninstalled, error) {
	ctx, end, last, err := c.open(ctx, OpUninstall, opts.ReleaseName, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	if isGrant(last) {
		g := grantOf(last)
		if g == nil {
			if opts.DeleteData {
				return nil, errdefs.New(errdefs.ErrInvalid, "uninstalling %q: its grant record does not read: --delete-data is refused, since whose data it would drop cannot be told", opts.ReleaseName)
			}
		} else if err := c.checkRevoke(last, g, opts.DeleteData, opts.Force); err != nil {
			return nil, err
		}
	}
	if opts.DeleteData || !opts.Force {
		// Read once: who is bound, and whether all could be seen.
		cs, partial, err := c.findConsumers(ctx, opts.ReleaseName)
		if err != nil {
			return nil, err
		}
		if opts.DeleteData {
			b, _, _ := providerBundle(last)
			if err := checkDataUnbound(opts.ReleaseName, b, cs, partial); err != nil {
				return nil, err
			}
		}
		if !opts.Force {
			if err := checkNoConsumers(opts.ReleaseName, cs); err != nil {
				return nil, err
			}
		}
	}
	if !opts.Force {
		if app := blueGreenApp(last); app != "" && app != opts.ReleaseName && !opts.ofApp {
			// The app's lease too: it is not switched to this colour
			// while it goes.
			var endApp func()
			if ctx, endApp, err = c.begin(ctx, OpUninstall, app, opts.DryRun); err != nil {
				return nil, err
			}
			defer endApp()
			if err := c.checkNotLive(ctx, last); err != nil {
				return nil, err
			}
		}
	}
	if opts.Force && grantable(last) {
		// Without Force, grants (consumers) refused it above. With
		// Force, a provider's grants go first (their hooks drop
		// the users while its server is there): a grant left would
		// stand for a provider that is gone.
		if err := c.revokeAll(ctx, opts.ReleaseName, opts); err != nil {
			return nil, err
		}
	}
	var colors []*Uninstalled
	if st := parseRouter(last); st != nil {
		if colors, err = c.uninstallColors(ctx, st, opts); err != nil {
			return nil, err
		}
	}
	if c.env == nil || c.env.Clientset == nil {
		return nil, fmt.Errorf("uninstalling %q: no Kubernetes client to find the release's claims with (Env.Clientset)", opts.ReleaseName)
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	found, sets, err := claims(ctx, cs, last)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	revs, err := c.cfg.Releases.History(opts.ReleaseName)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	secrets, err := dataSecrets(ctx, cs, last, revs)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	out := &Uninstalled{DryRun: opts.DryRun, Colors: colors}
	if opts.DeleteData {
		out.Deleted, out.DeletedSecrets = found, secrets
	} else {
		out.Kept, out.KeptSecrets = found, secrets
	}
	// With Wait, the deletion is waited for by bundle's waiter (every
	// request bounded by the time left).
	wcfg, err := c.waitConfig(ctx, c.cfg, opts.WaitOptions)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
	}
	cfg := *c.cfg
	var waitErr error
	// The Secrets go last, with DeleteData after the claims.
	kc := keepingClaims{Interface: wcfg.KubeClient, keep: map[string]bool{}, keepSecrets: map[string]bool{}, deleteData: opts.DeleteData, waitErr: &waitErr}
	for _, s := range secrets {
		kc.keepSecrets[s.String()] = true
	}
	if !opts.DeleteData && !opts.DryRun {
		if err := retain(ctx, cs, sets, found); err != nil {
			return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, err)
		}
		for _, cl := range found {
			kc.keep[cl.String()] = true
		}
	}
	cfg.KubeClient = kc
	un := action.NewUninstall(&cfg)
	un.Wait = opts.Wait
	un.Timeout = opts.timeout()
	un.KeepHistory = opts.KeepHistory
	un.DryRun = opts.DryRun
	un.DeletionPropagation = "foreground"
	un.DisableHooks = opts.NoHooks
	start := time.Now()
	res, err := un.Run(opts.ReleaseName)
	if err = orLost(ctx, err); err != nil {
		var lost *LostError
		if waitErr != nil && !errors.As(err, &lost) {
			return nil, uninstallWaitError(opts.ReleaseName, err, waitErr)
		}
		return nil, fmt.Errorf("uninstalling %q: %w", opts.ReleaseName, render.HelmError(err))
	}
	out.Release = summarize(res.Release)
	if opts.DeleteData && !opts.DryRun {
		left := opts.timeout() - time.Since(start)
		var w *waiter
		if wk, ok := wcfg.KubeClient.(waitingKube); ok {
			w = wk.w
		}
		if err := deleteClaims(ctx, cs, found, opts.Wait, w, left); err != nil {
			return nil, fmt.Errorf("uninstalled %q, but %w", opts.ReleaseName, err)
		}
		// After the claims: while one is left, so is what opens it.
		if err := deleteDataSecrets(ctx, cs, secrets); err != nil {
			return nil, fmt.Errorf("uninstalled %q, but %w", opts.ReleaseName, err)
		}
	}
	return out, nil
}

// uninstallWaitError is the error of an uninstall whose wait for the
// deletion failed (waitErr): Helm's (err) has it as a string, joined
// with the errors of what followed (purging the records).
func uninstallWaitError(name string, err, waitErr error) error {
	const prefix = "uninstallation completed with "
	msg := err.Error()
	i := strings.Index(msg, prefix)
	if i < 0 {
		return fmt.Errorf("uninstalling %q: %w", name, waitErr)
	}
	msg = msg[i+len(prefix):]
	if _, rest, ok := strings.Cut(msg, "error(s): "); ok {
		msg = rest
	}
	rest := strings.Trim(strings.Replace(msg, waitErr.Error(), "", 1), "; ")
	if rest == "" { // the records are gone: only the objects may be left
		return fmt.Errorf("uninstalled %q, but %w", name, waitErr)
	}
	return fmt.Errorf("uninstalling %q: %w; %s", name, waitErr, oneLine(errors.New(rest)))
}

// existing is release name's last revision, read once the cluster
// answers: the prologue of every operation that reads an existing
// release without holding it.
func (c *Client) existing(name string) (*helmrelease.Release, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	return c.last(name)
}

func (c *Client) last(name string) (*helmrelease.Release, error) {
	r, err := c.cfg.Releases.Last(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"list", "-A"}}}, "release %q not found in namespace %q", name, c.namespace)
		}
		return nil, err
	}
	return r, nil
}

// History returns every stored revision of a release, oldest first.
func (c *Client) History(ctx context.Context, name string) ([]*Release, error) {
	if _, err := c.existing(name); err != nil {
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
