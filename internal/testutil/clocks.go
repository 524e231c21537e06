package testutil

import (
	"context"
	"sync"
	"testing"
	"time"
)

// UseClocks has *clock, a variable of an interface that Clocks satisfies
// (the lease's Clock), read new Clocks until the test ends, and returns
// them.
func UseClocks[T any](t testing.TB, clock *T) *Clocks {
	t.Helper()
	c, old := &Clocks{}, *clock
	*clock = any(c).(T)
	t.Cleanup(func() { *clock = old })
	return c
}

// Clocks are the system's monotonic and wall clocks, moved by a test: the
// clocks a release's lease reads (its Clocks). Pause moves both (a
// process stopped with SIGSTOP), Suspend only the wall clock (a machine
// asleep: Go's monotonic clock stands still), SkewMono only the monotonic
// clock (the wall clock set back), and Sleep returns at once, having
// moved both.
type Clocks struct {
	mu                 sync.Mutex
	monoSkew, wallSkew time.Duration // added to the system's clocks
	slept              time.Duration
}

var clocksStart = time.Now()

func (c *Clocks) readings() (time.Duration, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.monoSkew, c.wallSkew
}

// Mono is the monotonic time since some fixed start, moved.
func (c *Clocks) Mono() time.Duration { m, _ := c.readings(); return time.Since(clocksStart) + m }

// Wall is the wall-clock time, moved, without a monotonic reading.
func (c *Clocks) Wall() time.Time { _, w := c.readings(); return time.Now().Round(0).Add(w) }

// Sleep moves both clocks by d at once, unless ctx has ended (its cause).
func (c *Clocks) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	c.Pause(d)
	c.mu.Lock()
	c.slept += d
	c.mu.Unlock()
	return nil
}

// Slept is how long Sleep has moved the clocks in all.
func (c *Clocks) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// Pause moves both clocks by d: the process was stopped.
func (c *Clocks) Pause(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.monoSkew += d
	c.wallSkew += d
}

// Suspend moves the wall clock by d: the machine slept.
func (c *Clocks) Suspend(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wallSkew += d
}

// SkewMono moves the monotonic clock by d alone: the wall clock was set
// back.
func (c *Clocks) SkewMono(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.monoSkew += d
}
