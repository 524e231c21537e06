// Package repo finds and loads bundles: the built-in stable catalog compiled
// into the binary, and (later) Helm-style HTTP repositories and OCI
// registries. A Set of repositories implements resolve.Source for the solver
// and loads the versions it chooses.
package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// ErrNotFound is matched by errors for unknown bundles and repositories.
var ErrNotFound = resolve.ErrNotFound

// ErrUnsupported is matched by references to kinds of repository this
// version cannot read yet.
var ErrUnsupported = errdefs.ErrUnsupported

// Repository is a place bundles come from.
type Repository interface {
	// Versions lists a bundle's versions; unknown names match ErrNotFound.
	Versions(ctx context.Context, name string) ([]*semver.Version, error)
	// Load returns one version of a bundle.
	Load(ctx context.Context, name string, v *semver.Version) (*bundle.Bundle, error)
}

// Set is the repositories a command can use, by name.
type Set struct {
	mu    sync.Mutex
	repos map[string]Repository
	http  HTTPOptions // for repositories named by address
	oci   OCIOptions
	// mirror, when set, serves every bundle but the built-in catalog's.
	mirror    *OCI
	mirrorErr error
}

// SetOptions say how a set reaches repositories named by address: http(s)
// repositories and OCI registries. The zero value is TLS, no credentials.
type SetOptions struct {
	HTTP HTTPOptions
	OCI  OCIOptions
	// Mirror (oci://HOST/PREFIX), when set, is where every bundle is
	// fetched from, whatever repository names it (but the built-in
	// catalog, compiled in): PREFIX/NAME, as bundle archive push puts
	// them (--mirror, for air-gapped clusters). Lock files keep naming the
	// original repositories and digests, and are checked against what the
	// mirror serves.
	Mirror string
}

// NewSet returns a set holding the built-in stable catalog and the given
// repositories, reaching others with the zero SetOptions.
func NewSet(extra map[string]Repository) *Set { return NewSetWith(extra, SetOptions{}) }

// NewSetWith is NewSet with options. A bad Mirror address is reported by
// every load.
func NewSetWith(extra map[string]Repository, opts SetOptions) *Set {
	s := &Set{repos: map[string]Repository{bundle.DefaultRepository: Stable()}, http: opts.HTTP, oci: opts.OCI}
	for k, v := range extra {
		s.repos[k] = v
	}
	if opts.Mirror != "" {
		s.mirror, s.mirrorErr = NewOCI(opts.Mirror, opts.OCI)
	}
	return s
}

func (s *Set) repo(name string) (Repository, error) {
	if s.mirrorErr != nil {
		return nil, fmt.Errorf("--mirror: %w", s.mirrorErr)
	}
	if s.mirror != nil && name != bundle.DefaultRepository {
		return s.mirror, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.repos[name]; ok {
		return r, nil
	}
	if strings.HasPrefix(name, "https://") || strings.HasPrefix(name, "http://") {
		// A repository named by its address, as a requirement may say:
		// never with the credentials of a configured one.
		o := s.http
		o.Auth = nil
		h, err := NewHTTP(name, name, o)
		if err != nil {
			return nil, err
		}
		s.repos[name] = h
		return h, nil
	}
	if strings.HasPrefix(name, "oci://") {
		o, err := NewOCI(name, s.oci)
		if err != nil {
			return nil, err
		}
		s.repos[name] = o
		return o, nil
	}
	if strings.Contains(name, "://") {
		return nil, errdefs.New(ErrUnsupported, "repository %s: unsupported scheme (use https://, http:// or oci://)", name)
	}
	known := make([]string, 0, len(s.repos))
	for k := range s.repos {
		known = append(known, k)
	}
	sort.Strings(known)
	return nil, errdefs.New(ErrNotFound, "unknown repository %q (known: %s)", name, strings.Join(known, ", "))
}

// Versions implements resolve.Source.
func (s *Set) Versions(ctx context.Context, ref resolve.Ref) ([]*semver.Version, error) {
	r, err := s.repo(ref.Repository)
	if err != nil {
		return nil, err
	}
	return r.Versions(ctx, ref.Name)
}

// Requirements implements resolve.Source.
func (s *Set) Requirements(ctx context.Context, ref resolve.Ref, v *semver.Version) ([]resolve.Requirement, error) {
	b, err := s.Load(ctx, ref, v)
	if err != nil {
		return nil, err
	}
	return b.Requirements(), nil
}

// Load returns one version of a bundle.
func (s *Set) Load(ctx context.Context, ref resolve.Ref, v *semver.Version) (*bundle.Bundle, error) {
	r, err := s.repo(ref.Repository)
	if err != nil {
		return nil, err
	}
	return r.Load(ctx, ref.Name, v)
}

// Reference is what a user names on the command line: a bundle in a
// repository (REPO/NAME), a directory or a chart archive on disk.
type Reference struct {
	Ref     resolve.Ref
	Dir     string // set for a local directory
	Archive string // set for a local chart archive (.tgz)
}

// Local reports whether the reference names a directory or an archive.
func (r Reference) Local() bool { return r.Dir != "" || r.Archive != "" }

// Path is the local directory or archive, "" for a repository bundle.
func (r Reference) Path() string { return r.Dir + r.Archive }

// ParseReference reads a command-line bundle reference the way Helm locates
// a chart: a path that exists (a directory, or a chart archive such as
// ./app-1.0.0.tgz) is used as is, and one starting with . or / must exist;
// otherwise REPO/NAME such as stable/mediawiki, or oci://HOST/NS/NAME.
func ParseReference(s string) (Reference, error) {
	if s == "" {
		return Reference{}, fmt.Errorf("empty bundle reference: name one such as stable/mediawiki or ./mybundle")
	}
	if st, err := os.Stat(s); err == nil {
		if st.IsDir() {
			return Reference{Dir: s}, nil
		}
		return Reference{Archive: s}, nil
	}
	if strings.HasPrefix(s, ".") || filepath.IsAbs(s) {
		if strings.HasSuffix(s, ".tgz") || strings.HasSuffix(s, ".tar.gz") {
			return Reference{Archive: s}, nil // LoadArchiveFile says it is missing
		}
		return Reference{Dir: s}, nil // LoadDir says it is missing
	}
	if rest, ok := strings.CutPrefix(s, "oci://"); ok {
		i := strings.LastIndex(rest, "/")
		if i <= 0 || i == len(rest)-1 {
			return Reference{}, fmt.Errorf("bundle reference %q: use oci://HOST/NAMESPACE/NAME", s)
		}
		return Reference{Ref: resolve.Ref{Repository: "oci://" + rest[:i], Name: rest[i+1:]}}, nil
	}
	if strings.Contains(s, "://") {
		return Reference{}, errdefs.New(ErrUnsupported, "bundle reference %q: unsupported repository (name a configured repository, REPO/NAME, oci://HOST/NAMESPACE/NAME, or a directory)", s)
	}
	repoName, name, ok := strings.Cut(s, "/")
	if !ok || repoName == "" || name == "" || strings.Contains(name, "/") {
		return Reference{}, fmt.Errorf("bundle reference %q: use REPO/NAME such as stable/%s, or a directory such as ./%s", s, s, s)
	}
	return Reference{Ref: resolve.Ref{Repository: repoName, Name: name}}, nil
}

// LoadPath loads the directory or archive a local reference names, as
// Helm loads a chart path (bundle.LoadLocal is something else: loading
// a bundle that sits among other charts, vendoring file:// ones).
func (r Reference) LoadPath() (*bundle.Bundle, error) {
	ref := r
	if ref.Archive != "" {
		return bundle.LoadArchiveFile(ref.Archive)
	}
	return bundle.LoadDir(ref.Dir)
}

// LoadReference loads the root bundle a reference names. For a repository
// bundle, constraint (may be nil) picks among its versions, newest first.
func (s *Set) LoadReference(ctx context.Context, ref Reference, constraint *semver.Constraints) (*bundle.Bundle, error) {
	if ref.Local() {
		b, err := ref.LoadPath()
		if err != nil {
			return nil, err
		}
		if constraint != nil && !constraint.Check(b.Version) {
			return nil, &errdefs.NoVersionError{Bundle: ref.Path(), Constraint: constraint.String(), Available: []string{b.Version.String()}}
		}
		return b, nil
	}
	vs, err := s.Versions(ctx, ref.Ref)
	if err != nil {
		return nil, err
	}
	sorted := append([]*semver.Version(nil), vs...)
	sort.Sort(sort.Reverse(semver.Collection(sorted)))
	for _, v := range sorted {
		if constraint == nil && v.Prerelease() != "" {
			continue
		}
		if constraint == nil || constraint.Check(v) {
			return s.Load(ctx, ref.Ref, v)
		}
	}
	have := make([]string, len(sorted))
	for i, v := range sorted {
		have[i] = v.String()
	}
	e := &errdefs.NoVersionError{Bundle: ref.Ref.String(), Available: have}
	if constraint != nil {
		e.Constraint = constraint.String()
	}
	return nil, e
}
