package executor

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// watchedMemory backs a run's linear memory (wazero's experimental
// allocator) and tells whether the component grew it to its limit: a trap
// there is the memory limit's doing.
//
// Its backing array comes from the executor's memPool and goes back there
// once the run's instance is closed, zeroed over every byte the run could
// have touched: a fresh instance gets all-zero memory as the wasm spec
// wants, without the Go heap allocating and the GC sweeping megabytes per
// task (a Go component's memory is about 7 MB).
type watchedMemory struct {
	pool *memPool
	buf  []byte
	size uint64 // the last size asked for: kept after Free (a failed start closes the module)
	max  uint64
	// high is the largest length handed to wazero from the current backing
	// array: the part recycle zeroes.
	high uint64
}

// Allocate implements experimental.MemoryAllocator.
func (m *watchedMemory) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	m.max = maxBytes
	m.buf, m.high = m.pool.get(), 0
	if uint64(cap(m.buf)) < capacity {
		m.buf = make([]byte, 0, capacity) // the pooled one, too small, is left to the GC
	}
	return m
}

// Reallocate grows the memory to size bytes, zero-filled, growing the
// backing array geometrically (up to the limit) as append does. The bytes
// between the old and the new length are zero: a fresh array is zeroed by
// make, and a pooled one was zeroed up to its last run's high mark and
// never written past it.
func (m *watchedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	m.size = size
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		m.high = max(m.high, size)
		return m.buf
	}
	grown := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.max))
	copy(grown, m.buf) // the old array, dirty, is left to the GC
	m.buf, m.high = grown, size
	return m.buf
}

// Free implements experimental.LinearMemory. The array is kept until
// recycle: wazero calls Free when the instance closes, which may be inside
// the run (proc_exit), and only the run knows when nothing uses it any more.
func (m *watchedMemory) Free() {}

// recycle zeroes what the run used and returns the array to the pool. Run
// calls it once InstantiateModule has returned and the instance is closed:
// the guest runs on Run's goroutine, so no code can touch the memory after.
func (m *watchedMemory) recycle() {
	if m.buf == nil {
		return
	}
	clear(m.buf[:m.high])
	m.pool.put(m.buf[:0])
	m.buf, m.high = nil, 0
}

// full reports whether the memory reached its limit.
func (m *watchedMemory) full() bool { return m.max > 0 && m.size >= m.max }

// Bounds of the memory pool: a few arrays, as many runs as this machine
// runs at once need, and at most poolBytes of capacity in all (untouched
// capacity costs address space, not RAM).
const (
	poolBuffers  = 8
	poolBytes    = 128 << 20
	maxPoolArray = 64 << 20
)

// memPool keeps all-zero backing arrays of linear memories for reuse.
type memPool struct {
	mu    sync.Mutex
	free  [][]byte // each of length 0 and all zero up to its capacity
	bytes int      // capacity of free, summed
	// held is the capacity of the arrays prepared instances hold
	// (instance.go): counted with bytes against poolBytes.
	held int
}

// hold counts n bytes of a prepared instance's array against the pool's
// bound, if they fit.
func (p *memPool) hold(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+p.held+n > poolBytes {
		return false
	}
	p.held += n
	return true
}

// unhold ends the count of hold.
func (p *memPool) unhold(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held -= n
}

// get returns an all-zero array of length 0, or nil.
func (p *memPool) get() []byte {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		return nil
	}
	b := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	p.bytes -= cap(b)
	return b
}

// put keeps b, which must be all zero up to its capacity, if the pool has
// room; otherwise b is left to the GC.
func (p *memPool) put(b []byte) {
	if p == nil || cap(b) == 0 || cap(b) > maxPoolArray {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) >= poolBuffers {
		return
	}
	for p.held+p.bytes+cap(b) > poolBytes && len(p.free) > 0 {
		// keep the newest: it fits what runs now
		p.bytes -= cap(p.free[0])
		p.free = p.free[1:]
	}
	if p.held+p.bytes+cap(b) > poolBytes {
		return
	}
	p.free = append(p.free, b)
	p.bytes += cap(b)
}

// reset lets the GC have every array kept.
func (p *memPool) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free, p.bytes = nil, 0
}
