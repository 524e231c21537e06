package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// randomRegistry builds a registry of up to 8 bundles with up to 6 versions
// each, whose versions require up to 3 other bundles with random
// constraints, and a root requiring up to 3 bundles.
func randomRegistry(rng *rand.Rand) (*registry, []Requirement) {
	reg := newRegistry()
	nb := 2 + rng.Intn(7)
	names := make([]string, nb)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i)
	}
	versions := map[string][]string{}
	for _, n := range names {
		nv := 1 + rng.Intn(6)
		seen := map[string]bool{}
		for j := 0; j < nv; j++ {
			v := fmt.Sprintf("%d.%d.0", 1+rng.Intn(3), rng.Intn(3))
			if !seen[v] {
				seen[v] = true
				versions[n] = append(versions[n], v)
			}
		}
	}
	constraint := func(n string) string {
		vs := versions[n]
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
		c, err := semver.NewConstraint(constraint(n))
		if err != nil {
			panic(err)
		}
		return Requirement{Ref: Ref{Repository: "stable", Name: n}, Instance: n, Constraint: c}
	}
	for i, n := range names {
		for _, v := range versions[n] {
			var reqs []Requirement
			for k := rng.Intn(4); k > 0; k-- {
				d := names[rng.Intn(nb)]
				if d == n && i%2 == 0 {
					continue
				}
				reqs = append(reqs, req(d))
			}
			reg.add(n, v, reqs...)
		}
	}
	var root []Requirement
	for k := 1 + rng.Intn(3); k > 0; k-- {
		root = append(root, req(names[rng.Intn(nb)]))
	}
	return reg, root
}

// oracle searches every assignment exhaustively.
func oracle(reg *registry, root []Requirement) (Solution, bool) {
	sel := map[string]*semver.Version{}
	var search func() bool
	search = func() bool {
		// Every requirement of the root and of selected versions.
		pending := append([]Requirement(nil), root...)
		for n, v := range sel {
			pending = append(pending, reg.reqs[n+"@"+v.Original()]...)
		}
		for _, r := range pending {
			if v, ok := sel[r.Name]; ok {
				if !r.Constraint.Check(v) {
					return false
				}
			}
		}
		for _, r := range pending {
			if _, ok := sel[r.Name]; ok {
				continue
			}
			for _, v := range reg.versions[r.Name] {
				if !r.Constraint.Check(v) {
					continue
				}
				sel[r.Name] = v
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
	for n, v := range sel {
		out[n] = Selected{Ref: Ref{Repository: "stable", Name: n}, Version: v}
	}
	return out, true
}

// valid checks a solution: every requirement of the root and of every
// selected version is selected and satisfied, and nothing else is selected.
func valid(reg *registry, root []Requirement, sol Solution) error {
	needed := map[string]bool{}
	check := func(by string, reqs []Requirement) error {
		for _, r := range reqs {
			s, ok := sol[r.Name]
			if !ok {
				return fmt.Errorf("%s requires %s %s, which is not selected", by, r.Name, r.Constraint)
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
		if err := check(n+" "+s.Version.String(), reg.reqs[n+"@"+s.Version.Original()]); err != nil {
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
	solvable := 0
	for seed := 0; seed < cases; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		reg, root := randomRegistry(rng)
		res, err := Solve(context.Background(), reg, root, Options{})
		_, exists := oracle(reg, root)
		switch {
		case err != nil && !errors.Is(err, ErrConflict):
			t.Fatalf("seed %d: unexpected error: %v", seed, err)
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
	t.Logf("%d cases, %d solvable", cases, solvable)
	if solvable < cases/10 || solvable > cases*9/10 {
		t.Errorf("the generator is lopsided: %d of %d solvable", solvable, cases)
	}
}
