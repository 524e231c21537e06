package repo_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/bundles"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/repo"
)

// The library chart stable/common is in the catalog, but not among the
// bundles it lists (Names, hence search): it cannot be installed. It is
// found by name, for show and pull, and refused for install and template
// as Helm refuses library charts.
func TestCatalogLibraryChart(t *testing.T) {
	ctx := context.Background()
	c := repo.Stable()
	names := stableNames(t)
	if slices.Contains(names, "common") {
		t.Errorf("Names lists the library chart: %v", names)
	}
	if libs, err := c.Libraries(); err != nil || strings.Join(libs, ",") != "common" {
		t.Errorf("Libraries() = %v, %v; want [common]", libs, err)
	}
	vs, err := c.Versions(ctx, "common")
	if err != nil || len(vs) != 1 {
		t.Fatalf("Versions(common) = %v, %v", vs, err)
	}
	lib, err := c.Load(ctx, "common", vs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !lib.IsLibrary() {
		t.Errorf("stable/common is of type %q, want library", lib.Chart.Metadata.Type)
	}
	if err := lib.CheckInstallable(); err == nil || !strings.Contains(err.Error(), "stable/common: library charts are not installable") {
		t.Errorf("CheckInstallable = %v, want a refusal", err)
	}
	results, err := repo.Search(ctx, &repo.Config{}, repo.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Ref == "stable/common" {
			t.Errorf("search lists the library chart")
		}
	}
}

// Every other catalog chart depends on common the Helm way (a Chart.yaml
// dependency on file://../common) and carries it vendored under
// charts/common, byte for byte the files of bundles/stable/common: the one
// copy the repository holds. Its package is a Helm chart archive holding
// charts/common, that loads back (as helm template would load it) to the
// same bytes, installable; and packaging the chart's directory on disk
// makes the same bytes as the catalog does.
func TestCatalogChartsVendorCommon(t *testing.T) {
	ctx := context.Background()
	c := repo.Stable()
	names := stableNames(t)
	lib := map[string][]byte{}
	err := fs.WalkDir(bundles.Stable(), "common", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		lib[p], err = fs.ReadFile(bundles.Stable(), p)
		return err
	})
	if err != nil || len(lib) == 0 {
		t.Fatalf("reading bundles/stable/common: %d files, %v", len(lib), err)
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			vs, err := c.Versions(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Load(ctx, n, vs[0])
			if err != nil {
				t.Fatal(err)
			}
			deps := b.Chart.Metadata.Dependencies
			if len(deps) != 1 || deps[0].Name != "common" || deps[0].Repository != "file://../common" {
				t.Fatalf("Chart.yaml dependencies: %+v, want common from file://../common", deps)
			}
			for p, want := range lib {
				got, ok := b.ReadFile(path.Join("charts", p))
				if !ok || !bytes.Equal(got, want) {
					t.Errorf("charts/%s is not bundles/stable/%s (present: %v)", p, p, ok)
				}
			}
			if err := b.CheckInstallable(); err != nil {
				t.Fatal(err)
			}

			pkg, err := b.Package()
			if err != nil {
				t.Fatal(err)
			}
			back, err := bundle.LoadArchive(pkg, n+".tgz")
			if err != nil {
				t.Fatal(err)
			}
			if err := back.CheckInstallable(); err != nil {
				t.Errorf("the package does not carry its dependency: %v", err)
			}
			again, err := back.Package()
			if err != nil || !bytes.Equal(again, pkg) {
				t.Errorf("the package loads back to other bytes (%v)", err)
			}

			dir, err := bundle.LoadDirBuildingDeps(filepath.Join("..", "..", "bundles", "stable", n))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := b.Digest()
			if got, err := dir.Digest(); err != nil || got != want {
				t.Errorf("packaging bundles/stable/%s: digest %s, the catalog's is %s (%v)", n, got, want, err)
			}
		})
	}
}

// A catalog chart may only depend on another chart of the catalog.
func TestCatalogLocalDependencyStaysInside(t *testing.T) {
	chart := "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: ^1\n    repository: file://%s\n"
	for _, p := range []string{"../../outside", "/etc"} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "app"), 0o755)
		os.WriteFile(filepath.Join(dir, "app", "Chart.yaml"), []byte(strings.ReplaceAll(chart, "%s", p)), 0o644)
		_, err := repo.NewCatalog("test", os.DirFS(dir)).Names()
		if err == nil || !strings.Contains(err.Error(), "a catalog chart may only depend on another chart of the catalog") {
			t.Errorf("file://%s: error = %v", p, err)
		}
	}
}
