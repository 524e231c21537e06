// Package errdefs is bundle's error vocabulary, in one place: a few
// sentinels to test with errors.Is, and the typed errors that carry the
// facts of a failure (the file and line, the field). Library packages
// return these facts; the command line adds how to fix them with its own
// flags and commands.
//
// Every error a bundle package returns that belongs to one of these kinds
// matches its sentinel with errors.Is, without the sentinel's text being
// part of the message: messages stay one readable line.
package errdefs

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of failure.
var (
	// ErrInvalid: malformed input (a bundle.yaml, Chart.yaml, lock or
	// values file, a constraint, a reference, a name clash).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: no bundle, version, repository or release of that name.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the requirements cannot all be met (version solving
	// failed).
	ErrConflict = errors.New("conflict")
	// ErrExists: a release of that name is already installed.
	ErrExists = errors.New("already exists")
	// ErrUnreachable: the cluster (or a repository) does not answer.
	ErrUnreachable = errors.New("unreachable")
	// ErrUnsupported: a kind of repository or reference this version
	// cannot read.
	ErrUnsupported = errors.New("unsupported")
	// ErrStale: a lock no longer matches its bundle file or what the
	// sources serve.
	ErrStale = errors.New("stale")
	// ErrFailed: an operation ran and failed (a release test).
	ErrFailed = errors.New("failed")
	// ErrBusy: another operation holds the release.
	ErrBusy = errors.New("busy")
)

// kinded is an error with its own one-line message that matches a kind
// (and, when wrapping one, a cause).
type kinded struct {
	msg  string
	kind error
	err  error
}

func (e *kinded) Error() string { return e.msg }

func (e *kinded) Unwrap() []error {
	if e.err != nil {
		return []error{e.kind, e.err}
	}
	return []error{e.kind}
}

// New returns an error with the formatted message that matches kind.
func New(kind error, format string, args ...any) error {
	return &kinded{msg: fmt.Sprintf(format, args...), kind: kind}
}

// Wrap returns an error with the formatted message that matches both kind
// and cause.
func Wrap(kind, cause error, format string, args ...any) error {
	return &kinded{msg: fmt.Sprintf(format, args...), kind: kind, err: cause}
}

// FileError is a problem at a known place in a file. Its message reads
//
//	FILE:LINE: FIELD: PROBLEM (HINT)
//
// so that editors and terminals can jump to it. It matches ErrInvalid.
type FileError struct {
	File  string // path as the user would recognise it
	Line  int    // 1-based; 0 when the whole file is meant
	Field string // dotted path of the field, e.g. requires.database.version
	Msg   string // what is wrong
	Hint  string // what to change in the file; may be empty
	Fixes []Fix  // operations that fix it, worded by front ends; not in Error()
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

// NoVersionError says no version of a bundle satisfies what was asked: a
// constraint, or (Constraint empty) a stable version where only
// prereleases exist. It matches ErrNotFound.
type NoVersionError struct {
	Bundle     string   // REPO/NAME, or the directory or archive
	Constraint string   // the constraint asked for; empty: any stable version
	Available  []string // the versions there are, newest first
}

func (e *NoVersionError) Error() string {
	have := strings.Join(e.Available, ", ")
	if e.Constraint == "" {
		return fmt.Sprintf("%s has no stable version (available: %s)", e.Bundle, have)
	}
	return fmt.Sprintf("no version of %s satisfies %s (available: %s)", e.Bundle, e.Constraint, have)
}

// Is reports ErrNotFound.
func (e *NoVersionError) Is(target error) bool { return target == ErrNotFound }

// Fix is one way to fix an error, as facts a front end words in its own
// terms (the command line says "run bundle lock ./app", "drop --locked").
// The library never words them: it has no commands or flags.
type Fix struct {
	// Run is a bundle operation that fixes it, with its arguments, e.g.
	// ["lock", "./app"].
	Run []string
	// See is an operation that shows what to choose from, e.g.
	// ["history", "wiki"].
	See []string
	// Options name settings (the command line's flags) to check, or with
	// Drop, to leave out, or with Use, to give.
	Options []string
	Drop    bool
	Use     bool
}

// Error is a failure of a known kind, with its facts as one line and the
// ways to fix it. Error() is the facts alone; front ends add the fixes in
// their own words.
type Error struct {
	Kind  error
	Msg   string
	Fixes []Fix
	Err   error // underlying cause, if any
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// Fixable returns an *Error of kind with the formatted message and fixes.
func Fixable(kind error, fixes []Fix, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Fixes: fixes}
}

// OptionError is an option of an operation given a value it cannot use (a
// Kubernetes version that does not parse, a post-renderer that cannot be
// run). Option is the option's field name in the operation's options
// struct (KubeVersion, PostRenderer, ...); front ends name it as their
// users set it. It matches ErrInvalid.
type OptionError struct {
	Option string // field name, e.g. KubeVersion
	Value  string // the value given, as given
	Msg    string // what is wrong with it
	Err    error  // underlying cause, if any
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Option, e.Value, e.Msg)
}

// Unwrap returns the cause.
func (e *OptionError) Unwrap() error { return e.Err }

// Is reports ErrInvalid.
func (e *OptionError) Is(target error) bool { return target == ErrInvalid }
