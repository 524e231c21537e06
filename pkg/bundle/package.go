package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// epoch is the modification time of every file in a package, so that the
// same files always make the same bytes.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Package returns the bundle as a Helm chart archive (NAME/ prefixed
// tar.gz), byte-for-byte deterministic: files in path order, fixed times,
// owners and modes, and a gzip header without name or time.
func (b *Bundle) Package() ([]byte, error) {
	return packageFiles(b.Name, b.files)
}

// Digest returns "sha256:HEX" of Package(): the bundle's content digest, as
// recorded in lock files.
func (b *Bundle) Digest() (string, error) {
	b.digestOnce.Do(func() {
		data, err := b.Package()
		if err != nil {
			b.digestErr = err
			return
		}
		sum := sha256.Sum256(data)
		b.digest = "sha256:" + hex.EncodeToString(sum[:])
	})
	return b.digest, b.digestErr
}

type digestCache struct {
	digestOnce sync.Once
	digest     string
	digestErr  error
}

func packageFiles(name string, files []*archive.BufferedFile) ([]byte, error) {
	sorted := append([]*archive.BufferedFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.ModTime = time.Time{}
	zw.OS = 255 // unknown: the same on every platform
	tw := tar.NewWriter(zw)
	for _, f := range sorted {
		hdr := &tar.Header{
			Name:     name + "/" + f.Name,
			Mode:     0o644,
			Size:     int64(len(f.Data)),
			ModTime:  epoch,
			Typeflag: tar.TypeReg,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PackageDir loads the bundle in dir and writes DEST/NAME-VERSION.tgz
// through a temporary file and a rename, so a failure leaves nothing
// behind. It returns the path and the content digest.
func PackageDir(dir, dest string) (string, string, error) {
	b, err := LoadDirBuildingDeps(dir)
	if err != nil {
		return "", "", err
	}
	data, err := b.Package()
	if err != nil {
		return "", "", err
	}
	digest, err := b.Digest()
	if err != nil {
		return "", "", err
	}
	path := filepath.Join(dest, b.Name+"-"+b.Version.String()+".tgz")
	if err := WriteFileAtomic(path, data); err != nil {
		return "", "", &errdefs.OptionError{Option: "Destination", Value: dest, Msg: err.Error(), Err: err}
	}
	return path, digest, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that a failure never leaves half a file. The
// directory is created if needed.
func WriteFileAtomic(path string, data []byte) error {
	return WriteFileAtomicMode(path, data, 0o644)
}

// WriteFileAtomicMode is WriteFileAtomic with the file's permissions: 0o600
// for a file holding credentials. The file is never readable by others
// while it is written, whatever perm says.
func WriteFileAtomicMode(path string, data []byte, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteDir writes the bundle's files under dir (which must not exist yet,
// or be empty) and returns how many it wrote. Paths were checked when the
// bundle was loaded.
func (b *Bundle) WriteDir(dir string) (int, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return 0, &errdefs.OptionError{Option: "Destination", Value: dir, Msg: "exists and is not empty: choose another"}
	}
	for _, f := range b.files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return 0, err
		}
	}
	return len(b.files), nil
}
