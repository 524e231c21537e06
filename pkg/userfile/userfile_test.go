package userfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

func TestReadRefusesBadFiles(t *testing.T) {
	const limit = 1 << 10
	for _, bad := range testutil.BadFiles(t, limit) {
		t.Run(bad.Name, func(t *testing.T) {
			var err error
			testutil.Within(t, 10*time.Second, func() { _, err = Read("values file", bad.Path, limit) })
			want := "values file " + bad.Path
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), bad.Want) {
				t.Fatalf("got %v, want %s ... %s", err, want, bad.Want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v: not one line matching ErrInvalid", err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, []byte("12345678"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := Read("key file", exact, 8); err != nil || string(data) != "12345678" {
		t.Errorf("a file at the limit: %q, %v", data, err)
	}
	if _, err := Read("key file", exact, 7); err == nil || err.Error() != "key file "+exact+" is larger than 7 bytes" {
		t.Errorf("over the limit: %v", err)
	}
	// Errors of the file system are returned as they are.
	if _, err := Read("key file", filepath.Join(dir, "nope"), 8); !errors.Is(err, os.ErrNotExist) || errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("missing: %v", err)
	}
	if got := (&Error{Path: "x.yaml", Limit: 64 << 20}).Error(); got != "x.yaml is larger than 64 MiB" {
		t.Errorf("without what: %q", got)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 64 << 10: "64 KiB", 1536: "1536 bytes", 3: "3 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
