package resolve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// registry is a Source in memory: bundle -> version -> requirements.
type registry struct {
	versions map[Ref][]*semver.Version
	reqs     map[refVersion][]Requirement
}

type refVersion struct {
	Ref
	version string // as written
}

// splitRef reads "[REPOSITORY/]NAME"; the repository is "stable" unless
// named.
func splitRef(s string) Ref {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return Ref{Repository: s[:i], Name: s[i+1:]}
	}
	return Ref{Repository: "stable", Name: s}
}

func newRegistry() *registry {
	return &registry{versions: map[Ref][]*semver.Version{}, reqs: map[refVersion][]Requirement{}}
}

// add adds a version of bundle "[REPOSITORY/]NAME".
func (r *registry) add(name, version string, reqs ...Requirement) {
	ref := splitRef(name)
	v := semver.MustParse(version)
	r.versions[ref] = append(r.versions[ref], v)
	for i := range reqs {
		reqs[i].By = ref.Name + " " + version
	}
	r.reqs[refVersion{ref, v.Original()}] = reqs
}

func (r *registry) Versions(_ context.Context, ref Ref) ([]*semver.Version, error) {
	vs, ok := r.versions[ref]
	if !ok {
		return nil, fmt.Errorf("bundle %s: %w", ref, ErrNotFound)
	}
	return vs, nil
}

func (r *registry) Requirements(_ context.Context, ref Ref, v *semver.Version) ([]Requirement, error) {
	return r.reqs[refVersion{ref, v.Original()}], nil
}

// parseReq reads "[instance=][repository/]name constraint".
func parseReq(s string) (Requirement, error) {
	s = strings.TrimSpace(s)
	inst := ""
	if i, rest, ok := strings.Cut(s, "="); ok && !strings.ContainsAny(i, " <>^~") {
		inst, s = i, rest
	}
	name, c, ok := strings.Cut(s, " ")
	if !ok {
		return Requirement{}, fmt.Errorf("requirement %q: want NAME CONSTRAINT", s)
	}
	con, err := semver.NewConstraint(strings.TrimSpace(c))
	if err != nil {
		return Requirement{}, err
	}
	ref := splitRef(name)
	if inst == "" {
		inst = ref.Name
	}
	return Requirement{Ref: ref, Instance: inst, Constraint: con}, nil
}

func parseReqs(s string) ([]Requirement, error) {
	var out []Requirement
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		r, err := parseReq(part)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

type scenario struct {
	name      string
	line      int
	reg       *registry
	root      []Requirement
	prefer    map[Ref]*semver.Version
	want      string
	errKind   string
	errLines  []string
	maxDecide int
}

func loadScenarios(t *testing.T, path string) []*scenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*scenario
	var cur *scenario
	sc := bufio.NewScanner(f)
	n := 0
	fail := func(format string, args ...any) {
		t.Fatalf("%s:%d: %s", path, n, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		if key == "scenario" {
			cur = &scenario{name: val, line: n, reg: newRegistry(), prefer: map[Ref]*semver.Version{}}
			out = append(out, cur)
			continue
		}
		if cur == nil {
			fail("directive before any scenario")
		}
		switch {
		case strings.HasPrefix(line, "|"):
			cur.errLines = append(cur.errLines, strings.TrimPrefix(strings.TrimPrefix(line, "|"), " "))
		case key == "root":
			if cur.root, err = parseReqs(val); err != nil {
				fail("%v", err)
			}
		case key == "want":
			cur.want = val
		case key == "error":
			cur.errKind = val
		case key == "prefer":
			name, v, _ := strings.Cut(val, " ")
			cur.prefer[splitRef(name)] = semver.MustParse(v)
		case key == "max-decisions":
			fmt.Sscan(val, &cur.maxDecide)
		default:
			head, deps, _ := strings.Cut(line, ":")
			name, version, ok := strings.Cut(strings.TrimSpace(head), " ")
			if !ok {
				fail("want NAME VERSION[: REQS], got %q", line)
			}
			reqs, err := parseReqs(deps)
			if err != nil {
				fail("%v", err)
			}
			cur.reg.add(name, version, reqs...)
		}
	}
	return out
}

func show(s Solution) string {
	if len(s) == 0 {
		return "nothing"
	}
	var parts []string
	for n, sel := range s {
		if sel.Repository != "stable" {
			n = sel.Ref.String()
		}
		parts = append(parts, n+" "+sel.Version.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func normalize(want string) string {
	if want == "nothing" {
		return want
	}
	parts := strings.Split(want, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func TestScenarios(t *testing.T) {
	for _, sc := range loadScenarios(t, "testdata/scenarios.txt") {
		t.Run(sc.name, func(t *testing.T) {
			res, err := Solve(context.Background(), sc.reg, sc.root, Options{Prefer: sc.prefer})
			if sc.errKind != "" {
				if err == nil {
					t.Fatalf("scenarios.txt:%d: solution %s; want %s error", sc.line, show(res.Solution), sc.errKind)
				}
				var ns *NoSolutionError
				if !errors.As(err, &ns) || !errors.Is(err, ErrConflict) {
					t.Fatalf("error %v is not a *NoSolutionError", err)
				}
				if (sc.errKind == "not-found") != errors.Is(err, ErrNotFound) {
					t.Errorf("error kind: want %s, ErrNotFound=%v", sc.errKind, errors.Is(err, ErrNotFound))
				}
				if sc.errLines != nil {
					if got, want := err.Error(), strings.Join(sc.errLines, "\n"); got != want {
						t.Errorf("scenarios.txt:%d: explanation:\n%s\nwant:\n%s", sc.line, got, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("scenarios.txt:%d: %v", sc.line, err)
			}
			if got, want := show(res.Solution), normalize(sc.want); got != want {
				t.Errorf("scenarios.txt:%d: got %s, want %s", sc.line, got, want)
			}
			if sc.maxDecide > 0 && res.Decisions > sc.maxDecide {
				t.Errorf("%d decisions, want at most %d", res.Decisions, sc.maxDecide)
			}
		})
	}
}

// The classic case where naive backtracking tries 100 x 100 combinations:
// every x requires z ^1, every y requires z ^2. PubGrub learns that each y
// needs z ^2 once and never tries a y again.
func TestComplexBacktrack100x100(t *testing.T) {
	reg := newRegistry()
	for i := 1; i <= 100; i++ {
		v := fmt.Sprintf("%d.0.0", i)
		x, _ := parseReq("z ^1.0.0")
		y, _ := parseReq("z ^2.0.0")
		reg.add("x", v, x)
		reg.add("y", v, y)
	}
	reg.add("z", "1.0.0")
	reg.add("z", "2.0.0")
	root, _ := parseReqs("x *; y *")
	_, err := Solve(context.Background(), reg, root, Options{})
	var ns *NoSolutionError
	if !errors.As(err, &ns) {
		t.Fatalf("want no solution, got %v", err)
	}
	// With a solvable escape hatch: x 0.1.0 has no requirement.
	reg.add("x", "0.1.0")
	res, err := Solve(context.Background(), reg, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := show(res.Solution); got != "x 0.1.0, y 100.0.0, z 2.0.0" {
		t.Errorf("got %s", got)
	}
	if res.Decisions > 400 {
		t.Errorf("%d decisions for a 100 x 100 backtrack; want at most 400", res.Decisions)
	}
	t.Logf("%d decisions, %d conflicts", res.Decisions, res.Conflicts)
}

func TestUnreachableSourceIsNotAConflict(t *testing.T) {
	boom := errors.New("connection refused")
	src := failingSource{err: boom}
	root, _ := parseReqs("a *")
	_, err := Solve(context.Background(), src, root, Options{})
	if !errors.Is(err, boom) || errors.Is(err, ErrConflict) {
		t.Errorf("error = %v; want the source's error, not a conflict", err)
	}
}

type failingSource struct{ err error }

func (f failingSource) Versions(context.Context, Ref) ([]*semver.Version, error) { return nil, f.err }
func (f failingSource) Requirements(context.Context, Ref, *semver.Version) ([]Requirement, error) {
	return nil, f.err
}

// One bundle name comes from one repository: requiring it from two is a
// conflict, explained as a derivation naming both requirements.
func TestSameBundleFromTwoRepositories(t *testing.T) {
	reg := newRegistry()
	reg.add("a", "1.0.0")
	reg.add("oci://example.com/ns/a", "1.0.0")
	one, _ := parseReq("one=a *")
	two, _ := parseReq("two=oci://example.com/ns/a *")
	_, err := Solve(context.Background(), reg, []Requirement{one, two}, Options{})
	want := "Because the root requires both one a from stable and two a from oci://example.com/ns, version solving failed."
	if err == nil || err.Error() != want || !errors.Is(err, ErrConflict) {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func TestSolveStopsWhenTheContextIsDone(t *testing.T) {
	reg, root := diamond()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Solve(ctx, reg, root, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v; want context.Canceled", err)
	}
}

// A constraint that includes prereleases (Constraints.IncludePrerelease)
// allows them as Check does, and is not confused with the same text
// without.
func TestIncludePrereleaseIsHonoured(t *testing.T) {
	reg := newRegistry()
	reg.add("x", "1.0.0")
	reg.add("x", "1.1.0-beta.1")
	reg.add("a", "1.0.0", mustReq("x", "^1.0.0"))
	withPre := mustReq("x", "^1.0.0")
	withPre.Constraint.IncludePrerelease = true
	for _, tc := range []struct {
		root []Requirement
		want string
	}{
		{[]Requirement{withPre}, "x 1.1.0-beta.1"},
		{[]Requirement{mustReq("x", "^1.0.0")}, "x 1.0.0"},
		{[]Requirement{withPre, mustReq("a", "*")}, "a 1.0.0, x 1.0.0"},
	} {
		res, err := Solve(context.Background(), reg, tc.root, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := show(res.Solution); got != tc.want {
			t.Errorf("root %v: got %s, want %s", tc.root, got, tc.want)
		}
	}
}
