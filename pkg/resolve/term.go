package resolve

// A term is pub's statement about one package: "foo is selected at a version
// in S" (a positive term) or "foo is not selected at a version in S" (a
// negative term). Both are one set here (see bits.go): a positive term is S,
// a negative term is the complement of S, which holds the extra element "not
// selected". Union, intersection and negation of terms are then boolean
// operations on the sets, and a term relates to what the partial solution
// allows for its package (the intersection of that package's assignments)
// in one of three ways:
//
//   - satisfied: every possibility left is in the term, so the term holds
//     whatever is decided later;
//   - contradicted: no possibility left is in the term;
//   - neither (inconclusive).
type term struct {
	pkg int
	set set
	// one is the version index when set is a single version (a positive
	// term), else -1; notOne is the index when set is every version but one
	// plus "not selected" (a negative term on one version), else -1. They
	// let the watch index decide the commonest relations in O(1)
	// (qterm.quick, watch.go).
	one, notOne int
}

// newTerm makes the term on package pkg, which has n versions, whose set
// is s.
func newTerm(pkg int, s set, n int) term {
	t := term{pkg: pkg, set: s, one: -1, notOne: -1}
	c := s.count(n)
	switch {
	case s.positive(n):
		if c == 1 {
			t.one = s.highest(n)
		}
	case c == n-1:
		for i := 0; i < n; i++ {
			if !s.has(i) {
				t.notOne = i
				break
			}
		}
	}
	return t
}

// satisfiedBy reports whether the term holds for every possibility in
// allowed, the intersection of its package's assignments (nil: none yet,
// everything is possible).
func (t term) satisfiedBy(allowed set) bool { return allowed != nil && allowed.subsetOf(t.set) }

// contradictedBy reports whether the term holds for no possibility in
// allowed.
func (t term) contradictedBy(allowed set) bool { return allowed != nil && allowed.disjoint(t.set) }
