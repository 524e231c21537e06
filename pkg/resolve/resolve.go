// Package resolve chooses one version of every bundle a root requires,
// directly or transitively, so that every constraint in the graph holds,
// and explains in plain words when no choice can.
//
// The solver is PubGrub (Dart pub's algorithm, as in pub's doc/solver.md
// and pubgrub-rs): incompatibilities, unit propagation, conflict-driven
// backjumping and learned incompatibilities. It is pure: it sees bundles
// only through the Source interface, which lists a bundle's versions and one
// version's requirements; repositories implement Source, tests use a map.
// Version sets are exact bitsets over the versions a source lists, since
// semver constraints have no intersection or complement of their own.
//
// Semantics: one version per bundle name across the whole graph (Helm's
// named templates share one namespace, so two versions of one chart cannot
// coexist in a release); among the versions that satisfy every constraint,
// the newest is preferred, unless Options.Prefer names one that still
// fits. Prereleases are chosen only when a constraint names one
// (Masterminds/semver rules).
package resolve

import (
	"context"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound: a required bundle does not exist in its repository.
	ErrNotFound = errdefs.ErrNotFound
	// ErrConflict: the constraints cannot all be satisfied.
	ErrConflict = errdefs.ErrConflict
)

// Ref names a bundle in a repository.
type Ref struct {
	Repository string // "stable", a repository name or address
	Name       string
}

func (r Ref) String() string { return r.Repository + "/" + r.Name }

// Requirement is one edge of the graph: a constraint on a bundle, and who
// imposed it.
type Requirement struct {
	Ref
	// Instance is the instance name the requirement has in its parent.
	Instance   string
	Constraint *semver.Constraints
	// Text is the constraint as written, if the source has it (saves
	// formatting Constraint again).
	Text string
	// By is the requiring bundle ("mediawiki 1.0.0"), empty for the root.
	By string
}

func (r Requirement) String() string {
	s := r.Name + " " + r.Constraint.String()
	if r.By != "" {
		s = r.By + " requires " + r.Instance + " " + s
	} else {
		s = "the root requires " + r.Instance + " " + s
	}
	return s
}

// Source is what the solver knows of the world.
type Source interface {
	// Versions lists the versions of a bundle; an unknown bundle is an
	// error that matches ErrNotFound.
	Versions(ctx context.Context, ref Ref) ([]*semver.Version, error)
	// Requirements lists what one version of a bundle requires.
	Requirements(ctx context.Context, ref Ref, v *semver.Version) ([]Requirement, error)
}

// Options tune a resolution.
type Options struct {
	// Prefer maps bundle names to versions to keep when they still satisfy
	// every constraint (from a lock or the installed release).
	Prefer map[string]*semver.Version
	// Root names the bundle the root requirements belong to, for messages
	// and so that a requirement back on it is understood; empty means
	// "the root".
	Root *Selected
}

// Selected is one bundle of a solution.
type Selected struct {
	Ref
	Version *semver.Version
}

// Solution maps each bundle name in the graph to its chosen version.
type Solution map[string]Selected
