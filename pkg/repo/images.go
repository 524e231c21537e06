package repo

import (
	"context"
	"errors"
	"fmt"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// dockerHub is the host Docker Hub's registry API answers on: references
// say docker.io, the API is at registry-1.docker.io (credentials are
// stored for either under Docker's key, as docker login stores them).
const dockerHub = "registry-1.docker.io"

// Images resolves container image tags to the digests their registries
// serve, through oras-go with the OCI options: the timeouts, TLS
// verification (unless Insecure), --plain-http, and the logins of bundle
// login and docker login. Answers are kept for the Images' lifetime, so
// an image used by many objects is asked for once.
type Images struct {
	opts OCIOptions

	seen memo[string]
}

// NewImages returns an image resolver over opts.
func NewImages(opts OCIOptions) *Images {
	return &Images{opts: opts}
}

// Digest returns the digest the registry serves for the reference's tag:
// the digest of the image's manifest or, for a multi-platform image, of
// its index, as served (never one platform's manifest). A reference
// written with a digest is its own answer, without asking.
func (i *Images) Digest(ctx context.Context, ref bundle.ImageRef) (string, error) {
	if ref.Digest != "" {
		return ref.Digest, nil
	}
	key := ref.Repository + ":" + ref.Tag
	d, ok := i.seen.get(key)
	if ok {
		return d, nil
	}
	r, err := i.repository(ref)
	if err != nil {
		return "", err
	}
	// Resolve asks for the tag with every manifest and index media type
	// accepted, and returns what the registry says it serves.
	desc, err := r.Resolve(ctx, ref.Tag)
	if err != nil {
		where := "image " + ref.Written
		if full := ref.Repository + ":" + ref.Tag; full != ref.Written {
			where += " (" + full + ")"
		}
		if errors.Is(err, errdef.ErrNotFound) {
			return "", errdefs.New(ErrNotFound, "%s not found in its registry", where)
		}
		return "", (&OCI{base: ref.Host(), opts: i.opts}).explain(where, err)
	}
	d = desc.Digest.String()
	if desc.Digest.Algorithm() != "sha256" {
		return "", fmt.Errorf("image %s: the registry answers digest %s; only sha256 is supported", ref.Written, d)
	}
	i.seen.put(key, d)
	return d, nil
}

// repository is the registry repository of an image (Docker Hub's API
// host for docker.io).
func (i *Images) repository(ref bundle.ImageRef) (*remote.Repository, error) {
	host, path := ref.Host(), ref.Repository[len(ref.Host())+1:]
	if host == "docker.io" {
		host = dockerHub
	}
	r, err := remote.NewRepository(host + "/" + path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %v", ref.Written, err)
	}
	r.PlainHTTP = i.opts.PlainHTTP
	r.Client = i.opts.client()
	return r, nil
}
