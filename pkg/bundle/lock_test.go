package bundle

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

const validLock = `apiVersion: bundle/v1
kind: Lock
requires: sha256:35676ae428e345a34e8d778fc76cbcf9aa071c887f3828e2c3b4a4bb7e945d2a
bundles:
  - name: redis-ha
    version: 7.2.0
    repository: "oci://registry.example.com/bundles"
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000001
  - name: mariadb
    version: 1.0.0
    repository: stable
    digest: sha256:b387902656428150db48495858766f510ec20ac93da3cb74e9d7cac4640f3082
images:
  - image: "registry.example.com:5000/team/app:1.2"
    repository: "registry.example.com:5000/team/app"
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000003
  - image: "mariadb:11.4"
    repository: docker.io/library/mariadb
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000002
`

func TestLockRoundTrip(t *testing.T) {
	l, err := ParseLock("bundle.lock", []byte(validLock))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Bundles) != 2 || l.Bundles[0].Name != "mariadb" || l.Bundles[1].Repository != "oci://registry.example.com/bundles" {
		t.Fatalf("parsed %+v", l)
	}
	out := l.Marshal()
	again, err := ParseLock("bundle.lock", out)
	if err != nil {
		t.Fatalf("Marshal wrote what ParseLock refuses: %v\n%s", err, out)
	}
	if !bytes.Equal(again.Marshal(), out) {
		t.Error("Marshal is not stable")
	}
	if e, ok := l.Find("redis-ha"); !ok || e.Version != "7.2.0" {
		t.Errorf("Find: %+v %v", e, ok)
	}
	if len(l.Images) != 2 || l.Images[0].Image != "mariadb:11.4" {
		t.Fatalf("images not sorted by reference: %+v", l.Images)
	}
	if e, ok := l.FindImage("mariadb:11.4"); !ok || e.Repository != "docker.io/library/mariadb" {
		t.Errorf("FindImage: %+v %v", e, ok)
	}
}

// A lock without images: (one written before they were recorded, or with
// --skip-images) records none, and stays without them; images: [] stays.
func TestLockImagesAbsentOrEmpty(t *testing.T) {
	head := "# Written by bundle lock; do not edit. bundle update moves versions.\napiVersion: bundle/v1\nkind: Lock\nrequires: sha256:35676ae428e345a34e8d778fc76cbcf9aa071c887f3828e2c3b4a4bb7e945d2a\nbundles: []\n"
	for _, src := range []string{head, head + "images: []\n"} {
		l, err := ParseLock("bundle.lock", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if (l.Images == nil) != (src == head) {
			t.Errorf("images %#v from\n%s", l.Images, src)
		}
		if got := string(l.Marshal()); got != src {
			t.Errorf("round trip:\n%s\nwant\n%s", got, src)
		}
	}
}

func TestParseImage(t *testing.T) {
	tests := []struct{ in, repo, tag, digest string }{
		{"mariadb:11.4", "docker.io/library/mariadb", "11.4", ""},
		{"mariadb", "docker.io/library/mariadb", "latest", ""},
		{"bitnami/redis:7", "docker.io/bitnami/redis", "7", ""},
		{"docker.io/library/redis:7.4", "docker.io/library/redis", "7.4", ""},
		{"localhost:5000/app:v1", "localhost:5000/app", "v1", ""},
		{"ghcr.io/o/a@sha256:0000000000000000000000000000000000000000000000000000000000000001", "ghcr.io/o/a", "", "sha256:0000000000000000000000000000000000000000000000000000000000000001"},
		{"ghcr.io/o/a:1@sha256:0000000000000000000000000000000000000000000000000000000000000001", "ghcr.io/o/a", "1", "sha256:0000000000000000000000000000000000000000000000000000000000000001"},
	}
	for _, tt := range tests {
		r, err := ParseImage(tt.in)
		if err != nil || r.Written != tt.in || r.Repository != tt.repo || r.Tag != tt.tag || r.Digest != tt.digest {
			t.Errorf("ParseImage(%q) = %+v, %v", tt.in, r, err)
		}
	}
	for _, bad := range []string{"", "UPPER:1", " x", "a:b:c", "x@sha256:zz"} {
		if _, err := ParseImage(bad); err == nil {
			t.Errorf("ParseImage(%q) accepted", bad)
		}
	}
}

func TestParseLockInvalid(t *testing.T) {
	head := "apiVersion: bundle/v1\nkind: Lock\nrequires: sha256:35676ae428e345a34e8d778fc76cbcf9aa071c887f3828e2c3b4a4bb7e945d2a\n"
	entry := func(fields string) string { return head + "bundles:\n  - " + fields + "\n" }
	ok := "name: a, version: 1.0.0, repository: stable, digest: sha256:0000000000000000000000000000000000000000000000000000000000000001"
	image := func(fields string) string { return head + "bundles: []\nimages:\n  - " + fields + "\n" }
	d1 := "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	d2 := "sha256:0000000000000000000000000000000000000000000000000000000000000002"
	okImage := "image: 'mariadb:11', repository: docker.io/library/mariadb, digest: " + d1
	tests := []struct{ name, src, want string }{
		{"empty", "", "bundle.lock: file is empty"},
		{"wrong kind", "apiVersion: bundle/v1\nkind: Bundle\n", `bundle.lock:2: kind: unsupported kind "Bundle"`},
		{"missing bundles", head, "bundle.lock:1: bundles: missing"},
		{"bad requires digest", "apiVersion: bundle/v1\nkind: Lock\nrequires: md5:abc\nbundles: []\n", `bundle.lock:3: requires: invalid digest "md5:abc"`},
		{"bundles not a list", head + "bundles: {}\n", "bundle.lock:4: bundles: must be a list"},
		{"entry not a mapping", entry("x"), "bundle.lock:5: bundles[0]: bundles[0] must be a mapping"},
		{"bad digest", entry("{name: a, version: 1.0.0, repository: stable, digest: sha256:zz}"), `bundle.lock:5: bundles[0].digest: invalid digest "sha256:zz"`},
		{"bad version", entry("{name: a, version: one, repository: stable, digest: x}"), `bundle.lock:5: bundles[0].version: invalid version "one"`},
		{"unknown field", entry("{" + ok + ", extra: 1}"), "bundle.lock:5: bundles[0].extra: unknown field"},
		{"incomplete entry", entry("{name: a, version: 1.0.0}"), "bundle.lock:5: bundles[0]: needs name, version, repository and digest"},
		{"duplicate", head + "bundles:\n  - {" + ok + "}\n  - {" + ok + "}\n", "bundle.lock:6: bundles[1].name: bundle a is locked twice (first at line 5)"},
		{"images not a list", head + "bundles: []\nimages: {}\n", "bundle.lock:5: images: must be a list"},
		{"image not a mapping", image("x"), "bundle.lock:6: images[0]: images[0] must be a mapping"},
		{"bad image reference", image("{image: 'UP:1', repository: docker.io/library/up, digest: " + d1 + "}"), `bundle.lock:6: images[0].image: invalid image reference "UP:1"`},
		{"bad image repository", image("{image: 'mariadb:11', repository: 'mariadb:11', digest: " + d1 + "}"), `bundle.lock:6: images[0].repository: invalid repository "mariadb:11"`},
		{"short image repository", image("{image: 'mariadb:11', repository: mariadb, digest: " + d1 + "}"), `bundle.lock:6: images[0].repository: invalid repository "mariadb"`},
		{"other image repository", image("{image: 'mariadb:11', repository: docker.io/library/mysql, digest: " + d1 + "}"), "bundle.lock:6: images[0].repository: docker.io/library/mysql is not the repository of mariadb:11 (docker.io/library/mariadb)"},
		{"bad image digest", image("{image: 'mariadb:11', repository: docker.io/library/mariadb, digest: sha256:zz}"), `bundle.lock:6: images[0].digest: invalid digest "sha256:zz"`},
		{"other written digest", image("{image: 'a@" + d1 + "', repository: docker.io/library/a, digest: " + d2 + "}"), "bundle.lock:6: images[0].digest: " + d2 + " is not the digest written in a@" + d1},
		{"unknown image field", image("{" + okImage + ", tag: x}"), "bundle.lock:6: images[0].tag: unknown field"},
		{"incomplete image", image("{image: 'mariadb:11'}"), "bundle.lock:6: images[0]: needs image, repository and digest"},
		{"duplicate image", head + "bundles: []\nimages:\n  - {" + okImage + "}\n  - {" + okImage + "}\n", "bundle.lock:7: images[1].image: image mariadb:11 is locked twice (first at line 6)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLock("bundle.lock", []byte(tt.src))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error:\n got  %v\n want %s...", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("does not match ErrInvalid")
			}
		})
	}
}

func FuzzParseLock(f *testing.F) {
	f.Add([]byte(validLock))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Lock\nrequires: x\nbundles: []\n"))
	f.Add([]byte("apiVersion: bundle/v1\nkind: Lock\nrequires: sha256:35676ae428e345a34e8d778fc76cbcf9aa071c887f3828e2c3b4a4bb7e945d2a\nbundles: []\nimages:\n  - {image: 'a:1@sha256:0000000000000000000000000000000000000000000000000000000000000001', repository: docker.io/library/a, digest: sha256:0000000000000000000000000000000000000000000000000000000000000001}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock("bundle.lock", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !errors.Is(err, ErrInvalid) {
				t.Fatalf("bad error: %q", err)
			}
			return
		}
		// What parses must survive a round trip unchanged.
		again, err := ParseLock("bundle.lock", l.Marshal())
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, l.Marshal())
		}
		if !bytes.Equal(again.Marshal(), l.Marshal()) {
			t.Fatal("round trip changed the lock")
		}
	})
}

func TestPackageDeterministic(t *testing.T) {
	files := maps.Clone(appFiles)
	a, err := LoadDir(writeBundle(t, files))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadDir(writeBundle(t, files)) // other directory, other mtimes
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Package()
	pb, _ := b.Package()
	if !bytes.Equal(pa, pb) {
		t.Fatal("the same files packaged to different bytes")
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db || !strings.HasPrefix(da, "sha256:") {
		t.Fatalf("digests %s, %s", da, db)
	}
	files["values.yaml"] = "a: 2\n"
	c, _ := LoadDir(writeBundle(t, files))
	if dc, _ := c.Digest(); dc == da {
		t.Error("a content change kept the digest")
	}
}

func TestPackageDirIsAHelmChart(t *testing.T) {
	dir := writeBundle(t, appFiles)
	out1, out2 := t.TempDir(), t.TempDir()
	p1, d1, err := PackageDir(dir, out1)
	if err != nil {
		t.Fatal(err)
	}
	p2, d2, err := PackageDir(dir, out2)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "app-1.2.3.tgz" || d1 != d2 {
		t.Fatalf("%s %s / %s %s", p1, d1, p2, d2)
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Fatal("two packages of the same bundle differ")
	}
	ch, err := loader.LoadArchive(bytes.NewReader(b1))
	if err != nil {
		t.Fatalf("Helm cannot load the package: %v", err)
	}
	if ch.Name() != "app" || ch.Metadata.Version != "1.2.3" {
		t.Errorf("Helm sees %s %s", ch.Name(), ch.Metadata.Version)
	}
	found := false
	for _, f := range ch.Files {
		found = found || f.Name == FileName
	}
	if !found {
		t.Error("bundle.yaml is not in the package")
	}
	entries, _ := os.ReadDir(out1)
	if len(entries) != 1 {
		t.Errorf("destination holds %d files, want just the package", len(entries))
	}
}
