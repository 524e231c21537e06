package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/internal/errs"
)

// Result is a solution and what it took to find it.
type Result struct {
	Solution Solution
	// Decisions counts versions tried; Conflicts counts conflicts resolved
	// (each may backjump and learn an incompatibility).
	Decisions, Conflicts int
}

// Resolve chooses versions for the root requirements and everything they
// require, transitively. When no choice satisfies every constraint the error
// is a *NoSolutionError (matching ErrConflict) that explains why; a missing
// bundle that makes every choice fail matches ErrNotFound as well; an error
// of the Source (an unreachable repository) is returned as is.
func Resolve(ctx context.Context, src Source, root []Requirement, opts Options) (Solution, error) {
	r, err := Solve(ctx, src, root, opts)
	if err != nil {
		return nil, err
	}
	return r.Solution, nil
}

// Solve is Resolve with statistics.
func Solve(ctx context.Context, src Source, root []Requirement, opts Options) (*Result, error) {
	s := newSolver(ctx, src, root, opts)
	if err := s.run(); err != nil {
		return nil, err
	}
	res := &Result{Solution: Solution{}, Decisions: s.decisions, Conflicts: s.conflicts}
	for p := 1; p < len(s.pkgs); p++ {
		st := &s.state[p]
		if st.decided {
			pk := s.pkgs[p]
			a := s.assigns[st.assigns[len(st.assigns)-1]]
			res.Solution[pk.name] = Selected{Ref: pk.ref, Version: pk.versions[a.set.highest(len(pk.versions))]}
		}
	}
	return res, nil
}

// pkg is one bundle name the solver has met.
type pkg struct {
	name     string
	ref      Ref
	versions []*semver.Version // ascending
	missing  bool              // the source does not know it
	loaded   bool
	cons     map[string]set // constraint text -> versions it allows
	deps     map[int][]Requirement
}

func (p *pkg) n() int { return len(p.versions) }

// allows returns the versions a constraint allows, as a positive set.
func (p *pkg) allows(c *semver.Constraints) set {
	key := c.String()
	if s, ok := p.cons[key]; ok {
		return s
	}
	s, ok := compileConstraint(key, p.versions)
	if !ok {
		s = make(set, words(p.n()))
		for i, v := range p.versions {
			if c.Check(v) {
				s[i/64] |= 1 << (i % 64)
			}
		}
	}
	if p.cons == nil {
		p.cons = map[string]set{}
	}
	p.cons[key] = s
	return s
}

type term struct {
	pkg int
	set set
}

type kind int

const (
	kindRoot       kind = iota // the root must be selected
	kindDependency             // a version requires a bundle
	kindNoVersions             // no version is left for a bundle
	kindNotFound               // a version requires a bundle that does not exist
	kindDerived                // learned from two others
)

type incompat struct {
	terms []term
	kind  kind
	// kindDerived: the two incompatibilities it was derived from.
	cause1, cause2 int
	// kindDependency and kindNotFound: who requires what.
	from int
	to   int
	reqs []Requirement
}

type assignment struct {
	pkg   int
	set   set
	level int
	cause int // incompatibility it was derived from; -1 for a decision
}

type pkgState struct {
	assigns []int // indexes into solver.assigns, in order
	accum   []set // intersection of the package's assignments up to each
	decided bool
}

func (st *pkgState) current() set {
	if len(st.accum) == 0 {
		return nil
	}
	return st.accum[len(st.accum)-1]
}

type solver struct {
	ctx  context.Context
	src  Source
	opts Options

	pkgs   []*pkg
	byName map[string]int

	incompats []*incompat
	byPkg     [][]int

	assigns    []assignment
	state      []pkgState
	level      int
	candidates []int // packages that may have a positive, undecided term

	// contradicted[id] is the decision level at which incompatibility id
	// was found contradicted (-1: not known to be). A contradicted
	// incompatibility stays so until a backjump below that level, so
	// propagation skips it; contraStack lists marked ids in level order.
	contradicted []int
	contraStack  []int

	// depIncompat finds the dependency incompatibility of a package on a
	// bundle with the same requirements, to merge versions into it.
	depIncompat map[depKey]int

	decisions, conflicts int
}

type depKey struct {
	from, to int
	reqs     string
}

const rootPkg = 0

func newSolver(ctx context.Context, src Source, root []Requirement, opts Options) *solver {
	s := &solver{ctx: ctx, src: src, opts: opts, byName: map[string]int{}, depIncompat: map[depKey]int{}}
	r := &pkg{name: "the root", loaded: true, versions: []*semver.Version{semver.New(0, 0, 0, "", "")}}
	if opts.Root != nil {
		r.name, r.ref, r.versions = opts.Root.Name, opts.Root.Ref, []*semver.Version{opts.Root.Version}
		s.byName[r.name] = rootPkg
	}
	r.deps = map[int][]Requirement{0: root}
	s.pkgs = append(s.pkgs, r)
	s.byPkg = append(s.byPkg, nil)
	s.state = append(s.state, pkgState{})
	return s
}

// intern returns the package for a requirement's bundle, registering it.
func (s *solver) intern(r Requirement) (int, error) {
	if id, ok := s.byName[r.Name]; ok {
		if p := s.pkgs[id]; id != rootPkg && p.ref != r.Ref {
			return 0, errs.New(ErrConflict, "%s, but %s also comes from %s: one bundle name must come from one repository", r, r.Name, p.ref.Repository)
		}
		return id, nil
	}
	id := len(s.pkgs)
	s.pkgs = append(s.pkgs, &pkg{name: r.Name, ref: r.Ref})
	s.byName[r.Name] = id
	s.byPkg = append(s.byPkg, nil)
	s.state = append(s.state, pkgState{})
	return id, nil
}

// load fetches the version lists of the given packages, concurrently.
func (s *solver) load(ids []int) error {
	var todo []int
	for _, id := range ids {
		if !s.pkgs[id].loaded {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, id := range todo {
		wg.Add(1)
		go func(i int, p *pkg) {
			defer wg.Done()
			vs, err := s.src.Versions(s.ctx, p.ref)
			if err != nil {
				if errors.Is(err, ErrNotFound) {
					p.missing = true
					return
				}
				errs[i] = fmt.Errorf("listing versions of %s: %w", p.ref, err)
				return
			}
			p.versions = append([]*semver.Version(nil), vs...)
			sort.Sort(semver.Collection(p.versions))
		}(i, s.pkgs[id])
	}
	wg.Wait()
	for i, id := range todo {
		if errs[i] != nil {
			return errs[i]
		}
		s.pkgs[id].loaded = true
	}
	return nil
}

// requirements returns what version vi of package p requires.
func (s *solver) requirements(p, vi int) ([]Requirement, error) {
	pk := s.pkgs[p]
	if reqs, ok := pk.deps[vi]; ok {
		return reqs, nil
	}
	reqs, err := s.src.Requirements(s.ctx, pk.ref, pk.versions[vi])
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", pk.name, pk.versions[vi], err)
	}
	if pk.deps == nil {
		pk.deps = map[int][]Requirement{}
	}
	pk.deps[vi] = reqs
	return reqs, nil
}

func (s *solver) run() error {
	// The root must be selected.
	s.add(&incompat{terms: []term{{rootPkg, singleSet(1, 0).not(1)}}, kind: kindRoot})
	next := rootPkg
	for {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if err := s.propagate(next); err != nil {
			return err
		}
		p, err := s.decide()
		if err != nil {
			return err
		}
		if p < 0 {
			return nil
		}
		next = p
	}
}

// add registers an incompatibility and returns its id.
func (s *solver) add(inc *incompat) int {
	id := s.store(inc)
	s.watch(id)
	return id
}

// store keeps an incompatibility (for explanations) without using it in
// propagation yet.
func (s *solver) store(inc *incompat) int {
	id := len(s.incompats)
	s.incompats = append(s.incompats, inc)
	s.contradicted = append(s.contradicted, -1)
	return id
}

// watch makes propagation consider an incompatibility.
func (s *solver) watch(id int) {
	for _, t := range s.incompats[id].terms {
		s.byPkg[t.pkg] = append(s.byPkg[t.pkg], id)
	}
}

// replace puts incompatibility nu where old was in the propagation lists.
func (s *solver) replace(old, nu int) {
	for _, t := range s.incompats[nu].terms {
		list := s.byPkg[t.pkg]
		found := false
		for i := len(list) - 1; i >= 0; i-- {
			if list[i] == old {
				list[i] = nu
				found = true
				break
			}
		}
		if !found {
			s.byPkg[t.pkg] = append(list, nu)
		}
	}
}

type relation int

const (
	contradicted relation = iota
	inconclusive
	almostSatisfied
	satisfied
)

// relation tells how the partial solution relates to an incompatibility;
// for almostSatisfied it also returns the one term not yet satisfied.
func (s *solver) relation(inc *incompat) (relation, int) {
	unsat := -1
	for i, t := range inc.terms {
		cur := s.state[t.pkg].current()
		switch {
		case cur != nil && cur.subsetOf(t.set):
			continue
		case cur != nil && cur.disjoint(t.set):
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

func (s *solver) propagate(start int) error {
	changed := []int{start}
	queued := map[int]bool{start: true}
	for len(changed) > 0 {
		p := changed[len(changed)-1]
		changed = changed[:len(changed)-1]
		delete(queued, p)
		list := s.byPkg[p]
		for i := len(list) - 1; i >= 0; i-- {
			if s.contradicted[list[i]] >= 0 {
				continue
			}
			inc := s.incompats[list[i]]
			rel, unsat := s.relation(inc)
			if rel == contradicted {
				s.contradicted[list[i]] = s.level
				s.contraStack = append(s.contraStack, list[i])
				continue
			}
			if rel == satisfied {
				id, err := s.resolveConflict(list[i])
				if err != nil {
					return err
				}
				rel, unsat = s.relation(s.incompats[id])
				if rel != almostSatisfied {
					return fmt.Errorf("internal error: learned incompatibility is not almost satisfied")
				}
				t := s.incompats[id].terms[unsat]
				s.derive(t.pkg, t.set.not(s.pkgs[t.pkg].n()), id)
				changed = changed[:0]
				clear(queued)
				changed = append(changed, t.pkg)
				queued[t.pkg] = true
				break
			}
			if rel == almostSatisfied {
				t := inc.terms[unsat]
				s.derive(t.pkg, t.set.not(s.pkgs[t.pkg].n()), list[i])
				if !queued[t.pkg] {
					changed = append(changed, t.pkg)
					queued[t.pkg] = true
				}
			}
		}
	}
	return nil
}

func (s *solver) derive(p int, t set, cause int) {
	s.assign(assignment{pkg: p, set: t, level: s.level, cause: cause})
}

func (s *solver) assign(a assignment) {
	st := &s.state[a.pkg]
	acc := a.set
	if cur := st.current(); cur != nil {
		acc = cur.and(a.set)
	}
	st.assigns = append(st.assigns, len(s.assigns))
	st.accum = append(st.accum, acc)
	s.assigns = append(s.assigns, a)
	if a.cause < 0 {
		st.decided = true
	} else if !st.decided && acc.positive(s.pkgs[a.pkg].n()) && (len(st.accum) == 1 || !st.accum[len(st.accum)-2].positive(s.pkgs[a.pkg].n())) {
		s.candidates = append(s.candidates, a.pkg)
	}
}

// decide picks the next package and version. It returns -1 when every
// package with a positive term is decided: a solution.
func (s *solver) decide() (int, error) {
	best, bestCount := -1, 0
	live := s.candidates[:0]
	for _, p := range s.candidates {
		st := &s.state[p]
		cur := st.current()
		if st.decided || cur == nil || !cur.positive(s.pkgs[p].n()) {
			continue
		}
		live = append(live, p)
		c := cur.count(s.pkgs[p].n())
		if best < 0 || c < bestCount || (c == bestCount && p < best) {
			best, bestCount = p, c
		}
	}
	s.candidates = live
	if best < 0 {
		return -1, nil
	}
	pk := s.pkgs[best]
	cur := s.state[best].current()
	if bestCount == 0 {
		s.add(&incompat{terms: []term{{best, cur}}, kind: kindNoVersions})
		return best, nil
	}
	vi := cur.highest(pk.n())
	if pref, ok := s.opts.Prefer[pk.name]; ok {
		for i, v := range pk.versions {
			if v.Equal(pref) && cur.has(i) {
				vi = i
				break
			}
		}
	}
	reqs, err := s.requirements(best, vi)
	if err != nil {
		return 0, err
	}
	added, err := s.dependencies(best, vi, reqs)
	if err != nil {
		return 0, err
	}
	// Decide only if no new incompatibility is already violated: otherwise
	// let propagation find the conflict.
	for _, id := range added {
		clash := true
		for _, t := range s.incompats[id].terms {
			if t.pkg == best {
				continue
			}
			cur := s.state[t.pkg].current()
			if cur == nil || !cur.subsetOf(t.set) {
				clash = false
				break
			}
		}
		if clash {
			return best, nil
		}
	}
	s.level++
	s.decisions++
	s.assign(assignment{pkg: best, set: singleSet(pk.n(), vi), level: s.level, cause: -1})
	return best, nil
}

// dependencies adds the incompatibilities "p at vi without the bundles it
// requires" and returns their ids. Several requirements on one bundle (two
// instances) are one incompatibility over the intersection of constraints.
func (s *solver) dependencies(p, vi int, reqs []Requirement) ([]int, error) {
	var order []int
	byPkg := map[int][]Requirement{}
	for _, r := range reqs {
		id, err := s.intern(r)
		if err != nil {
			return nil, err
		}
		if _, ok := byPkg[id]; !ok {
			order = append(order, id)
		}
		byPkg[id] = append(byPkg[id], r)
	}
	if err := s.load(order); err != nil {
		return nil, err
	}
	pn := s.pkgs[p].n()
	var added []int
	for _, d := range order {
		dp := s.pkgs[d]
		self := term{p, singleSet(pn, vi)}
		if dp.missing {
			added = append(added, s.add(&incompat{terms: []term{self}, kind: kindNotFound, from: p, to: d, reqs: byPkg[d]}))
			continue
		}
		allowed := fullSet(dp.n())
		allowed[dp.n()/64] &^= 1 << (dp.n() % 64) // every version; positive: must be selected
		for _, r := range byPkg[d] {
			allowed = allowed.and(dp.allows(r.Constraint))
		}
		inc := &incompat{kind: kindDependency, from: p, to: d, reqs: byPkg[d]}
		if d == p {
			// A bundle requiring itself: fine when its own version fits.
			if allowed.has(vi) {
				continue
			}
			inc.terms = []term{self}
		} else {
			inc.terms = []term{self}
			if neg := allowed.not(dp.n()); !neg.isFull(dp.n()) {
				inc.terms = append(inc.terms, term{d, neg})
			}
		}
		// Versions of p with the same requirements on d share one
		// incompatibility: "p >=1.0.0 <2.0.0 requires d ^1".
		key := depKey{p, d, reqsKey(byPkg[d])}
		if old, ok := s.depIncompat[key]; ok && d != p {
			prev := s.incompats[old]
			inc.terms[0].set = prev.terms[0].set.or(self.set)
			id := s.store(inc)
			s.replace(old, id)
			s.depIncompat[key] = id
			added = append(added, id)
			continue
		}
		id := s.add(inc)
		if d != p {
			s.depIncompat[key] = id
		}
		added = append(added, id)
	}
	return added, nil
}

// resolveConflict learns from a satisfied incompatibility and backjumps. It
// returns the id of an incompatibility that is almost satisfied after the
// backjump, or a *NoSolutionError.
func (s *solver) resolveConflict(id int) (int, error) {
	s.conflicts++
	learned := false
	for {
		inc := s.incompats[id]
		if s.terminal(inc) {
			return 0, s.failure(id)
		}
		satPkg, satIdx, prevLevel := s.satisfier(inc)
		sat := s.assigns[satIdx]
		if sat.cause < 0 || prevLevel < sat.level {
			if learned {
				s.watch(id)
			}
			s.backtrack(prevLevel)
			return id, nil
		}
		id = s.priorCause(id, sat.cause, satPkg)
		learned = true
	}
}

func (s *solver) terminal(inc *incompat) bool {
	if len(inc.terms) == 0 {
		return true
	}
	return len(inc.terms) == 1 && inc.terms[0].pkg == rootPkg && inc.terms[0].set.has(0)
}

// satisfier finds the assignment that made inc satisfied (the latest of the
// earliest assignments satisfying each term), and the decision level to
// backjump to.
func (s *solver) satisfier(inc *incompat) (satPkg, satIdx, prevLevel int) {
	earliest := make([]int, len(inc.terms))
	satTerm := -1
	for i, t := range inc.terms {
		st := &s.state[t.pkg]
		earliest[i] = -1
		for j, acc := range st.accum {
			if acc.subsetOf(t.set) {
				earliest[i] = st.assigns[j]
				break
			}
		}
		if satTerm < 0 || earliest[i] > earliest[satTerm] {
			satTerm = i
		}
	}
	t := inc.terms[satTerm]
	satIdx = earliest[satTerm]
	sat := s.assigns[satIdx]
	prevLevel = 1
	for i := range inc.terms {
		if i == satTerm {
			continue
		}
		if l := s.assigns[earliest[i]].level; l > prevLevel {
			prevLevel = l
		}
	}
	// The satisfier's own package: the earliest assignment that, with the
	// satisfier, satisfies the term.
	st := &s.state[t.pkg]
	for j, acc := range st.accum {
		if acc.and(sat.set).subsetOf(t.set) {
			if l := s.assigns[st.assigns[j]].level; l > prevLevel {
				prevLevel = l
			}
			break
		}
	}
	return t.pkg, satIdx, prevLevel
}

// priorCause derives, from inc and the cause of its satisfier on package p,
// an incompatibility without the satisfier: the union of their terms, with
// p's terms joined.
func (s *solver) priorCause(incID, causeID, p int) int {
	inc, cause := s.incompats[incID], s.incompats[causeID]
	n := s.pkgs[p].n()
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
	out := &incompat{kind: kindDerived, cause1: incID, cause2: causeID}
	for _, q := range order {
		out.terms = append(out.terms, term{q, merged[q]})
	}
	if pTerm != nil && !pTerm.isFull(n) {
		out.terms = append(out.terms, term{p, pTerm})
	}
	sort.SliceStable(out.terms, func(i, j int) bool { return out.terms[i].pkg < out.terms[j].pkg })
	return s.store(out)
}

func (s *solver) backtrack(level int) {
	cut := len(s.assigns)
	for cut > 0 && s.assigns[cut-1].level > level {
		cut--
	}
	for i := len(s.assigns) - 1; i >= cut; i-- {
		a := s.assigns[i]
		st := &s.state[a.pkg]
		st.assigns = st.assigns[:len(st.assigns)-1]
		st.accum = st.accum[:len(st.accum)-1]
		if a.cause < 0 {
			st.decided = false
		}
	}
	s.assigns = s.assigns[:cut]
	s.level = level
	for len(s.contraStack) > 0 {
		top := s.contraStack[len(s.contraStack)-1]
		if s.contradicted[top] <= level {
			break
		}
		s.contradicted[top] = -1
		s.contraStack = s.contraStack[:len(s.contraStack)-1]
	}
	s.candidates = s.candidates[:0]
	for p := range s.state {
		st := &s.state[p]
		if cur := st.current(); cur != nil && !st.decided && cur.positive(s.pkgs[p].n()) {
			s.candidates = append(s.candidates, p)
		}
	}
}

// failure builds the error for a terminal incompatibility.
func (s *solver) failure(id int) error {
	e := &NoSolutionError{Explanation: s.explain(id)}
	// A missing bundle on every path is reported as not found too.
	var walk func(int) bool
	seen := map[int]bool{}
	walk = func(i int) bool {
		if seen[i] {
			return false
		}
		seen[i] = true
		inc := s.incompats[i]
		switch inc.kind {
		case kindNotFound:
			return true
		case kindDerived:
			return walk(inc.cause1) || walk(inc.cause2)
		}
		return false
	}
	e.notFound = walk(id)
	return e
}

// NoSolutionError explains why no set of versions satisfies the
// requirements, as a chain of plain sentences.
type NoSolutionError struct {
	Explanation string
	notFound    bool
}

func (e *NoSolutionError) Error() string { return e.Explanation }

// Is reports ErrConflict, and ErrNotFound when a missing bundle is among
// the causes.
func (e *NoSolutionError) Is(target error) bool {
	return target == ErrConflict || (e.notFound && target == ErrNotFound)
}

func reqsKey(reqs []Requirement) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Instance)
		b.WriteByte('=')
		b.WriteString(r.Constraint.String())
		b.WriteByte(';')
	}
	return b.String()
}
