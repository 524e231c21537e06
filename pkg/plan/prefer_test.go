package plan

import (
	"context"
	"sort"
	"testing"
	"testing/fstest"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// shelves are repositories of bundles in memory, by bundle and repository.
type shelves map[resolve.Ref]map[string]*bundle.Bundle

// put puts a bundle with bundle.yaml y on the shelves.
func (s shelves) put(t *testing.T, repository, name, version, y string) *bundle.Bundle {
	t.Helper()
	files := fstest.MapFS{"Chart.yaml": {Data: []byte("apiVersion: v2\nname: " + name + "\nversion: " + version + "\n")}}
	if y != "" {
		files["bundle.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: bundle/v1\nkind: Bundle\n" + y)}
	}
	b, err := bundle.Load(files, repository+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	ref := resolve.Ref{Repository: repository, Name: name}
	if s[ref] == nil {
		s[ref] = map[string]*bundle.Bundle{}
	}
	s[ref][version] = b
	return b
}

func (s shelves) Versions(_ context.Context, ref resolve.Ref) ([]*semver.Version, error) {
	var out []*semver.Version
	for v := range s[ref] {
		out = append(out, semver.MustParse(v))
	}
	if len(out) == 0 {
		return nil, errdefs.New(errdefs.ErrNotFound, "%s has no %s", ref.Repository, ref.Name)
	}
	sort.Sort(semver.Collection(out))
	return out, nil
}

func (s shelves) Requirements(ctx context.Context, ref resolve.Ref, v *semver.Version) ([]resolve.Requirement, error) {
	b, err := s.Load(ctx, ref, v)
	if err != nil {
		return nil, err
	}
	return b.Requirements(), nil
}

func (s shelves) Load(_ context.Context, ref resolve.Ref, v *semver.Version) (*bundle.Bundle, error) {
	if b, ok := s[ref][v.String()]; ok {
		return b, nil
	}
	return nil, errdefs.New(errdefs.ErrNotFound, "%s has no %s %s", ref.Repository, ref.Name, v)
}

// A version to keep is kept for its bundle in its repository only: keeping
// lab/db 1.0.0 (a lock entry, an installed release's record) says nothing
// of other/db, which a requirement moved to another repository names.
func TestPreferIsByRepository(t *testing.T) {
	ctx := context.Background()
	s := shelves{}
	for _, repository := range []string{"lab", "other"} {
		s.put(t, repository, "db", "1.0.0", "")
		s.put(t, repository, "db", "1.1.0", "")
	}
	app, err := bundle.Load(fstest.MapFS{
		"Chart.yaml":  {Data: []byte("apiVersion: v2\nname: app\nversion: 1.0.0\n")},
		"bundle.yaml": {Data: []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: db, repository: other, version: ^1.0.0}\n")},
	}, "lab/app")
	if err != nil {
		t.Fatal(err)
	}
	v1 := semver.MustParse("1.0.0")
	for _, tc := range []struct {
		name string
		opts Options
		lock []bundle.LockedBundle
		want string
	}{
		{"nothing kept", Options{}, nil, "1.1.0"},
		{"kept in another repository", Options{Prefer: map[resolve.Ref]*semver.Version{{Repository: "lab", Name: "db"}: v1}}, nil, "1.1.0"},
		{"kept in its repository", Options{Prefer: map[resolve.Ref]*semver.Version{{Repository: "other", Name: "db"}: v1}}, nil, "1.0.0"},
		{"installed from another repository", Options{Prefer: PreferInstalled([]Resolved{{Instance: "db", Bundle: "db", Version: "1.0.0", Repository: "lab"}})}, nil, "1.1.0"},
		{"installed from its repository", Options{Prefer: PreferInstalled([]Resolved{{Instance: "db", Bundle: "db", Version: "1.0.0", Repository: "other"}})}, nil, "1.0.0"},
		{"locked in another repository", Options{}, []bundle.LockedBundle{{Name: "db", Version: "1.0.0", Repository: "lab"}}, "1.1.0"},
		{"locked in its repository", Options{}, []bundle.LockedBundle{{Name: "db", Version: "1.0.0", Repository: "other"}}, "1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app.Lock = nil
			if tc.lock != nil {
				app.Lock = &bundle.Lock{Bundles: tc.lock}
			}
			p, err := Resolve(ctx, s, app, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			sel := p.Solution["db"]
			if sel.Repository != "other" || sel.Version.String() != tc.want {
				t.Errorf("db from %s %s, want from other %s", sel.Repository, sel.Version, tc.want)
			}
		})
	}
}

// A release's record without a repository is from the default one, as a
// requirement without one is.
func TestPreferInstalledKeys(t *testing.T) {
	got := PreferInstalled([]Resolved{
		{Instance: "db", Bundle: "mariadb", Version: "1.2.0", Repository: "stable"},
		{Instance: "cache", Bundle: "redis", Version: "7.0.0", Repository: "oci://example.com/charts"},
		{Instance: "old", Bundle: "queue", Version: "2.0.0"},
		{Instance: "bad", Bundle: "x", Version: "not a version", Repository: "stable"},
	})
	want := map[resolve.Ref]string{
		{Repository: "stable", Name: "mariadb"}:                 "1.2.0",
		{Repository: "oci://example.com/charts", Name: "redis"}: "7.0.0",
		{Repository: bundle.DefaultRepository, Name: "queue"}:   "2.0.0",
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for ref, v := range want {
		if got[ref] == nil || got[ref].String() != v {
			t.Errorf("%s: got %v, want %s", ref, got[ref], v)
		}
	}
}
