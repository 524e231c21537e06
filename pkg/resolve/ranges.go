package resolve

import (
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// This file is the constraint language's view of a version set, for
// explanations only: the solver's sets are bitsets over the versions that
// exist (bits.go), which say nothing of the versions in between, so a
// complement or a union can only be written back by listing what exists
// ("b 0.1.0 || >=0.10.0"). A vrange is a union of intervals over semver
// precedence, as pub's VersionConstraint is: the complement of ^1.2.0 is
// <1.2.0 || >=2.0.0 whatever exists. explain.go replays a derivation's set
// operations on vranges, from the constraints the requirements wrote, and
// writes the result back in the constraint language (render).
//
// A vrange stands for the release versions it holds: as Masterminds reads
// a range that names no prerelease, ">=1.0.0 <2.0.0" leaves out
// 1.5.0-beta. Which prereleases a term holds is read from its bitset. The
// prereleases an interval spans are the ones a range would allow if it
// named a prerelease: explanations mention them when nothing else matched.

// bound is one end of an interval; v nil is unbounded. written says it
// comes from a constraint a requirement wrote, not from the versions that
// exist (symbols.fromBits).
type bound struct {
	v       *semver.Version
	incl    bool
	written bool
}

// interval is the versions between lo and hi, by semver precedence.
type interval struct{ lo, hi bound }

// vrange is a set of versions: disjoint intervals in ascending order, no
// two of which touch. nil is empty.
type vrange []interval

// fullRange is every version.
func fullRange() vrange { return vrange{{}} }

// point is one version.
func point(v *semver.Version) interval {
	return interval{bound{v: v, incl: true}, bound{v: v, incl: true}}
}

// cmpLo orders lower bounds: unbounded first; at one version an included
// bound before an excluded one.
func cmpLo(a, b bound) int { return cmpBound(a, b, 1) }

// cmpHi orders upper bounds: unbounded last; at one version an excluded
// bound before an included one.
func cmpHi(a, b bound) int { return cmpBound(a, b, -1) }

// cmpBound orders bounds by version; an unbounded bound, and at one
// version an included one, come first with sign 1 (lower bounds) and last
// with -1 (upper bounds).
func cmpBound(a, b bound, sign int) int {
	switch {
	case a.v == nil && b.v == nil:
		return 0
	case a.v == nil:
		return -sign
	case b.v == nil:
		return sign
	}
	if c := a.v.Compare(b.v); c != 0 {
		return c
	}
	switch {
	case a.incl == b.incl:
		return 0
	case a.incl:
		return -sign
	}
	return sign
}

func (iv interval) empty() bool {
	if iv.lo.v == nil || iv.hi.v == nil {
		return false
	}
	c := iv.lo.v.Compare(iv.hi.v)
	return c > 0 || (c == 0 && !(iv.lo.incl && iv.hi.incl))
}

func (iv interval) contains(v *semver.Version) bool {
	if iv.lo.v != nil {
		if c := v.Compare(iv.lo.v); c < 0 || (c == 0 && !iv.lo.incl) {
			return false
		}
	}
	if iv.hi.v != nil {
		if c := v.Compare(iv.hi.v); c > 0 || (c == 0 && !iv.hi.incl) {
			return false
		}
	}
	return true
}

// below reports whether v lies below the interval.
func (iv interval) below(v *semver.Version) bool {
	if iv.lo.v == nil {
		return false
	}
	c := v.Compare(iv.lo.v)
	return c < 0 || (c == 0 && !iv.lo.incl)
}

// joins reports whether b, which starts no lower than a, overlaps or
// touches a: their union is one interval.
func joins(a, b interval) bool {
	if a.hi.v == nil || b.lo.v == nil {
		return true
	}
	c := b.lo.v.Compare(a.hi.v)
	return c < 0 || (c == 0 && (a.hi.incl || b.lo.incl))
}

func (r vrange) contains(v *semver.Version) bool {
	for _, iv := range r {
		if iv.contains(v) {
			return true
		}
	}
	return false
}

// normalized sorts intervals, drops empty ones and merges those that
// overlap or touch. A bound two intervals share is written if either's is.
func normalized(ivs []interval) vrange {
	var out vrange
	for _, iv := range ivs {
		if !iv.empty() {
			out = append(out, iv)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return cmpLo(out[i].lo, out[j].lo) < 0 })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && joins(merged[n-1], iv) {
			last := &merged[n-1]
			if cmpLo(iv.lo, last.lo) == 0 {
				last.lo.written = last.lo.written || iv.lo.written
			}
			switch c := cmpHi(iv.hi, last.hi); {
			case c > 0:
				last.hi = iv.hi
			case c == 0:
				last.hi.written = last.hi.written || iv.hi.written
			}
			continue
		}
		merged = append(merged, iv)
	}
	if len(merged) == 0 {
		return nil
	}
	return merged
}

func (r vrange) union(o vrange) vrange {
	return normalized(append(append([]interval(nil), r...), o...))
}

func (r vrange) intersect(o vrange) vrange {
	var out vrange
	for _, a := range r {
		for _, b := range o {
			iv := interval{a.lo, a.hi}
			switch c := cmpLo(b.lo, iv.lo); {
			case c > 0:
				iv.lo = b.lo
			case c == 0:
				iv.lo.written = iv.lo.written || b.lo.written
			}
			switch c := cmpHi(b.hi, iv.hi); {
			case c < 0:
				iv.hi = b.hi
			case c == 0:
				iv.hi.written = iv.hi.written || b.hi.written
			}
			if !iv.empty() {
				out = append(out, iv)
			}
		}
	}
	return normalized(out)
}

func (r vrange) complement() vrange {
	var out vrange
	lo := bound{}
	for _, iv := range r {
		if iv.lo.v != nil {
			gap := interval{lo, bound{v: iv.lo.v, incl: !iv.lo.incl, written: iv.lo.written}}
			if !gap.empty() {
				out = append(out, gap)
			}
		}
		if iv.hi.v == nil {
			return out
		}
		lo = bound{v: iv.hi.v, incl: !iv.hi.incl, written: iv.hi.written}
	}
	return append(out, interval{lo, bound{}})
}

// Constraints read as ranges.

// constraintRange reads a constraint, as Constraints.String renders it, as
// the release versions it allows (see constraint.go for that rendering);
// false for a form it does not know.
func constraintRange(text string) (vrange, bool) {
	var ivs []interval
	for _, group := range strings.Split(text, "||") {
		fields := strings.Fields(group)
		if len(fields) == 0 {
			return nil, false
		}
		acc := fullRange()
		for _, f := range fields {
			r, ok := comparatorRange(f)
			if !ok {
				return nil, false
			}
			acc = acc.intersect(r)
		}
		ivs = append(ivs, acc...)
	}
	return normalized(ivs), true
}

var comparatorOps = []string{"!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"}

// comparatorRange is Masterminds' reading of one comparator (its
// constraint functions, wildcards and partial versions included) as an
// interval, holding prereleases as if the comparator allowed them: "^1.2.3"
// is >=1.2.3 <2.0.0-0, "1.x" is >=1.0.0 <2.0.0-0.
func comparatorRange(f string) (vrange, bool) {
	op := ""
	for _, o := range comparatorOps {
		if strings.HasPrefix(f, o) {
			op, f = o, f[len(o):]
			break
		}
	}
	v, minorDirty, patchDirty, dirty, ok := parseComparatorVersion(f)
	if !ok {
		return nil, false
	}
	r := comparatorInterval(op, v, minorDirty, patchDirty, dirty)
	for i := range r {
		r[i].lo.written, r[i].hi.written = true, true
	}
	return r, true
}

func comparatorInterval(op string, v *semver.Version, minorDirty, patchDirty, dirty bool) vrange {
	M, m, p := v.Major(), v.Minor(), v.Patch()
	first := func(maj, min, pat uint64) bound { return bound{v: semver.New(maj, min, pat, "0", ""), incl: false} }
	from := bound{v: v, incl: true}
	// The versions that share v's major (and minor) version.
	major := interval{first(M, 0, 0), first(M+1, 0, 0)}
	major.lo.incl = true
	minor := interval{first(M, m, 0), first(M, m+1, 0)}
	minor.lo.incl = true
	switch op {
	case "", "=":
		if !dirty {
			return vrange{point(v)}
		}
		return tildeRange(v, minorDirty, patchDirty, from, first)
	case "~", "~>":
		return tildeRange(v, minorDirty, patchDirty, from, first)
	case "^":
		switch {
		case M > 0 || minorDirty:
			return vrange{{from, first(M+1, 0, 0)}}
		case m > 0 || patchDirty:
			return vrange{{from, first(0, m+1, 0)}}
		}
		return vrange{{from, first(0, 0, p+1)}}
	case "!=":
		switch {
		case minorDirty:
			return vrange{major}.complement()
		case patchDirty:
			return vrange{minor}.complement()
		}
		return vrange{point(v)}.complement()
	case ">":
		switch {
		case minorDirty:
			return vrange{{bound{v: semver.New(M+1, 0, 0, "0", ""), incl: true}, bound{}}}
		case patchDirty:
			return vrange{{bound{v: semver.New(M, m+1, 0, "0", ""), incl: true}, bound{}}}
		}
		return vrange{{bound{v: v, incl: false}, bound{}}}
	case "<":
		return vrange{{bound{}, bound{v: v, incl: false}}}
	case ">=", "=>":
		return vrange{{from, bound{}}}
	case "<=", "=<":
		switch {
		case !dirty:
			return vrange{{bound{}, bound{v: v, incl: true}}}
		case minorDirty:
			return vrange{{bound{}, first(M+1, 0, 0)}}
		}
		return vrange{{bound{}, first(M, m+1, 0)}}
	}
	return nil
}

// tildeRange is Masterminds' ~ (and = on a wildcard): v and up, within v's
// major version if its minor version is a wildcard, else within its minor
// version; ~0.0.0 is everything from 0.0.0.
func tildeRange(v *semver.Version, minorDirty, patchDirty bool, from bound, first func(maj, min, pat uint64) bound) vrange {
	M, m, p := v.Major(), v.Minor(), v.Patch()
	switch {
	case M == 0 && m == 0 && p == 0 && !minorDirty && !patchDirty:
		return vrange{{from, bound{}}}
	case minorDirty:
		return vrange{{from, first(M+1, 0, 0)}}
	}
	return vrange{{from, first(M, m+1, 0)}}
}

// parseComparatorVersion reads a comparator's version as Masterminds'
// parseConstraint does: a wildcard or missing major, minor or patch makes
// it "dirty" and reads as 0.
func parseComparatorVersion(s string) (v *semver.Version, minorDirty, patchDirty, dirty, ok bool) {
	s = strings.TrimPrefix(s, "v")
	core, rest := s, ""
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		core, rest = s[:i], s[i:]
	}
	parts := strings.Split(core, ".")
	if len(parts) > 3 || parts[0] == "" {
		return nil, false, false, false, false
	}
	isX := func(x string) bool { return x == "x" || x == "X" || x == "*" }
	switch {
	case isX(parts[0]):
		core, dirty = "0.0.0", true
	case len(parts) < 2 || isX(parts[1]):
		core, dirty, minorDirty = parts[0]+".0.0", true, true
	case len(parts) < 3 || isX(parts[2]):
		core, dirty, patchDirty = parts[0]+"."+parts[1]+".0", true, true
	}
	v, err := semver.StrictNewVersion(core + rest)
	if err != nil {
		return nil, false, false, false, false
	}
	return v, minorDirty, patchDirty, dirty, true
}

// Back to the constraint language.

// releaseOf is v without its prerelease (and build metadata).
func releaseOf(v *semver.Version) *semver.Version {
	return semver.New(v.Major(), v.Minor(), v.Patch(), "", "")
}

// onReleases rewrites the bounds of r that are prereleases as the release
// bounds that hold the same release versions: >=2.0.0-0 is >=2.0.0,
// <2.0.0-0 is <2.0.0.
func (r vrange) onReleases() vrange {
	out := make(vrange, 0, len(r))
	for _, iv := range r {
		if iv.lo.v != nil && iv.lo.v.Prerelease() != "" {
			iv.lo = bound{v: releaseOf(iv.lo.v), incl: true, written: iv.lo.written}
		}
		if iv.hi.v != nil && iv.hi.v.Prerelease() != "" {
			iv.hi = bound{v: releaseOf(iv.hi.v), incl: false, written: iv.hi.written}
		}
		out = append(out, iv)
	}
	return normalized(out)
}

// simplify drops what the release versions that exist (ascending) cannot
// tell apart: the intervals that hold none of them ("<1.2.0 || >=2.0.0"
// is "<1.2.0" when nothing is newer than 2.0.0), and a bound of a range
// with nothing beyond it (">=2.1.1 <4.0.0" is ">=2.1.1" when nothing is
// newer than 3.x), unless the range reads as ^ or ~. A range that holds
// none of them is left as it is. Gaps that hold none are kept: "1.2.0 ||
// 2.1.0" reads better than ">=1.2.0 <=2.1.0" when nothing lies between.
func (r vrange) simplify(releases []*semver.Version) vrange {
	var kept vrange
	for _, iv := range r {
		i := 0
		if iv.lo.v != nil {
			i = sort.Search(len(releases), func(k int) bool { return !iv.below(releases[k]) })
		}
		if i == len(releases) || !iv.contains(releases[i]) {
			continue
		}
		if iv.lo.v != nil && iv.hi.v != nil && !iv.lo.v.Equal(iv.hi.v) && iv.shorthand() == "" {
			switch {
			case !iv.below(releases[0]):
				iv.lo = bound{}
			case iv.contains(releases[len(releases)-1]) || iv.below(releases[len(releases)-1]):
				iv.hi = bound{}
			}
		}
		kept = append(kept, iv)
	}
	if len(kept) == 0 {
		return r
	}
	return kept
}

// written counts the bounds of r that come from a constraint someone
// wrote, and those that do not.
func (r vrange) written() (written, other int) {
	for _, iv := range r {
		for _, b := range []bound{iv.lo, iv.hi} {
			switch {
			case b.v == nil:
			case b.written:
				written++
			default:
				other++
			}
		}
	}
	return written, other
}

// String writes r in the constraint language, as pub writes a
// VersionConstraint, with Masterminds' operators: "*", "1.2.0", "^1.2.0",
// "~1.2.0", ">=1.0.0 <1.5.0", "<1.2.0 || >=2.0.0", "!=1.2.0",
// "^1.0.0 !=1.3.0". Bounds are meant for release versions (onReleases).
func (r vrange) String() string {
	if len(r) == 0 {
		return "(no versions)"
	}
	var parts []string
	for i := 0; i < len(r); {
		// A run of intervals with single versions missing in between is
		// one range with exclusions: "<1.2.0 || >1.2.0" is "!=1.2.0".
		j := i
		var holes []string
		for j+1 < len(r) && r[j].hi.v != nil && !r[j].hi.incl && r[j+1].lo.v != nil && !r[j+1].lo.incl && r[j].hi.v.Equal(r[j+1].lo.v) {
			holes = append(holes, "!="+r[j].hi.v.String())
			j++
		}
		whole := interval{r[i].lo, r[j].hi}
		text := whole.String()
		if len(holes) > 0 {
			if text == "*" {
				text = strings.Join(holes, " ")
			} else {
				text += " " + strings.Join(holes, " ")
			}
		}
		parts = append(parts, text)
		i = j + 1
	}
	return strings.Join(parts, " || ")
}

func (iv interval) String() string {
	lo, hi := iv.lo, iv.hi
	switch {
	case lo.v == nil && hi.v == nil:
		return "*"
	case lo.v != nil && hi.v != nil && lo.incl && hi.incl && lo.v.Equal(hi.v):
		return lo.v.String()
	case lo.v == nil:
		if hi.incl {
			return "<=" + hi.v.String()
		}
		return "<" + hi.v.String()
	case hi.v == nil:
		if lo.incl {
			if lo.v.Equal(semver.New(0, 0, 0, "", "")) {
				return "*"
			}
			return ">=" + lo.v.String()
		}
		return ">" + lo.v.String()
	}
	if sh := iv.shorthand(); sh != "" {
		return sh
	}
	s := ">" + lo.v.String()
	if lo.incl {
		s = ">=" + lo.v.String()
	}
	if hi.incl {
		return s + " <=" + hi.v.String()
	}
	return s + " <" + hi.v.String()
}

// shorthand writes a range that ^ or ~ writes as such: ">=1.2.0 <2.0.0"
// is "^1.2.0", ">=1.2.0 <1.3.0" is "~1.2.0", as Masterminds reads them;
// "" for any other, and for bounds that are versions that exist rather
// than what someone wrote (">=2.5.0 <3.0.0" is no one's ^2.5.0).
func (iv interval) shorthand() string {
	lo, hi := iv.lo, iv.hi
	if lo.v == nil || hi.v == nil || !lo.written || !hi.written || !lo.incl || hi.incl || lo.v.Prerelease() != "" || hi.v.Prerelease() != "" {
		return ""
	}
	M, m, p := lo.v.Major(), lo.v.Minor(), lo.v.Patch()
	caret := semver.New(M+1, 0, 0, "", "")
	switch {
	case M == 0 && m > 0:
		caret = semver.New(0, m+1, 0, "", "")
	case M == 0:
		caret = semver.New(0, 0, p+1, "", "")
	}
	switch {
	case hi.v.Equal(caret):
		return "^" + lo.v.String()
	case hi.v.Equal(semver.New(M, m+1, 0, "", "")):
		return "~" + lo.v.String()
	}
	return ""
}
