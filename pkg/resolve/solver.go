package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
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
	cons     map[string]set    // constraint text -> versions it allows
	release  set               // versions without a prerelease
	exact    map[[3]uint64]int // release version -> index, for "=X.Y.Z"
	deps     map[int][]Requirement
}

func (p *pkg) n() int { return len(p.versions) }

// exactVersion handles the commonest constraint, "=X.Y.Z" (or "X.Y.Z"),
// by a map lookup; nil means "not that form".
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

// allows returns the versions a requirement's constraint allows, as a
// positive set.
func (p *pkg) allows(r Requirement) set {
	c := r.Constraint
	key := r.Text
	if key == "" {
		key = c.String()
	}
	if s, ok := p.cons[key]; ok {
		return s
	}
	if s := p.exactVersion(key); s != nil {
		if p.cons == nil {
			p.cons = map[string]set{}
		}
		p.cons[key] = s
		return s
	}
	if p.release == nil {
		p.release = releaseSet(p.versions)
	}
	s, ok := compileWith(key, p.versions, p.release)
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
	// one is the version index when set is a single version (a positive
	// term), else -1; notOne is the index when set is every version but one
	// plus "not selected" (a negative term on one version), else -1. They
	// are fast paths for the common exact-version case.
	one, notOne int
}

func mkTerm(pkg int, s set, n int) term {
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

// quick decides in O(1) whether a single-version term (one or notOne) is
// satisfied or contradicted by a package's current state; ok is false when
// it cannot tell and the sets must be compared.
func (t qterm) quick(st *pkgState) (satisfied, contradicted, ok bool) {
	if t.one < 0 && t.notOne < 0 {
		return false, false, false
	}
	cur := st.current()
	if cur == nil {
		return false, false, true // nothing assigned: everything still possible
	}
	if st.empty {
		return false, false, false
	}
	if t.one >= 0 {
		return st.one == int(t.one), !cur.has(int(t.one)), true
	}
	return !cur.has(int(t.notOne)), st.one == int(t.notOne), true
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
	// one is the version index when the current intersection is a single
	// version, else -1; empty says it holds nothing at all.
	one   int
	empty bool
	// rooted is the intersection of the assignments made at decision
	// level 1 or below, which no backjump removes: a term it contradicts
	// stays contradicted, and incompatibilities holding one are dropped.
	rooted set
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
	// Propagation watches two terms of every incompatibility with two or
	// more (two-watched-literal scheme): it is examined only when one of
	// them becomes satisfied. watching[id] holds the watched term indexes,
	// watchers[pkg] the incompatibilities watching a term of pkg; units[pkg]
	// the one-term incompatibilities on pkg.
	watching [][2]int
	watchers [][]watchEntry
	// singles[pkg][v] holds the entries whose watched term is exactly
	// version v of pkg: they can only fire when pkg is at v, so propagation
	// looks at one bucket instead of all of them.
	singles []map[int]*[]watchEntry
	// blocked[pkg] groups the other entries by their blocker's bundle and
	// version when the blocker is a single version: propagation skips a
	// whole bucket when its blocker is contradicted.
	blocked [][]*blockGroup
	units   [][]int
	// dead marks incompatibilities replaced by a merged one; their watch
	// entries are dropped when met.
	dead []bool
	// pending lists new incompatibilities that may already be almost
	// satisfied or satisfied, to examine before propagating.
	pending []int

	assigns    []assignment
	state      []pkgState
	level      int
	candidates []int // packages that may have a positive, undecided term

	// lastDep is the latest dependency incompatibility of a package on a
	// bundle, to merge versions with the same requirements into it.
	lastDep map[[2]int]int

	decisions, conflicts int
}

// watchEntry is one incompatibility watching a term of a package, with a
// blocker: another of its terms, checked first in O(1) (when it is a single
// version) so that incompatibilities that cannot fire are skipped without
// touching them. Any term of the incompatibility is a valid blocker.
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

const rootPkg = 0

func newSolver(ctx context.Context, src Source, root []Requirement, opts Options) *solver {
	s := &solver{ctx: ctx, src: src, opts: opts, byName: map[string]int{}, lastDep: map[[2]int]int{}}
	r := &pkg{name: "the root", loaded: true, versions: []*semver.Version{semver.New(0, 0, 0, "", "")}}
	if opts.Root != nil {
		r.name, r.ref, r.versions = opts.Root.Name, opts.Root.Ref, []*semver.Version{opts.Root.Version}
		s.byName[r.name] = rootPkg
	}
	r.deps = map[int][]Requirement{0: root}
	s.pkgs = append(s.pkgs, r)
	s.watchers = append(s.watchers, nil)
	s.singles = append(s.singles, nil)
	s.blocked = append(s.blocked, nil)
	s.units = append(s.units, nil)
	s.state = append(s.state, pkgState{one: -1})
	return s
}

// intern returns the package for a requirement's bundle, registering it.
func (s *solver) intern(r Requirement) (int, error) {
	if id, ok := s.byName[r.Name]; ok {
		if p := s.pkgs[id]; id != rootPkg && p.ref != r.Ref {
			return 0, errdefs.New(ErrConflict, "%s, but %s also comes from %s: one bundle name must come from one repository", r, r.Name, p.ref.Repository)
		}
		return id, nil
	}
	id := len(s.pkgs)
	s.pkgs = append(s.pkgs, &pkg{name: r.Name, ref: r.Ref})
	s.byName[r.Name] = id
	s.watchers = append(s.watchers, nil)
	s.singles = append(s.singles, nil)
	s.blocked = append(s.blocked, nil)
	s.units = append(s.units, nil)
	s.state = append(s.state, pkgState{one: -1})
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
	s.add(&incompat{terms: []term{mkTerm(rootPkg, singleSet(1, 0).not(1), 1)}, kind: kindRoot})
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

// add registers an incompatibility for propagation and returns its id.
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
	s.watching = append(s.watching, [2]int{-1, -1})
	s.dead = append(s.dead, false)
	return id
}

// watch makes propagation consider an incompatibility: it watches the two
// terms most likely to wake it, unsatisfied ones first, then the most
// recently satisfied.
func (s *solver) watch(id int) {
	inc := s.incompats[id]
	if len(inc.terms) == 1 {
		p := inc.terms[0].pkg
		s.units[p] = append(s.units[p], id)
		return
	}
	best := [2]int{-1, -1}
	scores := make([]int, len(inc.terms))
	for i, t := range inc.terms {
		scores[i] = 1 << 62 // not satisfied: the best to watch
		if s.satisfied(t) {
			// Satisfied: prefer the one satisfied last.
			scores[i] = s.firstSatisfying(t)
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
	s.watching[id] = best
	for i, k := range best {
		s.addEntry(watchEntry{int32(id), inc.terms[k].q(), inc.terms[best[1-i]].q()})
	}
}

// addEntry files a watch entry: by its own version when its term is a
// single version, else by its blocker's version when that is one, else in
// the package's general list.
func (s *solver) addEntry(e watchEntry) {
	p, one, bp, bone := int(e.self.pkg), int(e.self.one), int(e.blk.pkg), int(e.blk.one)
	var l *[]watchEntry
	switch {
	case one >= 0:
		l = s.singleList(p, one)
	case bone >= 0:
		var g *blockGroup
		for _, x := range s.blocked[p] {
			if x.q == bp {
				g = x
				break
			}
		}
		if g == nil {
			g = &blockGroup{q: bp, lists: map[int]*[]watchEntry{}}
			s.blocked[p] = append(s.blocked[p], g)
		}
		var ok bool
		if l, ok = g.lists[bone]; !ok {
			l = new([]watchEntry)
			g.lists[bone] = l
			g.buckets = append(g.buckets, blockBucket{bone, l})
		}
	default:
		l = &s.watchers[p]
	}
	*l = append(*l, e)
}

// singleList is the bucket of entries watching exactly version v of p.
func (s *solver) singleList(p, v int) *[]watchEntry {
	m := s.singles[p]
	if m == nil {
		m = map[int]*[]watchEntry{}
		s.singles[p] = m
	}
	l, ok := m[v]
	if !ok {
		l = new([]watchEntry)
		m[v] = l
	}
	return l
}

// unwatch removes an incompatibility from propagation: a unit at once, a
// watched one when its entries are next met.
func (s *solver) unwatch(id int) {
	inc := s.incompats[id]
	if len(inc.terms) == 1 {
		p := inc.terms[0].pkg
		for i, x := range s.units[p] {
			if x == id {
				s.units[p] = append(s.units[p][:i], s.units[p][i+1:]...)
				break
			}
		}
		return
	}
	s.dead[id] = true
}

// replace puts incompatibility nu in the place of old in propagation.
func (s *solver) replace(old, nu int) {
	s.unwatch(old)
	s.watch(nu)
}

func (s *solver) satisfied(t term) bool {
	cur := s.state[t.pkg].current()
	return cur != nil && cur.subsetOf(t.set)
}

func (s *solver) contradicts(t term) bool {
	cur := s.state[t.pkg].current()
	return cur != nil && cur.disjoint(t.set)
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
	enqueue := func(p int) {
		if !queued[p] {
			changed = append(changed, p)
			queued[p] = true
		}
	}
	// conflict learns from a satisfied incompatibility, backjumps, and
	// derives from the learned one; propagation restarts from there.
	conflict := func(id int) error {
		learned, err := s.resolveConflict(id)
		if err != nil {
			return err
		}
		rel, unsat := s.relation(s.incompats[learned])
		if rel != almostSatisfied {
			return fmt.Errorf("internal error: learned incompatibility is not almost satisfied")
		}
		t := s.incompats[learned].terms[unsat]
		s.derive(t.pkg, t.set, learned)
		changed = changed[:0]
		clear(queued)
		enqueue(t.pkg)
		return nil
	}
	for _, id := range s.pending {
		rel, unsat := s.relation(s.incompats[id])
		if rel == satisfied {
			s.pending = s.pending[:0]
			if err := conflict(id); err != nil {
				return err
			}
			break
		}
		if rel == almostSatisfied {
			t := s.incompats[id].terms[unsat]
			s.derive(t.pkg, t.set, id)
			enqueue(t.pkg)
		}
	}
	s.pending = s.pending[:0]
next:
	for len(changed) > 0 {
		p := changed[len(changed)-1]
		changed = changed[:len(changed)-1]
		delete(queued, p)
		for i := len(s.units[p]) - 1; i >= 0; i-- {
			id := s.units[p][i]
			t := s.incompats[id].terms[0]
			switch {
			case s.satisfied(t):
				if err := conflict(id); err != nil {
					return err
				}
				continue next
			case !s.contradicts(t):
				s.derive(p, t.set, id)
				enqueue(p)
			}
		}
		lists := []*[]watchEntry{&s.watchers[p]}
		if m := s.singles[p]; m != nil {
			st := &s.state[p]
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
		for _, g := range s.blocked[p] {
			bs := &s.state[g.q]
			if bs.one >= 0 {
				if l, ok := g.lists[bs.one]; ok && len(*l) > 0 {
					lists = append(lists, l)
				}
				continue
			}
			cur := bs.current()
			live := g.buckets[:0]
			for _, b := range g.buckets {
				v, l := b.v, b.l
				if bs.rooted != nil && !bs.rooted.has(v) {
					delete(g.lists, v) // contradicted for good
					continue
				}
				live = append(live, b)
				if cur != nil && !bs.empty && !cur.has(v) {
					continue // blocker contradicted
				}
				if len(*l) == 0 {
					continue
				}
				lists = append(lists, l)
			}
			g.buckets = live
		}
		for _, lp := range lists {
			ws := *lp
			for i := len(ws) - 1; i >= 0; i-- {
				e := &ws[i]
				// O(1) checks on single versions, without touching the
				// incompatibility: its term here is not satisfied, or its
				// blocker term is contradicted.
				if sat, _, ok := e.self.quick(&s.state[p]); ok && !sat {
					continue
				}
				if _, con, ok := e.blk.quick(&s.state[e.blk.pkg]); ok && con {
					continue
				}
				id := int(e.id)
				inc := s.incompats[id]
				w := s.watching[id]
				k := 0
				if inc.terms[w[0]].pkg != p {
					k = 1
				}
				if !s.satisfied(inc.terms[w[k]]) {
					continue
				}
				// Move the watch to another term that is not satisfied.
				moved := false
				for j, u := range inc.terms {
					if j == w[0] || j == w[1] || s.satisfied(u) {
						continue
					}
					w[k] = j
					s.watching[id] = w
					ws[i] = ws[len(ws)-1]
					ws = ws[:len(ws)-1]
					*lp = ws
					s.addEntry(watchEntry{int32(id), u.q(), inc.terms[w[1-k]].q()})
					moved = true
					break
				}
				if moved {
					continue
				}
				o := inc.terms[w[1-k]]
				switch {
				case s.satisfied(o):
					if err := conflict(id); err != nil {
						return err
					}
					continue next
				case !s.contradicts(o):
					s.derive(o.pkg, o.set, id)
					enqueue(o.pkg)
				}
			}
		}
	}
	return nil
}

// derive records that p is not in the incompatibility's term t (the
// assignment "not t"), intersecting it into p's state in one pass. The
// assignment's own set is left to assignSet, which rebuilds it when needed.
func (s *solver) derive(p int, t set, cause int) {
	n := s.pkgs[p].n()
	acc := make(set, len(t))
	cur := s.state[p].current()
	for i := range t {
		x := ^t[i]
		if cur != nil {
			x &= cur[i]
		}
		acc[i] = x
	}
	acc.trim(n)
	s.push(assignment{pkg: p, level: s.level, cause: cause}, acc)
}

// assignSet returns an assignment's set: the decision's version, or the
// negation of its cause's term on the package.
func (s *solver) assignSet(a assignment) set {
	if a.set != nil {
		return a.set
	}
	for _, t := range s.incompats[a.cause].terms {
		if t.pkg == a.pkg {
			return t.set.not(s.pkgs[a.pkg].n())
		}
	}
	panic("resolve: derivation without a term on its package")
}

func (s *solver) assign(a assignment) {
	acc := a.set
	if cur := s.state[a.pkg].current(); cur != nil {
		acc = cur.and(a.set)
	}
	s.push(a, acc)
}

// push appends an assignment whose package state becomes acc.
func (s *solver) push(a assignment, acc set) {
	st := &s.state[a.pkg]
	st.assigns = append(st.assigns, len(s.assigns))
	st.accum = append(st.accum, acc)
	st.one = mkTerm(a.pkg, acc, s.pkgs[a.pkg].n()).one
	st.empty = acc.empty()
	if a.level <= 1 {
		st.rooted = acc
	}
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
		s.add(&incompat{terms: []term{mkTerm(best, cur, pk.n())}, kind: kindNoVersions})
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
			s.pending = append(s.pending, added...)
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
	// Group the requirements by bundle, in order (usually one each).
	type group struct {
		d    int
		reqs []Requirement
	}
	var groups []group
	order := make([]int, 0, len(reqs))
	for _, r := range reqs {
		id, err := s.intern(r)
		if err != nil {
			return nil, err
		}
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
	if err := s.load(order); err != nil {
		return nil, err
	}
	pn := s.pkgs[p].n()
	added := make([]int, 0, len(groups))
	for _, g := range groups {
		d, greqs := g.d, g.reqs
		dp := s.pkgs[d]
		n := dp.n()
		self := term{pkg: p, set: singleSet(pn, vi), one: vi, notOne: -1}
		if dp.missing {
			added = append(added, s.add(&incompat{terms: []term{self}, kind: kindNotFound, from: p, to: d, reqs: greqs}))
			continue
		}
		// The versions all of p's requirements on d allow (positive).
		allowed := dp.allows(greqs[0]) // shared: not modified
		if len(greqs) > 1 {
			allowed = append(set(nil), allowed...)
			for _, r := range greqs[1:] {
				allowed.andWith(dp.allows(r))
			}
		}
		inc := &incompat{kind: kindDependency, from: p, to: d, reqs: greqs}
		if d == p {
			// A bundle requiring itself: fine when its own version fits.
			if allowed.has(vi) {
				continue
			}
			inc.terms = []term{self}
		} else {
			inc.terms = []term{self}
			if neg := allowed.not(n); !neg.isFull(n) {
				inc.terms = append(inc.terms, mkTerm(d, neg, n))
			}
		}
		// Versions of p with the same requirements on d share one
		// incompatibility: "p >=1.0.0 <2.0.0 requires d ^1". Versions are
		// tried newest first, so comparing with p's latest one on d is
		// enough to merge runs of them.
		key := [2]int{p, d}
		if old, ok := s.lastDep[key]; ok && d != p && sameRequirement(s.incompats[old], inc) {
			prev := s.incompats[old]
			inc.terms[0] = mkTerm(p, prev.terms[0].set.or(self.set), pn)
			id := s.store(inc)
			s.replace(old, id)
			s.lastDep[key] = id
			added = append(added, id)
			continue
		}
		id := s.add(inc)
		if d != p {
			s.lastDep[key] = id
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
			s.backtrack(prevLevel)
			if learned {
				s.watch(id)
			}
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
		earliest[i] = s.firstSatisfying(t)
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
	satSet := s.assignSet(sat)
	for j, acc := range st.accum {
		if acc.and(satSet).subsetOf(t.set) {
			if l := s.assigns[st.assigns[j]].level; l > prevLevel {
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
func (s *solver) firstSatisfying(t term) int {
	st := &s.state[t.pkg]
	j := sort.Search(len(st.accum), func(j int) bool { return st.accum[j].subsetOf(t.set) })
	if j == len(st.accum) {
		return -1
	}
	return st.assigns[j]
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
		out.terms = append(out.terms, mkTerm(q, merged[q], s.pkgs[q].n()))
	}
	if pTerm != nil && !pTerm.isFull(n) {
		out.terms = append(out.terms, mkTerm(p, pTerm, n))
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
		st.one, st.empty = -1, false
		if cur := st.current(); cur != nil {
			st.one = mkTerm(a.pkg, cur, s.pkgs[a.pkg].n()).one
			st.empty = cur.empty()
		}
		if a.cause < 0 {
			st.decided = false
		}
	}
	s.assigns = s.assigns[:cut]
	s.level = level
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
	e := &NoSolutionError{Explanation: s.explain(id), Decisions: s.decisions, Conflicts: s.conflicts}
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
	// Decisions and Conflicts are the solver's statistics up to failing.
	Decisions, Conflicts int
	notFound             bool
}

func (e *NoSolutionError) Error() string { return e.Explanation }

// Is reports ErrConflict, and ErrNotFound when a missing bundle is among
// the causes.
func (e *NoSolutionError) Is(target error) bool {
	return target == ErrConflict || (e.notFound && target == ErrNotFound)
}

// sameRequirement reports whether two dependency incompatibilities of one
// bundle on another say the same: same instances, same allowed versions.
func sameRequirement(a, b *incompat) bool {
	if len(a.reqs) != len(b.reqs) || len(a.terms) != len(b.terms) {
		return false
	}
	for i := range a.reqs {
		if a.reqs[i].Instance != b.reqs[i].Instance {
			return false
		}
	}
	return len(a.terms) < 2 || a.terms[1].set.equal(b.terms[1].set)
}
