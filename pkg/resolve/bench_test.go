package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func mustReq(name, constraint string) Requirement {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		panic(err)
	}
	return Requirement{Ref: Ref{Repository: "stable", Name: name}, Instance: name, Constraint: c, Text: constraint}
}

// treeRegistry: (a) a tree of n bundles (each with 10 versions, each
// version requiring its two children ^1), solvable with the newest versions.
func treeRegistry(n int) (*registry, []Requirement) {
	reg := newRegistry()
	for i := 0; i < n; i++ {
		for v := 0; v < 10; v++ {
			var reqs []Requirement
			for _, c := range []int{2*i + 1, 2*i + 2} {
				if c < n {
					reqs = append(reqs, mustReq(fmt.Sprintf("p%d", c), "^1.0.0"))
				}
			}
			reg.add(fmt.Sprintf("p%d", i), fmt.Sprintf("1.%d.0", v), reqs...)
		}
	}
	return reg, []Requirement{mustReq("p0", "*")}
}

// sameVersionChain is a registry of p1..p(n-1), with versions 1..m-1 each
// requiring exactly the same version of the next package, and p1 0.0.0
// without requirements.
func sameVersionChain(n, m int) *registry {
	reg := newRegistry()
	reg.add("p1", "0.0.0")
	for p := 1; p < n; p++ {
		for v := 1; v < m; v++ {
			reg.add(fmt.Sprintf("p%d", p), fmt.Sprintf("%d.0.0", v), mustReq(fmt.Sprintf("p%d", p+1), fmt.Sprintf("=%d.0.0", v)))
		}
	}
	return reg
}

// singletonRegistry: (b) pubgrub-rs's backtracking_singletons: p1..p(n-1)
// have versions 1..m-1, each requiring exactly the same version of the next
// package; p(n) does not exist, and p1 also has 0.0.0 without requirements,
// which is the only way out, found after trying every other version.
func singletonRegistry(n, m int) (*registry, []Requirement) {
	return sameVersionChain(n, m), []Requirement{mustReq("p1", "*")}
}

// disjointRegistry: (c) pubgrub-rs's backtracking_disjoint_versions: the
// root requires p1 (any) and x 0.0.0; p1..p(n-1) have versions 1..m-1, each
// requiring exactly the same version of the next package, and p(n)'s
// versions require that same version of x: every chain but p1 0.0.0 ends
// on a version of x disjoint from the root's.
func disjointRegistry(n, m int) (*registry, []Requirement) {
	reg := sameVersionChain(n, m)
	for v := 1; v < m; v++ {
		reg.add(fmt.Sprintf("p%d", n), fmt.Sprintf("%d.0.0", v), mustReq("x", fmt.Sprintf("=%d.0.0", v)))
	}
	for v := 0; v < m; v++ {
		reg.add("x", fmt.Sprintf("%d.0.0", v))
	}
	return reg, []Requirement{mustReq("p1", "*"), mustReq("x", "=0.0.0")}
}

// realisticRegistry: (d) an app with 30 infrastructure requirements, each
// bundle with 300 versions (majors 1-3, minors, patches), infrastructure
// requiring shared libraries, libraries requiring bases: depth 3. The
// newest versions of some pairs conflict, so a little backtracking is
// needed.
func realisticRegistry(seed int64) (*registry, []Requirement) {
	rng := rand.New(rand.NewSource(seed))
	reg := newRegistry()
	version := func(i int) string { return fmt.Sprintf("%d.%d.%d", 1+i/100, i%100/10, i%10) }
	for b := 0; b < 5; b++ {
		for i := 0; i < 300; i++ {
			reg.add(fmt.Sprintf("base%d", b), version(i))
		}
	}
	for l := 0; l < 20; l++ {
		for i := 0; i < 300; i++ {
			major := 1 + i/100
			reqs := []Requirement{mustReq(fmt.Sprintf("base%d", rng.Intn(5)), fmt.Sprintf("^%d.0.0", 1+rng.Intn(major)))}
			reg.add(fmt.Sprintf("lib%d", l), version(i), reqs...)
		}
	}
	var root []Requirement
	for s := 0; s < 30; s++ {
		name := fmt.Sprintf("infra%d", s)
		for i := 0; i < 300; i++ {
			major := 1 + i/100
			var reqs []Requirement
			for k := 0; k < 2; k++ {
				reqs = append(reqs, mustReq(fmt.Sprintf("lib%d", rng.Intn(20)), fmt.Sprintf("^%d.0.0", 1+rng.Intn(major))))
			}
			reg.add(name, version(i), reqs...)
		}
		root = append(root, mustReq(name, fmt.Sprintf(">=1.0.0, <%d.0.0", 3+rng.Intn(2))))
	}
	return reg, root
}

// chainRegistry: (e) p0 requires p1 requires ... p(n-1) requires a
// version of p(n) that does not exist: unsatisfiable, n deep.
func chainRegistry(n int) (*registry, []Requirement) {
	reg := newRegistry()
	for i := 0; i < n; i++ {
		reg.add(fmt.Sprintf("p%d", i), "1.0.0", mustReq(fmt.Sprintf("p%d", i+1), "^1.0.0"))
	}
	reg.add(fmt.Sprintf("p%d", n), "2.0.0")
	return reg, []Requirement{mustReq("p0", "*")}
}

type benchCase struct {
	name     string
	build    func() (*registry, []Requirement)
	solvable bool
}

var benchCases = []benchCase{
	{"a-tree-1000", func() (*registry, []Requirement) { return treeRegistry(1000) }, true},
	{"b-singletons-100x500", func() (*registry, []Requirement) { return singletonRegistry(100, 500) }, true},
	{"c-disjoint-300x200", func() (*registry, []Requirement) { return disjointRegistry(300, 200) }, true},
	{"d-realistic-30x300-depth3", func() (*registry, []Requirement) { return realisticRegistry(1) }, true},
	{"e-chain-20000-unsat", func() (*registry, []Requirement) { return chainRegistry(20000) }, false},
}

func BenchmarkSolve(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			reg, root := bc.build()
			var res *Result
			var err error
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err = Solve(context.Background(), reg, root, Options{})
			}
			b.StopTimer()
			var stats *Result = res
			if bc.solvable {
				if err != nil {
					b.Fatal(err)
				}
			} else {
				var ns *NoSolutionError
				if !errors.As(err, &ns) {
					b.Fatalf("want no solution, got %v", err)
				}
				stats = &Result{Decisions: ns.Decisions, Conflicts: ns.Conflicts}
			}
			if stats != nil {
				b.ReportMetric(float64(stats.Decisions), "decisions")
				b.ReportMetric(float64(stats.Conflicts), "conflicts")
			}
		})
	}
}

// The benchmark shapes are also tests: each must solve (or fail) correctly.
func TestBenchmarkShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large registries")
	}
	for _, bc := range benchCases {
		t.Run(bc.name, func(t *testing.T) {
			reg, root := bc.build()
			res, err := Solve(context.Background(), reg, root, Options{})
			if !bc.solvable {
				var ns *NoSolutionError
				if !errors.As(err, &ns) {
					t.Fatalf("want no solution, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if verr := valid(reg, root, res.Solution); verr != nil {
				t.Fatal(verr)
			}
			t.Logf("%d bundles selected, %d decisions, %d conflicts", len(res.Solution), res.Decisions, res.Conflicts)
		})
	}
}
