package resolve

import "sort"

// The partial solution is pub's ordered list of assignments: decisions
// (this package is at this version) and derivations (this term must hold,
// because of this incompatibility), each at the decision level it was
// made at. For each package it keeps the running intersection of its
// assignments, so that "what does the partial solution still allow for
// foo" is one lookup.
type partialSolution struct {
	cat         *catalog
	assignments []assignment
	pkgs        []packageState // by package id
	// level is the current decision level: the number of decisions.
	level int
	// candidates lists packages that may have a positive derivation and no
	// decision: where the next decision is chosen.
	candidates []int
}

// An assignment is a decision or a derivation.
type assignment struct {
	pkg int
	// set is a decision's version; nil for a derivation, whose set is the
	// negation of its cause's term on the package (assignmentSet).
	set   set
	level int
	cause int // the incompatibility a derivation was derived from; -1 for a decision
}

func (a assignment) isDecision() bool { return a.cause < 0 }

// packageState is the partial solution seen from one package.
type packageState struct {
	assigns []int // the package's assignments, as indexes into assignments
	accum   []set // the intersection of the package's assignments up to each
	decided bool
	// one is the version index when the current intersection is a single
	// version, else -1; empty says it holds nothing at all.
	one   int
	empty bool
	// rooted is the intersection of the assignments made at decision
	// level 1 or below, which no backjump removes: a term it contradicts
	// stays contradicted (the watch index forgets such terms).
	rooted set
}

// allowed is what the package's assignments still allow: their
// intersection, or nil when it has none.
func (st *packageState) allowed() set {
	if len(st.accum) == 0 {
		return nil
	}
	return st.accum[len(st.accum)-1]
}

func (ps *partialSolution) addPackage() { ps.pkgs = append(ps.pkgs, packageState{one: -1}) }

func (ps *partialSolution) allowed(p int) set { return ps.pkgs[p].allowed() }

// satisfies reports whether the partial solution satisfies term t.
func (ps *partialSolution) satisfies(t term) bool { return t.satisfiedBy(ps.pkgs[t.pkg].allowed()) }

// contradicts reports whether the partial solution contradicts term t.
func (ps *partialSolution) contradicts(t term) bool {
	return t.contradictedBy(ps.pkgs[t.pkg].allowed())
}

// relation is how the partial solution relates to an incompatibility.
type relation int

const (
	contradicted    relation = iota // a term is contradicted: it cannot fire
	inconclusive                    // two or more terms are undetermined
	almostSatisfied                 // every term but one is satisfied, and that one is undetermined
	satisfied                       // every term is satisfied: a conflict
)

// relation tells how the partial solution relates to inc; for
// almostSatisfied it also returns the index of the one term not satisfied.
func (ps *partialSolution) relation(inc *incompatibility) (relation, int) {
	unsat := -1
	for i, t := range inc.terms {
		allowed := ps.pkgs[t.pkg].allowed()
		switch {
		case t.satisfiedBy(allowed):
			continue
		case t.contradictedBy(allowed):
			return contradicted, -1
		}
		if unsat >= 0 {
			return inconclusive, -1
		}
		unsat = i
	}
	if unsat < 0 {
		return satisfied, -1
	}
	return almostSatisfied, unsat
}

// decide adds a decision: package p is at version vi, at a new decision
// level.
func (ps *partialSolution) decide(p, vi int) {
	ps.level++
	a := assignment{pkg: p, set: singleSet(ps.cat.n(p), vi), level: ps.level, cause: -1}
	acc := a.set
	if allowed := ps.allowed(p); allowed != nil {
		acc = allowed.and(a.set)
	}
	ps.push(a, acc)
}

// derive adds a derivation: p is not in the incompatibility's term t (the
// assignment "not t"), intersecting it into p's state in one pass. The
// assignment's own set is left to assignmentSet, which rebuilds it when
// needed.
func (ps *partialSolution) derive(p int, t set, cause int) {
	n := ps.cat.n(p)
	acc := make(set, len(t))
	allowed := ps.allowed(p)
	for i := range t {
		x := ^t[i]
		if allowed != nil {
			x &= allowed[i]
		}
		acc[i] = x
	}
	acc.trim(n)
	ps.push(assignment{pkg: p, level: ps.level, cause: cause}, acc)
}

// push appends an assignment whose package's intersection becomes acc.
func (ps *partialSolution) push(a assignment, acc set) {
	n := ps.cat.n(a.pkg)
	st := &ps.pkgs[a.pkg]
	st.assigns = append(st.assigns, len(ps.assignments))
	st.accum = append(st.accum, acc)
	st.one = newTerm(a.pkg, acc, n).one
	st.empty = acc.empty()
	if a.level <= 1 {
		st.rooted = acc
	}
	ps.assignments = append(ps.assignments, a)
	if a.isDecision() {
		st.decided = true
	} else if !st.decided && acc.positive(n) && (len(st.accum) == 1 || !st.accum[len(st.accum)-2].positive(n)) {
		ps.candidates = append(ps.candidates, a.pkg)
	}
}

// backtrack removes every assignment made after decision level `level`.
func (ps *partialSolution) backtrack(level int) {
	cut := len(ps.assignments)
	for cut > 0 && ps.assignments[cut-1].level > level {
		cut--
	}
	for i := len(ps.assignments) - 1; i >= cut; i-- {
		a := ps.assignments[i]
		st := &ps.pkgs[a.pkg]
		st.assigns = st.assigns[:len(st.assigns)-1]
		st.accum = st.accum[:len(st.accum)-1]
		st.one, st.empty = -1, false
		if allowed := st.allowed(); allowed != nil {
			st.one = newTerm(a.pkg, allowed, ps.cat.n(a.pkg)).one
			st.empty = allowed.empty()
		}
		if a.isDecision() {
			st.decided = false
		}
	}
	ps.assignments = ps.assignments[:cut]
	ps.level = level
	ps.candidates = ps.candidates[:0]
	for p := range ps.pkgs {
		st := &ps.pkgs[p]
		if allowed := st.allowed(); allowed != nil && !st.decided && allowed.positive(ps.cat.n(p)) {
			ps.candidates = append(ps.candidates, p)
		}
	}
}

// undecided returns the package to decide next: of the packages with a
// positive derivation and no decision, the one with the fewest versions
// left (then the lowest id), and how many it has; -1 when there is none,
// which means the partial solution is a solution.
func (ps *partialSolution) undecided() (p, versions int) {
	best, bestCount := -1, 0
	live := ps.candidates[:0]
	for _, p := range ps.candidates {
		st := &ps.pkgs[p]
		allowed := st.allowed()
		n := ps.cat.n(p)
		if st.decided || allowed == nil || !allowed.positive(n) {
			continue
		}
		live = append(live, p)
		c := allowed.count(n)
		if best < 0 || c < bestCount || (c == bestCount && p < best) {
			best, bestCount = p, c
		}
	}
	ps.candidates = live
	return best, bestCount
}

// decision returns the version index decided for p, if any.
func (ps *partialSolution) decision(p int) (int, bool) {
	st := &ps.pkgs[p]
	if !st.decided {
		return 0, false
	}
	a := ps.assignments[st.assigns[len(st.assigns)-1]]
	return a.set.highest(ps.cat.n(p)), true
}

// assignmentSet returns an assignment's set: the decision's version, or
// the negation of its cause's term on the package.
func (ps *partialSolution) assignmentSet(a assignment, incompats []*incompatibility) set {
	if a.set != nil {
		return a.set
	}
	for _, t := range incompats[a.cause].terms {
		if t.pkg == a.pkg {
			return t.set.not(ps.cat.n(a.pkg))
		}
	}
	panic("resolve: derivation without a term on its package")
}

// satisfier finds, for an incompatibility the partial solution satisfies,
// the assignment that satisfied it (pub's "satisfier": the latest of the
// earliest assignments satisfying each term) and the decision level to
// backjump to (pub's "previous satisfier level": the latest level at which
// the other terms, and the satisfier's package before the satisfier, were
// satisfied; at least 1).
func (ps *partialSolution) satisfier(inc *incompatibility, incompats []*incompatibility) (satPkg, satIdx, prevLevel int) {
	earliest := make([]int, len(inc.terms))
	satTerm := -1
	for i, t := range inc.terms {
		earliest[i] = ps.firstSatisfying(t)
		if satTerm < 0 || earliest[i] > earliest[satTerm] {
			satTerm = i
		}
	}
	t := inc.terms[satTerm]
	satIdx = earliest[satTerm]
	sat := ps.assignments[satIdx]
	prevLevel = 1
	for i := range inc.terms {
		if i == satTerm {
			continue
		}
		if l := ps.assignments[earliest[i]].level; l > prevLevel {
			prevLevel = l
		}
	}
	// The satisfier's own package: the earliest assignment that, with the
	// satisfier, satisfies the term.
	st := &ps.pkgs[t.pkg]
	satSet := ps.assignmentSet(sat, incompats)
	for j, acc := range st.accum {
		if acc.and(satSet).subsetOf(t.set) {
			if l := ps.assignments[st.assigns[j]].level; l > prevLevel {
				prevLevel = l
			}
			break
		}
	}
	return t.pkg, satIdx, prevLevel
}

// firstSatisfying returns the index of the earliest assignment after which
// the package's intersection satisfies t, or -1. The intersections only
// shrink, so "satisfies" is monotone and a binary search finds it.
func (ps *partialSolution) firstSatisfying(t term) int {
	st := &ps.pkgs[t.pkg]
	j := sort.Search(len(st.accum), func(j int) bool { return st.accum[j].subsetOf(t.set) })
	if j == len(st.accum) {
		return -1
	}
	return st.assigns[j]
}
