package executor

import (
	"context"

	"github.com/tetratelabs/wazero"
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
