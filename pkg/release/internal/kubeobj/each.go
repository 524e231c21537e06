package kubeobj

import (
	"context"
	"sync"
)

// Concurrency bounds the objects the engine sends requests for at once
// (the validation's dry runs, the applies of a kind): enough to hide the
// round trips' latency, few enough that the API server's priority and
// fairness sees a client, not a flood (a priority level of a default API
// server has some 50 seats; Helm's kube client sends all of a kind at
// once).
const Concurrency = 16

// Each calls fn(i) for every i from 0 to n-1, at most limit at a time,
// starting them in order. Once ctx is done it starts no more. It returns
// when every call it started has returned, with the number it started: n
// unless ctx ended first.
func Each(ctx context.Context, n, limit int, fn func(i int)) int {
	slots := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range n {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return i
		}
		if ctx.Err() != nil {
			return i
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			fn(i)
		}()
	}
	return n
}
