package repo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/repo"
	"github.com/bundlesh/bundle/pkg/resolve"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in      string
		ref     resolve.Ref
		dir     string
		wantErr string
	}{
		{in: "stable/mediawiki", ref: resolve.Ref{Repository: "stable", Name: "mediawiki"}},
		{in: "myrepo/app", ref: resolve.Ref{Repository: "myrepo", Name: "app"}},
		{in: "./app", dir: "./app"},
		{in: "../app", dir: "../app"},
		{in: "/srv/app", dir: "/srv/app"},
		{in: "mediawiki", wantErr: `bundle reference "mediawiki": use REPO/NAME such as stable/mediawiki, or a directory such as ./mediawiki`},
		{in: "a/b/c", wantErr: `bundle reference "a/b/c": use REPO/NAME`},
		{in: "/", dir: "/"},
		{in: "", wantErr: "empty bundle reference"},
		{in: "oci://example.com/ns/app", ref: resolve.Ref{Repository: "oci://example.com/ns", Name: "app"}},
		{in: "oci://example.com", wantErr: `bundle reference "oci://example.com": use oci://HOST/NAMESPACE/NAME`},
		{in: "ftp://example.com/x", wantErr: `bundle reference "ftp://example.com/x": unsupported repository`},
	}
	for _, tt := range tests {
		got, err := repo.ParseReference(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("ParseReference(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Ref != tt.ref || got.Dir != tt.dir {
			t.Errorf("ParseReference(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

// stableNames lists the bundles of the stable catalog.
func stableNames(t *testing.T) []string {
	t.Helper()
	names, err := repo.Stable().Names()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestStableCatalog(t *testing.T) {
	ctx := context.Background()
	c := repo.Stable()
	names := stableNames(t)
	if strings.Join(names, ",") != "magento,mariadb,mediawiki,memcached,mysql,opensearch,postgresql,redis,redis-ha,varnish,wordpress" {
		t.Errorf("catalog has %v", names)
	}
	all := "magento, mariadb, mediawiki, memcached, mysql, opensearch, postgresql, redis, redis-ha, varnish, wordpress"
	for _, tc := range []struct{ name, want string }{
		{"postgres", "bundle stable/postgres not found: did you mean stable/postgresql? (the stable catalog has: " + all + ")"},
		{"mediwiki", "bundle stable/mediwiki not found: did you mean stable/mediawiki? (the stable catalog has: " + all + ")"},
		{"kafka", "bundle stable/kafka not found (the stable catalog has: " + all + ")"},
	} {
		_, err := c.Versions(ctx, tc.name)
		if !errors.Is(err, repo.ErrNotFound) || err.Error() != tc.want {
			t.Errorf("missing bundle %s:\n got  %v\n want %s", tc.name, err, tc.want)
		}
	}
	_, err := c.Load(ctx, "mariadb", semver.MustParse("9.9.9"))
	if !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("missing version: %v", err)
	}
}

func TestLoadReferenceConstraint(t *testing.T) {
	ctx := context.Background()
	s := repo.NewSet(nil)
	ref, _ := repo.ParseReference("stable/mariadb")
	c, _ := semver.NewConstraint("^2")
	// The library states the facts (the CLI says which flag to change).
	_, err := s.LoadReference(ctx, ref, c)
	var nv *errdefs.NoVersionError
	if !errors.Is(err, errdefs.ErrNotFound) || !errors.As(err, &nv) || nv.Bundle != "stable/mariadb" || nv.Constraint != "^2" || strings.Join(nv.Available, ",") != "1.3.0" ||
		err.Error() != "no version of stable/mariadb satisfies ^2 (available: 1.3.0)" {
		t.Errorf("error = %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: local\nversion: 0.3.0\n"), 0o644)
	local, _ := repo.ParseReference(dir)
	if _, err := s.LoadReference(ctx, local, c); !errors.As(err, &nv) || nv.Bundle != dir || strings.Join(nv.Available, ",") != "0.3.0" {
		t.Errorf("local dir with unmet --version: %v", err)
	}
	b, err := s.LoadReference(ctx, local, nil)
	if err != nil || b.Name != "local" {
		t.Errorf("local dir: %v", err)
	}
}

// TestCatalogLints runs Helm's linter on every stable bundle, with the
// values the composition gives it (its requirements' outputs included).

// The library reads no environment: paths come from the caller, and
// DefaultPaths reads them through the lookup it is given.
func TestDefaultPaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		env           map[string]string
		config, cache string
	}{
		{map[string]string{"HOME": "/h"}, "/h/.config/bundle/repositories.yaml", "/h/.cache/bundle"},
		{map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x", "XDG_CACHE_HOME": "/y"}, "/x/bundle/repositories.yaml", "/y/bundle"},
		{map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x", "BUNDLE_CONFIG_HOME": "/b", "BUNDLE_CACHE_HOME": "/c"}, "/b/repositories.yaml", "/c"},
	} {
		config, cache := repo.DefaultPaths(env(tt.env))
		if config != tt.config || cache != tt.cache {
			t.Errorf("%v: %s %s, want %s %s", tt.env, config, cache, tt.config, tt.cache)
		}
	}
	dir := t.TempDir()
	s, err := repo.Open(repo.Options{ConfigFile: filepath.Join(dir, "none.yaml"), CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Versions(context.Background(), resolve.Ref{Repository: "stable", Name: "mariadb"}); err != nil {
		t.Errorf("an opened set lacks the stable catalog: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("repositories: 3\n"), 0o600)
	if _, err := repo.Open(repo.Options{ConfigFile: filepath.Join(dir, "bad.yaml"), CacheDir: dir}); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("a broken repositories file: %v", err)
	}
}
