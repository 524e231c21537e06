// Package resolve chooses one version of every bundle a root requires,
// directly or transitively, so that every constraint in the graph holds.
//
// The solver is pure: it sees bundles only through the Source interface,
// which lists a bundle's versions and one version's requirements.
// Repositories implement Source; tests use a map.
//
// Semantics: one version per bundle name across the whole graph (Helm's
// named templates share one namespace, so two versions of one chart cannot
// coexist in a release); among the versions that satisfy every constraint,
// the newest is preferred, unless Options.Prefer names one that still
// satisfies them. Prereleases are chosen only when a constraint names one
// (Masterminds/semver rules).
package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bundlesh/bundle/internal/errs"

	"github.com/Masterminds/semver/v3"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound: a required bundle does not exist in its repository.
	ErrNotFound = errors.New("bundle not found")
	// ErrConflict: the constraints cannot all be satisfied.
	ErrConflict = errors.New("version conflict")
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
}

// Selected is one bundle of a solution.
type Selected struct {
	Ref
	Version *semver.Version
}

// Solution maps each bundle name in the graph to its chosen version.
type Solution map[string]Selected

// ConflictError explains why no version of a bundle satisfies all the
// constraints placed on it.
type ConflictError struct {
	Name        string
	Constraints []Requirement
	Available   []*semver.Version
}

func (e *ConflictError) Error() string {
	var parts []string
	for _, c := range e.Constraints {
		parts = append(parts, c.String())
	}
	avail := make([]string, len(e.Available))
	for i, v := range e.Available {
		avail[i] = v.Original()
	}
	a := "none"
	if len(avail) > 0 {
		a = strings.Join(avail, ", ")
	}
	if len(parts) == 1 {
		return fmt.Sprintf("no version of %s satisfies %s (available: %s)", e.Name, parts[0], a)
	}
	return fmt.Sprintf("no version of %s satisfies all of: %s (available: %s)", e.Name, strings.Join(parts, "; "), a)
}

// Is reports ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Resolve chooses versions for the root requirements and everything they
// require. It picks, for each bundle, the newest version satisfying every
// constraint seen so far, follows the chosen versions' requirements, and
// repeats until the choice is stable. It does not backtrack: when a chosen
// version's requirements conflict with another's, it reports the conflict.
func Resolve(ctx context.Context, src Source, root []Requirement, opts Options) (Solution, error) {
	versions := map[string][]*semver.Version{}
	chosen := Solution{}
	for round := 0; ; round++ {
		// Gather every constraint imposed by the root and by the bundles
		// currently chosen, keyed by bundle name.
		cons := map[string][]Requirement{}
		refs := map[string]Ref{}
		queue := append([]Requirement(nil), root...)
		seen := map[string]bool{}
		for len(queue) > 0 {
			r := queue[0]
			queue = queue[1:]
			if prev, ok := refs[r.Name]; ok && prev != r.Ref {
				return nil, errs.New(ErrConflict, "%s: bundle %s is required from two repositories, %s and %s", r, r.Name, prev.Repository, r.Repository)
			}
			refs[r.Name] = r.Ref
			cons[r.Name] = append(cons[r.Name], r)
			sel, ok := chosen[r.Name]
			if !ok || seen[r.Name] {
				continue
			}
			seen[r.Name] = true
			reqs, err := src.Requirements(ctx, sel.Ref, sel.Version)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", sel.Name, sel.Version, err)
			}
			queue = append(queue, reqs...)
		}
		names := make([]string, 0, len(cons))
		for n := range cons {
			names = append(names, n)
		}
		sort.Strings(names)

		next := Solution{}
		changed := len(chosen) != len(cons)
		for _, n := range names {
			vs, ok := versions[n]
			if !ok {
				var err error
				vs, err = src.Versions(ctx, refs[n])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", cons[n][0], err)
				}
				vs = append([]*semver.Version(nil), vs...)
				sort.Sort(sort.Reverse(semver.Collection(vs)))
				versions[n] = vs
			}
			v := pick(vs, cons[n], opts.Prefer[n])
			if v == nil {
				return nil, &ConflictError{Name: n, Constraints: cons[n], Available: vs}
			}
			next[n] = Selected{Ref: refs[n], Version: v}
			if old, ok := chosen[n]; !ok || !old.Version.Equal(v) {
				changed = true
			}
		}
		chosen = next
		if !changed {
			return chosen, nil
		}
		if round > 2*len(names)+2 {
			return nil, errs.New(ErrConflict, "choices for %s did not settle", strings.Join(names, ", "))
		}
	}
}

// pick returns the preferred version if it satisfies every constraint, else
// the newest that does (vs is sorted newest first), else nil.
func pick(vs []*semver.Version, cons []Requirement, prefer *semver.Version) *semver.Version {
	ok := func(v *semver.Version) bool {
		for _, c := range cons {
			if !c.Constraint.Check(v) {
				return false
			}
		}
		return true
	}
	if prefer != nil {
		for _, v := range vs {
			if v.Equal(prefer) && ok(v) {
				return v
			}
		}
	}
	for _, v := range vs {
		if ok(v) {
			return v
		}
	}
	return nil
}
