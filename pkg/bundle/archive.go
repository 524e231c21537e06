package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"testing/fstest"
)

// LoadArchive loads a bundle from a chart archive (NAME/... in a tar.gz, as
// bundle package and helm package write). Extraction happens in memory and
// is strict: only regular files under one top-level directory, no absolute
// paths, no "..", no links or devices, no duplicate paths, and the same size
// limits as LoadDir. source names the archive in messages.
func LoadArchive(data []byte, source string) (*Bundle, error) {
	bad := func(format string, args ...any) error {
		return &FileError{File: source, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, bad("not a gzip archive: %v", err)
	}
	// Bound what decompression may produce, whatever the archive claims.
	tr := tar.NewReader(io.LimitReader(zr, MaxTotalSize+1))
	files := fstest.MapFS{}
	top := ""
	total := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if total > MaxTotalSize {
				return nil, bad("archive expands past the %d-byte limit", MaxTotalSize)
			}
			return nil, bad("corrupt archive: %v", err)
		}
		name := hdr.Name
		if strings.Contains(name, `\`) || path.IsAbs(name) {
			return nil, bad("entry %q: absolute or backslashed path", name)
		}
		clean := path.Clean(name)
		if clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(clean, "/../") {
			return nil, bad("entry %q leaves the archive", name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, bad("entry %q is not a regular file (links and devices are refused)", name)
		}
		dir, rest, ok := strings.Cut(clean, "/")
		if !ok || rest == "" {
			return nil, bad("entry %q is not under the chart's directory", name)
		}
		if top == "" {
			top = dir
		} else if dir != top {
			return nil, bad("entries under both %q and %q: one chart per archive", top, dir)
		}
		if hdr.Size > MaxFileSize {
			return nil, bad("entry %q is %d bytes, over the %d-byte limit", name, hdr.Size, MaxFileSize)
		}
		if _, dup := files[rest]; dup {
			return nil, bad("entry %q appears twice", name)
		}
		content, err := io.ReadAll(io.LimitReader(tr, MaxFileSize+1))
		if err != nil {
			return nil, bad("corrupt archive: %v", err)
		}
		if len(content) > MaxFileSize {
			return nil, bad("entry %q is over the %d-byte limit", name, MaxFileSize)
		}
		if total += len(content); total > MaxTotalSize {
			return nil, bad("archive expands past the %d-byte limit", MaxTotalSize)
		}
		files[rest] = &fstest.MapFile{Data: content, Mode: 0o644}
	}
	if top == "" {
		return nil, bad("empty archive")
	}
	b, err := Load(files, source)
	if err != nil {
		return nil, err
	}
	if b.Name != top {
		return nil, bad("archive directory %q holds bundle %q", top, b.Name)
	}
	return b, nil
}
