package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"testing/fstest"
)

// LoadArchive loads a bundle from a chart archive (DIR/... in a tar.gz, as
// bundle package and helm package write; DIR is usually the chart's name). Extraction happens in memory and
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
	// Bound what decompression may produce, whatever the archive claims:
	// past the limit, reads fail with errExpandsPastLimit, which tar hands
	// on, rather than ending early and looking like a truncated archive.
	// The bound leaves room for tar's headers and padding; the files'
	// contents are held to MaxTotalSize below.
	tr := tar.NewReader(&boundedReader{r: zr, left: MaxTotalSize + MaxTotalSize/16})
	files := fstest.MapFS{}
	top := ""
	total := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errExpandsPastLimit) {
			return nil, bad("archive expands past the %d-byte limit", MaxTotalSize)
		}
		if err != nil {
			return nil, bad("corrupt archive: %v", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // git archive writes one; Helm skips it too
		}
		name := hdr.Name
		if strings.Contains(name, `\`) {
			// Written on Windows, as Helm reads it: \ is the separator.
			name = strings.ReplaceAll(name, `\`, "/")
		}
		if path.IsAbs(name) || (len(name) > 1 && name[1] == ':') {
			return nil, bad("entry %q: absolute path", hdr.Name)
		}
		if slices.Contains(strings.Split(name, "/"), "..") {
			return nil, bad("entry %q leaves the archive", hdr.Name)
		}
		clean := path.Clean(name)
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
		if errors.Is(err, errExpandsPastLimit) {
			return nil, bad("archive expands past the %d-byte limit", MaxTotalSize)
		}
		if err != nil {
			return nil, bad("corrupt archive: %v", err)
		}
		if len(content) > MaxFileSize {
			return nil, bad("entry %q is over the %d-byte limit", name, MaxFileSize)
		}
		if total += len(content); total > MaxTotalSize {
			return nil, bad("archive expands past the %d-byte limit", MaxTotalSize)
		}
		files[rest] = &fstest.MapFile{Data: bytes.TrimPrefix(content, []byte("\xEF\xBB\xBF")), Mode: 0o644}
	}
	if top == "" {
		return nil, bad("empty archive")
	}
	// As in Helm, the directory's name need not be the chart's.
	return Load(files, source)
}

// errExpandsPastLimit is what a boundedReader returns past its bound.
var errExpandsPastLimit = errors.New("expands past the limit")

// boundedReader reads at most left bytes from r; reading more fails with
// errExpandsPastLimit, so that a decompression bomb is told apart from a
// truncated archive.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Past the bound: is there more? One byte tells.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
			return 0, errExpandsPastLimit
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
