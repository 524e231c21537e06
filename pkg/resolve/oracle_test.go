package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// randomRegistry builds a registry of up to 8 bundles with up to 6 versions
// each, whose versions require up to 3 other bundles with random
// constraints, and a root requiring up to 3 bundles. About a third of the
// bundles also exist, with other versions and requirements, in a second
// repository ("alt"), and requirements on them name either; now and then a
// requirement names a repository that lacks the bundle.
func randomRegistry(rng *rand.Rand) (*registry, []Requirement) {
	reg := newRegistry()
	nb := 2 + rng.Intn(7)
	names := make([]string, nb)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i)
	}
	repos := map[string][]string{}    // name -> repositories holding it
	versions := map[string][]string{} // "repository/name" -> versions
	for _, n := range names {
		repos[n] = []string{"stable"}
		if rng.Intn(3) == 0 {
			repos[n] = append(repos[n], "alt")
		}
		for _, repo := range repos[n] {
			key := repo + "/" + n
			nv := 1 + rng.Intn(6)
			seen := map[string]bool{}
			for j := 0; j < nv; j++ {
				v := fmt.Sprintf("%d.%d.0", 1+rng.Intn(3), rng.Intn(3))
				if !seen[v] {
					seen[v] = true
					versions[key] = append(versions[key], v)
				}
			}
		}
	}
	constraint := func(key string) string {
		vs := versions[key]
		if len(vs) == 0 {
			return "*"
		}
		v := vs[rng.Intn(len(vs))]
		switch rng.Intn(7) {
		case 0:
			return v
		case 1:
			return "^" + v
		case 2:
			return "~" + v
		case 3:
			return ">=" + v
		case 4:
			return "<" + v
		case 5:
			return "*"
		default:
			return fmt.Sprintf("%s || %s", vs[rng.Intn(len(vs))], vs[rng.Intn(len(vs))])
		}
	}
	req := func(n string) Requirement {
		rs := repos[n]
		repo := rs[rng.Intn(len(rs))]
		if rng.Intn(40) == 0 {
			repo = "gone"
		}
		c, err := semver.NewConstraint(constraint(repo + "/" + n))
		if err != nil {
			panic(err)
		}
		return Requirement{Ref: Ref{Repository: repo, Name: n}, Instance: n, Constraint: c}
	}
	for i, n := range names {
		for _, repo := range repos[n] {
			for _, v := range versions[repo+"/"+n] {
				var reqs []Requirement
				for k := rng.Intn(4); k > 0; k-- {
					d := names[rng.Intn(nb)]
					if d == n && i%2 == 0 {
						continue
					}
					reqs = append(reqs, req(d))
				}
				reg.add(repo+"/"+n, v, reqs...)
			}
		}
	}
	var root []Requirement
	for k := 1 + rng.Intn(3); k > 0; k-- {
		root = append(root, req(names[rng.Intn(nb)]))
	}
	return reg, root
}

// oracle searches every assignment exhaustively: one version per name,
// from the repository every requirement on that name names.
func oracle(reg *registry, root []Requirement) (Solution, bool) {
	sel := map[string]Selected{}
	var search func() bool
	search = func() bool {
		// Every requirement of the root and of selected versions.
		pending := append([]Requirement(nil), root...)
		for _, s := range sel {
			pending = append(pending, reg.reqs[refVersion{s.Ref, s.Version.Original()}]...)
		}
		for _, r := range pending {
			if s, ok := sel[r.Name]; ok {
				if s.Ref != r.Ref || !r.Constraint.Check(s.Version) {
					return false
				}
			}
		}
		for _, r := range pending {
			if _, ok := sel[r.Name]; ok {
				continue
			}
			for _, v := range reg.versions[r.Ref] {
				if !r.Constraint.Check(v) {
					continue
				}
				sel[r.Name] = Selected{Ref: r.Ref, Version: v}
				if search() {
					return true
				}
				delete(sel, r.Name)
			}
			return false
		}
		return true
	}
	if !search() {
		return nil, false
	}
	out := Solution{}
	for n, s := range sel {
		out[n] = s
	}
	return out, true
}

// valid checks a solution: every requirement of the root and of every
// selected version is selected, from the repository it names, and
// satisfied, and nothing else is selected.
func valid(reg *registry, root []Requirement, sol Solution) error {
	needed := map[string]bool{}
	check := func(by string, reqs []Requirement) error {
		for _, r := range reqs {
			s, ok := sol[r.Name]
			if !ok {
				return fmt.Errorf("%s requires %s %s, which is not selected", by, r.Name, r.Constraint)
			}
			if s.Ref != r.Ref {
				return fmt.Errorf("%s requires %s from %s, but %s is selected", by, r.Name, r.Repository, s.Ref)
			}
			if !r.Constraint.Check(s.Version) {
				return fmt.Errorf("%s requires %s %s, but %s is selected", by, r.Name, r.Constraint, s.Version)
			}
			needed[r.Name] = true
		}
		return nil
	}
	if err := check("root", root); err != nil {
		return err
	}
	for n, s := range sol {
		if err := check(n+" "+s.Version.String(), reg.reqs[refVersion{s.Ref, s.Version.Original()}]); err != nil {
			return err
		}
	}
	for n := range sol {
		if !needed[n] {
			return fmt.Errorf("%s is selected but nothing requires it", n)
		}
	}
	return nil
}

func TestAgainstOracle(t *testing.T) {
	cases := 3000
	if testing.Short() {
		cases = 300
	}
	solvable, clashes := 0, 0
	for seed := 0; seed < cases; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		reg, root := randomRegistry(rng)
		res, err := Solve(context.Background(), reg, root, Options{})
		_, exists := oracle(reg, root)
		switch {
		case err != nil && !errors.Is(err, ErrConflict):
			t.Fatalf("seed %d: unexpected error: %v", seed, err)
		case err != nil && strings.Contains(err.Error(), " from "):
			clashes++
		}
		switch {
		case err == nil && !exists:
			t.Fatalf("seed %d: solver found %s but the oracle finds no solution", seed, show(res.Solution))
		case err != nil && exists:
			t.Fatalf("seed %d: the oracle finds a solution but the solver says:\n%v", seed, err)
		case err == nil:
			solvable++
			if verr := valid(reg, root, res.Solution); verr != nil {
				t.Fatalf("seed %d: invalid solution %s: %v", seed, show(res.Solution), verr)
			}
			again, err := Solve(context.Background(), reg, root, Options{})
			if err != nil || show(again.Solution) != show(res.Solution) {
				t.Fatalf("seed %d: not deterministic: %s then %v %v", seed, show(res.Solution), again, err)
			}
		}
	}
	t.Logf("%d cases, %d solvable, %d explanations name a repository", cases, solvable, clashes)
	if clashes == 0 {
		t.Errorf("no failure involves two repositories")
	}
	if solvable < cases/10 || solvable > cases*9/10 {
		t.Errorf("the generator is lopsided: %d of %d solvable", solvable, cases)
	}
}

// The ranges explanations replay (symbols.go) say of every release version
// that exists what the solver's bitsets say, for every term of every
// incompatibility, solvable or not: they differ only on versions that do
// not exist (and on prereleases, which the bitsets alone say).
func TestSymbolsAgreeWithBitsets(t *testing.T) {
	cases := 1000
	if testing.Short() {
		cases = 100
	}
	checked := 0
	for seed := 0; seed < cases; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		reg, root := randomRegistry(rng)
		// Prereleases, which ranges leave out, between the releases.
		var refs []string
		for ref := range reg.versions {
			refs = append(refs, ref.String())
		}
		sort.Strings(refs)
		for _, ref := range refs {
			if rng.Intn(2) == 0 {
				reg.add(ref, fmt.Sprintf("%d.%d.0-rc.1", 1+rng.Intn(3), rng.Intn(3)))
			}
		}
		s := newSolver(reg, root, Options{})
		if err := s.solve(context.Background()); err != nil && !errors.Is(err, ErrConflict) {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for id, inc := range s.incompats {
			rs := s.symbols().of(id)
			for k, term := range inc.terms {
				for i, v := range s.cat.pkgs[term.pkg].versions {
					if v.Prerelease() != "" {
						continue
					}
					if got, want := rs[k].contains(v), term.set.has(i); got != want {
						t.Fatalf("seed %d: incompatibility %d (cause %d), term on %s: range %v holds %s: %v, bitset: %v",
							seed, id, inc.cause, s.cat.pkgs[term.pkg].ref, rs[k], v, got, want)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d term versions checked", checked)
}
