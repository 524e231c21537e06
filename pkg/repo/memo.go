package repo

import "sync"

// memo keeps what a repository fetched, by key, for the life of the
// repository value: the bundles loaded (NAME@VERSION), the digests of
// image tags. Safe for concurrent use; its zero value is ready.
type memo[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// get returns the value kept for key.
func (c *memo[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// put keeps v for key.
func (c *memo[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]V{}
	}
	c.m[key] = v
}
