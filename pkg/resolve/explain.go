package resolve

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// explain writes the derivation of a terminal incompatibility as sentences,
// following pub's error reporting: each derived incompatibility is "Because
// A and B, C."; incompatibilities used more than once get line numbers.
func (s *solver) explain(root int) string {
	if s.incompats[root].cause != conflictCause {
		return fmt.Sprintf("Because %s, version solving failed.", s.describe(root))
	}
	r := &reporter{s: s, root: root, refs: map[int]int{}, lineOf: map[int]int{}}
	r.count(root)
	r.visit(root, false)
	return r.text()
}

// text lays the lines out as pub does: a line others refer back to starts
// with its number, "(1) ", and the other lines are indented as far; a
// blank line separates the branches of a derivation.
func (r *reporter) text() string {
	pad := 0
	if r.next > 0 {
		pad = len(fmt.Sprintf("(%d) ", r.next))
	}
	var b strings.Builder
	lastEmpty := true
	for _, l := range r.lines {
		if l.msg == "" {
			if !lastEmpty {
				b.WriteString("\n")
			}
			lastEmpty = true
			continue
		}
		lastEmpty = false
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		prefix := ""
		if l.number > 0 {
			prefix = fmt.Sprintf("(%d)", l.number)
		}
		if pad > 0 {
			prefix += strings.Repeat(" ", pad-len(prefix))
		}
		b.WriteString(prefix + l.msg)
	}
	return b.String()
}

type line struct {
	msg    string
	number int // 0: none
}

type reporter struct {
	s      *solver
	root   int
	refs   map[int]int // how many derived incompatibilities use each
	lineOf map[int]int
	lines  []line
	next   int
}

func (r *reporter) derived(id int) bool { return r.s.incompats[id].cause == conflictCause }

// causes returns the two incompatibilities id was derived from, seen
// through the repository rule: "foo from R1 is incompatible with foo from
// R2" is not written, and a derivation from it and another
// incompatibility X stands for X, which names its repository already:
// "bar requires shared from R1 and foo requires shared from R2, so bar is
// incompatible with foo", as pub writes a conflict of sources.
func (r *reporter) causes(id int) (int, int) {
	inc := r.s.incompats[id]
	return r.through(inc.cause1), r.through(inc.cause2)
}

// through skips the derivations whose one cause is the repository rule.
func (r *reporter) through(id int) int {
	for {
		inc := r.s.incompats[id]
		if inc.cause != conflictCause {
			return id
		}
		switch {
		case r.s.incompats[inc.cause1].cause == repositoryCause:
			id = inc.cause2
		case r.s.incompats[inc.cause2].cause == repositoryCause:
			id = inc.cause1
		default:
			return id
		}
	}
}

func (r *reporter) count(id int) {
	// Iterative: derivation chains can be tens of thousands deep.
	stack := []int{id}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		inc := r.s.incompats[i]
		if inc.cause != conflictCause {
			continue
		}
		r.refs[i]++
		if r.refs[i] == 1 {
			c1, c2 := r.causes(i)
			stack = append(stack, c1, c2)
		}
	}
}

func (r *reporter) write(id int, msg string, numbered bool) {
	l := line{msg: msg}
	if numbered {
		r.next++
		r.lineOf[id] = r.next
		l.number = r.next
	}
	r.lines = append(r.lines, l)
}

func (r *reporter) visit(id int, conclusion bool) {
	numbered := conclusion || r.refs[id] > 1
	conj := "And"
	if conclusion || id == r.root {
		conj = "So,"
	}
	what := r.s.describe(id) + r.s.prereleaseNote(id)
	c1, c2 := r.causes(id)
	d1, d2 := r.derived(c1), r.derived(c2)
	switch {
	case d1 && d2:
		l1, ok1 := r.lineOf[c1]
		l2, ok2 := r.lineOf[c2]
		switch {
		case ok1 && ok2:
			r.write(id, fmt.Sprintf("Because %s (%d) and %s (%d), %s.", r.s.describe(c1), l1, r.s.describe(c2), l2, what), numbered)
		case ok1 || ok2:
			with, without, l := c1, c2, l1
			if ok2 {
				with, without, l = c2, c1, l2
			}
			r.visit(without, false)
			r.write(id, fmt.Sprintf("%s because %s (%d), %s.", conj, r.s.describe(with), l, what), numbered)
		default:
			single1, single2 := r.singleLine(c1), r.singleLine(c2)
			if single1 || single2 {
				first, second := c1, c2
				if single1 {
					first, second = c2, c1
				}
				r.visit(first, false)
				r.visit(second, false)
				r.write(id, fmt.Sprintf("Thus, %s.", what), numbered)
			} else {
				r.visit(c1, true)
				r.lines = append(r.lines, line{}) // between branches
				r.visit(c2, false)
				r.write(id, fmt.Sprintf("%s because %s (%d), %s.", conj, r.s.describe(c1), r.lineOf[c1], what), numbered)
			}
		}
	case d1 || d2:
		der, ext := c1, c2
		if d2 {
			der, ext = c2, c1
		}
		if l, ok := r.lineOf[der]; ok {
			r.write(id, fmt.Sprintf("Because %s and %s (%d), %s.", first(r.s.describe(ext)), r.s.describe(der), l, what), numbered)
			return
		}
		dc1, dc2 := r.causes(der)
		if r.refs[der] <= 1 && r.derived(dc1) != r.derived(dc2) {
			dd, de := dc1, dc2
			if r.derived(de) {
				dd, de = de, dd
			}
			if _, ok := r.lineOf[dd]; !ok {
				r.visit(dd, false)
				r.write(id, fmt.Sprintf("%s because %s, %s.", conj, r.s.and(de, ext), what), numbered)
				return
			}
		}
		r.visit(der, false)
		r.write(id, fmt.Sprintf("%s because %s, %s.", conj, r.s.describe(ext), what), numbered)
	default:
		r.write(id, fmt.Sprintf("Because %s, %s.", r.s.and(c1, c2), what), numbered)
	}
}

func (r *reporter) singleLine(id int) bool {
	c1, c2 := r.causes(id)
	return !r.derived(c1) && !r.derived(c2)
}

// and joins the descriptions of two incompatibilities, merging two
// requirements of the same bundle ("shop requires both a 1.0.0 and b 2.0.0").
func (s *solver) and(a, b int) string {
	ia, ib := s.incompats[a], s.incompats[b]
	if ia.cause == dependencyCause && ib.cause == dependencyCause && ia.from == ib.from && len(ia.terms) > 0 && len(ib.terms) > 0 && ia.terms[0].set.equal(ib.terms[0].set) {
		return fmt.Sprintf("%s requires both %s and %s", s.subject(a, ia.terms[0]), s.reqText(ia), s.reqText(ib))
	}
	return first(s.describe(a)) + " and " + s.describe(b)
}

// first ends a description that has a clause of its own ("bar, which does
// not exist in stable") with a comma when another follows.
func first(desc string) string {
	if strings.Contains(desc, ", which ") && !strings.HasSuffix(desc, ")") {
		return desc + ","
	}
	return desc
}

// describe phrases one incompatibility.
func (s *solver) describe(id int) string {
	inc := s.incompats[id]
	switch inc.cause {
	case rootCause:
		return s.cat.pkgs[rootPkg].name + " is required"
	case dependencyCause:
		self := term{pkg: inc.from, one: -1, notOne: -1}
		if len(inc.terms) > 0 && inc.terms[0].pkg == inc.from {
			self = inc.terms[0]
		}
		msg := fmt.Sprintf("%s requires %s", s.subject(id, self), s.reqText(inc))
		if len(inc.terms) == 1 {
			to := s.cat.pkgs[inc.to]
			switch {
			case inc.to == inc.from:
				msg += " (another version of itself)"
			case len(inc.reqs) > 1:
				msg += fmt.Sprintf(" (no version of %s satisfies all of these%s)", to.name, s.prereleasesOnly(inc.to, wouldAllowAll(inc.reqs)))
			default:
				msg += fmt.Sprintf(" (no version matches; %s has %s%s)", to.name, listVersions(to), prereleasesLeftOut(to, inc.reqs[0]))
			}
		}
		return msg
	case notFoundCause:
		// Whatever the constraint, no version exists: the name is enough.
		to := s.cat.pkgs[inc.to]
		what := to.name
		if r := inc.reqs[0]; len(inc.reqs) == 1 && r.Instance != "" && r.Instance != r.Name {
			what = r.Instance + " " + r.Name
		}
		return fmt.Sprintf("%s requires %s, which does not exist in %s", s.subject(id, inc.terms[0]), what, to.ref.Repository)
	case noVersionsCause:
		t := inc.terms[0]
		return fmt.Sprintf("no version of %s is left", s.cat.pkgs[t.pkg].name)
	case repositoryCause:
		a, b := s.cat.pkgs[inc.from], s.cat.pkgs[inc.to]
		return fmt.Sprintf("%s from %s is incompatible with %s from %s (one bundle name comes from one repository)", a.name, a.ref.Repository, b.name, b.ref.Repository)
	}
	// Derived.
	var pos, neg []term
	for _, t := range inc.terms {
		if t.set.positive(s.cat.pkgs[t.pkg].n()) {
			pos = append(pos, t)
		} else {
			neg = append(neg, t)
		}
	}
	switch {
	case len(inc.terms) == 0 || (len(inc.terms) == 1 && inc.terms[0].pkg == rootPkg && len(pos) == 1):
		return "version solving failed"
	case len(inc.terms) == 1 && len(pos) == 1:
		return s.subject(id, pos[0]) + " is forbidden"
	case len(inc.terms) == 1:
		return s.object(id, neg[0]) + " is required"
	case len(pos) == 1 && len(neg) == 1:
		return s.subject(id, pos[0]) + " requires " + s.object(id, neg[0])
	case len(pos) == 2 && len(neg) == 0:
		return s.object(id, pos[0]) + " is incompatible with " + s.object(id, pos[1])
	case len(neg) == 0:
		parts := make([]string, len(pos))
		for i, t := range pos {
			parts[i] = s.object(id, t)
		}
		return "one of " + strings.Join(parts, " or ") + " must be false"
	default:
		ps := make([]string, len(pos))
		for i, t := range pos {
			ps[i] = s.object(id, t)
		}
		ns := make([]string, len(neg))
		for i, t := range neg {
			ns[i] = s.object(id, t)
		}
		if len(pos) == 0 {
			return "one of " + strings.Join(ns, " or ") + " is required"
		}
		return "if " + strings.Join(ps, " and ") + " then " + strings.Join(ns, " or ")
	}
}

// reqText names what a dependency incompatibility requires:
// "database mariadb ^1" (instance, bundle, constraint).
func (s *solver) reqText(inc *incompatibility) string {
	parts := make([]string, len(inc.reqs))
	from := s.cat.ambiguous(inc.to)
	for i, r := range inc.reqs {
		c := " " + r.Constraint.String()
		if from {
			// As pub names a package's source: "shared from R1",
			// "shared ^1.0.0 from R1".
			if c == " *" {
				c = ""
			}
			c += " from " + r.Repository
		}
		if r.Instance != "" && r.Instance != r.Name {
			parts[i] = fmt.Sprintf("%s %s%s", r.Instance, r.Name, c)
		} else {
			parts[i] = r.Name + c
		}
	}
	return strings.Join(parts, " as well as ")
}

// subject phrases a term of incompatibility id as the subject of a
// sentence: "mediawiki 1.2.0", "every version of foo", "shop" for the root.
func (s *solver) subject(id int, t term) string { return s.phrase(id, t, "every version of ") }

// object phrases a term of incompatibility id positively ("foo >=1.0.0
// <2.0.0", "foo" for every version); a negative term reads as the versions
// it requires.
func (s *solver) object(id int, t term) string { return s.phrase(id, t, "") }

func (s *solver) phrase(id int, t term, every string) string {
	p := s.cat.pkgs[t.pkg]
	if t.pkg == rootPkg || t.set == nil {
		return p.name
	}
	from := ""
	if s.cat.ambiguous(t.pkg) {
		from = " from " + p.ref.Repository
	}
	text, all := s.termRange(id, t)
	if all {
		return every + p.name + from
	}
	return p.name + " " + text + from
}

// termRange writes the versions term t of incompatibility id allows (a
// negative term: requires), or reports that it allows every version.
func (s *solver) termRange(id int, t term) (string, bool) {
	p := s.cat.pkgs[t.pkg]
	n := p.n()
	pos := t.set
	if !t.set.positive(n) {
		pos = t.set.not(n)
	}
	if pos.count(n) == n {
		return "", true
	}
	if text, ok := p.constraintFor(pos); ok {
		return text, false
	}
	return s.rangeText(id, t, pos), false
}

// rangeText writes the versions pos of term t of incompatibility id in the
// constraint language, from the ranges the derivation joined and
// intersected (symbols), as pub writes a term: the complement of ^1.2.0
// is "<1.2.0 || >=2.0.0", not the versions that happen to exist outside
// it. What exists decides only what it cannot tell apart (vrange.simplify)
// and whether the text allows exactly pos. The versions that exist are
// listed instead (versions) when the text does not allow exactly pos, when
// the list takes fewer pieces, when it takes as many, names versions only
// and the ranges are partly bounded by versions rather than by what a
// requirement wrote, and for a single version ("foo 1.0.0", where pub
// would write "foo <1.1.0").
func (s *solver) rangeText(id int, t term, pos set) string {
	listed := s.versions(t.pkg, pos)
	if pos.count(s.cat.n(t.pkg)) == 1 {
		return listed
	}
	r, ok := s.symbols().term(id, t.pkg)
	if !ok {
		return listed
	}
	if !t.set.positive(s.cat.n(t.pkg)) {
		r = r.complement()
	}
	text, allWritten := s.symbols().write(t.pkg, r, pos)
	switch {
	case text == "", pieces(text) > pieces(listed):
		return listed
	case pieces(text) == pieces(listed) && !allWritten && !strings.ContainsAny(listed, "<>"):
		// As many pieces, partly bounded by what exists, and the list
		// names versions only: "1.0.0 || 2.0.0" says it more plainly
		// than "<2.1.0 || >=3.0.0".
		return listed
	}
	return text
}

// pieces counts the alternatives and exclusions of a range as written.
func pieces(text string) int {
	return 1 + strings.Count(text, "||") + strings.Count(text, "!=")
}

// versions writes a version set as ranges over the versions the source
// lists: "1.2.0", ">=1.0.0 <2.0.0", ">=3.0.0", "1.0.0 || >=2.1.0".
func (s *solver) versions(pkgID int, v set) string {
	p := s.cat.pkgs[pkgID]
	n := p.n()
	if v.count(n) == 0 {
		return "(no versions)"
	}
	var parts []string
	for i := 0; i < n; i++ {
		if !v.has(i) {
			continue
		}
		j := i
		for j+1 < n && v.has(j+1) {
			j++
		}
		switch {
		case i == j:
			parts = append(parts, p.versions[i].String())
		case i == 0 && j+1 < n:
			parts = append(parts, "<"+p.versions[j+1].String())
		case j+1 == n:
			parts = append(parts, ">="+p.versions[i].String())
		default:
			parts = append(parts, ">="+p.versions[i].String()+" <"+p.versions[j+1].String())
		}
		i = j
	}
	return strings.Join(parts, " || ")
}

func listVersions(p *pkg) string {
	if len(p.versions) == 0 {
		return "no versions"
	}
	out := make([]string, len(p.versions))
	for i, v := range p.versions {
		out[i] = v.String()
	}
	if len(out) > 6 {
		out = append(out[:3], "...", out[len(out)-1])
	}
	return strings.Join(out, ", ")
}

// constraintFor returns a constraint a requirement on p wrote that allows
// exactly the versions in v, so that messages speak the
// constraint language the user wrote rather than list what exists: the
// shortest, then the first in order.
func (p *pkg) constraintFor(v set) (string, bool) {
	best := ""
	for _, c := range p.consList {
		key := c.key
		if strings.HasSuffix(key, prereleasesIncluded) || !c.set.equal(v) {
			continue
		}
		if best == "" || len(key) < len(best) || (len(key) == len(best) && key < best) {
			best = key
		}
	}
	return best, best != ""
}

// prereleasesLeftOut says, for a requirement no version matches, which
// prereleases it would match if it named a prerelease: Masterminds leaves
// them out of "^2.0.0" or "*".
func prereleasesLeftOut(p *pkg, r Requirement) string {
	if r.Constraint == nil || r.Constraint.IncludePrerelease {
		return ""
	}
	var pre []string
	for _, v := range p.versions {
		if v.Prerelease() != "" && wouldAllow(r.Constraint, v) {
			pre = append(pre, v.String())
		}
	}
	switch len(pre) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(", but %s is a prerelease, which %s leaves out unless it names one", pre[0], r.Constraint)
	}
	return fmt.Sprintf(", but %s are prereleases, which %s leaves out unless it names one", listShort(pre), r.Constraint)
}

// wouldAllow reports whether a constraint would allow the prerelease v if
// it named a prerelease: as Masterminds reads it with prereleases
// included, or because it allows v's release (1.0.0-beta is a prerelease
// of 1.0.0, which ^1.0.0 allows; ^1.0.0-0 would allow it).
func wouldAllow(c *semver.Constraints, v *semver.Version) bool {
	if c == nil {
		return true
	}
	with := *c
	with.IncludePrerelease = true
	return with.Check(v) || c.Check(releaseOf(v))
}

// wouldAllowAll reports whether every one of reqs would allow a
// prerelease if it named one (wouldAllow).
func wouldAllowAll(reqs []Requirement) func(*semver.Version) bool {
	return func(v *semver.Version) bool {
		for _, r := range reqs {
			if !wouldAllow(r.Constraint, v) {
				return false
			}
		}
		return true
	}
}

// prereleasesOnly ends the sentence that no version of package p
// satisfies some ranges, when prereleases would: " but 1.5.0-beta, a
// prerelease, which a range leaves out unless it names one". in reports
// whether the ranges would allow a prerelease.
func (s *solver) prereleasesOnly(p int, in func(*semver.Version) bool) string {
	var pre []string
	for _, v := range s.cat.pkgs[p].versions {
		if v.Prerelease() != "" && in(v) {
			pre = append(pre, v.String())
		}
	}
	switch len(pre) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" but %s, a prerelease, which a range leaves out unless it names one", pre[0])
	}
	return fmt.Sprintf(" but %s, prereleases, which a range leaves out unless it names one", listShort(pre))
}

// listShort joins versions, eliding the middle of a long list.
func listShort(vs []string) string {
	if len(vs) > 3 {
		vs = append(vs[:2:2], "...", vs[len(vs)-1])
	}
	if len(vs) == 2 {
		return vs[0] + " and " + vs[1]
	}
	return strings.Join(vs, ", ")
}

// prereleaseNote explains, for a derived incompatibility, why a package
// dropped out of it when that is because its versions are prereleases: the
// two incompatibilities it came from each required a range of that
// package (the satisfier's), no version is in both, and prereleases would
// be. "Because bar requires foo <2.0.0 and the root requires foo >=1.0.0,
// the root is incompatible with bar (no version of foo is in both <2.0.0
// and >=1.0.0 but 1.5.0-beta, a prerelease, ...)".
func (s *solver) prereleaseNote(id int) string {
	inc := s.incompats[id]
	if inc.cause != conflictCause {
		return ""
	}
	p := inc.sat
	for _, t := range inc.terms {
		if t.pkg == p {
			return "" // some version is left
		}
	}
	if !s.cat.pkgs[p].hasPrerelease() {
		return ""
	}
	n := s.cat.n(p)
	var texts []string
	var gap vrange
	for _, c := range []int{inc.cause1, inc.cause2} {
		found := false
		for _, t := range s.incompats[c].terms {
			if t.pkg != p {
				continue
			}
			if t.set.positive(n) {
				return "" // not a requirement
			}
			r, ok := s.symbols().term(c, p)
			if !ok {
				return ""
			}
			r = r.complement()
			if texts == nil {
				gap = r
			} else {
				gap = gap.intersect(r)
			}
			text, _ := s.termRange(c, t)
			texts = append(texts, text)
			found = true
		}
		if !found {
			return ""
		}
	}
	note := s.prereleasesOnly(p, func(v *semver.Version) bool { return gap.contains(v) || gap.contains(releaseOf(v)) })
	if note == "" {
		return ""
	}
	return fmt.Sprintf(" (no version of %s is in both %s and %s%s)", s.cat.pkgs[p].name, texts[0], texts[1], note)
}
