package executor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/avstest"
)

// dataImage applies a module's data segments in order to zeroed memory and
// returns it up to the end of the last byte any segment writes.
func dataImage(t *testing.T, wasm []byte) []byte {
	t.Helper()
	off := 8
	for off < len(wasm) {
		id := wasm[off]
		size, n := uleb64(wasm[off+1:])
		sec := wasm[off+1+n : off+1+n+int(size)]
		off += 1 + n + int(size)
		if id != 11 {
			continue
		}
		segs, ok := activeSegments(sec)
		require.True(t, ok)
		var image []byte
		for _, s := range segs {
			end := int(s.offset) + len(s.data)
			if end > len(image) {
				image = append(image, make([]byte, end-len(image))...)
			}
			copy(image[s.offset:], s.data)
		}
		return image
	}
	return nil
}

func segmentCount(t *testing.T, wasm []byte) int {
	t.Helper()
	off := 8
	for off < len(wasm) {
		id := wasm[off]
		size, n := uleb64(wasm[off+1:])
		sec := wasm[off+1+n : off+1+n+int(size)]
		off += 1 + n + int(size)
		if id == 11 {
			segs, ok := activeSegments(sec)
			require.True(t, ok)
			return len(segs)
		}
	}
	return 0
}

func TestCoalesceData(t *testing.T) {
	gap := make([]byte, dataGap)
	for _, tc := range []struct {
		name     string
		wasm     []byte
		segments int // after; 0: unchanged
	}{
		{
			name: "the Go square: tens of thousands of segments to a few",
			wasm: func() []byte {
				b, err := os.ReadFile(filepath.Join("..", "..", "components", "square", "square.wasm"))
				require.NoError(t, err)
				return b
			}(),
			segments: -1, // checked below: far fewer
		},
		{
			name: "small gaps merge, a long zero run splits",
			wasm: avstest.ModuleWithBody(nil, avstest.WithMemory(1),
				avstest.WithData(10, []byte("ab")), avstest.WithData(20, []byte("cd")),
				avstest.WithData(uint32(22+dataGap), []byte("ef"))),
			segments: 2,
		},
		{
			name: "overlapping segments: the later one wins",
			wasm: avstest.ModuleWithBody(nil, avstest.WithMemory(1),
				avstest.WithData(100, []byte("xxxx")), avstest.WithData(50, []byte("y")), avstest.WithData(101, []byte("zz"))),
			segments: 1,
		},
		{
			name: "trailing zeros past a long run keep the end",
			wasm: avstest.ModuleWithBody(nil, avstest.WithMemory(1),
				avstest.WithData(0, []byte("a")), avstest.WithData(1, append(append([]byte{}, gap...), 0, 0))),
			segments: 0, // a, then one zero byte at the end: two segments, no fewer
		},
		{
			name: "all zeros: one byte at the end",
			wasm: avstest.ModuleWithBody(nil, avstest.WithMemory(1),
				avstest.WithData(0, gap), avstest.WithData(uint32(2*dataGap), gap)),
			segments: 1,
		},
		{
			name:     "one segment: unchanged",
			wasm:     avstest.FixedOutput("hello"),
			segments: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := coalesceData(tc.wasm)
			if tc.segments == 0 {
				require.Equal(t, tc.wasm, out)
				return
			}
			require.Equal(t, dataImage(t, tc.wasm), dataImage(t, out))
			before, after := segmentCount(t, tc.wasm), segmentCount(t, out)
			if tc.segments > 0 {
				require.Equal(t, tc.segments, after)
			} else {
				require.Less(t, after*100, before, "%d segments from %d", after, before)
			}
			// the rest of the module is untouched
			require.True(t, bytes.HasPrefix(out, tc.wasm[:8]))
		})
	}
}

// A module whose code could name a segment (data count section) or whose
// memory is imported is left as it is.
func TestCoalesceDataLeavesOthersAlone(t *testing.T) {
	two := avstest.ModuleWithBody(nil, avstest.WithMemory(1),
		avstest.WithData(0, []byte("a")), avstest.WithData(2, []byte("b")))
	require.NotEqual(t, two, coalesceData(two))

	// a data count section (id 12) before the code section (id 10)
	withCount := insertSection(t, two, 10, []byte{12, 1, 2})
	require.Equal(t, withCount, coalesceData(withCount))

	// an imported memory: env.mem, limits min 1
	imp := []byte{0x01, 3, 'e', 'n', 'v', 3, 'm', 'e', 'm', 0x02, 0x00, 0x01}
	withImport := append(append([]byte{}, two[:8]...), append([]byte{2, byte(len(imp))}, imp...)...)
	withImport = append(withImport, two[8:]...) // two import sections: never valid, still left alone
	require.Equal(t, withImport, coalesceData(withImport))

	require.Equal(t, []byte("junk"), coalesceData([]byte("junk")))
	truncated := two[:len(two)-3]
	require.Equal(t, truncated, coalesceData(truncated))
}

// insertSection inserts raw (a whole section) before the first section of id before.
func insertSection(t *testing.T, wasm []byte, before byte, raw []byte) []byte {
	t.Helper()
	off := 8
	for off < len(wasm) {
		if wasm[off] == before {
			out := append(append([]byte{}, wasm[:off]...), raw...)
			return append(out, wasm[off:]...)
		}
		size, n := uleb64(wasm[off+1:])
		off += 1 + n + int(size)
	}
	t.Fatalf("no section %d", before)
	return nil
}

func TestSplitOnZeros(t *testing.T) {
	z := func(n int) []byte { return make([]byte, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name  string
		image []byte
		want  [][2]int
	}{
		{"no zeros", []byte("abc"), [][2]int{{0, 3}}},
		{"leading zeros dropped", cat(z(5), []byte("a")), [][2]int{{5, 6}}},
		{"short gap kept", cat([]byte("a"), z(3), []byte("b")), [][2]int{{0, 5}}},
		{"long gap split", cat([]byte("a"), z(4), []byte("b")), [][2]int{{0, 1}, {5, 6}}},
		{"short tail kept", cat([]byte("a"), z(3)), [][2]int{{0, 4}}},
		{"long tail: a byte at the end", cat([]byte("a"), z(4)), [][2]int{{0, 1}, {4, 5}}},
		{"all zeros", z(6), [][2]int{{5, 6}}},
		{"empty", nil, [][2]int{{0, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, splitOnZeros(tc.image, 4))
		})
	}
}
