package plan

// Bindings: a requirement of the root bound to a release already installed
// (its provider), instead of being installed in the app's release. Package
// plan knows no cluster: the caller reads the provider release and hands
// its facts (bundle, version, outputs) over as a Binding; the resolver then
// sees the provider's version as the only version of its bundle, nothing of
// the requirement is composed, and the app is wired from the outputs given
// (render treats a bound requirement as an external one).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// BindKey is the top-level values key whose bind: map binds requirements
// the way --bind does: {bundle: {bind: {database: team-db}}}. Read takes it
// out of the values: the chart never sees it.
const BindKey = "bundle"

// RepositoryAnnotation is the Chart.yaml annotation of a composed chart that
// records the repository the root bundle came from (absent for a
// directory or an archive), so that a binding can check it.
const RepositoryAnnotation = "bundle.sh/repository"

// OutputsAnnotation is the Chart.yaml annotation of a composed chart that
// records, as a JSON object, the root bundle's outputs as they rendered
// for the release: what an app bound to the release is wired with.
const OutputsAnnotation = "bundle.sh/outputs"

// DigestAnnotation is the Chart.yaml annotation of a composed chart that
// records the root bundle's content digest, as a lock records it (see
// Digest), so that a binding can check the bundle its repository serves
// is the one the provider installed.
const DigestAnnotation = "bundle.sh/digest"

// Bind asks for one requirement of the root to be bound to a release:
// INSTANCE=[NAMESPACE/]RELEASE.
type Bind struct {
	Instance string
	// Namespace is the provider's; empty means the app's.
	Namespace string
	Release   string
}

func (b Bind) String() string {
	if b.Namespace == "" {
		return b.Instance + "=" + b.Release
	}
	return b.Instance + "=" + b.Namespace + "/" + b.Release
}

// ParseBind reads INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE.
func ParseBind(s string) (Bind, error) {
	inst, target, ok := strings.Cut(s, "=")
	if !ok || inst == "" || target == "" {
		return Bind{}, errdefs.New(errdefs.ErrInvalid, "bind %q: write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db", s)
	}
	b := Bind{Instance: inst, Release: target}
	if ns, name, ok := strings.Cut(target, "/"); ok {
		b.Namespace, b.Release = ns, name
	}
	if b.Release == "" || strings.Contains(b.Release, "/") || (strings.Contains(target, "/") && b.Namespace == "") {
		return Bind{}, errdefs.New(errdefs.ErrInvalid, "bind %q: write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db", s)
	}
	return b, nil
}

// Binding is a requirement bound to an installed release, with what the
// caller read of that release.
type Binding struct {
	Bind
	// Namespace (in Bind) is always set here.
	//
	// Provider is the release's root bundle: the name and version its
	// record says, then (once the caller checked them with CheckBinding)
	// the bundle of that name and version as the requirement's repository
	// serves it, whose claims and outputs are rendered. Nothing of the
	// record's own files is: a record is a Secret in the provider's
	// namespace.
	Provider *bundle.Bundle
	// Repository is the one the provider was installed from, as its
	// record says; empty when not recorded (installed from a directory,
	// or before it was recorded).
	Repository string
	// Digest is the content digest of Provider as the requirement's
	// repository serves it (the one a lock records, see Digest).
	Digest string
	// Outputs are the provider's outputs, as its outputs: templates render
	// them with its release and values.
	Outputs map[string]string
	// Claim says the consumer gets a claim of its own (the provider's
	// bundle.yaml claims:): its templates are rendered in the consumer's
	// release and its outputs replace the provider's. The caller sets it
	// when the provider offers claims and can fulfil one for the
	// consumer (same namespace).
	Claim bool
	// ClaimHolder, for a claim, is the release of the consumer's namespace
	// that holds the claim's objects and whose name the claim is made for,
	// when it is not the consumer's own release: the two colours of a
	// blue/green app use one claim, the app's, held by its router. The
	// consumer's release then renders only the claim's outputs.
	ClaimHolder string
	// Grant, for a binding to a provider of another namespace, is the
	// grant its owner made for the consumer (bundle grant): the consumer's
	// release holds only its own copy of the claim's password, read from
	// the grant's Secret, and nothing in the provider's namespace.
	Grant *Grant
}

// Claims returns the provider's claims when the binding uses them.
func (b *Binding) Claims() *bundle.Claims {
	if b == nil || !b.Claim || b.Provider == nil || b.Provider.File == nil {
		return nil
	}
	return b.Provider.File.Claims
}

// Target is NAMESPACE/RELEASE.
func (b *Binding) Target() string { return b.Namespace + "/" + b.Release }

// takeBinds removes the bind map from vals (BindKey.bind) and returns it,
// the flags' binds (which win) over it, one per instance, sorted.
func takeBinds(vals map[string]any, flags []string) ([]Bind, error) {
	byInst := map[string]Bind{}
	if top, ok := vals[BindKey].(map[string]any); ok {
		if raw, ok := top["bind"]; ok {
			m, ok := raw.(map[string]any)
			if !ok && raw != nil {
				return nil, errdefs.New(errdefs.ErrInvalid, "values %s.bind: must be a mapping of instance to release, e.g. {database: team-db}", BindKey)
			}
			for inst, v := range m {
				s, ok := v.(string)
				if !ok {
					return nil, errdefs.New(errdefs.ErrInvalid, "values %s.bind.%s: must be a release name (RELEASE or NAMESPACE/RELEASE), not %v", BindKey, inst, v)
				}
				b, err := ParseBind(inst + "=" + s)
				if err != nil {
					return nil, err
				}
				byInst[inst] = b
			}
			delete(top, "bind")
			if len(top) == 0 {
				delete(vals, BindKey)
			}
		}
	}
	for _, f := range flags {
		b, err := ParseBind(f)
		if err != nil {
			return nil, err
		}
		byInst[b.Instance] = b
	}
	out := make([]Bind, 0, len(byInst))
	for _, b := range byInst {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Instance < out[j].Instance })
	return out, nil
}

// checkBindable refuses a bind of an instance the root does not require.
func checkBindable(root *bundle.Bundle, b Bind) (*bundle.Requirement, error) {
	for i := range root.File.Requires {
		if r := &root.File.Requires[i]; r.Name == b.Instance {
			return r, nil
		}
	}
	var names []string
	for _, r := range root.File.Requires {
		names = append(names, r.Name)
	}
	have := "requires nothing"
	if len(names) > 0 {
		have = "requires " + strings.Join(names, ", ")
	}
	return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: %s has no requirement %q (it %s)", b, root, b.Instance, have)
}

// CheckBinding checks that a provider can stand for requirement r: the
// same bundle (and repository, when recorded), at a version r's
// constraint allows. Each failure is one line.
func CheckBinding(r *bundle.Requirement, b *Binding) error {
	p := b.Provider
	if p.Name != r.Bundle {
		return errdefs.New(errdefs.ErrInvalid, "bind %s: release %s is %s, not %s (%s requires %s %s)", b.Bind, b.Target(), p, r.Bundle, r.Name, r.Bundle, r.Version)
	}
	if b.Repository != "" && r.Repository != "" && b.Repository != r.Repository {
		return errdefs.New(errdefs.ErrInvalid, "bind %s: release %s has %s from %s, not from %s as %s requires", b.Bind, b.Target(), p.Name, b.Repository, r.Repository, r.Name)
	}
	if !r.Constraint.Check(p.Version) {
		return errdefs.New(errdefs.ErrConflict, "bind %s: release %s has %s, outside %s %s that %s requires", b.Bind, b.Target(), p, r.Bundle, r.Version, r.Name)
	}
	return nil
}

// boundSource is a Loader in which each bound bundle has one version, the
// provider's, that requires nothing (its own requirements are the
// provider release's business) and loads as the provider.
type boundSource struct {
	Loader
	bound map[resolve.Ref]*Binding
}

func (s boundSource) Versions(ctx context.Context, ref resolve.Ref) ([]*semver.Version, error) {
	if b, ok := s.bound[ref]; ok {
		return []*semver.Version{b.Provider.Version}, nil
	}
	return s.Loader.Versions(ctx, ref)
}

func (s boundSource) Requirements(ctx context.Context, ref resolve.Ref, v *semver.Version) ([]resolve.Requirement, error) {
	if b, ok := s.bound[ref]; ok && v.Equal(b.Provider.Version) {
		return nil, nil
	}
	return s.Loader.Requirements(ctx, ref, v)
}

func (s boundSource) Load(ctx context.Context, ref resolve.Ref, v *semver.Version) (*bundle.Bundle, error) {
	if b, ok := s.bound[ref]; ok && v.Equal(b.Provider.Version) {
		return b.Provider, nil
	}
	return s.Loader.Load(ctx, ref, v)
}

// bindSource checks bindings against root's requirements and returns the
// loader that fixes their versions, and the bindings by instance.
func bindSource(l Loader, root *bundle.Bundle, bindings []*Binding) (Loader, map[string]*Binding, error) {
	if len(bindings) == 0 {
		return l, nil, nil
	}
	src := boundSource{Loader: l, bound: map[resolve.Ref]*Binding{}}
	byInst := map[string]*Binding{}
	for _, b := range bindings {
		r, err := checkBindable(root, b.Bind)
		if err != nil {
			return nil, nil, err
		}
		if err := CheckBinding(r, b); err != nil {
			return nil, nil, err
		}
		ref := resolve.Ref{Repository: r.Repository, Name: r.Bundle}
		if o, ok := src.bound[ref]; ok && !o.Provider.Version.Equal(b.Provider.Version) {
			return nil, nil, errdefs.New(errdefs.ErrConflict, "bind %s and %s: one version of %s per app, and the releases have %s and %s", o.Bind, b.Bind, r.Bundle, o.Provider.Version, b.Provider.Version)
		}
		src.bound[ref] = b
		byInst[b.Instance] = b
	}
	return src, byInst, nil
}

// boundConflict adds to a resolver's explanation why a bound bundle has
// one version.
func boundConflict(err error, bound map[string]*Binding) error {
	if len(bound) == 0 || !errors.Is(err, resolve.ErrConflict) {
		return err
	}
	var why []string
	for _, i := range slices.Sorted(maps.Keys(bound)) {
		b := bound[i]
		why = append(why, fmt.Sprintf("%s is bound to release %s, so %s is fixed at %s", i, b.Target(), b.Provider.Name, b.Provider.Version))
	}
	return fmt.Errorf("%w\n(%s)", err, strings.Join(why, "; "))
}
