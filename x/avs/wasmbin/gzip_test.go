package wasmbin_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

func TestGzipRoundTripAndLimit(t *testing.T) {
	code := bytes.Repeat([]byte("wasm"), 1000)
	z, err := wasmbin.Gzip(code)
	require.NoError(t, err)
	require.True(t, wasmbin.IsGzip(z))
	out, err := wasmbin.Gunzip(z, uint64(len(code)))
	require.NoError(t, err)
	require.Equal(t, code, out)

	_, err = wasmbin.Gunzip(z, uint64(len(code))-1)
	require.ErrorIs(t, err, types.ErrComponentTooLarge)
	_, err = wasmbin.Gunzip([]byte{0x1f, 0x8b, 0, 0}, 100)
	require.ErrorIs(t, err, types.ErrInvalidComponent)
}

// An upload is charged chunk by chunk as it inflates, so a charge that stops
// (a gas meter out of gas) stops the inflation within one chunk.
func TestGunzipUploadChargesAsItInflates(t *testing.T) {
	bomb, err := wasmbin.Gzip(make([]byte, 4<<20))
	require.NoError(t, err)
	require.Less(t, len(bomb), 8<<10, "4 MiB of zeros is a few KiB of gzip")

	stop := errors.New("out of gas")
	const budget = 256 << 10
	var charged uint64
	_, err = wasmbin.GunzipUpload(bomb, 16<<20, 0, func(n uint64) error {
		charged += n
		if charged > budget {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.LessOrEqual(t, charged, uint64(budget+64<<10), "stopped within one chunk of the budget, not after 4 MiB")

	// Uncharged, the same upload inflates whole, and every byte is charged once.
	charged = 0
	out, err := wasmbin.GunzipUpload(bomb, 16<<20, 0, func(n uint64) error { charged += n; return nil })
	require.NoError(t, err)
	require.Len(t, out, 4<<20)
	require.Equal(t, uint64(len(out)), charged)

	// The size limit holds before a chunk is charged.
	charged = 0
	_, err = wasmbin.GunzipUpload(bomb, 1<<20, 0, func(n uint64) error { charged += n; return nil })
	require.ErrorIs(t, err, types.ErrComponentTooLarge)
	require.LessOrEqual(t, charged, uint64(1<<20))
}

// TestM1GzipRatio: an upload inflates to at most maxRatio times its size,
// checked chunk by chunk before the chunk is charged.
func TestM1GzipRatio(t *testing.T) {
	bomb, err := wasmbin.Gzip(make([]byte, 4<<20))
	require.NoError(t, err)
	var charged uint64
	_, err = wasmbin.GunzipUpload(bomb, 16<<20, 100, func(n uint64) error { charged += n; return nil })
	require.ErrorIs(t, err, types.ErrGzipRatio)
	require.LessOrEqual(t, charged, uint64(100*len(bomb)), "nothing past the bound was charged")

	out, err := wasmbin.GunzipUpload(bomb, 16<<20, uint64((4<<20)/len(bomb)+1), nil)
	require.NoError(t, err, "a bound above the upload's ratio passes")
	require.Len(t, out, 4<<20)
}

// TestRepoComponentsUnderDefaultRatio measures the gzip ratio of the repo's
// own components (best and fastest compression) and checks that the default
// max_gzip_ratio accepts them with room to spare.
func TestRepoComponentsUnderDefaultRatio(t *testing.T) {
	files, err := filepath.Glob("../../../components/*/*.wasm")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		code, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, level := range []int{gzip.BestSpeed, gzip.BestCompression} {
			var b bytes.Buffer
			zw, err := gzip.NewWriterLevel(&b, level)
			require.NoError(t, err)
			_, err = zw.Write(code)
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			ratio := float64(len(code)) / float64(b.Len())
			t.Logf("%s (%d bytes), gzip level %d: ratio %.2f", filepath.Base(f), len(code), level, ratio)
			out, err := wasmbin.GunzipUpload(b.Bytes(), types.DefaultMaxComponentSize, uint64(types.DefaultMaxGzipRatio), nil)
			require.NoError(t, err)
			require.Equal(t, code, out)
		}
	}
}
