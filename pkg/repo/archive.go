package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/sign"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// An archive (bundle archive) is one OCI image layout, as a tar file,
// holding bundles as Helm OCI charts and container images by digest (a
// multi-platform image with its index and every platform), so that both
// can be carried to a registry no connected machine reaches (bundle
// archive push).
//
// Besides oci-layout, index.json and blobs/, the layout holds
// ArchiveIndexFile, which says what is what. index.json names each root
// with org.opencontainers.image.ref.name: "bundles/NAME:TAG" for a
// bundle, the image's repository and digest (REPOSITORY@sha256:...) for an
// image, and AnnotationImage, the image as the manifests write it.

// ArchiveIndexFile is the archive's table of contents, at the root of its
// OCI layout.
const ArchiveIndexFile = "bundle-archive.json"

// AnnotationImage, on an image's entry in an archive's index.json, is the
// image reference as the manifests write it ("mariadb:11.4").
const AnnotationImage = "sh.bundle.image"

// ArchiveIndex is an archive's table of contents.
type ArchiveIndex struct {
	// Bundles, sorted by name.
	Bundles []ArchivedBundle `json:"bundles"`
	// Images as the lock records them: each reference as written, its
	// repository and digest; sorted by reference.
	Images []bundle.LockedImage `json:"images"`
}

// ArchivedBundle is one bundle in an archive.
type ArchivedBundle struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Tag is the OCI tag the bundle is pushed under (TagOf).
	Tag string `json:"tag"`
	// Repository is where it was resolved from ("" for a directory, a
	// requirement's repository as written otherwise).
	Repository string `json:"repository,omitempty"`
	// Digest is the Helm OCI chart's manifest digest: the registry's for a
	// bundle from an OCI registry, so that its lock digests still hold.
	Digest string `json:"digest"`
	// Signatures, for a bundle from an OCI registry that has cosign
	// signatures (bundle sign), is the digest of its signature manifest
	// (tag sha256-HEX.sig), copied with it so that a signature policy
	// holds at the mirror.
	Signatures string `json:"signatures,omitempty"`
}

// ArchiveWriter collects bundles and images into an OCI layout in a
// directory, then writes it as a tar file.
type ArchiveWriter struct {
	opts    OCIOptions
	dir     string
	storage *oci.Storage

	mu    sync.Mutex
	index ArchiveIndex
	roots map[string]ocispec.Descriptor // by ref name
}

// NewArchiveWriter returns a writer whose layout is built in dir (a
// temporary directory the caller removes).
func NewArchiveWriter(dir string, opts OCIOptions) (*ArchiveWriter, error) {
	s, err := oci.NewStorage(dir)
	if err != nil {
		return nil, err
	}
	return &ArchiveWriter{opts: opts, dir: dir, storage: s, roots: map[string]ocispec.Descriptor{}}, nil
}

// AddBundle adds a bundle from repository (as a requirement or the command
// line names it; "" for a local one). A bundle from an OCI registry is
// copied as the registry serves it, manifest digest and all; others are
// written as bundle push writes them.
func (w *ArchiveWriter) AddBundle(ctx context.Context, b *bundle.Bundle, repository string) error {
	var desc, sigs ocispec.Descriptor
	if strings.HasPrefix(repository, "oci://") && b.SourceDigest != "" {
		o, err := NewOCI(repository, w.opts)
		if err != nil {
			return err
		}
		r, err := o.repository(b.Name)
		if err != nil {
			return err
		}
		where := fmt.Sprintf("%s/%s@%s", repository, b.Name, b.SourceDigest)
		if desc, err = r.Resolve(ctx, b.SourceDigest); err != nil {
			return o.explain(where, err)
		}
		src := w.source(r, where)
		if err := oras.CopyGraph(ctx, src, w.storage, desc, oras.DefaultCopyGraphOptions); err != nil {
			if bad := src.corrupted(); bad != nil {
				return bad
			}
			return o.explain(where, err)
		}
		// Its signatures, if any, go along.
		sigTag := sign.SignatureTag(desc.Digest.String())
		sd, err := r.Resolve(ctx, sigTag)
		switch {
		case err == nil:
			if err := oras.CopyGraph(ctx, w.source(r, where), w.storage, sd, oras.DefaultCopyGraphOptions); err != nil {
				return o.explain(fmt.Sprintf("%s/%s:%s", repository, b.Name, sigTag), err)
			}
			sigs = sd
		case !errors.Is(err, errdef.ErrNotFound):
			return o.explain(fmt.Sprintf("%s/%s:%s", repository, b.Name, sigTag), err)
		}
	} else {
		pkg, err := b.Package()
		if err != nil {
			return err
		}
		config, configDesc, layerDesc, manifest, err := chartManifest(b, pkg)
		if err != nil {
			return err
		}
		desc = content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manifest)
		for _, blob := range []struct {
			desc ocispec.Descriptor
			data []byte
		}{{configDesc, config}, {layerDesc, pkg}, {desc, manifest}} {
			if err := w.storage.Push(ctx, blob.desc, bytes.NewReader(blob.data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
				return fmt.Errorf("archiving %s: %v", b, err)
			}
		}
	}
	tag := TagOf(b.Version)
	w.mu.Lock()
	defer w.mu.Unlock()
	ab := ArchivedBundle{Name: b.Name, Version: b.Version.String(), Tag: tag, Repository: repository, Digest: desc.Digest.String()}
	if sigs.Digest != "" {
		ab.Signatures = sigs.Digest.String()
		name := "bundles/" + b.Name + ":" + sign.SignatureTag(ab.Digest)
		w.roots[name] = rootDesc(sigs, name, nil)
	}
	w.index.Bundles = append(w.index.Bundles, ab)
	w.roots["bundles/"+b.Name+":"+tag] = rootDesc(desc, "bundles/"+b.Name+":"+tag, nil)
	return nil
}

// AddImage copies an image by digest from its registry: a multi-platform
// image's index with every platform's manifest, config and layers. The
// store verifies every blob's digest as it is written.
func (w *ArchiveWriter) AddImage(ctx context.Context, img bundle.LockedImage) error {
	ref, err := bundle.ParseImage(img.Image)
	if err != nil {
		return err
	}
	r, err := (&Images{opts: w.opts}).repository(ref)
	if err != nil {
		return err
	}
	where := "image " + img.Image + " (" + bundle.Pinned(img.Repository, img.Digest) + ")"
	desc, err := r.Resolve(ctx, img.Digest)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return errdefs.New(ErrNotFound, "%s not found in its registry", where)
		}
		return (&OCI{base: ref.Host(), opts: w.opts}).explain(where, err)
	}
	if desc.Digest.String() != img.Digest {
		return fmt.Errorf("%s: the registry answers %s", where, desc.Digest)
	}
	src := w.source(r, where)
	if err := oras.CopyGraph(ctx, src, w.storage, desc, oras.CopyGraphOptions{Concurrency: 3}); err != nil {
		if bad := src.corrupted(); bad != nil {
			return bad
		}
		return (&OCI{base: ref.Host(), opts: w.opts}).explain(where, err)
	}
	name := bundle.Pinned(img.Repository, img.Digest)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.index.Images = append(w.index.Images, img)
	if prev, ok := w.roots[name]; ok {
		// Two references, one image: the written ones are listed, "," apart.
		prev.Annotations[AnnotationImage] += "," + img.Image
		return nil
	}
	w.roots[name] = rootDesc(desc, name, map[string]string{AnnotationImage: img.Image})
	return nil
}

func rootDesc(d ocispec.Descriptor, name string, extra map[string]string) ocispec.Descriptor {
	out := ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, Annotations: map[string]string{ocispec.AnnotationRefName: name}}
	for k, v := range extra {
		out.Annotations[k] = v
	}
	return out
}

// source reads from a registry, checking every blob against its digest
// (a bar on the terminal for each layer).
func (w *ArchiveWriter) source(src content.ReadOnlyStorage, where string) *verifiedStorage {
	return &verifiedStorage{ReadOnlyStorage: src, file: where, hint: " as its registry serves it", progress: syncWriter(w.opts.Progress)}
}

// WriteTar writes the layout to path as a tar file, deterministically:
// entries in name order, no times, owners or modes but 0644 and 0755.
// The file is written beside path and renamed into place.
func (w *ArchiveWriter) WriteTar(path string) error {
	w.mu.Lock()
	sort.Slice(w.index.Bundles, func(i, j int) bool { return w.index.Bundles[i].Name < w.index.Bundles[j].Name })
	sort.Slice(w.index.Images, func(i, j int) bool { return w.index.Images[i].Image < w.index.Images[j].Image })
	names := make([]string, 0, len(w.roots))
	for n := range w.roots {
		names = append(names, n)
	}
	sort.Strings(names)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	for _, n := range names {
		idx.Manifests = append(idx.Manifests, w.roots[n])
	}
	toc, err := json.MarshalIndent(w.index, "", "  ")
	w.mu.Unlock()
	if err != nil {
		return err
	}
	index, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	for name, data := range map[string][]byte{ocispec.ImageLayoutFile: layout, ocispec.ImageIndexFile: index, ArchiveIndexFile: append(toc, '\n')} {
		if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	err = filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == w.dir {
			return err
		}
		rel, err := filepath.Rel(w.dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		hdr := &tar.Header{Name: rel, Mode: 0o644, ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
		if d.IsDir() {
			if rel == "ingest" {
				return fs.SkipDir // oci.Storage's unfinished writes
			}
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, rel+"/", 0o755
			return tw.WriteHeader(hdr)
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// ArchivePushOptions configure PushArchive.
type ArchivePushOptions struct {
	// Force moves a bundle's tag, or an image's, that holds other
	// content.
	Force bool
}

// ArchivePushResult says what PushArchive did.
type ArchivePushResult struct {
	Index ArchiveIndex
	// Uploaded counts the blobs and manifests sent; Skipped those the
	// registry already had (a manifest present is not descended into).
	Uploaded, Skipped int64
}

// ReadArchiveIndex reads the table of contents of an archive.
func ReadArchiveIndex(file string) (*ArchiveIndex, error) {
	f, err := userfile.Open("archive", file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: not a bundle archive (no %s)", file, ArchiveIndexFile)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		if hdr.Name != ArchiveIndexFile {
			continue
		}
		var idx ArchiveIndex
		if err := json.NewDecoder(io.LimitReader(tr, maxManifestSize)).Decode(&idx); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", file, ArchiveIndexFile, err)
		}
		for _, i := range idx.Images {
			if ref, err := bundle.ParseImage(i.Image); err != nil || ref.Repository != i.Repository {
				return nil, fmt.Errorf("%s: %s: image %q is not of repository %q", file, ArchiveIndexFile, i.Image, i.Repository)
			}
		}
		return &idx, nil
	}
}

// PushArchive copies everything in an archive into a registry namespace
// (oci://HOST/PREFIX): each bundle to PREFIX/NAME:TAG, each image by
// digest to bundle.Mirrored(HOST/PREFIX, its repository), tagged with the
// tag it was written with, if any. A bundle's version or an image's tag
// the registry holds with other content is refused before anything is
// sent, unless popts.Force. What the registry holds already is not
// sent again, so an interrupted push resumes; every blob read from the
// archive is checked against its digest, and a corrupted one is refused
// naming it.
func PushArchive(ctx context.Context, file, dest string, opts OCIOptions, popts ArchivePushOptions) (*ArchivePushResult, error) {
	idx, err := ReadArchiveIndex(file)
	if err != nil {
		return nil, err
	}
	o, err := NewOCI(dest, opts)
	if err != nil {
		return nil, err
	}
	store, err := oci.NewFromTar(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI image layout: %v", file, err)
	}
	src := &verifiedStorage{ReadOnlyStorage: store, file: file, hint: "; archive it again", progress: syncWriter(opts.Progress)}
	res := &ArchivePushResult{Index: *idx}
	copyOpts := oras.CopyGraphOptions{
		Concurrency: 3,
		PostCopy: func(context.Context, ocispec.Descriptor) error {
			atomic.AddInt64(&res.Uploaded, 1)
			return nil
		},
		OnCopySkipped: func(context.Context, ocispec.Descriptor) error {
			atomic.AddInt64(&res.Skipped, 1)
			return nil
		},
	}
	copyTo := func(repository string, d digest.Digest, where string) (ocispec.Descriptor, error) {
		desc, err := store.Resolve(ctx, d.String())
		if err != nil {
			return desc, fmt.Errorf("%s: %s is not in the archive: %v", file, where, err)
		}
		r, err := o.repository(repository)
		if err != nil {
			return desc, err
		}
		if err := oras.CopyGraph(ctx, src, r, desc, copyOpts); err != nil {
			if bad := src.corrupted(); bad != nil {
				return desc, bad
			}
			return desc, o.explain(where, err)
		}
		return desc, nil
	}
	// A bundle's version or an image's tag that holds other content is
	// refused before anything is sent, unless forced.
	refuseOther := func(repository, tag, dgst, where string) error {
		r, err := o.repository(repository)
		if err != nil {
			return err
		}
		existing, err := r.Resolve(ctx, tag)
		switch {
		case err == nil && existing.Digest.String() != dgst && !popts.Force:
			return errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{Options: []string{"force"}, Use: true}}, "%s already exists with other content (%s)", where, existing.Digest)
		case err != nil && !errors.Is(err, errdef.ErrNotFound):
			return o.explain(where, err)
		}
		return nil
	}
	for _, b := range idx.Bundles {
		if err := refuseOther(b.Name, b.Tag, b.Digest, fmt.Sprintf("oci://%s/%s:%s", o.base, b.Name, b.Tag)); err != nil {
			return nil, err
		}
	}
	for _, img := range idx.Images {
		if tag := imageTag(img.Image); tag != "" {
			target := bundle.Mirrored(o.base, img.Repository)
			if err := refuseOther(strings.TrimPrefix(target, o.base+"/"), tag, img.Digest, target+":"+tag); err != nil {
				return nil, err
			}
		}
	}
	// Images first: a bundle there means its images are too.
	for _, img := range idx.Images {
		d, err := digest.Parse(img.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: image %s: %v", file, img.Image, err)
		}
		target := bundle.Mirrored(o.base, img.Repository)
		where := "image " + img.Image + " to " + bundle.Pinned(target, img.Digest)
		desc, err := copyTo(strings.TrimPrefix(target, o.base+"/"), d, where)
		if err != nil {
			return nil, err
		}
		// The tag too, for people and for registries that collect
		// untagged manifests; installs pin the digest.
		if tag := imageTag(img.Image); tag != "" {
			r, err := o.repository(strings.TrimPrefix(target, o.base+"/"))
			if err != nil {
				return nil, err
			}
			if err := r.Tag(ctx, desc, tag); err != nil {
				return nil, o.explain(where, err)
			}
		}
	}
	for _, b := range idx.Bundles {
		where := fmt.Sprintf("oci://%s/%s:%s", o.base, b.Name, b.Tag)
		d, err := digest.Parse(b.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: bundle %s: %v", file, b.Name, err)
		}
		r, err := o.repository(b.Name)
		if err != nil {
			return nil, err
		}
		desc, err := copyTo(b.Name, d, where)
		if err != nil {
			return nil, err
		}
		if err := r.Tag(ctx, desc, b.Tag); err != nil {
			return nil, o.explain(where, err)
		}
		if b.Signatures == "" {
			continue
		}
		// Its signatures, unless the registry has some of this digest
		// already (signed there, or pushed before): those are kept.
		sigTag := sign.SignatureTag(b.Digest)
		where = fmt.Sprintf("oci://%s/%s:%s", o.base, b.Name, sigTag)
		if _, err := r.Resolve(ctx, sigTag); err == nil {
			continue
		} else if !errors.Is(err, errdef.ErrNotFound) {
			return nil, o.explain(where, err)
		}
		sd, err := digest.Parse(b.Signatures)
		if err != nil {
			return nil, fmt.Errorf("%s: bundle %s: signatures: %v", file, b.Name, err)
		}
		desc, err = copyTo(b.Name, sd, where)
		if err != nil {
			return nil, err
		}
		if err := r.Tag(ctx, desc, sigTag); err != nil {
			return nil, o.explain(where, err)
		}
	}
	return res, nil
}

// imageTag is the tag an image of an archive was written with, which its
// mirror is tagged with too; "" when it was pinned by digest.
func imageTag(image string) string {
	if ref, err := bundle.ParseImage(image); err == nil && ref.Digest == "" {
		return ref.Tag
	}
	return ""
}

// verifiedStorage reads an archive's blobs, checking each against its
// digest as it is read: a corrupted blob fails its upload, and corrupted
// says which.
type verifiedStorage struct {
	content.ReadOnlyStorage
	file     string // what is read, for errors
	hint     string // added to errors
	progress io.Writer

	mu  sync.Mutex
	bad error
}

func (s *verifiedStorage) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := s.ReadOnlyStorage.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	v := &verifyingReader{rc: rc, desc: desc, v: desc.Digest.Verifier(), s: s}
	if isManifest(desc.MediaType) {
		return v, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{newProgress(s.progress, "blob "+short(desc.Digest.String()), desc.Size, v), v}, nil
}

func (s *verifiedStorage) corrupted() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

type verifyingReader struct {
	rc   io.ReadCloser
	desc ocispec.Descriptor
	v    digest.Verifier
	n    int64
	s    *verifiedStorage
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.v.Write(p[:n]) //nolint:errcheck // a hash never fails
	r.n += int64(n)
	if r.n > r.desc.Size || (err == io.EOF && (r.n != r.desc.Size || !r.v.Verified())) {
		bad := errdefs.New(errdefs.ErrInvalid, "%s: blob %s (%s) is corrupted: its content does not match its digest%s", r.s.file, r.desc.Digest, r.desc.MediaType, r.s.hint)
		r.s.mu.Lock()
		if r.s.bad == nil {
			r.s.bad = bad
		}
		r.s.mu.Unlock()
		return n, bad
	}
	return n, err
}

func (r *verifyingReader) Close() error { return r.rc.Close() }

func isManifest(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json":
		return true
	}
	return false
}
