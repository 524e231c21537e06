package releasetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Shelf is a bundle repository in memory whose versions a test adds as it
// goes (a repo.Repository: Versions and Load). It counts how often a
// solver asks for a bundle's version list.
type Shelf struct {
	mu       sync.Mutex
	bundles  map[string]map[string]*bundle.Bundle // name -> version -> bundle
	versions map[string]int                       // calls of Versions by name
}

// NewShelf returns an empty shelf; its bundles name it as repository lab.
func NewShelf() *Shelf {
	return &Shelf{bundles: map[string]map[string]*bundle.Bundle{}, versions: map[string]int{}}
}

// Add puts NAME VERSION on the shelf: a ConfigMap saying its version,
// requiring the given bundles of lab (>=1.0.0).
func (s *Shelf) Add(t testing.TB, name, version string, requires ...string) {
	t.Helper()
	files := map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n",
	}
	if len(requires) > 0 {
		y := "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n"
		for _, r := range requires {
			y += fmt.Sprintf("  %s: {bundle: %s, repository: lab, version: \">=1.0.0\"}\n", r, r)
		}
		files["bundle.yaml"] = y
	}
	s.Put(t, name, version, files)
}

// Put puts a bundle made of files (Chart.yaml added) on the shelf.
func (s *Shelf) Put(t testing.TB, name, version string, files map[string]string) {
	t.Helper()
	fs := fstest.MapFS{"Chart.yaml": {Data: []byte(fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version))}}
	for k, v := range files {
		fs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	b, err := bundle.Load(fs, "lab/"+name)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bundles[name] == nil {
		s.bundles[name] = map[string]*bundle.Bundle{}
	}
	s.bundles[name][version] = b
}

// Versions lists NAME's versions, oldest first.
func (s *Shelf) Versions(_ context.Context, name string) ([]*semver.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[name]++
	var out []*semver.Version
	for v := range s.bundles[name] {
		out = append(out, semver.MustParse(v))
	}
	if len(out) == 0 {
		return nil, errdefs.New(errdefs.ErrNotFound, "lab has no %s", name)
	}
	sort.Sort(semver.Collection(out))
	return out, nil
}

// Load returns NAME at version v.
func (s *Shelf) Load(_ context.Context, name string, v *semver.Version) (*bundle.Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bundles[name][v.String()]; ok {
		return b, nil
	}
	return nil, errdefs.New(errdefs.ErrNotFound, "lab has no %s %s", name, v)
}

// Calls is how often Versions was asked for NAME.
func (s *Shelf) Calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[name]
}
