// Package avstest holds small helpers for x/avs unit tests: a hand-assembled
// wasm module builder and an in-memory bank for keeper tests.
package avstest

// Import is one function import of a test module.
type Import struct{ Module, Name string }

// WASI is the import every WASI command has.
var WASI = Import{"wasi_snapshot_preview1", "proc_exit"}

// Module assembles a minimal core wasm module: one function type () -> (),
// the given function imports, one defined function, and, when start is set,
// that function exported as _start.
func Module(start bool, imports ...Import) []byte {
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = append(out, section(1, []byte{0x01, 0x60, 0x00, 0x00})...)
	if len(imports) > 0 {
		body := uleb(uint32(len(imports)))
		for _, im := range imports {
			body = append(body, name(im.Module)...)
			body = append(body, name(im.Name)...)
			body = append(body, 0x00, 0x00) // function, type 0
		}
		out = append(out, section(2, body)...)
	}
	out = append(out, section(3, []byte{0x01, 0x00})...)
	if start {
		body := append(uleb(1), name("_start")...)
		body = append(body, 0x00)
		body = append(body, uleb(uint32(len(imports)))...)
		out = append(out, section(7, body)...)
	}
	out = append(out, section(10, []byte{0x01, 0x02, 0x00, 0x0b})...)
	return out
}

// CustomSection is a custom section (id 0) called title holding payload; a
// module with it appended stays valid.
func CustomSection(title string, payload []byte) []byte {
	return section(0, append(name(title), payload...))
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint32(len(body)))...), body...)
}

func name(s string) []byte { return append(uleb(uint32(len(s))), s...) }

func uleb(v uint32) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

// Function indices in a module built by ModuleWithBody: the two WASI imports
// come first, then the body, exported as _start.
const (
	FuncFDWrite  = 0 // wasi_snapshot_preview1.fd_write(fd, iovs, iovs_len, nwritten i32) i32
	FuncProcExit = 1 // wasi_snapshot_preview1.proc_exit(code i32)
	FuncStart    = 2 // the body
)

// BodyOption adds to a module built by ModuleWithBody.
type BodyOption func(*bodyModule)

type dataSegment struct {
	offset uint32
	data   []byte
}

type bodyModule struct {
	memory    bool
	memMin    uint32
	memMax    uint32
	hasMemMax bool
	data      []dataSegment
	locals    uint32
}

// WithMemory gives the module a memory of minPages pages with no maximum,
// exported as "memory" (the host's memory limit caps it).
func WithMemory(minPages uint32) BodyOption {
	return func(m *bodyModule) { m.memory, m.memMin, m.hasMemMax = true, minPages, false }
}

// WithMemoryMax gives the module a memory of minPages to maxPages pages,
// exported as "memory".
func WithMemoryMax(minPages, maxPages uint32) BodyOption {
	return func(m *bodyModule) { m.memory, m.memMin, m.memMax, m.hasMemMax = true, minPages, maxPages, true }
}

// WithData adds an active data segment copying data to offset of memory 0. It
// implies a one-page memory when no memory option was given.
func WithData(offset uint32, data []byte) BodyOption {
	return func(m *bodyModule) {
		if !m.memory {
			m.memory, m.memMin = true, 1
		}
		m.data = append(m.data, dataSegment{offset, append([]byte(nil), data...)})
	}
}

// WithLocals declares n i32 locals (indices 0..n-1) in the body.
func WithLocals(n uint32) BodyOption {
	return func(m *bodyModule) { m.locals = n }
}

// ModuleWithBody assembles a WASI command whose _start runs body: the
// instructions of one function of type () -> (), without the final end
// opcode. It imports wasi_snapshot_preview1.fd_write (function FuncFDWrite)
// and proc_exit (FuncProcExit), so it passes wasmbin.Validate and
// instantiates under any WASI host.
func ModuleWithBody(body []byte, opts ...BodyOption) []byte {
	var m bodyModule
	for _, o := range opts {
		o(&m)
	}
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	// Types: 0 () -> (); 1 (i32 i32 i32 i32) -> i32; 2 (i32) -> ().
	out = append(out, section(1, []byte{
		0x03,
		0x60, 0x00, 0x00,
		0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f,
		0x60, 0x01, 0x7f, 0x00,
	})...)
	imports := uleb(2)
	imports = append(imports, name("wasi_snapshot_preview1")...)
	imports = append(imports, name("fd_write")...)
	imports = append(imports, 0x00, 0x01)
	imports = append(imports, name("wasi_snapshot_preview1")...)
	imports = append(imports, name("proc_exit")...)
	imports = append(imports, 0x00, 0x02)
	out = append(out, section(2, imports)...)
	out = append(out, section(3, []byte{0x01, 0x00})...)
	if m.memory {
		mem := []byte{0x01}
		if m.hasMemMax {
			mem = append(mem, 0x01)
			mem = append(mem, uleb(m.memMin)...)
			mem = append(mem, uleb(m.memMax)...)
		} else {
			mem = append(mem, 0x00)
			mem = append(mem, uleb(m.memMin)...)
		}
		out = append(out, section(5, mem)...)
	}
	exports := []byte{0x01}
	if m.memory {
		exports[0] = 0x02
		exports = append(exports, name("memory")...)
		exports = append(exports, 0x02, 0x00)
	}
	exports = append(exports, name("_start")...)
	exports = append(exports, 0x00)
	exports = append(exports, uleb(FuncStart)...)
	out = append(out, section(7, exports)...)
	var fn []byte
	if m.locals > 0 {
		fn = append(fn, 0x01)
		fn = append(fn, uleb(m.locals)...)
		fn = append(fn, 0x7f)
	} else {
		fn = append(fn, 0x00)
	}
	fn = append(fn, body...)
	fn = append(fn, 0x0b)
	code := append([]byte{0x01}, uleb(uint32(len(fn)))...)
	code = append(code, fn...)
	out = append(out, section(10, code)...)
	if len(m.data) > 0 {
		data := uleb(uint32(len(m.data)))
		for _, d := range m.data {
			data = append(data, 0x00, 0x41) // active, memory 0, offset i32.const
			data = append(data, sleb(int64(d.offset))...)
			data = append(data, 0x0b)
			data = append(data, uleb(uint32(len(d.data)))...)
			data = append(data, d.data...)
		}
		out = append(out, section(11, data)...)
	}
	return out
}

// I32Const is the instruction i32.const v.
func I32Const(v int32) []byte { return append([]byte{0x41}, sleb(int64(v))...) }

// FixedOutput is a WASI command that writes s to stdout with one fd_write and
// exits 0, whatever its input: a "wrong" component for tests.
func FixedOutput(s string) []byte {
	const iov, nwritten, text = 0, 8, 16
	hdr := make([]byte, 16)
	putLE32(hdr[0:], text)
	putLE32(hdr[4:], uint32(len(s)))
	pages := (uint32(text+len(s)) + 65535) / 65536
	var body []byte
	body = append(body, I32Const(1)...) // fd: stdout
	body = append(body, I32Const(iov)...)
	body = append(body, I32Const(1)...) // one iovec
	body = append(body, I32Const(nwritten)...)
	body = append(body, 0x10) // call fd_write
	body = append(body, uleb(FuncFDWrite)...)
	body = append(body, 0x1a) // drop the errno
	return ModuleWithBody(body, WithMemory(max(pages, 1)), WithData(0, append(hdr, s...)))
}

// Loop is a WASI command whose _start never returns: loop { br 0 }.
func Loop() []byte {
	return ModuleWithBody([]byte{0x03, 0x40, 0x0c, 0x00, 0x0b})
}

// MemoryHog is a WASI command that grows its memory one page at a time until
// memory.grow fails, then traps (unreachable).
func MemoryHog() []byte {
	body := []byte{0x03, 0x40} // loop
	body = append(body, I32Const(1)...)
	body = append(body, 0x40, 0x00) // memory.grow
	body = append(body, I32Const(-1)...)
	body = append(body, 0x47)       // i32.ne
	body = append(body, 0x0d, 0x00) // br_if 0
	body = append(body, 0x0b)       // end loop
	body = append(body, 0x00)       // unreachable
	return ModuleWithBody(body, WithMemory(1))
}

// Trap is a WASI command whose _start executes unreachable.
func Trap() []byte { return ModuleWithBody([]byte{0x00}) }

// Exit is a WASI command that calls proc_exit(code).
func Exit(code uint32) []byte {
	body := I32Const(int32(code))
	body = append(body, 0x10)
	body = append(body, uleb(FuncProcExit)...)
	return ModuleWithBody(body)
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}
