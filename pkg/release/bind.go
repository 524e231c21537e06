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
	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// links finds and checks the releases an app is bound to (its providers,
// read from Helm's storage in their namespaces) and those bound to a
// release (its consumers, counted from the releases' records and the
// claims in its namespace). It reads the cluster; it never writes.
type links struct {
	cfg   *action.Configuration
	env   *Env
	ns    string
	repos plan.References
	hist  history
	// reachable checks the cluster answers; wholeOf names the whole a
	// release is part of (Guard.WholeOf); log is the debug log.
	reachable func() error
	wholeOf   func(*Record) string
	log       func(string, ...any)
}

// bind reads the provider of every binding the upgraded or installed app
// will have and sets in.Bound: the bindings recorded in the revision of
// release name the operation starts from (nil for an install) but those
// unbind names, with those asked for (in.Binds) over them. ref is the
// bundle reference of the operation, for the fixes it suggests. claimant
// is the release the claims are made for (name, or a blue/green app's
// name for its colours): a provider of another namespace must have
// granted it (grantedBinding).
func (l *links) bind(ctx context.Context, in *plan.Input, name, claimant, ref string, recorded []plan.Resolved, unbind []string) error {
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
			b.Namespace = l.ns
		}
		binds[b.Instance] = b
		delete(recordedOnly, b.Instance)
		delete(noClaim, b.Instance)
	}
	in.Bound = nil
	if len(binds) == 0 {
		return nil
	}
	if err := l.reachable(); err != nil {
		return err
	}
	insts := make([]string, 0, len(binds))
	for i := range binds {
		insts = append(insts, i)
	}
	sort.Strings(insts)
	for _, i := range insts {
		b, err := l.binding(ctx, binds[i], requirement(in.Root, i), !noClaim[i], claimant)
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
						{Run: []string{"upgrade", name, ref, "-n", l.ns, "--unbind", i}},
						{Run: []string{"upgrade", name, ref, "-n", l.ns, "--bind", i + "=RELEASE"}},
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
func (l *links) binding(ctx context.Context, b plan.Bind, r *bundle.Requirement, claim bool, claimant string) (*plan.Binding, error) {
	if b.Namespace != "" && b.Namespace != l.ns {
		return l.grantedBinding(ctx, b, r, claim, claimant)
	}
	out, rel, err := l.boundRelease(b, claim)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: no requirement %q", b, b.Instance)
	}
	if err := plan.CheckBinding(r, out); err != nil {
		return nil, err
	}
	if err := l.fromRepository(ctx, out, rel, r.Repository); err != nil {
		return nil, err
	}
	return out, nil
}

// boundRelease finds the provider release of binding b and what its
// record says of its root bundle (name, version, repository), to be
// checked; its bundle, claims and outputs are left to fromRepository.
func (l *links) boundRelease(b plan.Bind, claim bool) (*plan.Binding, *helmrelease.Release, error) {
	if b.Namespace == "" {
		b.Namespace = l.ns
	}
	rel, err := l.provider(b.Namespace, b.Release)
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
func (l *links) fromRepository(ctx context.Context, out *plan.Binding, rel *helmrelease.Release, repository string) error {
	b, name, v := out.Bind, out.Provider.Name, out.Provider.Version
	target := out.Target()
	full, err := l.loadServed(ctx, repository, name, v)
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
		l.log("bind %s: release %s records no digest of %s %s (installed by an earlier version of bundle): bound to %s %s as %s serves it (%s)", b, target, name, v, name, v, repository, got)
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
			l.log("bind %s: the outputs release %s records are not those its bundle renders; using the rendered ones", b, target)
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
func (l *links) loadServed(ctx context.Context, repository, name string, v *semver.Version) (*bundle.Bundle, error) {
	if l.repos == nil {
		return nil, errdefs.New(errdefs.ErrUnsupported, "no repositories to load %s %s from", name, v)
	}
	ref := resolve.Ref{Repository: repository, Name: name}
	vs, err := l.repos.Versions(ctx, ref)
	if err == nil && !slices.ContainsFunc(vs, v.Equal) {
		return nil, errdefs.Wrap(ErrNotFound, errNotServed, "%s does not serve %s %s", repository, name, v)
	}
	var b *bundle.Bundle
	if err == nil {
		b, err = l.repos.Load(ctx, ref, v)
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
func (l *links) provider(ns, name string) (*helmrelease.Release, error) {
	store, err := l.storageFor(ns)
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
		if r.Info.Status == rcommon.StatusDeployed && (deployed == nil || r.Version > deployed.Version) {
			deployed = r
		}
		if last == nil || r.Version > last.Version {
			last = r
		}
	}
	if deployed != nil {
		return deployed, nil
	}
	if last == nil || last.Info.Status == rcommon.StatusUninstalled || last.Info.Status == rcommon.StatusUninstalling {
		return nil, nil
	}
	return last, nil
}

// storageFor is Helm's release storage of namespace ns: the client's own,
// the Secrets of ns (reading another namespace's releases needs no more
// than reading its Secrets), or, over another driver, the storage of
// every namespace.
func (l *links) storageFor(ns string) (records, error) {
	if ns == l.ns {
		return recordsOf(l.cfg), nil
	}
	if _, ok := l.cfg.Releases.Driver.(*driver.Secrets); ok && l.env != nil && l.env.Clientset != nil {
		cs, err := l.env.Clientset()
		if err != nil {
			return records{}, err
		}
		return records{storage.Init(driver.NewSecrets(cs.CoreV1().Secrets(ns)))}, nil
	}
	if l.env == nil || l.env.AllNamespaces == nil {
		return records{}, errors.New("no storage for other namespaces (Env.AllNamespaces)")
	}
	all, err := l.env.AllNamespaces()
	if err != nil {
		return records{}, err
	}
	return recordsOf(all), nil
}
