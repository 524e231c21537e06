package resolve

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
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

// TestConstraintRangeMatchesCheck holds the explanations' reading of a
// constraint as ranges (ranges.go) to Masterminds' Check: on release
// versions exactly, and on prereleases as Check with prereleases
// included, which is what an explanation says a range would allow if it
// named one. Wildcards and partial versions are included.
func TestConstraintRangeMatchesCheck(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	ver := func(partial bool) string {
		parts := []string{fmt.Sprint(rng.Intn(3)), fmt.Sprint(rng.Intn(3)), fmt.Sprint(rng.Intn(3))}
		if partial {
			for i := 1; i < len(parts); i++ {
				switch rng.Intn(6) {
				case 0:
					parts = parts[:i]
				case 1:
					parts[i] = []string{"x", "X", "*"}[rng.Intn(3)]
				}
			}
			if rng.Intn(20) == 0 {
				parts = []string{"*"}
			}
		}
		v := strings.Join(parts, ".")
		if !partial && rng.Intn(6) == 0 {
			v += []string{"-alpha", "-beta.1", "-rc.2", "-0"}[rng.Intn(4)]
		}
		return v
	}
	ops := []string{"", "=", "!=", ">", "<", ">=", "<=", "=>", "=<", "~", "~>", "^"}
	read := 0
	for i := 0; i < 20000; i++ {
		text := ops[rng.Intn(len(ops))] + ver(rng.Intn(3) == 0)
		for rng.Intn(2) == 0 {
			text += []string{" ", ", ", " || "}[rng.Intn(3)] + ops[rng.Intn(len(ops))] + ver(rng.Intn(3) == 0)
		}
		c, err := semver.NewConstraint(text)
		if err != nil {
			continue
		}
		r, ok := constraintRange(c.String())
		if !ok {
			t.Fatalf("%q (%q) not read", text, c.String())
		}
		read++
		withPre := *c
		withPre.IncludePrerelease = true
		for k := 0; k < 10; k++ {
			v := semver.MustParse(ver(false))
			want := c.Check(v)
			if v.Prerelease() != "" {
				if strings.Contains(c.String(), "!=") {
					continue // != on a wildcard compares prereleases its own way
				}
				want = withPre.Check(v)
			}
			if got := r.contains(v); got != want {
				t.Fatalf("%q on %s: range %v, Check %v", c.String(), v, got, want)
			}
		}
	}
	if read < 10000 {
		t.Errorf("only %d constraints read", read)
	}
}

// The complement of a range is written as ranges, from the constraint's
// bounds, and a range is written back as ^ or ~ when it is one.
func TestRangeText(t *testing.T) {
	var releases []*semver.Version
	for _, v := range []string{"0.5.0", "1.0.0", "1.5.0", "1.7.0", "2.5.0", "3.0.0"} {
		releases = append(releases, semver.MustParse(v))
	}
	for _, tc := range []struct{ in, want string }{
		{"^1.2.0", "^1.2.0"},
		{"~1.5.0", "~1.5.0"},
		{"!^1.2.0", "<1.2.0 || >=2.0.0"},
		{"!>=1.2.0 <2.0.0", "<1.2.0 || >=2.0.0"},
		{"!1.5.0", "!=1.5.0"},
		{"!^1.0.0 !=1.5.0", "<1.0.0 || 1.5.0 || >=2.0.0"},
		{"^1.0.0 !=1.5.0", "^1.0.0 !=1.5.0"},
		{"!2.x", "<2.0.0 || >=3.0.0"},
		{">=1.2.0 <4.0.0", ">=1.2.0"},
		{"!>=4.0.0", "<4.0.0"},
		{"!>=1.2.0 <1.6.0", "<1.2.0 || >=1.6.0"},
		{"!^0.5.0", ">=0.6.0"},
	} {
		in := strings.TrimPrefix(tc.in, "!")
		c, err := semver.NewConstraint(in)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := constraintRange(c.String())
		if !ok {
			t.Fatalf("%q not read", in)
		}
		if strings.HasPrefix(tc.in, "!") {
			r = r.complement()
		}
		if got := r.onReleases().simplify(releases).String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
