package executor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/avstest"
)

// dirtyMemory is a WASI command that shows what its memory held when it
// started, then dirties it: it grows its memory by one page, prints the
// byte at offset 16 (data: 'A') and '0' plus the byte at 65636 (in the page
// it grew, so 0), then writes 'B' at 16 and 1 at 65636, and, when fill is
// set, grows its memory to the limit and writes 0xff at the end of the
// last page. Run again on a fresh instance it prints "A0" again.
func dirtyMemory(fill bool) []byte {
	const iov, nwritten, text, grown = 0, 8, 16, 65536 + 100
	hdr := make([]byte, 16)
	hdr[0] = text // iov.buf = 16
	hdr[4] = 2    // iov.len = 2
	var b []byte
	op := func(code ...byte) { b = append(b, code...) }
	i32 := func(v int32) { b = append(b, avstest.I32Const(v)...) }
	i32(1)
	op(0x40, 0x00, 0x1a) // memory.grow 1, drop
	i32(text + 1)
	i32(grown)
	op(0x2d, 0x00, 0x00) // i32.load8_u
	i32('0')
	op(0x6a)             // i32.add
	op(0x3a, 0x00, 0x00) // i32.store8
	i32(1)               // fd: stdout
	i32(iov)
	i32(1)
	i32(nwritten)
	op(0x10, avstest.FuncFDWrite, 0x1a) // call fd_write, drop the errno
	i32(text)
	i32('B')
	op(0x3a, 0x00, 0x00)
	i32(grown)
	i32(1)
	op(0x3a, 0x00, 0x00)
	if fill {
		// loop { br_if 0 (memory.grow 1 != -1) }
		op(0x03, 0x40)
		i32(1)
		op(0x40, 0x00)
		i32(-1)
		op(0x47, 0x0d, 0x00, 0x0b)
		// memory[size*65536 - 1] = 0xff
		op(0x3f, 0x00) // memory.size
		i32(16)
		op(0x74) // i32.shl
		i32(1)
		op(0x6b) // i32.sub
		i32(0xff)
		op(0x3a, 0x00, 0x00)
	}
	return avstest.ModuleWithBody(b, avstest.WithMemory(1), avstest.WithData(0, append(hdr, 'A')))
}

// Every task gets a fresh instance: memory a previous run of the same
// compiled module (or of another one) dirtied reads as the module's data
// and zeros again, though the executor reuses memory arrays across runs.
func TestRunFreshMemoryEachTask(t *testing.T) {
	e := newExecutor(t)
	ctx := context.Background()
	plain, fill := dirtyMemory(false), dirtyMemory(true)
	for i, wasm := range [][]byte{plain, plain, fill, plain, fill, fill, plain} {
		res, err := e.Run(ctx, job(uint64(i+1), "", limits(8)), wasm)
		require.NoError(t, err, "run %d", i)
		require.Equal(t, "A0", string(res.Output), "run %d", i)
	}
	// the byte at the end of the limit: a larger module reading it
	reader := func(pages uint32) []byte {
		var b []byte
		b = append(b, avstest.I32Const(16)...)
		b = append(b, avstest.I32Const(int32(pages)<<16-1)...)
		b = append(b, 0x2d, 0x00, 0x00) // i32.load8_u
		b = append(b, avstest.I32Const('0')...)
		b = append(b, 0x6a, 0x3a, 0x00, 0x00)
		b = append(b, avstest.I32Const(1)...)
		b = append(b, avstest.I32Const(0)...)
		b = append(b, avstest.I32Const(1)...)
		b = append(b, avstest.I32Const(8)...)
		b = append(b, 0x10, avstest.FuncFDWrite, 0x1a)
		hdr := []byte{16, 0, 0, 0, 1, 0, 0, 0}
		return avstest.ModuleWithBody(b, avstest.WithMemory(pages), avstest.WithData(0, hdr))
	}
	for i := range 3 {
		_, err := e.Run(ctx, job(uint64(100+i), "", limits(8)), fill)
		require.NoError(t, err)
		res, err := e.Run(ctx, job(uint64(200+i), "", limits(8)), reader(8))
		require.NoError(t, err)
		require.Equal(t, "0", string(res.Output))
	}
}
