package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/Masterminds/semver/v3"
)

// rootPkg is the package id of the root: the solver's own package, whose
// one version requires the root requirements.
const rootPkg = 0

// pkg is one bundle the solver has met, a name in a repository, and what
// the Source said of it. One name from two repositories is two packages,
// which an incompatibility (repositoryCause) keeps from both being
// selected: that is how pub treats a package's source and description.
type pkg struct {
	name     string
	ref      Ref
	versions []*semver.Version // ascending
	missing  bool              // the source does not know it
	loaded   bool
	deps     map[int][]Requirement // by version index, as the source listed them
	// sameName is the next package of the same name, from another
	// repository, in the order met; 0 for none.
	sameName int
	// ambiguous: the name was met from more than one repository.
	ambiguous bool
	// Caches of constraint.go: the versions each constraint allows.
	cons     map[string]set    // constraint text -> versions it allows
	consList []cached          // the same, in the order met (for messages)
	release  set               // versions without a prerelease
	exact    map[[3]uint64]int // release version -> index, for "=X.Y.Z"
}

// cached is one constraint of pkg.cons.
type cached struct {
	key string
	set set
}

// n is how many versions the bundle has: the size of its version sets.
func (p *pkg) n() int { return len(p.versions) }

// hasPrerelease reports whether one of the bundle's versions is a
// prerelease.
func (p *pkg) hasPrerelease() bool {
	for _, v := range p.versions {
		if v.Prerelease() != "" {
			return true
		}
	}
	return false
}

// catalog is what the solver has learnt of the world through its Source:
// every bundle it met, by id (the root is 0), with versions and
// requirements read once.
type catalog struct {
	pkgs []*pkg
	// byName is the first package met of each name; the packages of one
	// name from other repositories follow it through pkg.sameName.
	// The root's own name, when Options.Root gives one, is the root.
	byName map[string]int
}

func newCatalog(root []Requirement, opts Options) catalog {
	c := catalog{byName: map[string]int{}}
	r := &pkg{name: "the root", loaded: true, versions: []*semver.Version{semver.New(0, 0, 0, "", "")}}
	if opts.Root != nil {
		r.name, r.ref, r.versions = opts.Root.Name, opts.Root.Ref, []*semver.Version{opts.Root.Version}
		c.byName[r.name] = rootPkg
	}
	r.deps = map[int][]Requirement{0: root}
	c.pkgs = append(c.pkgs, r)
	return c
}

func (c *catalog) n(p int) int { return len(c.pkgs[p].versions) }

// intern returns the id of a requirement's bundle (its name in its
// repository), and whether it is new. A requirement on the root's own name
// is the root, whatever its repository.
func (c *catalog) intern(r Requirement) (id int, isNew, sameName bool) {
	first, ok := c.byName[r.Name]
	if ok && first == rootPkg {
		return rootPkg, false, false
	}
	last := 0
	if ok {
		for id := first; id != 0; id = c.pkgs[id].sameName {
			if c.pkgs[id].ref == r.Ref {
				return id, false, false
			}
			last = id
		}
	}
	id = len(c.pkgs)
	c.pkgs = append(c.pkgs, &pkg{name: r.Name, ref: r.Ref})
	if ok {
		c.pkgs[last].sameName = id
		for x := first; x != 0; x = c.pkgs[x].sameName {
			c.pkgs[x].ambiguous = true
		}
	} else {
		c.byName[r.Name] = id
	}
	return id, true, ok
}

// sameName returns the packages of p's name, one per repository, in the
// order met.
func (c *catalog) sameName(p int) []int {
	var ids []int
	for id := c.byName[c.pkgs[p].name]; id != 0; id = c.pkgs[id].sameName {
		ids = append(ids, id)
	}
	return ids
}

// ambiguous reports whether the solver met package p's name in more than
// one repository: messages then name the repository.
func (c *catalog) ambiguous(p int) bool { return c.pkgs[p].ambiguous }

// load lists the versions of the given bundles that are not loaded yet, in
// order. A bundle the source does not know is marked missing; any other
// error of the source is returned. (resolve.Prefetch lists them
// concurrently ahead of the solver.)
func (c *catalog) load(ctx context.Context, src Source, ids []int) error {
	for _, id := range ids {
		p := c.pkgs[id]
		if p.loaded {
			continue
		}
		vs, err := src.Versions(ctx, p.ref)
		switch {
		case errors.Is(err, ErrNotFound):
			p.missing = true
		case err != nil:
			return fmt.Errorf("listing versions of %s: %w", p.ref, err)
		default:
			p.versions = append([]*semver.Version(nil), vs...)
			sort.Sort(semver.Collection(p.versions))
		}
		p.loaded = true
	}
	return nil
}

// requirements returns what version vi of package p requires.
func (c *catalog) requirements(ctx context.Context, src Source, p, vi int) ([]Requirement, error) {
	pk := c.pkgs[p]
	if reqs, ok := pk.deps[vi]; ok {
		return reqs, nil
	}
	reqs, err := src.Requirements(ctx, pk.ref, pk.versions[vi])
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", pk.name, pk.versions[vi], err)
	}
	if pk.deps == nil {
		pk.deps = map[int][]Requirement{}
	}
	pk.deps[vi] = reqs
	return reqs, nil
}
