// Package errs builds errors whose message is one readable line but which
// still match a sentinel with errors.Is, without the sentinel's text being
// appended to the message.
package errs

import "fmt"

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
