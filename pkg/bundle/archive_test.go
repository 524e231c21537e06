package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
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
