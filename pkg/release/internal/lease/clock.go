package lease

// The clocks a lease reads (tests replace them).

import (
	"context"
	"time"
)

// Clocks are where leases read the time: the monotonic clock, which
// advances while the process is stopped (SIGSTOP) but, in Go, not while
// the machine sleeps, and the wall clock, which advances in both.
type Clocks interface {
	// Mono is the monotonic time since some fixed start.
	Mono() time.Duration
	// Wall is the wall-clock time, without a monotonic reading.
	Wall() time.Time
	// Sleep waits d, or until ctx ends (its cause).
	Sleep(ctx context.Context, d time.Duration) error
}

// Clock is the clocks leases read: the system's (tests replace it).
var Clock Clocks = systemClocks{}

var processStart = time.Now()

type systemClocks struct{}

func (systemClocks) Mono() time.Duration { return time.Since(processStart) }
func (systemClocks) Wall() time.Time     { return time.Now().Round(0) }
func (systemClocks) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
