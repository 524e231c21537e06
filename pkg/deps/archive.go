package deps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/repo"
)

// ArchiveOptions configure Archive.
type ArchiveOptions struct {
	// Version constrains the root bundle's version (a repository bundle).
	Version *semver.Constraints
	// Locked archives exactly the root's bundle.lock: its bundles, checked
	// against bundle.yaml and the digests the sources serve, and its
	// images. Otherwise the graph is resolved as bundle lock resolves it
	// and the images' tags through Images.
	Locked bool
	// Images resolves image tags (without Locked).
	Images ImageResolver
	// OCI reaches the registries the images and OCI bundles are copied
	// from.
	OCI repo.OCIOptions
}

// ArchiveResult says what Archive wrote.
type ArchiveResult struct {
	Path  string
	Index repo.ArchiveIndex
	// Warnings say why install --locked from the copy would not find
	// every image it pins (an archive made without Locked).
	Warnings []string
}

// Archive resolves the bundle ref names and writes to path one OCI image
// layout (a tar file) holding every bundle of the graph and every image
// they run, by digest, with all their platforms (see repo.ArchiveWriter).
func Archive(ctx context.Context, refs plan.References, ref, path string, opts ArchiveOptions) (*ArchiveResult, error) {
	r, err := repo.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	var root *bundle.Bundle
	if r.Dir != "" {
		// As bundle push packages a directory: its file:// chart
		// dependencies vendored.
		root, err = bundle.LoadDirBuildingDeps(r.Dir)
	} else {
		root, err = refs.LoadReference(ctx, r, opts.Version)
	}
	if err != nil {
		return nil, err
	}
	pl, err := plan.Resolve(ctx, refs, root, plan.Options{Locked: opts.Locked})
	if err != nil {
		return nil, err
	}
	var images []bundle.LockedImage
	switch {
	case opts.Locked:
		if root.Lock.Images == nil {
			return nil, errdefs.Fixable(plan.ErrLockStale, []errdefs.Fix{{Run: []string{"lock", root.Source}}},
				"%s/%s records no images (locked with --skip-images?): lock it again online", root.Source, bundle.LockFileName)
		}
		images = root.Lock.Images
	case opts.Images == nil:
		return nil, fmt.Errorf("archive: no image resolver")
	default:
		if images, err = lockImages(ctx, pl, opts.Images); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".layout.*")
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	w, err := repo.NewArchiveWriter(tmp, opts.OCI)
	if err != nil {
		return nil, err
	}
	// The root, from where it was named, and each bundle once.
	if err := w.AddBundle(ctx, root, r.Ref.Repository); err != nil {
		return nil, err
	}
	seen := map[string]bool{root.Name: true}
	var walk func(n *plan.Node) error
	walk = func(n *plan.Node) error {
		for _, c := range n.Requires {
			if !seen[c.Bundle.Name] {
				seen[c.Bundle.Name] = true
				repository := c.Requirement.Repository
				if repository == "" {
					repository = bundle.DefaultRepository
				}
				if err := w.AddBundle(ctx, c.Bundle, repository); err != nil {
					return err
				}
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(pl.Root); err != nil {
		return nil, err
	}
	for _, img := range images {
		if err := w.AddImage(ctx, img); err != nil {
			return nil, err
		}
	}
	if err := w.WriteTar(path); err != nil {
		return nil, err
	}
	idx, err := repo.ReadArchiveIndex(path)
	if err != nil {
		return nil, err
	}
	res := &ArchiveResult{Path: path, Index: *idx}
	if !opts.Locked {
		res.Warnings = lockWarnings(root, images)
	}
	return res, nil
}

// lockWarnings says when the root's own lock, which install --locked pins
// from, does not pin exactly the images archived.
func lockWarnings(root *bundle.Bundle, images []bundle.LockedImage) []string {
	if root.Lock == nil || root.Lock.Images == nil {
		return []string{fmt.Sprintf("%s has no %s recording its images: installs from the copy cannot pin them by digest (bundle lock it, then bundle archive --locked)", root, bundle.LockFileName)}
	}
	for _, l := range root.Lock.Images {
		found := false
		for _, i := range images {
			found = found || (i.Image == l.Image && i.Digest == l.Digest)
		}
		if !found {
			return []string{fmt.Sprintf("%s's %s locks %s@%s, which is not archived: install --locked from the copy would not find it (bundle archive --locked)", root, bundle.LockFileName, l.Image, l.Digest)}
		}
	}
	return nil
}
