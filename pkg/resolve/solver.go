package resolve

import (
	"context"
	"fmt"
)

// solver is one resolution: pub's PubGrub state. It does no I/O but
// through its Source, in choosePackageVersion, and stores no context.
type solver struct {
	src  Source
	opts Options

	cat       catalog
	incompats []*incompatibility // by id; learned ones are kept for explanations
	watches   watchIndex
	ps        partialSolution

	// queue is propagate's, kept to reuse its memory.
	queue packageQueue
	// pending lists incompatibilities added while choosing a version that
	// are already almost satisfied or satisfied: propagation examines them
	// first.
	pending []int
	// lastDep is the latest dependency incompatibility of a package on a
	// bundle, to merge versions with the same requirements into it.
	lastDep map[[2]int]int
	// clashes lists packages met under a name already met from another
	// repository, whose repository incompatibilities are added once they
	// are loaded.
	clashes []int

	decisions, conflicts int

	// syms holds the explanation's ranges, made when there is one.
	syms *symbols
}

func newSolver(src Source, root []Requirement, opts Options) *solver {
	s := &solver{src: src, opts: opts, cat: newCatalog(root, opts), lastDep: map[[2]int]int{}}
	s.ps.cat = &s.cat
	s.ps.addPackage()
	s.watches.addPackage()
	return s
}

// solve is pub's main loop: propagate from the package that changed, then
// decide a version of another, until every required package is decided or
// a conflict proves there is no solution. ctx is checked between decisions.
func (s *solver) solve(ctx context.Context) error {
	// The root must be selected.
	s.addIncompatibility(&incompatibility{terms: []term{newTerm(rootPkg, singleSet(1, 0).not(1), 1)}, cause: rootCause})
	next := rootPkg
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.propagate(next); err != nil {
			return err
		}
		p, err := s.choosePackageVersion(ctx)
		if err != nil {
			return err
		}
		if p < 0 {
			return nil
		}
		next = p
	}
}

// intern returns the package id of a requirement's bundle, registering it.
func (s *solver) intern(r Requirement) int {
	id, isNew, sameName := s.cat.intern(r)
	if isNew {
		s.ps.addPackage()
		s.watches.addPackage()
		if sameName {
			s.clashes = append(s.clashes, id)
		}
	}
	return id
}

// addClashes adds, for each package met under a name already met from
// another repository, the incompatibilities "p from R1 is incompatible
// with p from R2": one bundle name comes from one repository. A bundle
// missing from its repository cannot be selected and needs none. They are
// pending: propagation looks at them first.
func (s *solver) addClashes() {
	for _, d := range s.clashes {
		dp := s.cat.pkgs[d]
		if dp.missing || dp.n() == 0 {
			continue
		}
		for _, o := range s.cat.sameName(d) {
			op := s.cat.pkgs[o]
			if o == d || op.missing || op.n() == 0 {
				continue
			}
			if o > d {
				break
			}
			inc := &incompatibility{cause: repositoryCause, from: o, to: d, terms: []term{
				newTerm(o, anyVersion(op.n()), op.n()),
				newTerm(d, anyVersion(dp.n()), dp.n()),
			}}
			s.pending = append(s.pending, s.addIncompatibility(inc))
		}
	}
	s.clashes = s.clashes[:0]
}

// addIncompatibility registers an incompatibility for propagation and
// returns its id.
func (s *solver) addIncompatibility(inc *incompatibility) int {
	id := s.store(inc)
	s.watches.watch(id, inc, &s.ps)
	return id
}

// store keeps an incompatibility (for explanations) without using it in
// propagation yet.
func (s *solver) store(inc *incompatibility) int {
	s.incompats = append(s.incompats, inc)
	return len(s.incompats) - 1
}

// Unit propagation.

// propagate derives every assignment the incompatibilities force, starting
// from package `changed`, and resolves the conflicts it meets: after a
// conflict it backjumps, derives from the learned incompatibility and
// starts again from that package.
func (s *solver) propagate(changed int) error {
	q := &s.queue
	q.reset(changed)
	if conflict := s.propagatePending(q); conflict >= 0 {
		if err := s.learnFrom(conflict, q); err != nil {
			return err
		}
	}
	for !q.empty() {
		conflict := s.propagatePackage(q.pop(), q)
		if conflict < 0 {
			continue
		}
		if err := s.learnFrom(conflict, q); err != nil {
			return err
		}
	}
	return nil
}

// propagatePending propagates the pending incompatibilities; it returns
// the first satisfied one (a conflict), or -1.
func (s *solver) propagatePending(q *packageQueue) int {
	pending := s.pending
	s.pending = s.pending[:0]
	for _, id := range pending {
		rel, unsat := s.ps.relation(s.incompats[id])
		switch rel {
		case satisfied:
			return id
		case almostSatisfied:
			t := s.incompats[id].terms[unsat]
			s.ps.derive(t.pkg, t.set, id)
			q.push(t.pkg)
		}
	}
	return -1
}

// propagatePackage propagates the incompatibilities that p's latest
// assignments may have made almost satisfied, newest first, queueing the
// packages it derives terms on; it returns the first satisfied
// incompatibility (a conflict), or -1.
func (s *solver) propagatePackage(p int, q *packageQueue) int {
	units := s.watches.units(p)
	for i := len(units) - 1; i >= 0; i-- {
		id := units[i]
		if s.propagateLastTerm(id, s.incompats[id].terms[0], q) {
			return id
		}
	}
	for id, last := range s.watches.wake(p, s.incompats, &s.ps) {
		if s.propagateLastTerm(id, last, q) {
			return id
		}
	}
	return -1
}

// propagateLastTerm handles incompatibility id, whose every term but
// `last` is satisfied: if last is satisfied too it reports a conflict;
// if it is undetermined the incompatibility is almost satisfied, and the
// partial solution must derive "not last".
func (s *solver) propagateLastTerm(id int, last term, q *packageQueue) (conflict bool) {
	switch {
	case s.ps.satisfies(last):
		return true
	case !s.ps.contradicts(last):
		s.ps.derive(last.pkg, last.set, id)
		q.push(last.pkg)
	}
	return false
}

// learnFrom resolves a conflict, derives from the learned incompatibility
// (almost satisfied after the backjump) and restarts propagation from the
// package of that derivation.
func (s *solver) learnFrom(conflict int, q *packageQueue) error {
	learned, err := s.resolveConflict(conflict)
	if err != nil {
		return err
	}
	rel, unsat := s.ps.relation(s.incompats[learned])
	if rel != almostSatisfied {
		return fmt.Errorf("internal error: learned incompatibility is not almost satisfied")
	}
	t := s.incompats[learned].terms[unsat]
	s.ps.derive(t.pkg, t.set, learned)
	q.reset(t.pkg)
	return nil
}

// packageQueue holds the packages whose assignments changed and whose
// incompatibilities propagation has yet to look at, each once; the latest
// comes first.
type packageQueue struct {
	stack  []int
	queued []bool // by package id: whether it is in stack
}

func (q *packageQueue) empty() bool { return len(q.stack) == 0 }

func (q *packageQueue) push(p int) {
	if p >= len(q.queued) {
		q.queued = append(q.queued, make([]bool, p+1-len(q.queued))...)
	}
	if !q.queued[p] {
		q.stack = append(q.stack, p)
		q.queued[p] = true
	}
}

func (q *packageQueue) pop() int {
	p := q.stack[len(q.stack)-1]
	q.stack = q.stack[:len(q.stack)-1]
	q.queued[p] = false
	return p
}

// reset empties the queue but for p.
func (q *packageQueue) reset(p int) {
	for _, x := range q.stack {
		q.queued[x] = false
	}
	q.stack = q.stack[:0]
	q.push(p)
}

// Conflict resolution.

// resolveConflict learns from a satisfied incompatibility and backjumps:
// while the incompatibility's satisfier is a derivation made at the same
// decision level as the previous satisfier, it replaces the incompatibility
// by its prior cause (the resolution of it with the satisfier's cause).
// It returns the id of an incompatibility that is almost satisfied after
// the backjump, or a *NoSolutionError when the incompatibility becomes
// terminal.
func (s *solver) resolveConflict(id int) (int, error) {
	s.conflicts++
	learned := false
	for {
		inc := s.incompats[id]
		if inc.terminal() {
			return 0, s.failure(id)
		}
		satPkg, satIdx, prevLevel := s.ps.satisfier(inc, s.incompats)
		sat := s.ps.assignments[satIdx]
		if sat.isDecision() || prevLevel < sat.level {
			s.ps.backtrack(prevLevel)
			if learned {
				s.watches.watch(id, s.incompats[id], &s.ps)
			}
			return id, nil
		}
		terms := priorCause(inc, s.incompats[sat.cause], satPkg, &s.cat)
		id = s.store(&incompatibility{terms: terms, cause: conflictCause, cause1: id, cause2: sat.cause, sat: satPkg})
		learned = true
	}
}

// failure builds the error for a terminal incompatibility.
func (s *solver) failure(id int) error {
	return &NoSolutionError{
		Explanation: s.explain(id),
		Decisions:   s.decisions,
		Conflicts:   s.conflicts,
		notFound:    s.causedByMissing(id),
	}
}

// causedByMissing reports whether a missing bundle is among the causes of
// incompatibility id.
func (s *solver) causedByMissing(id int) bool {
	seen := map[int]bool{}
	stack := []int{id}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		switch inc := s.incompats[i]; inc.cause {
		case notFoundCause:
			return true
		case conflictCause:
			stack = append(stack, inc.cause2, inc.cause1)
		}
	}
	return false
}

// Decision making.

// choosePackageVersion picks the undecided package with the fewest
// versions left and decides its newest (or preferred) version, after
// adding the incompatibilities of that version's requirements. When one of
// those is already satisfied but for the version itself, it does not
// decide and lets propagation find the conflict. It returns the package it
// changed, or -1 when every required package is decided: a solution.
func (s *solver) choosePackageVersion(ctx context.Context) (int, error) {
	p, versions := s.ps.undecided()
	if p < 0 {
		return -1, nil
	}
	pk := s.cat.pkgs[p]
	allowed := s.ps.allowed(p)
	if versions == 0 {
		s.addIncompatibility(&incompatibility{terms: []term{newTerm(p, allowed, pk.n())}, cause: noVersionsCause})
		return p, nil
	}
	vi := allowed.highest(pk.n())
	if pref, ok := s.opts.Prefer[pk.ref]; ok {
		for i, v := range pk.versions {
			if v.Equal(pref) && allowed.has(i) {
				vi = i
				break
			}
		}
	}
	reqs, err := s.cat.requirements(ctx, s.src, p, vi)
	if err != nil {
		return 0, err
	}
	added, err := s.addDependencies(ctx, p, vi, reqs)
	if err != nil {
		return 0, err
	}
	if s.conflictsAtOnce(p, added) {
		s.pending = append(s.pending, added...)
		return p, nil
	}
	s.decisions++
	s.ps.decide(p, vi)
	return p, nil
}

// conflictsAtOnce reports whether one of the incompatibilities added for a
// version of p has every term but p's satisfied already.
func (s *solver) conflictsAtOnce(p int, added []int) bool {
	for _, id := range added {
		clash := true
		for _, t := range s.incompats[id].terms {
			if t.pkg != p && !s.ps.satisfies(t) {
				clash = false
				break
			}
		}
		if clash {
			return true
		}
	}
	return false
}

// allows returns the versions of dp that all of greqs allow (positive).
func (s *solver) allows(dp *pkg, greqs []Requirement) set {
	allowed := dp.allows(greqs[0]) // shared: not modified
	if len(greqs) > 1 {
		allowed = append(set(nil), allowed...)
		for _, r := range greqs[1:] {
			allowed.andWith(dp.allows(r))
		}
	}
	return allowed
}

// addDependencies adds the incompatibilities "p at vi without the bundles
// it requires" and returns their ids. Several requirements on one bundle
// (two instances) are one incompatibility over the intersection of their
// constraints. Versions of p with the same requirements on a bundle share
// one incompatibility: "p >=1.0.0 <2.0.0 requires d ^1", and so do
// versions that require the same missing bundle.
func (s *solver) addDependencies(ctx context.Context, p, vi int, reqs []Requirement) ([]int, error) {
	// Group the requirements by bundle, in order (usually one each).
	type group struct {
		d    int
		reqs []Requirement
	}
	var groups []group
	order := make([]int, 0, len(reqs))
	for _, r := range reqs {
		id := s.intern(r)
		found := false
		for i := range groups {
			if groups[i].d == id {
				groups[i].reqs = append(groups[i].reqs, r)
				found = true
				break
			}
		}
		if !found {
			groups = append(groups, group{id, []Requirement{r}})
			order = append(order, id)
		}
	}
	if err := s.cat.load(ctx, s.src, order); err != nil {
		return nil, err
	}
	if len(s.clashes) > 0 {
		s.addClashes()
	}
	pn := s.cat.n(p)
	added := make([]int, 0, len(groups))
	for _, g := range groups {
		d, greqs := g.d, g.reqs
		dp := s.cat.pkgs[d]
		n := dp.n()
		self := term{pkg: p, set: singleSet(pn, vi), one: vi, notOne: -1}
		inc := &incompatibility{cause: dependencyCause, from: p, to: d, reqs: greqs, terms: []term{self}}
		switch {
		case dp.missing:
			inc.cause = notFoundCause
		case d == p:
			// A bundle requiring itself: fine when its own version fits.
			if s.allows(dp, greqs).has(vi) {
				continue
			}
		default:
			if neg := s.allows(dp, greqs).not(n); !neg.isFull(n) {
				inc.terms = append(inc.terms, newTerm(d, neg, n))
			}
		}
		// Versions are tried newest first, so comparing with p's latest
		// incompatibility on d is enough to merge runs of them.
		key := [2]int{p, d}
		if old, ok := s.lastDep[key]; ok && d != p && sameRequirement(s.incompats[old], inc) {
			prev := s.incompats[old]
			inc.terms[0] = newTerm(p, prev.terms[0].set.or(self.set), pn)
			id := s.store(inc)
			s.watches.unwatch(old, prev)
			s.watches.watch(id, inc, &s.ps)
			s.lastDep[key] = id
			added = append(added, id)
			continue
		}
		id := s.addIncompatibility(inc)
		if d != p {
			s.lastDep[key] = id
		}
		added = append(added, id)
	}
	return added, nil
}
