package wasmbin_test

import (
	"bytes"
	"errors"
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
	_, err = wasmbin.GunzipUpload(bomb, 16<<20, func(n uint64) error {
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
	out, err := wasmbin.GunzipUpload(bomb, 16<<20, func(n uint64) error { charged += n; return nil })
	require.NoError(t, err)
	require.Len(t, out, 4<<20)
	require.Equal(t, uint64(len(out)), charged)

	// The size limit holds before a chunk is charged.
	charged = 0
	_, err = wasmbin.GunzipUpload(bomb, 1<<20, func(n uint64) error { charged += n; return nil })
	require.ErrorIs(t, err, types.ErrComponentTooLarge)
	require.LessOrEqual(t, charged, uint64(1<<20))
}
