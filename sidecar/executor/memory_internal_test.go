package executor

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemPoolBounds(t *testing.T) {
	var p memPool
	require.Nil(t, p.get())

	p.put(make([]byte, 0, maxPoolArray+1)) // too large: not kept
	require.Nil(t, p.get())

	for range poolBuffers + 2 {
		p.put(make([]byte, 0, 1<<20))
	}
	require.Len(t, p.free, poolBuffers)

	// over poolBytes in all: the oldest go first
	p.reset()
	big := poolBytes / 4
	for range 5 {
		p.put(make([]byte, 0, big))
	}
	require.Len(t, p.free, 4)
	require.Equal(t, poolBytes, p.bytes)
	p.put(make([]byte, 0, 1))
	require.Equal(t, 3*big+1, p.bytes)
	require.Equal(t, 1, cap(p.get()), "last in, first out")
}

// A run's array comes back zeroed up to the run's high mark, and the next
// run reuses it without allocating.
func TestWatchedMemoryRecycles(t *testing.T) {
	var p memPool
	m := &watchedMemory{pool: &p}
	m.Allocate(1<<16, 4<<16)
	buf := m.Reallocate(1 << 16)
	buf[100] = 1
	buf = m.Reallocate(3 << 16) // grows: a new array
	buf[3<<16-1] = 2
	require.Nil(t, m.Reallocate(5<<16), "over the limit")
	require.False(t, m.full())
	m.Free()
	m.recycle()
	require.Len(t, p.free, 1)

	n := &watchedMemory{pool: &p}
	n.Allocate(1<<16, 4<<16)
	again := n.Reallocate(3 << 16)
	require.Same(t, &buf[0], &again[0], "the pooled array")
	require.Equal(t, make([]byte, 3<<16), again)
	require.Len(t, n.Reallocate(4<<16), 4<<16) // past the pooled array's capacity: a new one
	require.True(t, n.full())
}
