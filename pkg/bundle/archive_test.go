package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type entry struct {
	name string
	body string
	kind byte
}

func makeArchive(t testing.TB, entries ...entry) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		kind := e.kind
		if kind == 0 {
			kind = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: kind}
		if kind == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = "/etc/passwd", 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if kind == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestLoadArchiveRoundTrip(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"Chart.yaml":        chartYAML,
		"templates/cm.yaml": "kind: ConfigMap\n",
		"bundle.yaml":       "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1}\n",
	})
	b, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := b.Package()
	got, err := LoadArchive(data, "app-1.2.3.tgz")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "app" || len(got.File.Requires) != 1 {
		t.Fatalf("loaded %+v", got)
	}
	d1, _ := b.Digest()
	d2, _ := got.Digest()
	if d1 != d2 {
		t.Errorf("digest changed through an archive round trip: %s, %s", d1, d2)
	}
}

func TestLoadArchiveRefuses(t *testing.T) {
	chart := entry{name: "app/Chart.yaml", body: chartYAML}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("plain text"), "not a gzip archive"},
		{"path traversal", makeArchive(t, chart, entry{name: "app/../../etc/x", body: "x"}), `entry "app/../../etc/x" leaves the archive`},
		{"absolute path", makeArchive(t, chart, entry{name: "/etc/x", body: "x"}), "absolute path"},
		{"backslash", makeArchive(t, chart, entry{name: `app\..\x`, body: "x"}), "leaves the archive"},
		{"windows drive", makeArchive(t, chart, entry{name: `c:\x`, body: "x"}), "absolute path"},
		{"symlink", makeArchive(t, chart, entry{name: "app/link", kind: tar.TypeSymlink}), `entry "app/link" is not a regular file`},
		{"two charts", makeArchive(t, chart, entry{name: "other/Chart.yaml", body: chartYAML}), `entries under both "app" and "other"`},
		{"file at top level", makeArchive(t, entry{name: "Chart.yaml", body: chartYAML}), "is not under the chart's directory"},
		{"duplicate", makeArchive(t, chart, chart), `entry "app/Chart.yaml" appears twice`},
		{"huge file", makeArchive(t, chart, entry{name: "app/big", body: strings.Repeat("x", MaxFileSize+1)}), "over the 5242880-byte limit"},
		{"empty", makeArchive(t), "empty archive"},
		{"no Chart.yaml", makeArchive(t, entry{name: "app/values.yaml", body: "a: 1\n"}), "Chart.yaml: not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadArchive(tt.data, "x.tgz")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("does not match ErrInvalid: %v", err)
			}
		})
	}
}

// bomb is a small gzip stream that expands to files of zeros: n files of
// size bytes each under app/, after a Chart.yaml.
func bomb(t testing.TB, n, size int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "app/Chart.yaml", Mode: 0o644, Size: int64(len(chartYAML)), Typeflag: tar.TypeReg})
	tw.Write([]byte(chartYAML))
	zeros := make([]byte, size)
	for i := 0; i < n; i++ {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("app/files/%d", i), Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(zeros)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// An archive that expands past the size limit says so, naming the limit,
// wherever decompression stops (in a file's content, in a header); a
// truncated archive stays a corrupt one.
func TestLoadArchiveSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("expands 100 MB")
	}
	limit := fmt.Sprintf("archive expands past the %d-byte limit", MaxTotalSize)
	full := makeArchive(t, entry{name: "app/Chart.yaml", body: chartYAML}, entry{name: "app/values.yaml", body: strings.Repeat("a: 1\n", 1000)})
	var truncated bytes.Buffer
	zr, _ := gzip.NewReader(bytes.NewReader(full))
	raw, _ := io.ReadAll(zr)
	zw := gzip.NewWriter(&truncated)
	zw.Write(raw[:len(raw)/2])
	zw.Close()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		// 21 files of 5 MB: the bound is crossed inside a file's content.
		{"inside a file", bomb(t, 21, MaxFileSize), limit},
		// Files just under 5 MB whose contents alone pass the limit.
		{"contents", bomb(t, 21, MaxFileSize-4096), limit},
		// Millions of empty files: only headers, past the bound.
		{"headers only", bomb(t, (MaxTotalSize+MaxTotalSize/16)/512, 0), limit},
		{"truncated", truncated.Bytes(), "corrupt archive: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadArchive(tt.data, "x.tgz")
			if err == nil || err.Error() != "x.tgz: "+tt.want {
				t.Fatalf("error = %v, want x.tgz: %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("does not match ErrInvalid: %v", err)
			}
		})
	}
}

func FuzzLoadArchive(f *testing.F) {
	f.Add(makeArchive(f, entry{name: "app/Chart.yaml", body: chartYAML}))
	f.Add(makeArchive(f, entry{name: "app/Chart.yaml", body: chartYAML}, entry{name: "app/../x", body: "x"}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := LoadArchive(data, "x.tgz")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			return
		}
		if b.Name == "" || b.Version == nil {
			t.Fatal("loaded a bundle without name or version")
		}
	})
}
