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
