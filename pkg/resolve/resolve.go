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
	// Prefer maps bundles to versions to keep when they still satisfy
	// every constraint (from a lock or the installed release). A bundle is
	// a name in a repository, as everywhere in the solver: preferring
	// stable/mariadb 1.2.0 says nothing of other/mariadb.
	Prefer map[Ref]*semver.Version
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

// Result is a solution and what it took to find it.
type Result struct {
	Solution Solution
	// Decisions counts versions tried; Conflicts counts conflicts resolved
	// (each may backjump and learn an incompatibility).
	Decisions, Conflicts int
}

// Resolve chooses versions for the root requirements and everything they
// require, transitively. When no choice satisfies every constraint the error
// is a *NoSolutionError (matching ErrConflict) that explains why; a missing
// bundle that makes every choice fail matches ErrNotFound as well; an error
// of the Source (an unreachable repository) is returned as is.
func Resolve(ctx context.Context, src Source, root []Requirement, opts Options) (Solution, error) {
	r, err := Solve(ctx, src, root, opts)
	if err != nil {
		return nil, err
	}
	return r.Solution, nil
}

// Solve is Resolve with statistics. It calls src from the calling goroutine
// only, and returns when ctx is done (checked between decisions and passed
// to src).
func Solve(ctx context.Context, src Source, root []Requirement, opts Options) (*Result, error) {
	s := newSolver(src, root, opts)
	if err := s.solve(ctx); err != nil {
		return nil, err
	}
	res := &Result{Solution: Solution{}, Decisions: s.decisions, Conflicts: s.conflicts}
	for p := 1; p < len(s.cat.pkgs); p++ {
		if vi, ok := s.ps.decision(p); ok {
			pk := s.cat.pkgs[p]
			res.Solution[pk.name] = Selected{Ref: pk.ref, Version: pk.versions[vi]}
		}
	}
	return res, nil
}

// NoSolutionError explains why no set of versions satisfies the
// requirements, as a chain of plain sentences.
type NoSolutionError struct {
	Explanation string
	// Decisions and Conflicts are the solver's statistics up to failing.
	Decisions, Conflicts int
	notFound             bool
}

func (e *NoSolutionError) Error() string { return e.Explanation }

// Is reports ErrConflict, and ErrNotFound when a missing bundle is among
// the causes.
func (e *NoSolutionError) Is(target error) bool {
	return target == ErrConflict || (e.notFound && target == ErrNotFound)
}
