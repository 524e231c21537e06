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
	"maps"
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
	// Grant, for a consumer of another namespace, is the grant that lets
	// it bind (bundle grant); a consumer granted but not seen bound (its
	// release cannot be read, or it has not bound yet) is listed with
	// Grant alone, its Release, Namespace, Instance and Requires set.
	Grant *plan.Grant
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
// bundle reference of the operation, for the fixes it suggests. claimant
// is the release the claims are made for (name, or a blue/green app's
// name for its colours): a provider of another namespace must have
// granted it (grantedBinding).
func (c *Client) bind(ctx context.Context, in *plan.Input, name, claimant, ref string, recorded []plan.Resolved, unbind []string) error {
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
		b, err := c.binding(ctx, binds[i], requirement(in.Root, i), !noClaim[i], claimant)
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
// requirement r (plan.CheckBinding: the bundle, version and repository
// its record names) and loads the provider's bundle from r's repository
// (fromRepository): nothing of the record but its values is rendered.
// With claim, the binding uses the provider's claims when it offers them.
// A provider of another namespace is read from its grant to claimant
// instead (grantedBinding): not its record.
func (c *Client) binding(ctx context.Context, b plan.Bind, r *bundle.Requirement, claim bool, claimant string) (*plan.Binding, error) {
	if b.Namespace != "" && b.Namespace != c.namespace {
		return c.grantedBinding(ctx, b, r, claim, claimant)
	}
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
	if err := c.fromRepository(ctx, out, rel, r.Repository); err != nil {
		return nil, err
	}
	return out, nil
}

// boundRelease finds the provider release of binding b and what its
// record says of its root bundle (name, version, repository), to be
// checked; its bundle, claims and outputs are left to fromRepository.
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
	pb, repo, err := recordedRoot(rel)
	if err != nil {
		return nil, nil, fmt.Errorf("bind %s: %w", b, err)
	}
	return &plan.Binding{Bind: b, Provider: pb, Repository: repo, Claim: claim}, rel, nil
}

// fromRepository makes binding out, to provider release rel, use the
// provider's bundle as repository (the requirement's) serves it at the
// version rel records, through the repositories' usual path (a signature
// policy applies): its claim templates, outputs templates and chart.
// What rel records of its bundle is not used: a record is a Secret of the
// provider's namespace, which whoever may write Secrets there can
// rewrite. The bundle's content digest must be the one rel recorded
// (plan.DigestAnnotation), when it recorded one. The outputs are rendered
// from the repository's bundle over the values rel recorded: values are
// the provider's to change, templates are code.
func (c *Client) fromRepository(ctx context.Context, out *plan.Binding, rel *helmrelease.Release, repository string) error {
	b, name, v := out.Bind, out.Provider.Name, out.Provider.Version
	target := out.Target()
	full, err := c.loadServed(ctx, repository, name, v)
	if errors.Is(err, errNotServed) {
		return errdefs.Fixable(ErrNotFound, upgradeFrom(rel, repository, name, ""),
			"bind %s: release %s has %s %s, which %s does not serve: a binding renders the provider's claims and outputs from the bundle its requirement's repository serves", b, target, name, v, repository)
	}
	if err != nil {
		return errdefs.Wrap(errdefs.ErrFailed, err, "bind %s: %s", b, err)
	}
	got, err := plan.Digest(out.Repository, full)
	if err != nil {
		return fmt.Errorf("bind %s: %w", b, err)
	}
	switch want := rel.Chart.Metadata.Annotations[plan.DigestAnnotation]; {
	case want == "":
		c.log("bind %s: release %s records no digest of %s %s (installed by an earlier version of bundle): bound to %s %s as %s serves it (%s)", b, target, name, v, name, v, repository, got)
	case want != got && out.Repository == "":
		return errdefs.Fixable(errdefs.ErrStale, upgradeFrom(rel, repository, name, v.String()),
			"bind %s: provider %s was installed from a directory or an archive as %s %s with digest %s, which is not %s %s as %s serves it (%s)", b, target, name, v, want, name, v, repository, got)
	case want != got:
		return errdefs.Fixable(errdefs.ErrStale, upgradeFrom(rel, repository, name, v.String()),
			"bind %s: provider %s records %s %s with digest %s, but %s serves %s: the record or the repository changed", b, target, name, v, want, repository, got)
	}
	if out.Digest, err = plan.Digest(repository, full); err != nil {
		return fmt.Errorf("bind %s: %w", b, err)
	}
	pp := &plan.Plan{Root: &plan.Node{Bundle: full}, RootValues: rel.Chart.Values}
	outs, err := render.Outputs(pp, rel.Config, render.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, IsUpgrade: rel.Version > 1})
	if err != nil {
		return fmt.Errorf("bind %s: the outputs of release %s, rendered from %s %s as %s serves it: %w", b, target, name, v, repository, err)
	}
	if rec, ok := rel.Chart.Metadata.Annotations[plan.OutputsAnnotation]; ok {
		var recorded map[string]string
		if json.Unmarshal([]byte(rec), &recorded) != nil || !maps.Equal(recorded, outs) {
			c.log("bind %s: the outputs release %s records are not those its bundle renders; using the rendered ones", b, target)
		}
	}
	out.Provider, out.Outputs = full, outs
	out.Claim = out.Claim && full.File.Claims != nil
	return nil
}

// errNotServed is matched by loadServed's error for a version its repository
// does not serve.
var errNotServed = errors.New("not served")

// loadServed loads bundle name at version v as repository serves it, through
// the client's repositories (their signature policy applies). A version
// the repository does not list matches errNotServed (and ErrNotFound);
// any other failure is one line saying what was loaded from where.
func (c *Client) loadServed(ctx context.Context, repository, name string, v *semver.Version) (*bundle.Bundle, error) {
	if c.repos == nil {
		return nil, errdefs.New(errdefs.ErrUnsupported, "no repositories to load %s %s from", name, v)
	}
	ref := resolve.Ref{Repository: repository, Name: name}
	vs, err := c.repos.Versions(ctx, ref)
	if err == nil && !slices.ContainsFunc(vs, v.Equal) {
		return nil, errdefs.Wrap(ErrNotFound, errNotServed, "%s does not serve %s %s", repository, name, v)
	}
	var b *bundle.Bundle
	if err == nil {
		b, err = c.repos.Load(ctx, ref, v)
	}
	if err == nil && (b.Name != name || !b.Version.Equal(v)) {
		err = fmt.Errorf("it serves %s instead", b)
	}
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrFailed, err, "loading %s %s from %s: %s", name, v, repository, oneLine(err))
	}
	return b, nil
}

// upgradeFrom is the fix of a provider release whose bundle is not what
// repository serves: upgrading it to NAME (at version, when given) from
// there; none for a repository named by an http(s) address.
func upgradeFrom(rel *helmrelease.Release, repository, name, version string) []errdefs.Fix {
	ref := repository + "/" + name
	if strings.Contains(repository, "://") && !strings.HasPrefix(repository, "oci://") {
		return nil
	}
	run := []string{"upgrade", rel.Name, ref, "-n", rel.Namespace}
	if version != "" {
		run = append(run, "--version", version)
	}
	return []errdefs.Fix{{Run: run}}
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

// recordedRoot is what a release's record says of its root bundle: its
// name, version and app version (nothing of its files), and the
// repository it came from, when recorded.
func recordedRoot(rel *helmrelease.Release) (*bundle.Bundle, string, error) {
	if rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil, "", fmt.Errorf("release %s/%s has no chart", rel.Namespace, rel.Name)
	}
	md := rel.Chart.Metadata
	v, err := semver.NewVersion(md.Version)
	if err != nil {
		return nil, "", fmt.Errorf("release %s/%s: chart version %q: %v", rel.Namespace, rel.Name, md.Version, err)
	}
	return &bundle.Bundle{Name: md.Name, Version: v, AppVersion: md.AppVersion, Description: md.Description, Chart: rel.Chart,
		File: &bundle.File{}, Source: "release " + rel.Namespace + "/" + rel.Name}, md.Annotations[plan.RepositoryAnnotation], nil
}

// providerBundle rebuilds a release's root bundle from its record: the
// chart's name and version, its bundle.yaml, the chart itself; and the
// repository it came from, when recorded. It is read as data (the
// outputs and requirements a release says it has), never rendered: a
// binding loads the provider's bundle from its repository.
func providerBundle(rel *helmrelease.Release) (*bundle.Bundle, string, error) {
	b, repo, err := recordedRoot(rel)
	if err != nil {
		return nil, "", err
	}
	for _, f := range rel.Chart.Files {
		if f.Name == bundle.FileName {
			if b.File, err = bundle.ParseFile(b.Source+": "+bundle.FileName, f.Data); err != nil {
				return nil, "", err
			}
		}
	}
	return b, repo, nil
}

// recordProvider records in the composed chart what an app bound to the
// release checks and reads: the root bundle's content digest, as a lock
// records it (plan.DigestAnnotation; any the bundle's Chart.yaml says is
// replaced), and its outputs as they render for the release
// (plan.OutputsAnnotation), which bundle get metadata shows. A bundle
// without outputs records none, nor one whose outputs fail to render.
func recordProvider(chrt *chart.Chart, p *plan.Plan, vals map[string]any, rel render.ReleaseOptions) error {
	if chrt.Metadata.Annotations == nil {
		chrt.Metadata.Annotations = map[string]string{}
	}
	d, err := plan.Digest(p.Repository, p.Root.Bundle)
	if err != nil {
		return err
	}
	chrt.Metadata.Annotations[plan.DigestAnnotation] = d
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
	var granted []Consumer
	for _, r := range rels {
		if r.Info != nil && (r.Info.Status == helmrelease.StatusUninstalled || r.Info.Status == helmrelease.StatusUninstalling) {
			continue
		}
		if g := grantOf(r); g != nil && r.Namespace == c.namespace && g.Provider.Namespace == c.namespace && g.Provider.Release == name {
			granted = append(granted, Consumer{Release: g.Consumer.Release, Namespace: g.Consumer.Namespace, Instance: g.Consumer.Instance,
				Requires: g.Provider.Bundle, Grant: &plan.Grant{Namespace: r.Namespace, Name: r.Name}})
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
	// A grant is a consumer whether or not its app is seen bound: its
	// Jobs run against the provider.
	for _, g := range granted {
		i := slices.IndexFunc(out, func(o Consumer) bool {
			return o.Namespace == g.Namespace && o.Release == g.Release && o.Instance == g.Instance
		})
		if i >= 0 {
			out[i].Grant = g.Grant
			continue
		}
		out = append(out, g)
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
// provider of bindings, its bundle b) while a release is bound to it (cs,
// as findConsumers found them), or while the releases that could be
// cannot all be seen (partial): deleting the provider's volumes drops
// every consumer's database. It holds with --force.
func checkDataUnbound(name string, b *bundle.Bundle, cs []Consumer, partial error) error {
	if len(cs) > 0 {
		names := make([]string, 0, len(cs))
		for _, co := range cs {
			names = append(names, consumerName(co))
		}
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"delete-data"}, Drop: true}},
			"release %q is bound by %s: %s; --delete-data would drop their data too, even with --force: uninstall or unbind them first", name, errdefs.Plural(len(cs), "release"), strings.Join(names, ", "))
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
	if co.Grant != nil && co.Bundle == "" {
		return fmt.Sprintf("%s (%s, granted by %s)", co, co.Instance, co.Grant.Name)
	}
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

// checkNoConsumers refuses to uninstall release name while the releases
// cs are bound to it, naming each with the operations that free it.
func checkNoConsumers(name string, cs []Consumer) error {
	if len(cs) == 0 {
		return nil
	}
	var fixes []errdefs.Fix
	var names []string
	apps := map[string]bool{}
	for _, co := range cs {
		names = append(names, consumerName(co))
		if co.Grant != nil {
			fixes = append(fixes, errdefs.Fix{Run: []string{"revoke", name, co.Namespace + "/" + co.Release + "/" + co.Instance, "-n", co.Grant.Namespace}})
			if co.Bundle == "" {
				continue
			}
		}
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
	return errdefs.Fixable(errdefs.ErrConflict, fixes, "release %q is bound by %s: %s", name, errdefs.Plural(len(cs), "release"), strings.Join(names, ", "))
}

// checkConsumersAllow refuses to move release name to bundle b when a
// consumer's constraint does not allow it, or b lacks an output a
// consumer needs. doing says the operation ("upgrading \"db\" to mariadb
// 2.0.0").
func (c *Client) checkConsumersAllow(ctx context.Context, name string, b *bundle.Bundle, doing string) error {
	cs, err := c.consumers(ctx, name)
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
func (c *Client) checkRollbackAllowed(ctx context.Context, name string, revision int) error {
	target, err := c.cfg.Releases.Get(name, revision)
	if err != nil {
		return nil // Helm's rollback says it
	}
	b, _, err := providerBundle(target)
	if err != nil {
		return nil
	}
	return c.checkConsumersAllow(ctx, name, b, fmt.Sprintf("rolling back %q to revision %d (%s)", name, revision, b))
}
