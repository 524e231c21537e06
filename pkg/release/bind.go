package release

// Bindings (see plan.Binding): a requirement of an app bound to a release
// already installed, its provider. The app's release records each binding
// in its resolved list (plan.Resolved.Bound, with the requirement's
// constraint), so that who consumes a provider is read from the cluster
// alone: Uninstall refuses a provider that has consumers, Upgrade refuses
// to move a provider out of a consumer's constraint, and Status shows both
// sides.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// Consumer is a release with a requirement bound to another release.
type Consumer struct {
	Release   string
	Namespace string
	// Bundle is the consumer's root bundle, Repository where it came from
	// (empty when not recorded).
	Bundle     string
	Repository string
	// Instance is the bound requirement, which requires Requires (a
	// bundle name) at Constraint.
	Instance   string
	Requires   string
	Constraint string
	// Outputs are the outputs the requirement needs, as the consumer's
	// bundle.yaml says.
	Outputs []string
	// App, for a colour of a blue-green app or its router (which holds
	// the app's claims), is the app's name: it is unbound by uninstalling
	// the app.
	App string
	// Unverified, for a consumer of another namespace found only by the
	// ConfigMap of its claim in the provider's namespace (its release
	// could not be read), says so: it may claim from another provider of
	// that namespace. Only Release, Namespace and Instance are set.
	Unverified bool
}

func (c Consumer) String() string { return c.Namespace + "/" + c.Release }

// bind reads the provider of every binding the upgraded or installed app
// will have and sets in.Bound: the bindings recorded in the revision of
// release name the operation starts from (nil for an install) but those
// unbind names, with those asked for (in.Binds) over them. ref is the
// bundle reference of the operation, for the fixes it suggests.
func (c *Client) bind(ctx context.Context, in *plan.Input, name, ref string, recorded []plan.Resolved, unbind []string) error {
	binds := map[string]plan.Bind{}
	// Recorded bindings without a claim stay without one (the app keeps
	// the provider's database rather than get a new, empty one); a
	// binding asked for again (--bind) may claim.
	noClaim := map[string]bool{}
	for _, r := range recorded {
		if r.Bound == "" || strings.Contains(r.Instance, ".") {
			continue
		}
		ns, name, _ := strings.Cut(r.Bound, "/")
		binds[r.Instance] = plan.Bind{Instance: r.Instance, Namespace: ns, Release: name}
		noClaim[r.Instance] = !r.Claim
	}
	// A recorded binding of a requirement the new version no longer has
	// is dropped.
	for inst := range binds {
		if !requires(in.Root, inst) {
			delete(binds, inst)
		}
	}
	for _, u := range unbind {
		if _, ok := binds[u]; !ok {
			return errdefs.New(errdefs.ErrInvalid, "unbind %s: %s is not bound to a release", u, u)
		}
		delete(binds, u)
	}
	recordedOnly := map[string]bool{}
	for inst := range binds {
		recordedOnly[inst] = true
	}
	for _, b := range in.Binds {
		if b.Namespace == "" {
			b.Namespace = c.namespace
		}
		binds[b.Instance] = b
		delete(recordedOnly, b.Instance)
		delete(noClaim, b.Instance)
	}
	in.Bound = nil
	if len(binds) == 0 {
		return nil
	}
	if err := c.reachable(); err != nil {
		return err
	}
	insts := make([]string, 0, len(binds))
	for i := range binds {
		insts = append(insts, i)
	}
	sort.Strings(insts)
	for _, i := range insts {
		b, err := c.binding(ctx, binds[i], requirement(in.Root, i), !noClaim[i])
		if err != nil {
			if recordedOnly[i] {
				// The current revision's binding, not the user's: say
				// how to leave or change it.
				kind := errdefs.ErrConflict
				for _, k := range []error{ErrNotFound, errdefs.ErrInvalid, ErrUnreachable} {
					if errors.Is(err, k) {
						kind = k
						break
					}
				}
				return &errdefs.Error{Kind: kind, Msg: fmt.Sprintf("release %q is bound: %s", name, err.Error()),
					Fixes: []errdefs.Fix{
						{Run: []string{"upgrade", name, ref, "-n", c.namespace, "--unbind", i}},
						{Run: []string{"upgrade", name, ref, "-n", c.namespace, "--bind", i + "=RELEASE"}},
					}}
			}
			return err
		}
		in.Bound = append(in.Bound, b)
	}
	return nil
}

func requirement(b *bundle.Bundle, inst string) *bundle.Requirement {
	for i := range b.File.Requires {
		if r := &b.File.Requires[i]; r.Name == inst {
			return r
		}
	}
	return nil
}

func requires(b *bundle.Bundle, inst string) bool { return requirement(b, inst) != nil }

// binding reads the provider release of b, checks it can stand for
// requirement r (plan.CheckBinding) and reads its outputs: those the
// release recorded (OutputsAnnotation), else rendered again. With claim,
// the binding uses the provider's claims when it offers them.
//
// Helm's record of a release keeps the root chart's templates but none of
// its subcharts (a library chart's helpers the outputs include), so the
// outputs are rendered with the provider's bundle as its repository serves
// it at the installed version (the one recorded, else reqRepo, the
// requirement's), over the values the release recorded (its chart's
// values and its config); from the record alone when that fails.
func (c *Client) binding(ctx context.Context, b plan.Bind, r *bundle.Requirement, claim bool) (*plan.Binding, error) {
	out, rel, err := c.boundRelease(b, claim)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: no requirement %q", b, b.Instance)
	}
	if err := plan.CheckBinding(r, out); err != nil {
		return nil, err
	}
	if err := c.bindingOutputs(ctx, out, rel, r.Repository); err != nil {
		return nil, err
	}
	return out, nil
}

// boundRelease finds the provider release of binding b and rebuilds its
// bundle; the binding's outputs are left to bindingOutputs.
func (c *Client) boundRelease(b plan.Bind, claim bool) (*plan.Binding, *helmrelease.Release, error) {
	if b.Namespace == "" {
		b.Namespace = c.namespace
	}
	rel, err := c.provider(b.Namespace, b.Release)
	if err != nil {
		return nil, nil, err
	}
	if rel == nil {
		return nil, nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"list", "-A"}}}, "bind %s: no release %q in namespace %q", b, b.Release, b.Namespace)
	}
	pb, repo, err := providerBundle(rel)
	if err != nil {
		return nil, nil, fmt.Errorf("bind %s: %w", b, err)
	}
	return &plan.Binding{Bind: b, Provider: pb, Repository: repo, Claim: claim && pb.File.Claims != nil}, rel, nil
}

// bindingOutputs sets the outputs of binding out to provider release
// rel: those it recorded, else rendered (reqRepo is the requirement's
// repository, used when the provider's is not recorded).
func (c *Client) bindingOutputs(ctx context.Context, out *plan.Binding, rel *helmrelease.Release, reqRepo string) error {
	b, pb := out.Bind, out.Provider
	if rec, ok := rel.Chart.Metadata.Annotations[plan.OutputsAnnotation]; ok {
		if err := json.Unmarshal([]byte(rec), &out.Outputs); err == nil {
			return nil
		}
	}
	pp := &plan.Plan{Root: &plan.Node{Bundle: pb}}
	from := out.Repository
	if from == "" {
		from = reqRepo
	}
	if from != "" && c.repos != nil {
		if full, err := c.repos.Load(ctx, resolve.Ref{Repository: from, Name: pb.Name}, pb.Version); err == nil && full.Name == pb.Name {
			pp = &plan.Plan{Root: &plan.Node{Bundle: full}, RootValues: rel.Chart.Values}
		}
	}
	var err error
	out.Outputs, err = render.Outputs(pp, rel.Config, render.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, IsUpgrade: rel.Version > 1})
	if err != nil {
		return fmt.Errorf("bind %s: the outputs of release %s/%s: %w", b, b.Namespace, b.Release, err)
	}
	return nil
}

// provider returns the revision of release ns/name that a binding uses:
// the deployed one, else the latest unless uninstalled; nil when there is
// none.
func (c *Client) provider(ns, name string) (*helmrelease.Release, error) {
	store, err := c.storageFor(ns)
	if err != nil {
		return nil, fmt.Errorf("reading release %s/%s: %w", ns, name, err)
	}
	hist, err := store.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading release %s/%s: %w", ns, name, err)
	}
	var deployed, last *helmrelease.Release
	for _, r := range hist {
		if r.Namespace != ns || r.Info == nil {
			continue
		}
		if r.Info.Status == helmrelease.StatusDeployed && (deployed == nil || r.Version > deployed.Version) {
			deployed = r
		}
		if last == nil || r.Version > last.Version {
			last = r
		}
	}
	if deployed != nil {
		return deployed, nil
	}
	if last == nil || last.Info.Status == helmrelease.StatusUninstalled || last.Info.Status == helmrelease.StatusUninstalling {
		return nil, nil
	}
	return last, nil
}

// storageFor is Helm's release storage of namespace ns: the client's own,
// the Secrets of ns (reading another namespace's releases needs no more
// than reading its Secrets), or, over another driver, the storage of
// every namespace.
func (c *Client) storageFor(ns string) (*storage.Storage, error) {
	if ns == c.namespace {
		return c.cfg.Releases, nil
	}
	if _, ok := c.cfg.Releases.Driver.(*driver.Secrets); ok && c.env != nil && c.env.Clientset != nil {
		cs, err := c.env.Clientset()
		if err != nil {
			return nil, err
		}
		return storage.Init(driver.NewSecrets(cs.CoreV1().Secrets(ns))), nil
	}
	if c.env == nil || c.env.AllNamespaces == nil {
		return nil, errors.New("no storage for other namespaces (Env.AllNamespaces)")
	}
	all, err := c.env.AllNamespaces()
	if err != nil {
		return nil, err
	}
	return all.Releases, nil
}

// providerBundle rebuilds a release's root bundle from its record: the
// chart's name and version, its bundle.yaml, the chart itself; and the
// repository it came from, when recorded.
func providerBundle(rel *helmrelease.Release) (*bundle.Bundle, string, error) {
	if rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil, "", fmt.Errorf("release %s/%s has no chart", rel.Namespace, rel.Name)
	}
	md := rel.Chart.Metadata
	v, err := semver.NewVersion(md.Version)
	if err != nil {
		return nil, "", fmt.Errorf("release %s/%s: chart version %q: %v", rel.Namespace, rel.Name, md.Version, err)
	}
	b := &bundle.Bundle{Name: md.Name, Version: v, AppVersion: md.AppVersion, Description: md.Description, Chart: rel.Chart,
		File: &bundle.File{}, Source: "release " + rel.Namespace + "/" + rel.Name}
	for _, f := range rel.Chart.Files {
		if f.Name == bundle.FileName {
			if b.File, err = bundle.ParseFile(b.Source+": "+bundle.FileName, f.Data); err != nil {
				return nil, "", err
			}
		}
	}
	return b, md.Annotations[plan.RepositoryAnnotation], nil
}

// recordOutputs records in the composed chart the root bundle's outputs
// as they render for the release (OutputsAnnotation), for the apps that
// will be bound to it. A bundle without outputs records none, nor one
// whose outputs fail to render.
func recordOutputs(chrt *chart.Chart, p *plan.Plan, vals map[string]any, rel render.ReleaseOptions) error {
	if len(p.Root.Bundle.File.Outputs) == 0 {
		return nil
	}
	outs, err := render.Outputs(p, vals, rel)
	if err != nil {
		return nil // a binding renders them again, and says why they fail
	}
	data, err := json.Marshal(outs)
	if err != nil {
		return err
	}
	if chrt.Metadata.Annotations == nil {
		chrt.Metadata.Annotations = map[string]string{}
	}
	chrt.Metadata.Annotations[plan.OutputsAnnotation] = string(data)
	return nil
}

// recordedBindings is what a revision recorded of its resolution.
func recordedBindings(rel *helmrelease.Release) []plan.Resolved {
	if rel == nil || rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil
	}
	r, _ := plan.ParseResolved(rel.Chart.Metadata.Annotations)
	return r
}

// Consumers lists the releases with a requirement bound to release name of
// the client's namespace, in every namespace the client may list; where it
// may list only its own, with the apps of other namespaces whose claims in
// this namespace name them (Unverified).
func (c *Client) Consumers(ctx context.Context, name string) ([]Consumer, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	return c.consumers(ctx, name)
}

func (c *Client) consumers(ctx context.Context, name string) ([]Consumer, error) {
	cs, _, err := c.findConsumers(ctx, name)
	return cs, err
}

// findConsumers lists the consumers of release name. partial is nil when
// the releases of every namespace were read; otherwise it is why they
// could not be, and the list holds those of the client's namespace and,
// unverified, the apps of other namespaces that the claim objects in this
// namespace name (ClaimOfLabel): an app bound without a claim from another
// namespace cannot be seen then.
func (c *Client) findConsumers(ctx context.Context, name string) (out []Consumer, partial, _ error) {
	rels, err := c.listLatest(true)
	if err != nil {
		partial = err
		if rels, err = c.listLatest(false); err != nil {
			return nil, nil, fmt.Errorf("finding the consumers of %q: %w", name, err)
		}
	}
	target := c.namespace + "/" + name
	for _, r := range rels {
		if r.Info != nil && (r.Info.Status == helmrelease.StatusUninstalled || r.Info.Status == helmrelease.StatusUninstalling) {
			continue
		}
		for _, res := range recordedBindings(r) {
			if res.Bound != target {
				continue
			}
			co := Consumer{Release: r.Name, Namespace: r.Namespace, Bundle: r.Chart.Metadata.Name,
				Repository: r.Chart.Metadata.Annotations[plan.RepositoryAnnotation],
				Instance:   res.Instance, Requires: res.Bundle, Constraint: res.Constraint, App: blueGreenApp(r)}
			if cb, _, err := providerBundle(r); err == nil {
				if req := requirement(cb, res.Instance); req != nil {
					co.Outputs = req.Outputs
				}
			}
			out = append(out, co)
		}
	}
	if partial != nil {
		claimed, err := c.claimsHere(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("finding the consumers of %q: the releases of other namespaces cannot be read (%s), nor the claims in namespace %q: %w", name, oneLine(partial), c.namespace, err)
		}
		for _, co := range claimed {
			if co.Namespace != c.namespace && !slices.ContainsFunc(out, func(o Consumer) bool { return o.Namespace == co.Namespace && o.Release == co.Release }) {
				out = append(out, co)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		if out[i].Release != out[j].Release {
			return out[i].Release < out[j].Release
		}
		return out[i].Instance < out[j].Instance
	})
	return out, partial, nil
}

// claimsHere are the apps whose claims have objects in the client's
// namespace (ConfigMaps labelled ClaimOfLabel), unverified, once each per
// instance.
func (c *Client) claimsHere(ctx context.Context) ([]Consumer, error) {
	if c.env == nil || c.env.Clientset == nil {
		return nil, errors.New("no Kubernetes client (Env.Clientset)")
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return nil, err
	}
	l, err := cs.CoreV1().ConfigMaps(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: ClaimOfLabel})
	if err != nil {
		return nil, err
	}
	var out []Consumer
	for _, cm := range l.Items {
		co := Consumer{Release: cm.Labels[ClaimOfLabel], Namespace: cm.Labels[ClaimNamespaceLabel], Instance: cm.Labels["app.kubernetes.io/component"], Unverified: true}
		if co.Namespace == "" {
			co.Namespace = c.namespace
		}
		if !slices.ContainsFunc(out, func(o Consumer) bool {
			return o.Namespace == co.Namespace && o.Release == co.Release && o.Instance == co.Instance
		}) {
			out = append(out, co)
		}
	}
	return out, nil
}

// checkDataUnbound refuses to delete the data of release name (the
// provider of bindings, its bundle b) while a release is bound to it, or
// while the releases that could be cannot all be seen: deleting the
// provider's volumes drops every consumer's database. It holds with
// --force.
func (c *Client) checkDataUnbound(ctx context.Context, name string, b *bundle.Bundle) error {
	cs, partial, err := c.findConsumers(ctx, name)
	if err != nil {
		return fmt.Errorf("--delete-data: %w", err)
	}
	if len(cs) > 0 {
		names := make([]string, 0, len(cs))
		for _, co := range cs {
			names = append(names, consumerName(co))
		}
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"delete-data"}, Drop: true}},
			"release %q is bound by %s: %s; --delete-data would drop their data too, even with --force: uninstall or unbind them first", name, plural(len(cs), "release"), strings.Join(names, ", "))
	}
	if partial != nil && b != nil && (len(b.File.Outputs) > 0 || b.File.Claims != nil) {
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"delete-data"}, Drop: true}},
			"release %q offers outputs, and the releases of other namespaces that may be bound to it cannot be read (%s): --delete-data is refused, since it could drop their data; someone who may list Secrets in all namespaces can run it", name, oneLine(partial))
	}
	return nil
}

// consumerName is "NAMESPACE/RELEASE (INSTANCE)", saying how an
// unverified consumer was found.
func consumerName(co Consumer) string {
	if co.Unverified {
		return fmt.Sprintf("%s (%s, as its claim in this namespace says)", co, co.Instance)
	}
	return fmt.Sprintf("%s (%s)", co, co.Instance)
}

// listLatest returns the latest revision of every release of the client's
// namespace, or of every namespace.
func (c *Client) listLatest(all bool) ([]*helmrelease.Release, error) {
	cfg := c.cfg
	if all {
		if c.env == nil || c.env.AllNamespaces == nil {
			return nil, fmt.Errorf("no storage for every namespace (Env.AllNamespaces)")
		}
		var err error
		if cfg, err = c.env.AllNamespaces(); err != nil {
			return nil, err
		}
	}
	l := action.NewList(cfg)
	l.AllNamespaces = all
	l.All = true
	l.SetStateMask()
	return l.Run()
}

// checkNoConsumers refuses to uninstall a release other releases are bound
// to, naming each with the operations that free it.
func (c *Client) checkNoConsumers(ctx context.Context, name string) error {
	cs, err := c.consumers(ctx, name)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	var fixes []errdefs.Fix
	var names []string
	apps := map[string]bool{}
	for _, co := range cs {
		names = append(names, consumerName(co))
		if co.Unverified {
			fixes = append(fixes, errdefs.Fix{Run: []string{"uninstall", co.Release, "-n", co.Namespace}})
			continue
		}
		if co.App != "" {
			if !apps[co.Namespace+"/"+co.App] {
				apps[co.Namespace+"/"+co.App] = true
				fixes = append(fixes, errdefs.Fix{Run: []string{"uninstall", co.App, "-n", co.Namespace}})
			}
			continue
		}
		ref := "BUNDLE"
		if co.Repository != "" && !strings.Contains(co.Repository, "://") {
			ref = co.Repository + "/" + co.Bundle
		}
		fixes = append(fixes,
			errdefs.Fix{Run: []string{"upgrade", co.Release, ref, "-n", co.Namespace, "--unbind", co.Instance}},
			errdefs.Fix{Run: []string{"uninstall", co.Release, "-n", co.Namespace}})
	}
	fixes = append(fixes, errdefs.Fix{Options: []string{"force"}, Use: true})
	return errdefs.Fixable(errdefs.ErrConflict, fixes, "release %q is bound by %s: %s", name, plural(len(cs), "release"), strings.Join(names, ", "))
}

// checkConsumersAllow refuses to move release name to bundle b when a
// consumer's constraint does not allow it, or b lacks an output a
// consumer needs. doing says the operation ("upgrading \"db\" to mariadb
// 2.0.0").
func (c *Client) checkConsumersAllow(name string, b *bundle.Bundle, doing string) error {
	cs, err := c.consumers(context.TODO(), name)
	if err != nil {
		return err
	}
	for _, co := range cs {
		if co.Requires != "" && co.Requires != b.Name {
			return errdefs.New(errdefs.ErrConflict, "%s would break release %s: its %s is bound to %q and requires %s %s", doing, co, co.Instance, name, co.Requires, co.Constraint)
		}
		if co.Constraint == "" {
			continue
		}
		con, err := bundle.ParseConstraint(co.Constraint)
		if err != nil {
			continue
		}
		if !con.Check(b.Version) {
			return errdefs.New(errdefs.ErrConflict, "%s would break release %s: its %s is bound to %q and requires %s %s", doing, co, co.Instance, name, co.Requires, co.Constraint)
		}
	}
	for _, co := range cs {
		for _, want := range co.Outputs {
			if !slices.ContainsFunc(b.File.Outputs, func(o bundle.Output) bool { return o.Name == want }) {
				return errdefs.New(errdefs.ErrConflict, "%s would break release %s: its %s is bound to %q and needs output %q, which %s does not offer", doing, co, co.Instance, name, want, b)
			}
		}
	}
	return nil
}

// checkRollbackAllowed refuses to roll release name back to a revision
// whose bundle a consumer's constraint does not allow.
func (c *Client) checkRollbackAllowed(name string, revision int) error {
	target, err := c.cfg.Releases.Get(name, revision)
	if err != nil {
		return nil // Helm's rollback says it
	}
	b, _, err := providerBundle(target)
	if err != nil {
		return nil
	}
	return c.checkConsumersAllow(name, b, fmt.Sprintf("rolling back %q to revision %d (%s)", name, revision, b))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
