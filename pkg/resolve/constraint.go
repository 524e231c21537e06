package resolve

import (
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// This file turns a requirement's constraint into the set of a bundle's
// versions it allows, the only form the solver's term algebra can use
// (term.go, bits.go).
//
// Constraints are parsed by Masterminds/semver, and only by it: a
// Requirement carries its *semver.Constraints. But semver v3 keeps the
// parsed comparators unexported and offers no intersection, union or
// bounds; all it can say of a constraint is Check(version). Computing a set
// with Check costs one call per version per distinct constraint: with
// 20ns a call, the 500-version bundles of benchmark b, each version
// requiring an exact version of the next, would spend about 0.5s there,
// more than twice the whole solve. So the set is computed from the
// comparators, read back from Masterminds' own rendering of what it parsed
// (Constraints.String: " || " between groups, " " between comparators,
// each an operator and a version as written), not from the text a user
// wrote (but for an exact version, which it renders unchanged):
//
//   - exactVersion: "=X.Y.Z" or "X.Y.Z", by one map lookup;
//   - compileWith: groups of =, !=, <, <=, >, >=, ~, ^ and * over full
//     versions, by binary searches over the sorted versions, with
//     Masterminds' prerelease rule;
//   - anything else (x wildcards, partial versions, a "v" prefix, ~ and ^
//     on 0.x, whose special cases are not worth copying): Check on every
//     version.
//
// TestCompileConstraintMatchesCheck holds compileWith to Check.

// prereleasesIncluded marks the cache key of a constraint that includes
// prereleases (Constraints.IncludePrerelease).
const prereleasesIncluded = " (prereleases included)"

// allows returns the versions of p a requirement's constraint allows, as a
// positive set, cached by constraint text. The set is shared: callers must
// not modify it.
func (p *pkg) allows(r Requirement) set {
	c := r.Constraint
	key := r.Text
	if key == "" {
		key = c.String()
	}
	if c.IncludePrerelease {
		key += prereleasesIncluded
	}
	if s, ok := p.cons[key]; ok {
		return s
	}
	if p.cons == nil {
		p.cons = map[string]set{}
	}
	// An exact version as written ("=1.2.3", "1.2.3") is what Masterminds
	// renders it as: that saves rendering the commonest constraint.
	if r.Text != "" {
		if s := p.exactVersion(r.Text); s != nil {
			p.cache(key, s)
			return s
		}
	}
	text := c.String()
	if s := p.exactVersion(text); s != nil {
		p.cache(key, s)
		return s
	}
	if p.release == nil {
		p.release = releaseSet(p.versions)
	}
	s, ok := compileWith(text, p.versions, p.release, c.IncludePrerelease)
	if !ok {
		s = make(set, words(p.n()))
		for i, v := range p.versions {
			if c.Check(v) {
				s[i/64] |= 1 << (i % 64)
			}
		}
	}
	p.cache(key, s)
	return s
}

// cache keeps the set a constraint allows, by its key.
func (p *pkg) cache(key string, s set) {
	p.cons[key] = s
	p.consList = append(p.consList, cached{key, s})
}

// exactVersion handles the commonest constraint, "=X.Y.Z" (or "X.Y.Z"),
// by a map lookup; nil means "not that form", or a version with build
// metadata variants, left to compileWith.
func (p *pkg) exactVersion(text string) set {
	v, ok := parsePlain(strings.TrimPrefix(text, "="))
	if !ok {
		return nil
	}
	if p.exact == nil {
		p.exact = map[[3]uint64]int{}
		for i, x := range p.versions {
			k := [3]uint64{x.Major(), x.Minor(), x.Patch()}
			if x.Prerelease() != "" {
				continue
			}
			if _, dup := p.exact[k]; dup || x.Metadata() != "" {
				p.exact[k] = -1 // build metadata variants: leave to the compiler
				continue
			}
			p.exact[k] = i
		}
	}
	i, ok := p.exact[v]
	if ok && i < 0 {
		return nil
	}
	s := make(set, words(p.n()))
	if ok {
		s[i/64] |= 1 << (i % 64)
	}
	return s
}

// releaseSet is the versions without a prerelease.
func releaseSet(versions []*semver.Version) set {
	release := make(set, words(len(versions)))
	for i, v := range versions {
		if v.Prerelease() == "" {
			release[i/64] |= 1 << (i % 64)
		}
	}
	return release
}

// compileWith computes the positive set of versions (sorted ascending) that
// a constraint allows, from its rendering by Constraints.String, or reports
// false when the text has a form it leaves to Check. release is
// releaseSet(versions); includePre is Constraints.IncludePrerelease.
func compileWith(text string, versions []*semver.Version, release set, includePre bool) (set, bool) {
	n := len(versions)
	out := make(set, words(n))
	for _, group := range strings.Split(text, "||") {
		fields := strings.Fields(group)
		if len(fields) == 0 {
			return nil, false
		}
		var acc set
		pre := false // a comparator names a prerelease: the group admits them
		for _, f := range fields {
			s, p, ok := compileComparator(f, versions)
			if !ok {
				return nil, false
			}
			if acc == nil {
				acc = s
			} else {
				acc.andWith(s)
			}
			pre = pre || p
		}
		if !pre && !includePre {
			acc.andWith(release)
		}
		out.orWith(acc)
	}
	return out, true
}

// compileComparator returns the versions one comparator allows, before the
// prerelease rule, and whether its version is a prerelease.
func compileComparator(f string, versions []*semver.Version) (set, bool, bool) {
	n := len(versions)
	if f == "*" {
		f = ">=0.0.0" // as Masterminds reads it
	}
	op := ""
	for _, o := range []string{"!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"} {
		if strings.HasPrefix(f, o) {
			op, f = o, strings.TrimSpace(f[len(o):])
			break
		}
	}
	var c *semver.Version
	if parts, ok := parsePlain(f); ok {
		c = semver.New(parts[0], parts[1], parts[2], "", "")
	} else {
		var err error
		if c, err = semver.StrictNewVersion(f); err != nil {
			return nil, false, false // partial or wildcard versions: leave them to Check
		}
	}
	// index of the first version >= x (by semver precedence) and > x.
	lower := func(x *semver.Version) int {
		return sort.Search(n, func(i int) bool { return versions[i].Compare(x) >= 0 })
	}
	upper := func(x *semver.Version) int {
		return sort.Search(n, func(i int) bool { return versions[i].Compare(x) > 0 })
	}
	span := func(from, to int) set {
		s := make(set, words(n))
		for i := from; i < to; i++ {
			s[i/64] |= 1 << (i % 64)
		}
		return s
	}
	var s set
	switch op {
	case "", "=":
		s = span(lower(c), upper(c))
	case "!=":
		s = span(0, lower(c))
		s.orWith(span(upper(c), n))
	case ">":
		s = span(upper(c), n)
	case ">=", "=>":
		s = span(lower(c), n)
	case "<":
		s = span(0, lower(c))
	case "<=", "=<":
		s = span(0, upper(c))
	case "~", "~>":
		if c.Major() == 0 {
			return nil, false, false // Masterminds has special cases for 0.x
		}
		next := semver.New(c.Major(), c.Minor()+1, 0, "0", "") // below every x.(y+1).0 prerelease
		s = span(lower(c), lower(next))
	case "^":
		if c.Major() == 0 {
			return nil, false, false // Masterminds has special cases for 0.x
		}
		s = span(lower(c), lower(semver.New(c.Major()+1, 0, 0, "0", ""))) // below every (x+1).0.0 prerelease
	default:
		return nil, false, false
	}
	return s, c.Prerelease() != "", true
}

// parsePlain parses MAJOR.MINOR.PATCH without a regular expression or an
// allocation (the common case); anything else reports false.
func parsePlain(s string) ([3]uint64, bool) {
	var parts [3]uint64
	i := 0
	for k := 0; k < 3; k++ {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			parts[k] = parts[k]*10 + uint64(s[i]-'0')
			i++
		}
		if i == start || i-start > 18 || (i-start > 1 && s[start] == '0') {
			return parts, false
		}
		if k < 2 {
			if i >= len(s) || s[i] != '.' {
				return parts, false
			}
			i++
		}
	}
	return parts, i == len(s)
}
