// Package userfile reads the files a user names on the command line or in
// configuration: values files, keys, signature policies, repository
// settings. Only a regular file is read, and at most the limit of its
// kind, so that a path to a device (/dev/zero), a named pipe or a
// directory is refused in one line instead of being read until memory
// runs out or blocking for ever.
package userfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Error is a file refused: not a regular file, or larger than its kind
// allows. It matches errdefs.ErrInvalid.
type Error struct {
	What string // the kind of file, e.g. "values file"; may be empty
	Path string // the path as given
	// Mode is the file's type when it is not a regular file.
	Mode fs.FileMode
	// Limit is the size it is larger than, when it is too large.
	Limit int64
}

func (e *Error) Error() string {
	name := e.Path
	if e.What != "" {
		name = e.What + " " + e.Path
	}
	if e.Limit > 0 {
		return fmt.Sprintf("%s is larger than %s", name, Size(e.Limit))
	}
	return fmt.Sprintf("%s: not a regular file (%s)", name, TypeName(e.Mode))
}

// Is reports errdefs.ErrInvalid.
func (e *Error) Is(target error) bool { return target == errdefs.ErrInvalid }

// Read reads the regular file at path, at most limit bytes: a file that
// is another type of file (checked before it is opened, and again once it
// is open, so that a named pipe can neither block the open nor be
// swapped in between) or holds more is refused with an *Error naming it
// as what (e.g. "values file"). Errors from the file system (no such
// file, permission denied) are returned as they are.
func Read(what, path string, limit int64) ([]byte, error) {
	f, err := Open(what, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte more than the limit: a file that grew after it was
	// opened is still refused, and never read to its end.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &Error{What: what, Path: path, Limit: limit}
	}
	return data, nil
}

// Open opens the regular file at path for reading, refusing any other
// type of file with an *Error as Read does. The caller bounds what it
// reads.
func Open(what, path string) (*os.File, error) {
	// A device is not even opened (opening some has effects). A stat
	// that fails, the open fails too, and says so as os.Open would.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &Error{What: what, Path: path, Mode: fi.Mode()}
	}
	// Without blocking: were a named pipe swapped in since, the open
	// returns at once and the check below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &Error{What: what, Path: path, Mode: fi.Mode()}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TypeName names a type of file that is not a regular one: "a
// directory", "a named pipe", "a device", ...
func TypeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "of an unknown type"
}

// Size writes a limit in bytes as people do: 64 MiB, 64 KiB, 100 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
