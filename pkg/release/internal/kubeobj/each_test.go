package kubeobj

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestEachRunsEveryCallAtMostLimitAtATime(t *testing.T) {
	var (
		mu             sync.Mutex
		inFlight, most int
	)
	done := make([]bool, 50)
	n := Each(context.Background(), len(done), 4, func(i int) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inFlight--
		done[i] = true
		mu.Unlock()
	})
	if n != len(done) {
		t.Errorf("started %d of %d", n, len(done))
	}
	for i, ok := range done {
		if !ok {
			t.Errorf("call %d did not run (or had not ended when Each returned)", i)
		}
	}
	if most > 4 || most < 2 {
		t.Errorf("%d calls at once at most, want 2 to 4", most)
	}
}

func TestEachStartsNoCallOnceTheContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	started := 0
	n := Each(ctx, 100, 2, func(int) {
		mu.Lock()
		started++
		if started == 5 {
			cancel()
		}
		mu.Unlock()
	})
	if n != started || n < 5 || n > 6 {
		t.Errorf("Each says it started %d calls, %d ran; want 5 or 6 (2 at a time, stopped at the fifth)", n, started)
	}
}
