package repo

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/bundles"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Catalog is a repository read from a file system holding one directory per
// bundle, such as the built-in stable catalog.
//
// A catalog chart may depend on another chart of the catalog, the way the
// stable charts depend on the library chart common: a Chart.yaml
// dependency with repository file://../NAME. The catalog vendors it as it
// loads the chart, as charts/NAME/ among the chart's files (see
// bundle.LoadLocal), rather than keeping a vendored copy in each chart's
// directory: the repository holds one copy of the library, the one that
// is edited and reviewed, and no generated copy can fall out of date. The
// chart so loaded is what installs, renders, is pulled and packaged: an
// archive a plain helm template renders, whose bytes (and digest) depend
// only on the two directories. A change to the library thus changes the
// digest of every chart depending on it, and TestCatalogVersionBumps asks
// for their version bumps too.
//
// Library charts are in the catalog (show and pull find them) but are not
// listed by Names nor found by search: they cannot be installed.
type Catalog struct {
	name string
	fsys fs.FS

	once   sync.Once
	err    error
	byName map[string]*bundle.Bundle
}

// Stable returns the built-in stable catalog (bundles/stable, compiled in).
func Stable() *Catalog { return NewCatalog(bundle.DefaultRepository, bundles.Stable()) }

// NewCatalog returns a catalog over fsys; name prefixes its bundles in
// messages (stable/mediawiki).
func NewCatalog(name string, fsys fs.FS) *Catalog {
	return &Catalog{name: name, fsys: fsys}
}

// load reads every bundle once; a catalog is small and compiled in.
func (c *Catalog) load() error {
	c.once.Do(func() {
		c.byName = map[string]*bundle.Bundle{}
		entries, err := fs.ReadDir(c.fsys, ".")
		if err != nil {
			c.err = err
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			sub, err := fs.Sub(c.fsys, e.Name())
			if err != nil {
				c.err = err
				return
			}
			b, err := bundle.LoadLocal(sub, c.name+"/"+e.Name(), c.local(e.Name()))
			if err != nil {
				c.err = fmt.Errorf("catalog %s: %w", c.name, err)
				return
			}
			if b.Name != e.Name() {
				c.err = fmt.Errorf("catalog %s: directory %s holds bundle %q; they must match", c.name, e.Name(), b.Name)
				return
			}
			c.byName[b.Name] = b
		}
	})
	return c.err
}

// local finds the file:// dependencies of the chart in directory dir:
// other directories of the catalog, never anything outside it.
func (c *Catalog) local(dir string) bundle.LocalCharts {
	return func(p string) (fs.FS, string, error) {
		q := path.Join(dir, p)
		if path.IsAbs(p) || !fs.ValidPath(q) || q == "." {
			return nil, "", fmt.Errorf("a catalog chart may only depend on another chart of the catalog (file://../NAME)")
		}
		sub, err := fs.Sub(c.fsys, q)
		if err != nil {
			return nil, "", err
		}
		return sub, c.name + "/" + q, nil
	}
}

// Names lists the catalog's installable bundles, sorted: library charts
// are left out.
func (c *Catalog) Names() ([]string, error) {
	return c.names(false)
}

// Libraries lists the catalog's library charts, sorted.
func (c *Catalog) Libraries() ([]string, error) {
	all, err := c.names(true)
	if err != nil {
		return nil, err
	}
	var libs []string
	for _, n := range all {
		if c.byName[n].IsLibrary() {
			libs = append(libs, n)
		}
	}
	return libs, nil
}

// names lists the catalog's bundles, sorted, with libraries or without.
func (c *Catalog) names(libraries bool) ([]string, error) {
	if err := c.load(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(c.byName))
	for n, b := range c.byName {
		if libraries || !b.IsLibrary() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Versions implements Repository.
func (c *Catalog) Versions(_ context.Context, name string) ([]*semver.Version, error) {
	if err := c.load(); err != nil {
		return nil, err
	}
	b, ok := c.byName[name]
	if !ok {
		names, _ := c.Names()
		if near := closest(name, names); near != "" {
			return nil, errdefs.New(ErrNotFound, "bundle %s/%s not found: did you mean %s/%s? (the %s catalog has: %s)", c.name, name, c.name, near, c.name, strings.Join(names, ", "))
		}
		return nil, errdefs.New(ErrNotFound, "bundle %s/%s not found (the %s catalog has: %s)", c.name, name, c.name, strings.Join(names, ", "))
	}
	return []*semver.Version{b.Version}, nil
}

// Load implements Repository.
func (c *Catalog) Load(ctx context.Context, name string, v *semver.Version) (*bundle.Bundle, error) {
	if _, err := c.Versions(ctx, name); err != nil {
		return nil, err
	}
	b := c.byName[name]
	if !b.Version.Equal(v) {
		return nil, errdefs.New(ErrNotFound, "bundle %s/%s has no version %s (available: %s)", c.name, name, v, b.Version)
	}
	return b, nil
}

// closest returns the name a mistyped one most likely meant: the one it is a
// prefix of, or the nearest within two edits; "" when none is close.
func closest(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if len(name) >= 3 && strings.HasPrefix(n, name) {
			return n
		}
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
