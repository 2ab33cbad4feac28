package pipeline

import (
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"
)

// memo is a map of what the chain was asked once, filled by loads that run
// once per key at a time: callers asking for a key whose load runs share its
// value or error (singleflight). A load tells whether its value is kept; an
// error never is, so the next caller loads again.
type memo[K comparable, V any] struct {
	mu    sync.Mutex
	kept  map[K]V
	loads singleflight.Group
	// evict, if set, tells which kept keys a newly kept key drops.
	evict func(kept, added K) bool
}

func newMemo[K comparable, V any](evict func(kept, added K) bool) *memo[K, V] {
	return &memo[K, V]{kept: map[K]V{}, evict: evict}
}

func (c *memo[K, V]) lookup(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.kept[key]
	return v, ok
}

func (c *memo[K, V]) keep(key K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evict != nil {
		for old := range c.kept {
			if c.evict(old, key) {
				delete(c.kept, old)
			}
		}
	}
	c.kept[key] = v
}

// get returns key's kept value, or the value of load, which runs unless a
// load of key is already running (then its outcome is shared).
func (c *memo[K, V]) get(key K, load func() (v V, keep bool, err error)) (V, error) {
	if v, ok := c.lookup(key); ok {
		return v, nil
	}
	r, err, _ := c.loads.Do(fmt.Sprintf("%#v", key), func() (any, error) {
		// kept by a load that ended since the lookup above
		if v, ok := c.lookup(key); ok {
			return v, nil
		}
		v, keep, err := load()
		if err != nil {
			return nil, err
		}
		if keep {
			c.keep(key, v)
		}
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return r.(V), nil
}
