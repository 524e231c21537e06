package bundle

import "github.com/bundlesh/bundle/pkg/errdefs"

// ErrInvalid is errdefs.ErrInvalid: matched (with errors.Is) by every error
// that reports a malformed bundle: a bad bundle.yaml or Chart.yaml, a bad
// constraint, a name clash.
var ErrInvalid = errdefs.ErrInvalid

// FileError is errdefs.FileError: a problem at a known place in a file.
type FileError = errdefs.FileError
