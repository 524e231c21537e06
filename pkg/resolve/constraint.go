package resolve

import (
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// compileWith computes, without calling Check once per version, the
// positive set of versions (sorted ascending) that a Masterminds constraint
// allows. It understands the common forms with full versions: =, !=, <, <=,
// >, >=, ~, ^, *, comma- or space-separated AND groups and || unions, with
// Masterminds' prerelease rule; for anything else (wildcards, partial
// versions, hyphen ranges) it reports false and the caller falls back to
// Check. release is releaseSet(versions). A property test holds it to
// Check.
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

func compileWith(text string, versions []*semver.Version, release set) (set, bool) {
	n := len(versions)
	out := make(set, words(n))
	for _, group := range strings.Split(text, "||") {
		fields := strings.FieldsFunc(group, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
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
		if !pre {
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
