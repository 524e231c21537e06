package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BadFile is a path no reader of a file the user names may read: a
// directory, a named pipe (reading it blocks until a writer comes), an
// endless device, a file over the reader's limit. Want is what the
// reader's one-line error says.
type BadFile struct {
	Name, Path, Want string
}

// BadFiles makes the bad files for a reader of at most limit bytes, under
// a temporary directory: a directory, a named pipe (where there are
// some), /dev/zero (where there is one), and a sparse file one byte over
// the limit.
func BadFiles(t testing.TB, limit int64) []BadFile {
	t.Helper()
	dir := t.TempDir()
	out := []BadFile{{"directory", dir, "not a regular file (a directory)"}}
	if fifo := filepath.Join(dir, "fifo"); mkfifo(fifo) == nil {
		out = append(out, BadFile{"named pipe", fifo, "not a regular file (a named pipe)"})
	}
	if fi, err := os.Stat("/dev/zero"); err == nil && !fi.Mode().IsRegular() {
		out = append(out, BadFile{"/dev/zero", "/dev/zero", "not a regular file (a character device)"})
	}
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err == nil {
		err = f.Truncate(limit + 1)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return append(out, BadFile{"over the limit", big, "is larger than"})
}

// Within runs f and fails the test if it has not returned after d: a
// reader that blocks on a named pipe, or reads an endless device.
func Within(t testing.TB, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
}
