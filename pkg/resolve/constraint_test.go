package resolve

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// TestCompileConstraintMatchesCheck holds the fast constraint compiler to
// Masterminds' Check on random constraints over random version lists.
func TestCompileConstraintMatchesCheck(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ver := func() string {
		v := fmt.Sprintf("%d.%d.%d", rng.Intn(3), rng.Intn(3), rng.Intn(3))
		switch rng.Intn(6) {
		case 0:
			v += []string{"-alpha", "-beta.1", "-rc.2", "-0"}[rng.Intn(4)]
		case 1:
			v += "+build." + fmt.Sprint(rng.Intn(3))
		}
		return v
	}
	ops := []string{"", "=", "!=", ">", "<", ">=", "<=", "=>", "=<", "~", "~>", "^"}
	comparator := func() string {
		if rng.Intn(15) == 0 {
			return "*"
		}
		return ops[rng.Intn(len(ops))] + ver()
	}
	compiled := 0
	for i := 0; i < 20000; i++ {
		var versions []*semver.Version
		for j := rng.Intn(12); j >= 0; j-- {
			versions = append(versions, semver.MustParse(ver()))
		}
		sort.Sort(semver.Collection(versions))
		text := comparator()
		for rng.Intn(2) == 0 {
			sep := []string{" ", ", ", " || "}[rng.Intn(3)]
			text += sep + comparator()
		}
		c, err := semver.NewConstraint(text)
		if err != nil {
			continue
		}
		c.IncludePrerelease = rng.Intn(4) == 0
		got, ok := compileWith(c.String(), versions, releaseSet(versions), c.IncludePrerelease)
		if !ok {
			continue
		}
		compiled++
		for k, v := range versions {
			if want := c.Check(v); got.has(k) != want {
				t.Fatalf("%q on %s: compiled %v, Check %v", text, v, got.has(k), want)
			}
		}
	}
	if compiled < 10000 {
		t.Errorf("only %d constraints compiled", compiled)
	}
}
