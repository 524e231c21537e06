package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/bundle"
)

// The air-gapped round trip: registry A serves two bundles (an app
// requiring a database bundle) and their images (one multi-platform);
// bundle archive copies them into one file; A goes away; archive push
// fills registry B, which never saw A; the app renders from B with every
// image from B by digest. Pushing again sends nothing; a corrupted blob
// is refused.
func TestArchiveAirGapped(t *testing.T) {
	g := testregistry.StartAirGap(t)
	a, dbIndex, webDigest, src, db, app := g.A, g.DBIndex, g.WebDigest, g.Source, g.DB, g.App
	if code, _, errs := run(t, "push", db, src, "--plain-http"); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := run(t, "lock", app, "--plain-http"); code != 0 || !strings.Contains(out, "1 bundles, 2 images") {
		t.Fatalf("lock: %s %s", out, errs)
	}
	if code, _, errs := run(t, "push", app, src, "--plain-http"); code != 0 {
		t.Fatal(errs)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "app.tar")
	code, out, errs := run(t, "archive", src+"/app", "--locked", "-o", file, "--plain-http")
	if code != 0 {
		t.Fatalf("archive: %s %s", out, errs)
	}
	if !strings.Contains(out, "wrote "+file+" (2 bundles, 2 images)") || errs != "" {
		t.Errorf("archive printed %q %q", out, errs)
	}
	// The same inputs, the same bytes.
	again := filepath.Join(dir, "again.tar")
	if code, _, errs := run(t, "archive", src+"/app", "--locked", "-o", again, "--plain-http", "-q"); code != 0 {
		t.Fatal(errs)
	}
	first, _ := os.ReadFile(file)
	second, _ := os.ReadFile(again)
	if !bytes.Equal(first, second) {
		t.Error("archiving twice gave different bytes")
	}
	// An OCI layout, with its table of contents.
	entries := tarEntries(t, first)
	var index ocispec.Index
	if err := json.Unmarshal(entries["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{}
	for _, m := range index.Manifests {
		refs[m.Annotations[ocispec.AnnotationRefName]] = m.Digest.String()
	}
	if refs[a.Host+"/img/db@"+dbIndex] != dbIndex || refs[a.Host+"/img/web@"+webDigest] != webDigest || refs["bundles/app:0.1.0"] == "" || refs["bundles/db:1.0.0"] == "" {
		t.Errorf("index.json names %v", refs)
	}
	if _, ok := entries["oci-layout"]; !ok {
		t.Error("no oci-layout")
	}
	for name := range entries {
		if !strings.HasPrefix(name, "blobs/") && name != "oci-layout" && name != "index.json" && name != "bundle-archive.json" {
			t.Errorf("the archive holds %s", name)
		}
	}
	if !strings.Contains(string(entries["bundle-archive.json"]), `"image": "`+a.Host+`/img/db:1.0"`) {
		t.Errorf("bundle-archive.json:\n%s", entries["bundle-archive.json"])
	}

	a.Stop() // offline from here

	b := testregistry.StartServer(t)
	mirror := "oci://" + b.Host + "/mirror"
	// Interrupted: the registry refuses the second image (images go in
	// reference order, db before web); bundles wait for their images.
	b.Refuse("/img/web/")
	if code, _, errs := run(t, "archive", "push", file, mirror, "--plain-http"); code == 0 || !strings.Contains(errs, "img/web") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("interrupted push: %d %q", code, errs)
	}
	dbBlobs, _ := b.Uploads()
	if dbBlobs != 4 {
		t.Errorf("interrupted push uploaded %d blobs, want db's 4", dbBlobs)
	}
	b.Refuse("")
	code, out, errs = run(t, "archive", "push", file, mirror, "--plain-http")
	if code != 0 {
		t.Fatalf("archive push: %s %s", out, errs)
	}
	if !strings.Contains(out, "pushed 2 bundles and 2 images to "+mirror) {
		t.Errorf("archive push printed %q", out)
	}
	blobs, manifests := b.Uploads()
	// Resumed: what the interrupted push completed is not sent again. A
	// fresh push sends 10 blobs (db's 2 configs and 2 layers, web's config
	// and layer, each bundle's config and layer); the resumed one sends
	// web's and the bundles' 6, plus any of db's that the interruption cut
	// off in flight (its uploads run concurrently): fewer than 10.
	if resumed := blobs - dbBlobs; resumed < 2+4 || resumed >= 4+2+4 || manifests < 1+2+1+2 {
		t.Errorf("resumed push: %d blob uploads (%d before the interruption), %d manifests", resumed, dbBlobs, manifests)
	}
	// Every platform of the multi-platform image is in B.
	idxData := fetch(t, b.Host, "mirror/"+strings.ReplaceAll(a.Host, ":", "_")+"/img/db", dbIndex)
	var idx ocispec.Index
	json.Unmarshal(idxData, &idx)
	if len(idx.Manifests) != 2 {
		t.Fatalf("index in B: %s", idxData)
	}
	for _, m := range idx.Manifests {
		fetch(t, b.Host, "mirror/"+strings.ReplaceAll(a.Host, ":", "_")+"/img/db", m.Digest.String())
	}

	// Pushing again sends no blob: the registry has them all.
	code, out, errs = run(t, "archive", "push", file, mirror, "--plain-http")
	if code != 0 {
		t.Fatalf("second archive push: %s %s", out, errs)
	}
	if b2, _ := b.Uploads(); b2 != blobs {
		t.Errorf("second push uploaded %d blobs", b2-blobs)
	}
	if !strings.Contains(out, "(0 uploaded,") {
		t.Errorf("second push printed %q", out)
	}

	// From B, locked: every image is B's copy, by digest.
	code, out, errs = run(t, "template", "app", mirror+"/app", "--locked", "--mirror", mirror, "--plain-http")
	if code != 0 {
		t.Fatalf("template from the mirror: %s", errs)
	}
	images := regexp.MustCompile(`image: (\S+)`).FindAllStringSubmatch(out, -1)
	if len(images) != 2 {
		t.Fatalf("rendered images %v:\n%s", images, out)
	}
	want := map[string]bool{
		bundle.Mirrored(b.Host+"/mirror", a.Host+"/img/db") + "@" + dbIndex:    true,
		bundle.Mirrored(b.Host+"/mirror", a.Host+"/img/web") + "@" + webDigest: true,
	}
	for _, m := range images {
		if !want[m[1]] {
			t.Errorf("image %s is not B's copy by digest (want one of %v)", m[1], want)
		}
	}
	// Without --mirror, the requirement's registry (A) is gone.
	if code, _, _ := run(t, "template", "app", mirror+"/app", "--locked", "--plain-http"); code == 0 {
		t.Error("rendered without --mirror while A is down")
	}

	// A corrupted blob in the archive is refused, naming it.
	bad := filepath.Join(dir, "bad.tar")
	layer := corruptLayer(t, first, bad)
	c := testregistry.StartServer(t)
	code, _, errs = run(t, "archive", "push", bad, "oci://"+c.Host+"/mirror", "--plain-http")
	if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, layer) || !strings.Contains(errs, "corrupted") {
		t.Errorf("corrupted archive: exit %d %q (want one line naming %s)", code, errs, layer)
	}
}

func tarEntries(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[hdr.Name] = b
	}
}

// corruptLayer writes to path the archive with one byte of its first
// image layer (a random 256-byte blob) flipped, returning its digest.
func corruptLayer(t *testing.T, data []byte, path string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tr := tar.NewReader(bytes.NewReader(data))
	corrupted := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if corrupted == "" && strings.HasPrefix(hdr.Name, "blobs/sha256/") && hdr.Size == 256 {
			b[0] ^= 0xff
			corrupted = "sha256:" + strings.TrimPrefix(hdr.Name, "blobs/sha256/")
		}
		tw.WriteHeader(hdr)
		tw.Write(b)
	}
	tw.Close()
	if corrupted == "" {
		t.Fatal("no layer to corrupt")
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return corrupted
}

func fetch(t *testing.T, host, repository, dgst string) []byte {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repository)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	_, data, err := oras.FetchBytes(context.Background(), r, dgst, oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatalf("%s/%s@%s: %v", host, repository, dgst, err)
	}
	return data
}

// A requirement from an HTTP repository is archived as an OCI chart and,
// through --mirror, served from the registry with its lock digest (the
// package's) still holding; an archive made without --locked resolves as
// bundle lock does.
func TestArchiveHTTPRequirement(t *testing.T) {
	url, _ := serveCharts(t)
	app := appRequiringLeaf(t, url)
	if code, out, errs := run(t, "lock", app); code != 0 || !strings.Contains(out, "1 bundles, 0 images") {
		t.Fatalf("lock: %s %s", out, errs)
	}
	dir := t.TempDir()
	for _, args := range [][]string{{"--locked"}, {}} {
		file := filepath.Join(dir, fmt.Sprintf("app%d.tar", len(args)))
		code, out, errs := run(t, append([]string{"archive", app, "-o", file}, args...)...)
		if code != 0 || !strings.Contains(out, "(2 bundles, 0 images)") || errs != "" {
			t.Fatalf("archive %v: %s %s", args, out, errs)
		}
	}
	// Unlocked: archived, with a warning that installs cannot pin.
	unlocked := appRequiringLeaf(t, url)
	if code, _, errs := run(t, "archive", unlocked, "-o", filepath.Join(dir, "unlocked.tar")); code != 0 || !strings.HasPrefix(errs, "warning: app 0.1.0 has no bundle.lock") {
		t.Errorf("archive of an unlocked bundle: %d %q", code, errs)
	}
	b := testregistry.StartServer(t)
	mirror := "oci://" + b.Host + "/m"
	if code, out, errs := run(t, "archive", "push", filepath.Join(dir, "app1.tar"), mirror, "--plain-http"); code != 0 {
		t.Fatalf("archive push: %s %s", out, errs)
	}
	code, out, errs := run(t, "template", "x", mirror+"/app", "--locked", "--mirror", mirror, "--plain-http")
	if code != 0 || !strings.Contains(out, "name: x-store") {
		t.Fatalf("template from the mirror: %d %s\n%s", code, errs, out)
	}
	// A bad --mirror is one line.
	if code, _, errs := run(t, "template", "x", mirror+"/app", "--mirror", "https://x"); code == 0 || !strings.Contains(errs, "--mirror") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("bad --mirror: %d %q", code, errs)
	}
}
