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
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bundlesh/bundle/pkg/errdefs"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

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
	// guards are consulted before operations on a release of a whole
	// (Guard).
	guards *guards
	// links finds providers and consumers; hist reads stored revisions.
	links *links
	hist  history
}

// newClient is c with the parts made of its fields.
func newClient(c *Client) *Client {
	c.guards = &guards{}
	c.hist = history{cfg: c.cfg, ns: c.namespace}
	c.links = &links{cfg: c.cfg, env: c.env, ns: c.namespace, repos: c.repos, hist: c.hist, reachable: c.reachable, wholeOf: c.guards.wholeOf, log: c.log}
	return c
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
	health := newAPIHealth()
	fence := newFence()
	flags.WrapConfigFn = func(rc *rest.Config) *rest.Config { return health.wrapConfig(fence.wrap(rc)) }
	logs := debugHandler(opts.Debug)
	if opts.Debug != nil {
		debug := debugTransport(opts.Debug)
		flags.WrapConfigFn = func(rc *rest.Config) *rest.Config { return health.wrapConfig(fence.wrap(debug(rc))) }
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(logs))
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	env := &Env{
		Config:    cfg,
		Namespace: ns,
		AllNamespaces: func() (*action.Configuration, error) {
			all := action.NewConfiguration(action.ConfigurationSetLogger(logs))
			return all, all.Init(flags, "", "secret")
		},
		Clientset: cfg.KubernetesClientSet,
	}
	return newClient(&Client{cfg: cfg, flags: flags, namespace: ns, repos: repos, env: env, health: health, fence: fence, notify: opts.Notify}), nil
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
	// ApplyMethod is how the revision's objects were applied, as Helm 4
	// records it: "ssa" (server-side apply: every revision bundle makes),
	// "csa" (client-side, by helm 4), "" (by helm 3).
	ApplyMethod string
	// Elsewhere, of a dry run, is what the revision would hold outside
	// the release's namespace (its objects and hooks there), by
	// namespace: a binding's claim in the provider's, cluster-scoped
	// objects.
	Elsewhere []diff.Elsewhere
}

func summarize(r *helmrelease.Release) *Release {
	out := &Release{Name: r.Name, Namespace: r.Namespace, Revision: r.Version, Values: r.Config, Manifest: r.Manifest, ApplyMethod: r.ApplyMethod}
	if r.Info != nil {
		out.Status = r.Info.Status.String()
		out.Updated = r.Info.LastDeployed
		out.Notes = r.Info.Notes
		out.Description = r.Info.Description
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		out.Bundle = r.Chart.Metadata.Name
		out.Version = r.Chart.Metadata.Version
		out.AppVersion = r.Chart.Metadata.AppVersion
		out.Resolved, _ = plan.ParseResolved(r.Chart.Metadata.Annotations)
		disabledByHelm(out.Resolved, r.Chart.Metadata.Dependencies)
	}
	return out
}

// disabledByHelm marks the requirements Helm left out when it installed
// the revision (a direct dependency whose condition was false, and
// everything under it), for a revision recorded before bundle marked them
// itself (plan.Resolved.Disabled).
func disabledByHelm(res []plan.Resolved, deps []*chart.Dependency) {
	off := map[string]string{}
	for _, d := range deps {
		if d != nil && !d.Enabled && d.Alias != "" {
			off[d.Alias] = d.Condition
		}
	}
	for i := range res {
		r := &res[i]
		top, _, _ := strings.Cut(r.Instance, ".")
		if cond, ok := off[top]; ok && r.Installed() {
			r.Disabled, r.Condition = true, cond
		}
	}
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
	// PostRenderer, when set, receives the rendered manifests and hooks
	// and returns the ones to apply (--post-renderer,
	// --post-renderer-args).
	PostRenderer render.PostRenderer
	// DisableOpenAPIValidation skips validating the manifests against
	// the cluster's OpenAPI schema (--disable-openapi-validation).
	DisableOpenAPIValidation bool
	// Labels are recorded on the revision (its Secret's labels), as Helm
	// 4 records them (--labels): an upgrade keeps the current revision's
	// and adds these, a value "null" removing one. Helm's own (name,
	// owner, status, version, createdAt, modifiedAt) cannot be set.
	Labels map[string]string
}

// checkLabels checks labels as Helm 4 does (none of Helm's own), and as
// the API server will (label keys and values), before anything is sent.
func checkLabels(labels map[string]string) error {
	keys := slices.Sorted(maps.Keys(labels))
	for _, k := range keys {
		if slices.Contains(driver.GetSystemLabels(), k) {
			return &errdefs.OptionError{Option: "Labels", Value: k + "=" + labels[k], Msg: fmt.Sprintf("%q is a label Helm sets on every revision (%s): choose another name", k, strings.Join(driver.GetSystemLabels(), ", "))}
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return &errdefs.OptionError{Option: "Labels", Value: k + "=" + labels[k], Msg: "not a label name: " + strings.Join(errs, "; ")}
		}
		if v := labels[k]; v != "null" {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				return &errdefs.OptionError{Option: "Labels", Value: k + "=" + v, Msg: "not a label value: " + strings.Join(errs, "; ")}
			}
		}
	}
	return nil
}

// helmConfig is the configuration Install and Upgrade run their Helm
// action with: the operation's (opConfig), whose storage validates the
// pending revision (validator.gate) and pins its hooks' images
// (pinHooks); and the validator.
func (c *Client) helmConfig(ctx context.Context, name string, p *plan.Plan, w WaitOptions, hooks bool, o applyOptions) (*action.Configuration, *validator, error) {
	cfg, err := c.opConfig(ctx, name, o, w)
	if err != nil {
		return nil, nil, err
	}
	v, err := c.validator(ctx, cfg.KubeClient, hooks, o.force)
	if err != nil {
		return nil, nil, err
	}
	if v != nil {
		v.lax = o.lax
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
	if last, err = c.hist.stored(name, 0); err != nil {
		end()
		return ctx, nil, nil, err
	}
	return ctx, end, last, nil
}

// oneLine is err's message on one line.
func oneLine(err error) string { return errdefs.OneLine(err.Error()) }
