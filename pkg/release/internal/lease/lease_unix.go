//go:build unix

package lease

import (
	"errors"
	"syscall"
)

// processGone reports whether no process of this pid namespace has pid.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
