package repo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
)

// The files this package reads from paths a user gives (the repositories
// and credentials files, an air-gap archive, the chart archives of a
// directory to index) are read only when they are regular files within
// their limits: a directory, a named pipe, /dev/zero or a file over the
// limit is refused at once in one line naming it.
func TestFilesBounded(t *testing.T) {
	// link makes dir/name a symbolic link to the bad file (followed, as a
	// path the user gives is) and returns dir.
	link := func(t *testing.T, target, name string) string {
		dir := t.TempDir()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	readers := []struct {
		name  string
		limit int64
		read  func(t *testing.T, path string) error
		want  string
	}{
		{"repositories file", MaxConfigFileSize, func(t *testing.T, p string) error {
			_, err := LoadConfig(filepath.Join(link(t, p, "repositories.yaml"), "repositories.yaml"), t.TempDir())
			return err
		}, "repositories file "},
		{"credentials file", MaxConfigFileSize, func(t *testing.T, p string) error {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				os.Chmod(p, 0o600) // as it must be
			}
			dir := link(t, p, "repository-credentials.yaml")
			_, err := (&Config{path: filepath.Join(dir, "repositories.yaml")}).passwords()
			return err
		}, "credentials file "},
		{"air-gap archive", 1 << 62, func(t *testing.T, p string) error {
			_, err := ReadArchiveIndex(p)
			return err
		}, "archive "},
		{"cached index", 1 << 62, func(t *testing.T, p string) error {
			h, err := NewHTTP("charts", "https://127.0.0.1:1/", HTTPOptions{IndexFile: p})
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Versions(context.Background(), "app")
			return err
		}, "repository charts: cached index: "},
		{"chart archive to index", bundle.MaxTotalSize, func(t *testing.T, p string) error {
			_, err := IndexDir(link(t, p, "app-1.0.0.tgz"), "")
			return err
		}, ""},
	}
	for _, r := range readers {
		for _, bad := range testutil.BadFiles(t, min(r.limit, bundle.MaxTotalSize)) {
			if r.limit > bundle.MaxTotalSize && bad.Name == "over the limit" {
				continue // an archive of images has no limit; an index's is 256 MiB
			}
			t.Run(r.name+" "+bad.Name, func(t *testing.T) {
				var err error
				testutil.Within(t, 10*time.Second, func() { err = r.read(t, bad.Path) })
				want := bad.Want
				if r.name == "chart archive to index" && bad.Name == "over the limit" {
					want = "archive is over the"
				}
				if err == nil || !strings.Contains(err.Error(), r.want) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("got %v, want one line %s... %s", err, r.want, want)
				}
			})
		}
	}
}
