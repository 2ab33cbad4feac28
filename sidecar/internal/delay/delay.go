// Package delay is a queue of values that become due after a delay. It
// replaces time.AfterFunc in the sidecar's parts: a callback timer runs on a
// goroutine nobody waits for, while a value in a Queue is taken by the loop
// that owns the work (its Start), so nothing outlives that loop
// (skip-mev/connect oracle/lifecycle.go: every goroutine has an owner).
package delay

import (
	"slices"
	"sync"
	"time"
)

// Queue holds values until they are due. Add is safe from any goroutine; the
// owner's loop waits on Next and Added and takes the due values with Due.
type Queue[T any] struct {
	mu    sync.Mutex
	items []item[T] // ordered by due time
	added chan struct{}
}

type item[T any] struct {
	due time.Time
	v   T
}

// New returns an empty queue.
func New[T any]() *Queue[T] { return &Queue[T]{added: make(chan struct{}, 1)} }

// Add queues v, due after d.
func (q *Queue[T]) Add(v T, d time.Duration) {
	due := time.Now().Add(d)
	q.mu.Lock()
	i, _ := slices.BinarySearchFunc(q.items, due, func(it item[T], t time.Time) int {
		if it.due.After(t) {
			return 1
		}
		return -1 // equal due times keep their order of arrival
	})
	q.items = slices.Insert(q.items, i, item[T]{due: due, v: v})
	q.mu.Unlock()
	select {
	case q.added <- struct{}{}:
	default:
	}
}

// Due removes and returns the values due by now, earliest first.
func (q *Queue[T]) Due() []T {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < len(q.items) && !q.items[n].due.After(now) {
		n++
	}
	out := make([]T, n)
	for i, it := range q.items[:n] {
		out[i] = it.v
	}
	q.items = slices.Delete(q.items, 0, n)
	return out
}

// Len is the number of values held.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Added is ready after Add: a loop waiting on Next wakes up to wait on the
// new earliest value instead.
func (q *Queue[T]) Added() <-chan struct{} { return q.added }

// Next returns a channel that fires when the earliest value is due, or nil
// (never ready) when the queue is empty. Wait on it together with Added, in
// a select, then call Due.
func (q *Queue[T]) Next() <-chan time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	return time.After(max(time.Until(q.items[0].due), 0))
}
