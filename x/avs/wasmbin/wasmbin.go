// Package wasmbin reads the wasm binaries x/avs stores: the gzip envelope
// they travel and rest in (as wasmd keeps x/wasm/ioutils) and the check that
// one is a WASI preview-1 command importing only what the sidecar provides.
// The chain, the CLI and the sidecar all use it.
package wasmbin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	errorsmod "cosmossdk.io/errors"

	"github.com/avschain/avschain/x/avs/types"
)

var wasmMagic = []byte{0x00, 0x61, 0x73, 0x6d}

// Validate checks that code is a WASI preview-1 core module that
// imports only from wasi_snapshot_preview1 and avs and exports a _start
// function (a WASI command). It returns the imports as "module.name".
func Validate(code []byte) ([]string, error) {
	imports, err := parseModule(code)
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidComponent, err.Error())
	}
	return imports, nil
}

type wasmReader struct {
	b   []byte
	off int
}

var errEOF = errors.New("unexpected end of module")

func (r *wasmReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// u32 reads an unsigned LEB128 value of at most 32 bits.
func (r *wasmReader) u32() (uint32, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 0xffffffff {
				return 0, errors.New("LEB128 value overflows u32")
			}
			return uint32(v), nil
		}
	}
	return 0, errors.New("LEB128 value too long")
}

// u64 reads an unsigned LEB128 value of at most 64 bits (memory64 limits).
func (r *wasmReader) u64() (uint64, error) {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift == 63 && c > 1 {
			return 0, errors.New("LEB128 value overflows u64")
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 value too long")
}

func (r *wasmReader) bytes(n uint32) ([]byte, error) {
	if uint64(r.off)+uint64(n) > uint64(len(r.b)) {
		return nil, errEOF
	}
	out := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return out, nil
}

func (r *wasmReader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errors.New("name is not valid UTF-8")
	}
	return string(b), nil
}

func (r *wasmReader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	read := r.u32
	if flags&0x04 != 0 { // memory64
		read = func() (uint32, error) { _, err := r.u64(); return 0, err }
	}
	if flags > 0x07 {
		return fmt.Errorf("bad limits flags 0x%x", flags)
	}
	if _, err := read(); err != nil {
		return err
	}
	if flags&0x01 != 0 {
		if _, err := read(); err != nil {
			return err
		}
	}
	return nil
}

func parseModule(code []byte) ([]string, error) {
	if len(code) < 8 || !bytes.Equal(code[:4], wasmMagic) {
		return nil, errors.New("not a wasm module (bad magic number)")
	}
	if v := binary.LittleEndian.Uint32(code[4:8]); v != 1 {
		return nil, fmt.Errorf("wasm binary version %#x is not a core module: build a WASI preview-1 module (GOOS=wasip1, wasm32-wasi)", v)
	}
	r := &wasmReader{b: code, off: 8}
	var imports []string
	hasStart := false
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		body, err := r.bytes(size)
		if err != nil {
			return nil, fmt.Errorf("section %d: size %d runs past the end", id, size)
		}
		if id > 13 {
			return nil, fmt.Errorf("unknown section id %d", id)
		}
		sr := &wasmReader{b: body}
		switch id {
		case 2:
			imports, err = parseImports(sr)
		case 7:
			hasStart, err = parseExports(sr)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasStart {
		return nil, errors.New("module exports no _start function: a component is a WASI command (package main)")
	}
	return imports, nil
}

func parseImports(r *wasmReader) ([]string, error) {
	n, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("import section: %w", err)
	}
	if uint64(n) > uint64(len(r.b)) {
		return nil, fmt.Errorf("import section claims %d imports", n)
	}
	out := make([]string, 0, n)
	for i := uint32(0); i < n; i++ {
		module, err := r.name()
		if err != nil {
			return nil, fmt.Errorf("import %d: %w", i, err)
		}
		field, err := r.name()
		if err != nil {
			return nil, fmt.Errorf("import %d: %w", i, err)
		}
		if module != types.WASIModule && module != types.HostModule {
			return nil, fmt.Errorf("import %q.%q: components may import only from %q and %q", module, field, types.WASIModule, types.HostModule)
		}
		kind, err := r.byte()
		if err != nil {
			return nil, fmt.Errorf("import %d: %w", i, err)
		}
		switch kind {
		case 0x00: // function: type index
			_, err = r.u32()
		case 0x01: // table: reftype + limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 0x02: // memory
			err = r.limits()
		case 0x03: // global: valtype + mutability
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
			}
		case 0x04: // tag
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			err = fmt.Errorf("unknown import kind 0x%x", kind)
		}
		if err != nil {
			return nil, fmt.Errorf("import %q.%q: %w", module, field, err)
		}
		out = append(out, module+"."+field)
	}
	if r.off != len(r.b) {
		return nil, errors.New("import section has trailing bytes")
	}
	return out, nil
}

func parseExports(r *wasmReader) (hasStart bool, err error) {
	n, err := r.u32()
	if err != nil {
		return false, fmt.Errorf("export section: %w", err)
	}
	if uint64(n) > uint64(len(r.b)) {
		return false, fmt.Errorf("export section claims %d exports", n)
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.name()
		if err != nil {
			return false, fmt.Errorf("export %d: %w", i, err)
		}
		kind, err := r.byte()
		if err != nil {
			return false, fmt.Errorf("export %d: %w", i, err)
		}
		if _, err := r.u32(); err != nil {
			return false, fmt.Errorf("export %d: %w", i, err)
		}
		if name == "_start" && kind == 0x00 {
			hasStart = true
		}
	}
	if r.off != len(r.b) {
		return false, errors.New("export section has trailing bytes")
	}
	return hasStart, nil
}
