package wasmbin_test

import (
	"bytes"
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
