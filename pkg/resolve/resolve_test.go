package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// mapSource is a registry in memory: "name@version" -> requirements written
// as "instance=name constraint".
type mapSource map[string][]string

func (m mapSource) Versions(_ context.Context, ref Ref) ([]*semver.Version, error) {
	var out []*semver.Version
	for k := range m {
		name, v, _ := strings.Cut(k, "@")
		if name == ref.Name {
			out = append(out, semver.MustParse(v))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bundle %s: %w", ref, ErrNotFound)
	}
	return out, nil
}

func (m mapSource) Requirements(_ context.Context, ref Ref, v *semver.Version) ([]Requirement, error) {
	var out []Requirement
	for _, r := range m[ref.Name+"@"+v.Original()] {
		out = append(out, req(r, ref.Name+" "+v.Original()))
	}
	return out, nil
}

func req(s, by string) Requirement {
	inst, rest, _ := strings.Cut(s, "=")
	name, c, _ := strings.Cut(rest, " ")
	return Requirement{Ref: Ref{Repository: "stable", Name: name}, Instance: inst, Constraint: mustConstraint(c), By: by}
}

func mustConstraint(s string) *semver.Constraints {
	c, err := semver.NewConstraint(s)
	if err != nil {
		panic(err)
	}
	return c
}

func show(s Solution) string {
	var parts []string
	for n, sel := range s {
		parts = append(parts, n+"@"+sel.Version.Original())
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		src     mapSource
		root    []string
		prefer  map[string]string
		want    string // solution, or
		wantErr string // error text
	}{
		{
			name: "newest satisfying",
			src:  mapSource{"mariadb@1.0.0": nil, "mariadb@1.4.0": nil, "mariadb@2.0.0": nil},
			root: []string{"db=mariadb ^1.0.0"},
			want: "mariadb@1.4.0",
		},
		{
			name: "transitive",
			src: mapSource{
				"wiki@1.0.0":    {"db=mariadb ^1", "cache=memcached ~1.6"},
				"mariadb@1.0.0": nil, "mariadb@1.1.0": nil,
				"memcached@1.6.3": nil, "memcached@1.7.0": nil,
			},
			root: []string{"app=wiki *"},
			want: "mariadb@1.1.0 memcached@1.6.3 wiki@1.0.0",
		},
		{
			name: "shared dependency, compatible constraints",
			src: mapSource{
				"a@1.0.0": {"s=shared >=1.0.0 <3.0.0"}, "b@1.0.0": {"s=shared >=2.0.0 <4.0.0"},
				"shared@1.0.0": nil, "shared@2.5.0": nil, "shared@3.5.0": nil,
			},
			root: []string{"a=a *", "b=b *"},
			want: "a@1.0.0 b@1.0.0 shared@2.5.0",
		},
		{
			name:   "prefer a locked version",
			src:    mapSource{"mariadb@1.0.0": nil, "mariadb@1.4.0": nil},
			root:   []string{"db=mariadb ^1"},
			prefer: map[string]string{"mariadb": "1.0.0"},
			want:   "mariadb@1.0.0",
		},
		{
			name:   "ignore a preference that no longer fits",
			src:    mapSource{"mariadb@1.0.0": nil, "mariadb@1.4.0": nil},
			root:   []string{"db=mariadb ^1.2"},
			prefer: map[string]string{"mariadb": "1.0.0"},
			want:   "mariadb@1.4.0",
		},
		{
			name: "prerelease only when named",
			src:  mapSource{"x@1.0.0": nil, "x@1.1.0-beta.1": nil},
			root: []string{"x=x ^1.0.0"},
			want: "x@1.0.0",
		},
		{
			name: "prerelease when named",
			src:  mapSource{"x@1.0.0": nil, "x@1.1.0-beta.1": nil},
			root: []string{"x=x >=1.1.0-beta.0"},
			want: "x@1.1.0-beta.1",
		},
		{
			name:    "disjoint constraints",
			src:     mapSource{"a@1.0.0": {"s=shared ^1"}, "b@1.0.0": {"s=shared ^2"}, "shared@1.0.0": nil, "shared@2.0.0": nil},
			root:    []string{"a=a *", "b=b *"},
			wantErr: "no version of shared satisfies all of: a 1.0.0 requires s shared ^1; b 1.0.0 requires s shared ^2 (available: 2.0.0, 1.0.0)",
		},
		{
			name:    "nothing satisfies the root",
			src:     mapSource{"mariadb@1.0.0": nil},
			root:    []string{"database=mariadb ^11"},
			wantErr: "no version of mariadb satisfies the root requires database mariadb ^11 (available: 1.0.0)",
		},
		{
			name:    "missing deep in the graph",
			src:     mapSource{"a@1.0.0": {"b=b *"}, "b@1.0.0": {"c=c *"}},
			root:    []string{"a=a *"},
			wantErr: "b 1.0.0 requires c c *: bundle stable/c: bundle not found",
		},
		{
			name: "cycle on the same version is one node",
			src:  mapSource{"a@1.0.0": {"b=b *"}, "b@1.0.0": {"a=a 1.0.0"}},
			root: []string{"a=a *"},
			want: "a@1.0.0 b@1.0.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var root []Requirement
			for _, r := range tt.root {
				root = append(root, req(r, ""))
			}
			opts := Options{Prefer: map[string]*semver.Version{}}
			for k, v := range tt.prefer {
				opts.Prefer[k] = semver.MustParse(v)
			}
			sol, err := Resolve(context.Background(), tt.src, root, opts)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("solution %s; want error %q", show(sol), tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Fatalf("error:\n got  %s\n want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := show(sol); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	src := mapSource{"a@1.0.0": nil}
	_, err := Resolve(context.Background(), src, []Requirement{req("x=a ^2", "")}, Options{})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("conflict does not match ErrConflict: %v", err)
	}
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Name != "a" {
		t.Errorf("not a *ConflictError for a: %v", err)
	}
	_, err = Resolve(context.Background(), src, []Requirement{req("x=nope *", "")}, Options{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing bundle does not match ErrNotFound: %v", err)
	}
}
