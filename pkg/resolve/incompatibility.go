package resolve

import "sort"

// An incompatibility is pub's set of terms that must not all be true at
// once: {foo 1.0.0, not bar ^2.0.0} says "foo 1.0.0 requires bar ^2.0.0".
// The solver starts from the external facts below (the root must be
// selected; each version it tries requires what its Source says; a bundle
// has no version left; a bundle does not exist; one bundle name comes from
// one repository) and learns new ones from
// conflicts (conflictCause), which also record the two they were derived
// from: that derivation graph is what explain.go reports.
type incompatibility struct {
	terms []term
	cause cause
	// conflictCause: the two incompatibilities it was derived from, and
	// the package whose terms were joined (the satisfier's).
	cause1, cause2 int
	sat            int
	// dependencyCause and notFoundCause: who requires what.
	from int
	to   int
	reqs []Requirement
}

// cause says where an incompatibility comes from, as pub's
// IncompatibilityCause does.
type cause int

const (
	rootCause       cause = iota // the root must be selected
	dependencyCause              // a version requires a bundle
	noVersionsCause              // no version is left for a bundle
	notFoundCause                // a version requires a bundle that does not exist
	conflictCause                // learned from two others by conflict resolution
	repositoryCause              // one name from two repositories: at most one is selected
)

// terminal reports whether an incompatibility proves that there is no
// solution: it has no terms, or it forbids the root itself.
func (inc *incompatibility) terminal() bool {
	if len(inc.terms) == 0 {
		return true
	}
	return len(inc.terms) == 1 && inc.terms[0].pkg == rootPkg && inc.terms[0].set.has(0)
}

// priorCause applies the resolution rule to an incompatibility and the
// cause of the assignment that satisfied its term on package p: the result
// holds every term of both, intersected per package, except that the terms
// on p are joined (their union), and dropped when that union holds every
// possibility. Terms are sorted by package.
func priorCause(inc, cause *incompatibility, p int, cat *catalog) []term {
	n := cat.n(p)
	var pTerm set
	merged := map[int]set{}
	var order []int
	for _, src := range [][]term{inc.terms, cause.terms} {
		for _, t := range src {
			if t.pkg == p {
				continue
			}
			if cur, ok := merged[t.pkg]; ok {
				merged[t.pkg] = cur.and(t.set)
			} else {
				merged[t.pkg] = t.set
				order = append(order, t.pkg)
			}
		}
	}
	for _, t := range inc.terms {
		if t.pkg == p {
			pTerm = t.set
		}
	}
	for _, t := range cause.terms {
		if t.pkg == p {
			if pTerm == nil {
				pTerm = t.set
			} else {
				pTerm = pTerm.or(t.set)
			}
		}
	}
	var terms []term
	for _, q := range order {
		terms = append(terms, newTerm(q, merged[q], cat.n(q)))
	}
	if pTerm != nil && !pTerm.isFull(n) {
		terms = append(terms, newTerm(p, pTerm, n))
	}
	sort.SliceStable(terms, func(i, j int) bool { return terms[i].pkg < terms[j].pkg })
	return terms
}

// sameRequirement reports whether two dependency (or not-found)
// incompatibilities of one bundle on another say the same: same cause,
// same instances, same allowed versions.
func sameRequirement(a, b *incompatibility) bool {
	if a.cause != b.cause || len(a.reqs) != len(b.reqs) || len(a.terms) != len(b.terms) {
		return false
	}
	for i := range a.reqs {
		if a.reqs[i].Instance != b.reqs[i].Instance {
			return false
		}
	}
	return len(a.terms) < 2 || a.terms[1].set.equal(b.terms[1].set)
}
