package resolve

import (
	"iter"
	"sort"
)

// This file is a speed-up of unit propagation, behind one question the
// solver asks: "package p's assignments just changed: which
// incompatibilities may that have made almost satisfied or satisfied?"
// Pub answers it by looking at every incompatibility that mentions p. With
// tens of thousands of incompatibilities (one per version tried and bundle
// it requires) that is most of the solver's time, so the watch index
// answers it instead with the two-watched-literal scheme of SAT solvers:
//
//   - An incompatibility of two or more terms watches two of them. While a
//     watched term is not satisfied the incompatibility cannot be almost
//     satisfied through the other terms, so it is looked at only when a
//     watched term becomes satisfied. Then the watch moves to another term
//     that is not satisfied, if there is one; if not, every term but the
//     other watched one is satisfied, and wake yields the incompatibility
//     with that term for the solver to propagate. Watches need not move
//     back on backjumps.
//   - One-term incompatibilities are kept apart (units), by package.
//   - Each watch entry carries a blocker: another term of its
//     incompatibility, checked in O(1) first (qterm.quick) when it is a
//     single version or every version but one; a contradicted blocker
//     means the incompatibility cannot fire, without touching it.
//   - Entries whose watched term is exactly one version of p are filed by
//     that version (bySelf): they can only fire when p is at it. Entries
//     whose blocker is one version of another package q are filed by q and
//     that version (byBlocker): a whole bucket is skipped when q cannot be
//     at that version, and dropped when it never can again (rooted).
//
// An incompatibility replaced by a merged one (solver.addDependencies)
// stays watched when it has two or more terms: it is still true, only
// subsumed.
type watchIndex struct {
	// watched holds, by incompatibility id, the indexes of its two watched
	// terms.
	watched [][2]int
	pkgs    []packageWatches // by package id
	buf     []*[]watchEntry  // lists' result, reused
}

// packageWatches holds the watch entries on one package's terms.
type packageWatches struct {
	units     []int                 // the one-term incompatibilities on the package
	general   []watchEntry          // entries not filed below
	bySelf    map[int]*[]watchEntry // entries whose watched term is one version, by that version
	byBlocker []*blockGroup         // entries whose blocker is one version of another package
}

// watchEntry is one incompatibility watching a term of a package, with a
// blocker. Any term of the incompatibility is a valid blocker, so the
// blocker stays valid when the other watch moves.
type watchEntry struct {
	id   int32
	self qterm // the watched term (on the list's package)
	blk  qterm // another term of the incompatibility
}

// qterm is what the O(1) checks need of a term, kept small so that watch
// lists stay compact.
type qterm struct {
	pkg, one, notOne int32
}

func (t term) q() qterm { return qterm{int32(t.pkg), int32(t.one), int32(t.notOne)} }

// quick decides in O(1) whether a single-version term (one or notOne) is
// satisfied or contradicted by a package's current state; ok is false when
// it cannot tell and the sets must be compared.
func (t qterm) quick(st *packageState) (satisfied, contradicted, ok bool) {
	if t.one < 0 && t.notOne < 0 {
		return false, false, false
	}
	allowed := st.allowed()
	if allowed == nil {
		return false, false, true // nothing assigned: everything still possible
	}
	if st.empty {
		return false, false, false
	}
	if t.one >= 0 {
		return st.one == int(t.one), !allowed.has(int(t.one)), true
	}
	return !allowed.has(int(t.notOne)), st.one == int(t.notOne), true
}

// blockGroup holds the watch entries of one package whose blockers are
// single versions of another package q, by that version.
type blockGroup struct {
	q       int
	lists   map[int]*[]watchEntry // by version of q
	buckets []blockBucket         // the same, in insertion order
}

type blockBucket struct {
	v int
	l *[]watchEntry
}

func (w *watchIndex) addPackage() { w.pkgs = append(w.pkgs, packageWatches{}) }

// units returns the one-term incompatibilities on p.
func (w *watchIndex) units(p int) []int { return w.pkgs[p].units }

// watch makes propagation consider incompatibility id: it watches the two
// terms most likely to wake it, unsatisfied ones first, then the most
// recently satisfied.
func (w *watchIndex) watch(id int, inc *incompatibility, ps *partialSolution) {
	if len(inc.terms) == 1 {
		p := inc.terms[0].pkg
		w.pkgs[p].units = append(w.pkgs[p].units, id)
		return
	}
	for len(w.watched) <= id {
		w.watched = append(w.watched, [2]int{-1, -1})
	}
	best := [2]int{-1, -1}
	scores := make([]int, len(inc.terms))
	for i, t := range inc.terms {
		scores[i] = 1 << 62 // not satisfied: the best to watch
		if ps.satisfies(t) {
			// Satisfied: prefer the one satisfied last.
			scores[i] = ps.firstSatisfying(t)
		}
	}
	for i := range inc.terms {
		switch {
		case best[0] < 0 || scores[i] > scores[best[0]]:
			best[1] = best[0]
			best[0] = i
		case best[1] < 0 || scores[i] > scores[best[1]]:
			best[1] = i
		}
	}
	w.watched[id] = best
	for i, k := range best {
		w.file(watchEntry{int32(id), inc.terms[k].q(), inc.terms[best[1-i]].q()})
	}
}

// unwatch removes a one-term incompatibility from propagation; one of two
// or more terms stays (see the file comment).
func (w *watchIndex) unwatch(id int, inc *incompatibility) {
	if len(inc.terms) != 1 {
		return
	}
	p := inc.terms[0].pkg
	units := w.pkgs[p].units
	for i, x := range units {
		if x == id {
			w.pkgs[p].units = append(units[:i], units[i+1:]...)
			break
		}
	}
}

// file puts a watch entry in its list: by its own version when its term
// is a single version, else by its blocker's version when that is one,
// else in the package's general list.
func (w *watchIndex) file(e watchEntry) {
	p, one, bp, bone := int(e.self.pkg), int(e.self.one), int(e.blk.pkg), int(e.blk.one)
	pw := &w.pkgs[p]
	var l *[]watchEntry
	switch {
	case one >= 0:
		if pw.bySelf == nil {
			pw.bySelf = map[int]*[]watchEntry{}
		}
		var ok bool
		if l, ok = pw.bySelf[one]; !ok {
			l = new([]watchEntry)
			pw.bySelf[one] = l
		}
	case bone >= 0:
		var g *blockGroup
		for _, x := range pw.byBlocker {
			if x.q == bp {
				g = x
				break
			}
		}
		if g == nil {
			g = &blockGroup{q: bp, lists: map[int]*[]watchEntry{}}
			pw.byBlocker = append(pw.byBlocker, g)
		}
		var ok bool
		if l, ok = g.lists[bone]; !ok {
			l = new([]watchEntry)
			g.lists[bone] = l
			g.buckets = append(g.buckets, blockBucket{bone, l})
		}
	default:
		l = &pw.general
	}
	*l = append(*l, e)
}

// lists returns the entry lists on p that may hold an entry able to fire
// now: the general list, the bySelf bucket of p's version (every bucket
// when p has no version left), and the byBlocker buckets whose blocker is
// not contradicted. It drops buckets whose blocker is contradicted for
// good. The result is valid until the next call.
func (w *watchIndex) lists(p int, ps *partialSolution) []*[]watchEntry {
	pw := &w.pkgs[p]
	lists := append(w.buf[:0], &pw.general)
	if m := pw.bySelf; m != nil {
		st := &ps.pkgs[p]
		switch {
		case st.empty:
			keys := make([]int, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Ints(keys)
			for _, k := range keys {
				lists = append(lists, m[k])
			}
		case st.one >= 0:
			if l, ok := m[st.one]; ok {
				lists = append(lists, l)
			}
		}
	}
	for _, g := range pw.byBlocker {
		bs := &ps.pkgs[g.q]
		if bs.one >= 0 {
			if l, ok := g.lists[bs.one]; ok && len(*l) > 0 {
				lists = append(lists, l)
			}
			continue
		}
		allowed := bs.allowed()
		live := g.buckets[:0]
		for _, b := range g.buckets {
			if bs.rooted != nil && !bs.rooted.has(b.v) {
				delete(g.lists, b.v) // contradicted for good
				continue
			}
			live = append(live, b)
			if allowed != nil && !bs.empty && !allowed.has(b.v) {
				continue // blocker contradicted
			}
			if len(*b.l) > 0 {
				lists = append(lists, b.l)
			}
		}
		g.buckets = live
	}
	w.buf = lists
	return lists
}

// wake yields, for package p whose assignments just changed, each
// incompatibility whose every term but one is satisfied, with that term
// (which may be satisfied too: a conflict). It moves the watches of the
// others it looks at. The consumer may change the partial solution between
// yields (a derivation), and wake sees the change.
func (w *watchIndex) wake(p int, incompats []*incompatibility, ps *partialSolution) iter.Seq2[int, term] {
	return func(yield func(int, term) bool) {
		for _, lp := range w.lists(p, ps) {
			ws := *lp
			for i := len(ws) - 1; i >= 0; i-- {
				e := &ws[i]
				// O(1) checks on single versions, without touching the
				// incompatibility: its term here is not satisfied, or its
				// blocker term is contradicted.
				if sat, _, ok := e.self.quick(&ps.pkgs[p]); ok && !sat {
					continue
				}
				if _, con, ok := e.blk.quick(&ps.pkgs[e.blk.pkg]); ok && con {
					continue
				}
				id := int(e.id)
				inc := incompats[id]
				wt := w.watched[id]
				k := 0 // the watch on p
				if inc.terms[wt[0]].pkg != p {
					k = 1
				}
				if !ps.satisfies(inc.terms[wt[k]]) {
					continue
				}
				if j := unsatisfiedTerm(inc, wt, ps); j >= 0 {
					// Move the watch there.
					wt[k] = j
					w.watched[id] = wt
					ws[i] = ws[len(ws)-1]
					ws = ws[:len(ws)-1]
					*lp = ws
					w.file(watchEntry{int32(id), inc.terms[j].q(), inc.terms[wt[1-k]].q()})
					continue
				}
				if !yield(id, inc.terms[wt[1-k]]) {
					return
				}
			}
		}
	}
}

// unsatisfiedTerm returns the first term of inc, other than the two
// watched, that the partial solution does not satisfy, or -1.
func unsatisfiedTerm(inc *incompatibility, watched [2]int, ps *partialSolution) int {
	for j, u := range inc.terms {
		if j != watched[0] && j != watched[1] && !ps.satisfies(u) {
			return j
		}
	}
	return -1
}
