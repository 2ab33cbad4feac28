package executor

import (
	"context"
	"strconv"

	"github.com/tetratelabs/wazero"

	"github.com/avschain/avschain/x/avs/types"
)

// BeforeCompile makes e call f with the wasm of every compile, before it
// compiles (a hook for the hammer test).
func BeforeCompile(e *Executor, f func(wasm []byte)) {
	inner := e.compileModule
	e.compileModule = func(ctx context.Context, r wazero.Runtime, wasm []byte) (wazero.CompiledModule, error) {
		f(wasm)
		return inner(ctx, r, wasm)
	}
}

// CompiledCount is how many compiled modules e keeps.
func CompiledCount(e *Executor) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.compiled)
}

// PrepareNext makes e prepare the next instance of wasm for pages now, as
// its preparing goroutine does after a run.
func PrepareNext(e *Executor, wasm []byte, pages uint32) {
	e.prepare(strconv.FormatUint(uint64(pages), 10) + "/" + types.Digest(wasm))
}

// Prepared returns how many prepared instances e keeps and how many runs
// took one.
func Prepared(e *Executor) (ready, taken int) {
	e.prepared.mu.Lock()
	defer e.prepared.mu.Unlock()
	return len(e.prepared.ready), e.prepared.taken
}

// HasStartSection is hasStartSection.
var HasStartSection = hasStartSection

// PrepareSmall makes e prepare instances of modules of any size (the
// test modules are small), for the modules it compiles from now on.
func PrepareSmall(e *Executor) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prepareMin = 0
}
