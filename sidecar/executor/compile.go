package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
)

// runtime returns the runtime for a memory limit, creating it (with WASI and
// the avs host module) on first use.
func (e *Executor) runtime(ctx context.Context, pages uint32) (wazero.Runtime, error) {
	if r, ok := e.runtimes[pages]; ok {
		return r, nil
	}
	cfg := wazero.NewRuntimeConfig().
		WithCompilationCache(e.cache).
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(pages)
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := instantiateWASI(ctx, r); err != nil {
		_ = r.Close(ctx)
		return nil, err
	}
	if err := instantiateHost(ctx, r); err != nil {
		_ = r.Close(ctx)
		return nil, err
	}
	e.runtimes[pages] = r
	return r, nil
}

// Prepare compiles wasm for a memory limit ahead of its first task, so the
// first task of a service does not pay for compilation.
func (e *Executor) Prepare(ctx context.Context, wasm []byte, pages uint32) error {
	sum := sha256.Sum256(wasm)
	_, _, err := e.compile(ctx, hex.EncodeToString(sum[:]), wasm, pages)
	return err
}

// compile returns the runtime for pages and wasm compiled in it, compiling
// it on first use. Only the map lookups hold e.mu: the compile itself runs
// outside it, once per pages/digest however many callers want it at once
// (singleflight), so a cold compile does not hold up warm runs.
func (e *Executor) compile(ctx context.Context, digest string, wasm []byte, pages uint32) (wazero.Runtime, wazero.CompiledModule, error) {
	if pages == 0 {
		return nil, nil, errors.New("memory limit of 0 pages")
	}
	key := strconv.FormatUint(uint64(pages), 10) + "/" + digest
	r, m, err := e.lookup(ctx, key, pages)
	if err != nil || m != nil {
		return r, m, err
	}
	v, err, _ := e.compiling.Do(key, func() (any, error) {
		if _, m, err := e.lookup(ctx, key, pages); err != nil || m != nil {
			return m, err // compiled by a flight that ended just before this one
		}
		if err := checkTables(wasm); err != nil {
			return nil, fmt.Errorf("%w: %w: %s", ErrMemory, ErrInstantiate, err)
		}
		m, err := e.compileModule(ctx, r, wasm)
		if err != nil && strings.Contains(err.Error(), "over limit of") {
			// its initial memory is over the service's memory limit
			return nil, fmt.Errorf("%w: %w: compile: %s", ErrMemory, ErrInstantiate, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: compile: %s", ErrInstantiate, err)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			_ = m.Close(ctx)
			return nil, errClosed
		}
		e.compiled[key] = m
		e.preparable[key] = len(wasm) >= e.prepareMin && !hasStartSection(wasm)
		return m, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return r, v.(wazero.CompiledModule), nil
}

// compileInUse is compile for a run: the module is held until release is
// called, so that it is not closed while it runs; released, it counts as
// recently used. preparable tells whether its instances are made ahead of
// their tasks (instance.go).
func (e *Executor) compileInUse(ctx context.Context, digest string, wasm []byte, pages uint32) (wazero.Runtime, wazero.CompiledModule, func(), bool, error) {
	key := strconv.FormatUint(uint64(pages), 10) + "/" + digest
	for {
		r, m, err := e.compile(ctx, digest, wasm, pages)
		if err != nil {
			return nil, nil, nil, false, err
		}
		e.mu.Lock()
		if e.compiled[key] == m {
			e.inUse[key]++
			preparable := e.preparable[key]
			e.mu.Unlock()
			return r, m, func() { e.release(key) }, preparable, nil
		}
		e.mu.Unlock() // evicted between compile and here: compile it again
	}
}

// release ends a run's hold on a compiled module and closes the least
// recently used modules no run holds while more than maxCompiled are kept.
func (e *Executor) release(key string) {
	var evicted []string
	defer func() {
		for _, k := range evicted {
			e.dropPrepared(k)
		}
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inUse[key]--
	if e.inUse[key] <= 0 {
		delete(e.inUse, key)
	}
	e.useClock++
	e.lastUsed[key] = e.useClock
	for len(e.compiled) > e.maxCompiled && !e.closed {
		victim, oldest := "", uint64(0)
		for k := range e.compiled {
			if e.inUse[k] > 0 {
				continue
			}
			if victim == "" || e.lastUsed[k] < oldest {
				victim, oldest = k, e.lastUsed[k]
			}
		}
		if victim == "" {
			return // every module is running
		}
		_ = e.compiled[victim].Close(context.Background())
		delete(e.compiled, victim)
		delete(e.lastUsed, victim)
		delete(e.preparable, victim)
		evicted = append(evicted, victim)
	}
}

// lookup returns the runtime for pages (created on first use) and the
// module compiled under key, if any.
func (e *Executor) lookup(ctx context.Context, key string, pages uint32) (wazero.Runtime, wazero.CompiledModule, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, nil, errClosed
	}
	r, err := e.runtime(ctx, pages)
	if err != nil {
		return nil, nil, err
	}
	return r, e.compiled[key], nil
}

// checkTables refuses a module whose tables' initial sizes add up to more
// than MaxTableElements: wazero allocates them at instantiation, outside
// the memory limit (review L8). A table section it cannot read is left to
// wazero's own validation.
func checkTables(wasm []byte) error {
	if len(wasm) < 8 {
		return nil
	}
	off := 8
	for off < len(wasm) {
		id := wasm[off]
		size, n := uleb(wasm[off+1:])
		if n == 0 || uint64(off+1+n)+size > uint64(len(wasm)) {
			return nil
		}
		body := wasm[off+1+n : off+1+n+int(size)]
		off += 1 + n + int(size)
		if id != 4 {
			continue
		}
		count, n := uleb(body)
		body = body[n:]
		var total uint64
		for range count {
			// reftype, limits flag, min[, max]
			if n == 0 || len(body) < 2 || body[0] == 0x40 {
				return nil
			}
			flag := body[1]
			min, m := uleb(body[2:])
			if m == 0 {
				return nil
			}
			total += min
			body = body[2+m:]
			if flag&0x01 != 0 {
				if _, m = uleb(body); m == 0 {
					return nil
				}
				body = body[m:]
			}
		}
		if total > MaxTableElements {
			return fmt.Errorf("tables declare %d elements, at most %d allowed (8 bytes each, allocated outside the memory limit)", total, MaxTableElements)
		}
		return nil
	}
	return nil
}

// hasStartSection reports whether wasm has a start section, or cannot be
// read far enough to tell (then it is treated as having one).
func hasStartSection(wasm []byte) bool {
	if len(wasm) < 8 {
		return true
	}
	for off := 8; off < len(wasm); {
		id := wasm[off]
		size, n := uleb(wasm[off+1:])
		if n == 0 || uint64(off+1+n)+size > uint64(len(wasm)) {
			return true
		}
		if id == 8 {
			return true
		}
		off += 1 + n + int(size)
	}
	return false
}

// uleb reads an unsigned LEB128 of at most 5 bytes; n is 0 if there is none.
func uleb(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 5; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}
