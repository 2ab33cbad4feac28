package chain

import (
	"context"
	"errors"
	"sync"
)

// DefaultBlockCache is how many recent heights of block and block_results
// answers the client keeps (WithBlockCache).
const DefaultBlockCache = 8

// heightCache keeps the answers for the latest heights asked, and makes
// callers asking for one height at once share one request. A committed block
// and its results never change, and the sidecar's parts read the same recent
// blocks: the watcher every block's results, the submitter the blocks that
// may hold its transactions (and their results), the trigger matcher the
// blocks its events are in. The answers are shared: callers must not modify
// them. Failed requests are not kept.
type heightCache[T any] struct {
	size int

	mu      sync.Mutex
	entries map[int64]*cacheEntry[T]
}

type cacheEntry[T any] struct {
	done chan struct{} // closed when val and err are set
	val  T
	err  error
}

func newHeightCache[T any](size int) *heightCache[T] {
	return &heightCache[T]{size: size, entries: map[int64]*cacheEntry[T]{}}
}

// get returns the answer for height, from the cache, from a request for it
// already under way, or from fetch.
func (hc *heightCache[T]) get(ctx context.Context, height int64, fetch func() (T, error)) (T, error) {
	for {
		hc.mu.Lock()
		e, ok := hc.entries[height]
		if !ok {
			e = &cacheEntry[T]{done: make(chan struct{})}
			hc.entries[height] = e
			hc.evictLocked()
			hc.mu.Unlock()
			e.val, e.err = fetch()
			if e.err != nil {
				hc.mu.Lock()
				if hc.entries[height] == e {
					delete(hc.entries, height)
				}
				hc.mu.Unlock()
			}
			close(e.done)
			return e.val, e.err
		}
		hc.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		// Another caller's request that its caller cancelled is not an
		// answer for this one: ask again.
		if errors.Is(e.err, context.Canceled) && ctx.Err() == nil {
			continue
		}
		return e.val, e.err
	}
}

// evictLocked drops the lowest heights beyond the cache's size; hc.mu is
// held.
func (hc *heightCache[T]) evictLocked() {
	for len(hc.entries) > hc.size {
		lowest := int64(-1)
		for h := range hc.entries {
			if lowest < 0 || h < lowest {
				lowest = h
			}
		}
		delete(hc.entries, lowest)
	}
}

// dropAbove forgets the heights above latest: the node's chain is shorter
// than the heights kept (a chain reset under the same endpoints), so they
// may be another chain's.
func (hc *heightCache[T]) dropAbove(latest int64) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	for h := range hc.entries {
		if h > latest {
			delete(hc.entries, h)
		}
	}
}
