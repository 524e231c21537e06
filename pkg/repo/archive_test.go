package repo

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// An archive shows each layer on the terminal going in and coming out,
// and refuses a blob its source registry corrupts on the way in.
func TestArchiveProgressAndCorruptSource(t *testing.T) {
	ctx := context.Background()
	a := startRegistry(t)
	d := testregistry.Index(t, a, "img/x", "1", "linux/amd64", "linux/arm64")
	img := bundle.LockedImage{Image: a + "/img/x:1", Repository: a + "/img/x", Digest: d}

	var bar strings.Builder
	dir := t.TempDir()
	w, err := NewArchiveWriter(filepath.Join(dir, "layout"), OCIOptions{PlainHTTP: true, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "x.tar")
	if err := w.WriteTar(file); err != nil {
		t.Fatal(err)
	}
	if strings.Count(bar.String(), "100%") != 4 { // 2 configs, 2 layers
		t.Errorf("archive progress: %q", bar.String())
	}
	bar.Reset()
	b := startRegistry(t)
	res, err := PushArchive(ctx, file, "oci://"+b+"/m", OCIOptions{PlainHTTP: true, Progress: &bar}, ArchivePushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 7 || res.Skipped != 0 || strings.Count(bar.String(), "100%") != 4 {
		t.Errorf("push: %d uploaded, %d skipped; progress %q", res.Uploaded, res.Skipped, bar.String())
	}
	if res, err = PushArchive(ctx, file, "oci://"+b+"/m", OCIOptions{PlainHTTP: true}, ArchivePushOptions{}); err != nil || res.Uploaded != 0 || res.Skipped != 1 {
		t.Errorf("second push: %+v %v", res, err)
	}

	// A proxy that corrupts every layer on its way from the registry.
	host := corruptingProxy(t, a, 256)
	w, _ = NewArchiveWriter(filepath.Join(dir, "bad"), OCIOptions{PlainHTTP: true})
	err = w.AddImage(ctx, bundle.LockedImage{Image: host + "/img/x:1", Repository: host + "/img/x", Digest: d})
	if err == nil || !strings.Contains(err.Error(), "is corrupted") || !strings.Contains(err.Error(), "blob sha256:") || strings.Contains(err.Error(), "\n") {
		t.Errorf("corrupted source: %v", err)
	}
}

// A version the registry holds with other content is refused before
// anything is sent, unless forced.
func TestPushArchiveRefusesOtherContent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	archive := func(name, values string) string {
		b, err := bundle.LoadArchive(testregistry.Leaf(t, "1.0.0", values), "test")
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewArchiveWriter(filepath.Join(dir, name), OCIOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddBundle(ctx, b, ""); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name+".tar")
		if err := w.WriteTar(file); err != nil {
			t.Fatal(err)
		}
		return file
	}
	one, two := archive("one", "a: 1\n"), archive("two", "a: 2\n")
	dest := "oci://" + startRegistry(t) + "/m"
	opts := OCIOptions{PlainHTTP: true}
	if _, err := PushArchive(ctx, one, dest, opts, ArchivePushOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := PushArchive(ctx, two, dest, opts, ArchivePushOptions{}); err == nil || !strings.Contains(err.Error(), "already exists with other content") {
		t.Errorf("other content: %v", err)
	}
	if _, err := PushArchive(ctx, two, dest, opts, ArchivePushOptions{Force: true}); err != nil {
		t.Errorf("forced: %v", err)
	}
}

// An image tag the mirror holds with other content is refused as a
// bundle's version is, before anything is sent, unless forced; the same
// content again is no conflict.
func TestPushArchiveRefusesOtherImageContent(t *testing.T) {
	ctx := context.Background()
	src := startRegistry(t)
	dir := t.TempDir()
	archive := func(name string) (file, dgst string) {
		dgst = testregistry.Image(t, src, "img/x", "1") // moves the tag to a new image
		w, err := NewArchiveWriter(filepath.Join(dir, name), OCIOptions{PlainHTTP: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddImage(ctx, bundle.LockedImage{Image: src + "/img/x:1", Repository: src + "/img/x", Digest: dgst}); err != nil {
			t.Fatal(err)
		}
		file = filepath.Join(dir, name+".tar")
		if err := w.WriteTar(file); err != nil {
			t.Fatal(err)
		}
		return file, dgst
	}
	one, d1 := archive("one")
	two, d2 := archive("two")
	mirror := startRegistry(t)
	dest := "oci://" + mirror + "/m"
	opts := OCIOptions{PlainHTTP: true}
	tagged := func() string {
		r, err := remote.NewRepository(bundle.Mirrored(mirror+"/m", src+"/img/x"))
		if err != nil {
			t.Fatal(err)
		}
		r.PlainHTTP = true
		desc, err := r.Resolve(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		return desc.Digest.String()
	}
	for _, file := range []string{one, one} {
		if _, err := PushArchive(ctx, file, dest, opts, ArchivePushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := PushArchive(ctx, two, dest, opts, ArchivePushOptions{})
	want := bundle.Mirrored(mirror+"/m", src+"/img/x") + ":1 already exists with other content (" + d1 + ")"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, errdefs.ErrExists) {
		t.Errorf("other content: %v, want ...%s", err, want)
	}
	if res != nil || tagged() != d1 {
		t.Errorf("refused, yet %+v pushed, tag at %s", res, tagged())
	}
	if _, err := PushArchive(ctx, two, dest, opts, ArchivePushOptions{Force: true}); err != nil || tagged() != d2 {
		t.Errorf("forced: %v, tag at %s, want %s", err, tagged(), d2)
	}
}
