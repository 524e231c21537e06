package errdefs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

func TestKinds(t *testing.T) {
	err := fmt.Errorf("installing: %w", errdefs.Wrap(errdefs.ErrUnreachable, fs.ErrNotExist, "cannot reach the cluster at %s", "https://x"))
	if !errors.Is(err, errdefs.ErrUnreachable) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("kinds of %v are wrong", err)
	}
	if err.Error() != "installing: cannot reach the cluster at https://x" {
		t.Errorf("message %q carries more than the one line", err)
	}
	fe := &errdefs.FileError{File: "bundle.yaml", Line: 3, Field: "requires.db", Msg: "bad", Hint: "fix it"}
	if fe.Error() != "bundle.yaml:3: requires.db: bad (fix it)" || !errors.Is(fe, errdefs.ErrInvalid) {
		t.Errorf("FileError: %v", fe)
	}
	var got *errdefs.FileError
	if !errors.As(fmt.Errorf("loading: %w", fe), &got) || got.Line != 3 {
		t.Error("a wrapped FileError cannot be read back with errors.As")
	}
}

func TestOneLineAndPlural(t *testing.T) {
	if got := errdefs.OneLine("  a\n\tb  c\n"); got != "a b c" {
		t.Errorf("OneLine: %q", got)
	}
	for n, want := range map[int]string{0: "0 claims", 1: "1 claim", 2: "2 claims"} {
		if got := errdefs.Plural(n, "claim"); got != want {
			t.Errorf("Plural(%d): %q, want %q", n, got, want)
		}
	}
}
