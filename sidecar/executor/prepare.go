package executor

import "context"

// Prepare compiles wasm for a memory limit ahead of its first task, so the
// first task of a service does not pay for compilation.
func (e *Executor) Prepare(ctx context.Context, wasm []byte, pages uint32) error {
	_, _, err := e.Compile(ctx, wasm, pages)
	return err
}
