package plan

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// provider is a binding of instance to release team-db, which has b.
func provider(instance string, b *bundle.Bundle) *Binding {
	return &Binding{Bind: Bind{Instance: instance, Namespace: "data", Release: "team-db"}, Provider: b, Repository: "lab", Outputs: map[string]string{"host": "team-db.data.svc"}}
}

// The resolver sees a bound bundle at the provider's version only, even
// one its repository does not serve, and does not resolve what the
// provider requires; the plan records the binding with the constraint.
func TestResolveWithABoundVersion(t *testing.T) {
	ctx := context.Background()
	s := shelves{}
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		s.put(t, "lab", "db", v, "requires:\n  disk: {bundle: missing, repository: lab, version: ^1}\noutputs:\n  host: x\n")
	}
	app := s.put(t, "lab", "app", "1.0.0", "requires:\n  db: {bundle: db, repository: lab, version: ^1.0.0, outputs: [host]}\n")
	for _, v := range []string{"1.1.0", "1.5.0"} { // 1.5.0: installed from a directory
		pb := &bundle.Bundle{Name: "db", Version: semver.MustParse(v), File: &bundle.File{Outputs: []bundle.Output{{Name: "host", Template: "x"}}}}
		p, err := Resolve(ctx, s, app, Options{Bound: []*Binding{provider("db", pb)}})
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if got := p.Solution["db"].Version.String(); got != v {
			t.Errorf("db resolved to %s, want the bound %s", got, v)
		}
		want := []Resolved{{Instance: "db", Bundle: "db", Version: v, Repository: "lab", Bound: "data/team-db", Constraint: "^1.0.0"}}
		if got := p.Resolved(); !reflect.DeepEqual(got, want) {
			t.Errorf("resolved %+v, want %+v", got, want)
		}
		if n := p.Root.Requires[0]; n.Bundle != pb || len(n.Requires) != 0 || p.Bound["db"] == nil {
			t.Errorf("bound node: %+v", n)
		}
	}
}

// A conflict with a bound version is the resolver's explanation, which
// the plan completes with the binding that fixed the version.
func TestBoundConflictNamesTheRelease(t *testing.T) {
	s := shelves{}
	db := s.put(t, "lab", "db", "1.1.0", "")
	s.put(t, "lab", "db", "1.2.0", "")
	s.put(t, "lab", "cache", "1.0.0", "requires:\n  store: {bundle: db, repository: lab, version: ^1.2.0}\n")
	app := s.put(t, "lab", "app", "1.0.0", "requires:\n  db: {bundle: db, repository: lab, version: ^1.0.0}\n  cache: {bundle: cache, repository: lab, version: ^1.0.0}\n")
	_, err := Resolve(context.Background(), s, app, Options{Bound: []*Binding{provider("db", db)}})
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("got %v, want a conflict", err)
	}
	for _, want := range []string{"cache requires store db ^1.2.0 (no version matches; db has 1.1.0)", "db is bound to release data/team-db, so db is fixed at 1.1.0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explanation lacks %q:\n%v", want, err)
		}
	}
}

// Every bad binding is one line, of its kind.
func TestBindErrorsTable(t *testing.T) {
	s := shelves{}
	app := s.put(t, "lab", "app", "1.0.0", "requires:\n  db: {bundle: db, repository: lab, version: ^1.0.0}\n  kv: {bundle: kv, repository: lab, version: ^1.0.0}\n")
	mk := func(name, v string) *bundle.Bundle {
		return &bundle.Bundle{Name: name, Version: semver.MustParse(v), File: &bundle.File{}}
	}
	other := provider("db", mk("db", "1.0.0"))
	other.Repository = "elsewhere"
	for _, tc := range []struct {
		name  string
		bound []*Binding
		kind  error
		want  string
	}{
		{"unknown instance", []*Binding{provider("cache", mk("db", "1.0.0"))}, errdefs.ErrInvalid, `bind cache=data/team-db: app 1.0.0 has no requirement "cache" (it requires db, kv)`},
		{"wrong bundle", []*Binding{provider("db", mk("postgres", "1.0.0"))}, errdefs.ErrInvalid, "bind db=data/team-db: release data/team-db is postgres 1.0.0, not db (db requires db ^1.0.0)"},
		{"wrong repository", []*Binding{other}, errdefs.ErrInvalid, "bind db=data/team-db: release data/team-db has db from elsewhere, not from lab as db requires"},
		{"outside the constraint", []*Binding{provider("db", mk("db", "2.0.0"))}, errdefs.ErrConflict, "bind db=data/team-db: release data/team-db has db 2.0.0, outside db ^1.0.0 that db requires"},
	} {
		_, err := Resolve(context.Background(), s, app, Options{Bound: tc.bound})
		if err == nil || err.Error() != tc.want || !errors.Is(err, tc.kind) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"db", `bind "db": write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db`},
		{"db=", `bind "db=": write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db`},
		{"=team-db", `bind "=team-db": write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db`},
		{"db=a/b/c", `bind "db=a/b/c": write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db`},
		{"db=/b", `bind "db=/b": write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db`},
	} {
		if _, err := ParseBind(tc.in); err == nil || err.Error() != tc.want {
			t.Errorf("ParseBind(%q): got %v, want %q", tc.in, err, tc.want)
		}
	}
}

// Bindings in values (bundle.bind) are taken out of the values; --bind
// wins over them, instance by instance.
func TestTakeBinds(t *testing.T) {
	vals := map[string]any{"bundle": map[string]any{"bind": map[string]any{"db": "team-db", "kv": "cache/kv"}}, "x": 1}
	got, err := takeBinds(vals, []string{"db=data/other"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Bind{{Instance: "db", Namespace: "data", Release: "other"}, {Instance: "kv", Namespace: "cache", Release: "kv"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(vals, map[string]any{"x": 1}) {
		t.Errorf("values left: %v", vals)
	}
	vals = map[string]any{"bundle": map[string]any{"bind": map[string]any{"db": 3}}}
	if _, err := takeBinds(vals, nil); err == nil || err.Error() != "values bundle.bind.db: must be a release name (RELEASE or NAMESPACE/RELEASE), not 3" {
		t.Errorf("got %v", err)
	}
}
