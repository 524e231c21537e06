package bundle

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (with errors.Is) by every error that reports a
// malformed bundle: a bad bundle.yaml or Chart.yaml, a bad constraint, a name
// clash.
var ErrInvalid = errors.New("invalid bundle")

// FileError is a problem at a known place in a file. Its message reads
//
//	FILE:LINE: FIELD: PROBLEM (HINT)
//
// so that editors and terminals can jump to it.
type FileError struct {
	File  string // path as the user would recognise it
	Line  int    // 1-based; 0 when the whole file is meant
	Field string // dotted path of the field, e.g. requires.database.version
	Msg   string // what is wrong
	Hint  string // how to fix it; may be empty
	Err   error  // underlying cause, if any
}

func (e *FileError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	s += ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Msg
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *FileError) Unwrap() error { return e.Err }

// Is reports ErrInvalid for every FileError.
func (e *FileError) Is(target error) bool { return target == ErrInvalid }
