package executor

import (
	"encoding/binary"
)

// A Go wasip1 module carries its initialised data as tens of thousands of
// small active data segments (the Go square: 38,601 segments, 1.2 MB),
// because the Go linker starts a new segment at every few zero bytes.
// wazero copies them one by one into each new instance, evaluating each
// segment's offset expression with two allocations: about a sixth of a Go
// component's per-task time. coalesceData rewrites such a module's data
// section, once before it is compiled, into a few large segments holding
// the same bytes at the same offsets. Every instance still gets a fresh
// memory initialised from the module; only the number of copies changes.

// dataGap is the shortest run of zero bytes between two pieces of data that
// coalesceData keeps as a gap between segments: copying fewer zeros costs
// less than another segment does.
const dataGap = 1024

// maxDataImage bounds the span of memory the data segments may cover for
// coalesceData to rewrite them (it builds that span in memory once).
const maxDataImage = 64 << 20

// coalesceData returns wasm with its active data segments merged into as
// few segments as the zero runs of at least dataGap bytes allow, or wasm
// itself when the rewrite does not apply or does not pay. It applies only
// when the result is indistinguishable from the original at instantiation
// and run time:
//   - there is no data count section, so no code can name a segment
//     (memory.init and data.drop need it);
//   - memory 0 is the module's own (not imported), so it starts zeroed and
//     writing zeros where no segment wrote changes nothing;
//   - every segment is active in memory 0 at a constant i32 offset, so the
//     segments' bytes, applied in order, make one image known now.
//
// The last segment ends where the original data ended, zeros included, so
// a module whose data does not fit its initial memory still fails to
// instantiate.
func coalesceData(wasm []byte) []byte {
	if len(wasm) < 8 {
		return wasm
	}
	var dataStart, dataEnd int // the data section, id byte to end
	var body []byte
	hasMemory := false
	off := 8
	for off < len(wasm) {
		id := wasm[off]
		size, n := uleb64(wasm[off+1:])
		start := off
		if n == 0 || size > uint64(len(wasm)-off-1-n) {
			return wasm
		}
		sec := wasm[off+1+n : off+1+n+int(size)]
		off += 1 + n + int(size)
		switch id {
		case 2:
			if imported, ok := importsMemory(sec); !ok || imported {
				return wasm
			}
		case 5:
			hasMemory = true
		case 11:
			dataStart, dataEnd, body = start, off, sec
		case 12:
			return wasm // data count: code may use segment indices
		}
	}
	if body == nil || !hasMemory {
		return wasm
	}
	segs, ok := activeSegments(body)
	if !ok || len(segs) < 2 {
		return wasm
	}
	lo, hi := uint64(segs[0].offset), uint64(0)
	for _, s := range segs {
		lo = min(lo, uint64(s.offset))
		hi = max(hi, uint64(s.offset)+uint64(len(s.data)))
	}
	if hi-lo > maxDataImage {
		return wasm
	}
	image := make([]byte, hi-lo)
	for _, s := range segs {
		copy(image[uint64(s.offset)-lo:], s.data)
	}
	chunks := splitOnZeros(image, dataGap)
	if len(chunks) >= len(segs) {
		return wasm
	}
	secLen := 0
	for _, c := range chunks {
		secLen += c[1] - c[0] + 16 // flag, i32.const, offset, end, size
	}
	sec := appendULEB(make([]byte, 0, secLen+10), uint64(len(chunks)))
	for _, c := range chunks {
		sec = append(sec, 0x00, 0x41) // active in memory 0, i32.const
		sec = appendSLEB(sec, int64(int32(uint32(lo)+uint32(c[0]))))
		sec = append(sec, 0x0b)
		sec = appendULEB(sec, uint64(c[1]-c[0]))
		sec = append(sec, image[c[0]:c[1]]...)
	}
	out := make([]byte, 0, len(wasm)-(dataEnd-dataStart)+len(sec)+6)
	out = append(out, wasm[:dataStart]...)
	out = append(out, 11)
	out = appendULEB(out, uint64(len(sec)))
	out = append(out, sec...)
	return append(out, wasm[dataEnd:]...)
}

type dataSegment struct {
	offset uint32
	data   []byte
}

// activeSegments parses a data section whose segments are all active in
// memory 0 at an i32.const offset; ok is false for anything else.
func activeSegments(body []byte) ([]dataSegment, bool) {
	count, n := uleb64(body)
	if n == 0 || count > uint64(len(body)) {
		return nil, false
	}
	body = body[n:]
	segs := make([]dataSegment, 0, count)
	for range count {
		// flag 0, i32.const <sleb32>, end
		if len(body) < 2 || body[0] != 0x00 || body[1] != 0x41 {
			return nil, false
		}
		v, m := sleb32(body[2:])
		if m == 0 || len(body) < 2+m+1 || body[2+m] != 0x0b {
			return nil, false
		}
		body = body[2+m+1:]
		size, m := uleb64(body)
		if m == 0 || size > uint64(len(body)-m) {
			return nil, false
		}
		segs = append(segs, dataSegment{offset: uint32(v), data: body[m : m+int(size)]})
		body = body[m+int(size):]
	}
	return segs, len(body) == 0
}

// splitOnZeros returns the [start, end) ranges of image left after
// dropping the runs of at least gap zero bytes inside it; the last range
// always ends at len(image).
func splitOnZeros(image []byte, gap int) [][2]int {
	var out [][2]int
	start, zeros := 0, 0
	inChunk := false
	for i, b := range image {
		if b != 0 {
			if !inChunk {
				start, inChunk = i, true
			} else if zeros >= gap {
				out = append(out, [2]int{start, i - zeros})
				start = i
			}
			zeros = 0
			continue
		}
		zeros++
	}
	if !inChunk {
		start = max(0, len(image)-1) // all zeros: one byte keeps the end
	} else if zeros >= gap {
		out = append(out, [2]int{start, len(image) - zeros})
		start = len(image) - 1
	}
	return append(out, [2]int{start, len(image)})
}

// importsMemory reports whether an import section imports a memory; ok is
// false if it cannot be read.
func importsMemory(sec []byte) (imported, ok bool) {
	count, n := uleb64(sec)
	if n == 0 {
		return false, false
	}
	sec = sec[n:]
	skipName := func() bool {
		l, m := uleb64(sec)
		if m == 0 || l > uint64(len(sec)-m) {
			return false
		}
		sec = sec[m+int(l):]
		return true
	}
	skipLimits := func() bool {
		if len(sec) < 1 {
			return false
		}
		flag := sec[0]
		sec = sec[1:]
		for range 1 + int(flag&1) {
			_, m := uleb64(sec)
			if m == 0 {
				return false
			}
			sec = sec[m:]
		}
		return true
	}
	for range count {
		module, field := skipName(), skipName()
		if !module || !field || len(sec) < 1 {
			return false, false
		}
		kind := sec[0]
		sec = sec[1:]
		switch kind {
		case 0x00: // function: type index
			_, m := uleb64(sec)
			if m == 0 {
				return false, false
			}
			sec = sec[m:]
		case 0x01: // table: reftype, limits
			if len(sec) < 1 {
				return false, false
			}
			sec = sec[1:]
			if !skipLimits() {
				return false, false
			}
		case 0x02:
			return true, true
		case 0x03: // global: valtype, mutability
			if len(sec) < 2 {
				return false, false
			}
			sec = sec[2:]
		default:
			return false, false
		}
	}
	return false, true
}

// uleb64 reads an unsigned LEB128 of at most 10 bytes; n is 0 if there is none.
func uleb64(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// sleb32 reads a signed LEB128 i32 of at most 5 bytes; n is 0 if there is none.
func sleb32(b []byte) (v int32, n int) {
	var r int64
	for i := 0; i < len(b) && i < 5; i++ {
		r |= int64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if shift := 7 * (i + 1); shift < 64 && b[i]&0x40 != 0 {
				r |= -1 << shift
			}
			if r < -1<<31 || r > 1<<31-1 {
				return 0, 0
			}
			return int32(r), i + 1
		}
	}
	return 0, 0
}

func appendULEB(b []byte, v uint64) []byte {
	return binary.AppendUvarint(b, v) // LEB128 and Go's uvarint are the same encoding
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
