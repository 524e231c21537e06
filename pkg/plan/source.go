package plan

import (
	"context"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// References loads what a user names: a root bundle by reference, and the
// bundles its requirements resolve to. repo.Set implements it.
type References interface {
	Loader
	LoadReference(ctx context.Context, ref repo.Reference, constraint *semver.Constraints) (*bundle.Bundle, error)
}

// Source says which bundle to plan, as a user gives it.
type Source struct {
	// Reference is REPO/NAME (stable/mediawiki), a directory, a chart
	// archive or oci://HOST/NS/NAME.
	Reference string
	// Version constrains the root bundle's version; nil means the newest
	// stable version.
	Version *semver.Constraints
	// Devel lets an empty Version choose a prerelease too (the constraint
	// >0.0.0-0); it does not change a Version given, nor how requirements
	// resolve.
	Devel bool
	// Values are the user's values files and settings.
	Values bundle.ValuesOptions
	// Locked plans exactly what the bundle's bundle.lock says, after
	// checking it against bundle.yaml and the digests the sources serve.
	Locked bool
	// Bind binds requirements of the root to installed releases,
	// INSTANCE=[NAMESPACE/]RELEASE each; they win over the values' own
	// (bundle.bind, see BindKey), which Read takes out of the values.
	Bind []string
	// ImageMirror (HOST/PREFIX), with Locked, pins every locked image to
	// its copy there, bundle.Mirrored(ImageMirror, REPOSITORY)@DIGEST,
	// where bundle archive push puts it.
	ImageMirror string
}

// Input is a Source read: the root bundle loaded and checked installable,
// the values merged; nothing resolved yet. Every mistake in what the user
// gave (reference, constraint, values, a chart Helm would refuse) surfaces
// in Read, before anything else is asked of a cluster or the solver.
type Input struct {
	Root        *bundle.Bundle
	Values      map[string]any
	Locked      bool
	ImageMirror string
	// Binds are the bindings asked for (Source.Bind and the values'),
	// checked against the root's requirements. The caller reads each
	// provider release and sets Bound before Resolve.
	Binds []Bind
	Bound []*Binding
	// Repository is where the root came from; empty for a directory or an
	// archive.
	Repository string
	refs       References
}

// Read reads src through refs.
func Read(ctx context.Context, refs References, src Source) (*Input, error) {
	ref, err := repo.ParseReference(src.Reference)
	if err != nil {
		return nil, err
	}
	constraint := src.Version
	if constraint == nil && src.Devel {
		c, err := semver.NewConstraint(">0.0.0-0")
		if err != nil {
			return nil, err
		}
		constraint = c
	}
	vals, err := src.Values.Merge()
	if err != nil {
		return nil, err
	}
	binds, err := takeBinds(vals, src.Bind)
	if err != nil {
		return nil, err
	}
	root, err := refs.LoadReference(ctx, ref, constraint)
	if err != nil {
		return nil, err
	}
	if err := root.CheckInstallable(); err != nil {
		return nil, err
	}
	// A value the root's schema does not allow is refused before anything
	// is resolved, rendered or sent, saying where it was given.
	allowed := []string{"global"}
	for _, r := range root.File.Requires {
		allowed = append(allowed, r.Name)
	}
	if root.Chart != nil {
		if err := bundle.CheckValues(root.Name, root.Chart.Schema, vals, src.Values, allowed); err != nil {
			return nil, err
		}
	}
	for _, b := range binds {
		if _, err := checkBindable(root, b); err != nil {
			return nil, err
		}
	}
	in := &Input{Root: root, Values: vals, Locked: src.Locked, ImageMirror: src.ImageMirror, Binds: binds, refs: refs}
	if !ref.Local() {
		in.Repository = ref.Ref.Repository
	}
	return in, nil
}

// Resolve resolves the input's requirements, once, keeping the versions in
// prefer (an installed release's, by bundle and repository) while they
// fit, below the lock's.
func (in *Input) Resolve(ctx context.Context, prefer map[resolve.Ref]*semver.Version) (*Plan, error) {
	p, err := Resolve(ctx, in.refs, in.Root, Options{Locked: in.Locked, Prefer: prefer, Bound: in.Bound})
	if err != nil {
		return nil, err
	}
	p.Values = in.Values
	p.Repository = in.Repository
	if in.ImageMirror != "" && p.LockedImages != nil {
		mirrored := make([]bundle.LockedImage, len(p.LockedImages))
		for i, l := range p.LockedImages {
			mirrored[i] = bundle.LockedImage{Image: l.Image, Repository: bundle.Mirrored(in.ImageMirror, l.Repository), Digest: l.Digest}
		}
		p.LockedImages = mirrored
	}
	return p, nil
}

// Make reads src and resolves it: Read, then Input.Resolve.
func Make(ctx context.Context, refs References, src Source) (*Plan, error) {
	in, err := Read(ctx, refs, src)
	if err != nil {
		return nil, err
	}
	if len(in.Binds) > 0 {
		return nil, errdefs.New(errdefs.ErrUnsupported, "bind %s: a binding reads the provider release from a cluster, and this reads none (bind with install, upgrade or diff)", in.Binds[0])
	}
	return in.Resolve(ctx, nil)
}

// PreferInstalled returns the bundle versions a release recorded (its
// Resolved list), to keep while they still fit when it is upgraded: each
// for its bundle in the repository it came from, so that a requirement
// moved to another repository is resolved afresh there.
func PreferInstalled(installed []Resolved) map[resolve.Ref]*semver.Version {
	prefer := map[resolve.Ref]*semver.Version{}
	for _, r := range installed {
		if v, err := semver.StrictNewVersion(r.Version); err == nil {
			prefer[lockedRef(r.Repository, r.Bundle)] = v
		}
	}
	return prefer
}

// lockedRef is the bundle a lock entry or a release's record names; a
// record without a repository is from the default one, as a requirement
// without one is.
func lockedRef(repository, name string) resolve.Ref {
	if repository == "" {
		repository = bundle.DefaultRepository
	}
	return resolve.Ref{Repository: repository, Name: name}
}
