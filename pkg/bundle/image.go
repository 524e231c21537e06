package bundle

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// ImageRef is a container image reference as a manifest writes it, and
// what it names once normalised as the container runtimes normalise it:
// "mariadb:11.4" is docker.io/library/mariadb, tag 11.4; a reference
// without tag or digest means the tag latest.
type ImageRef struct {
	// Written is the reference as written ("mariadb:11.4").
	Written string
	// Repository is the normalised repository, HOST/PATH
	// ("docker.io/library/mariadb").
	Repository string
	// Tag is the tag ("11.4"); "latest" when neither tag nor digest is
	// written; "" when only a digest is.
	Tag string
	// Digest is the digest written in the reference ("sha256:..."), if any.
	Digest string
}

// Host is the registry host of the repository ("docker.io").
func (r ImageRef) Host() string {
	h, _, _ := strings.Cut(r.Repository, "/")
	return h
}

// Pinned is the reference by digest: REPOSITORY@DIGEST.
func Pinned(repository, digest string) string { return repository + "@" + digest }

// ParseImage parses a container image reference as the container runtimes
// do (Docker Hub short names normalised).
func ParseImage(s string) (ImageRef, error) {
	if s == "" || strings.TrimSpace(s) != s {
		return ImageRef{}, fmt.Errorf("invalid image reference %q", s)
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return ImageRef{}, fmt.Errorf("invalid image reference %q: %v", s, err)
	}
	r := ImageRef{Written: s, Repository: named.Name()}
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.Digest = d.Digest().String()
		if d.Digest().Algorithm() != "sha256" {
			return ImageRef{}, fmt.Errorf("invalid image reference %q: only sha256 digests are supported", s)
		}
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// LockedImage is one image in a lock: the reference as the manifests
// write it, the repository it normalises to, and the digest its tag
// resolved to (for a multi-platform image, the digest of its index).
type LockedImage struct {
	Image      string `json:"image"`
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
}

// FindImage returns the locked entry for an image reference as written.
func (l *Lock) FindImage(written string) (LockedImage, bool) {
	return find(l.Images, func(i LockedImage) bool { return i.Image == written })
}

// Mirrored is where bundle archive push copies an image repository in a
// registry namespace (mirror, HOST/PREFIX): MIRROR/REPOSITORY, the
// repository's host kept as its first path component with a port's ":"
// written "_" (a repository path cannot hold ":"):
// docker.io/library/mariadb -> HOST/PREFIX/docker.io/library/mariadb,
// localhost:5000/app -> HOST/PREFIX/localhost_5000/app.
func Mirrored(mirror, repository string) string {
	host, path, _ := strings.Cut(repository, "/")
	return strings.TrimSuffix(mirror, "/") + "/" + strings.ReplaceAll(host, ":", "_") + "/" + path
}
