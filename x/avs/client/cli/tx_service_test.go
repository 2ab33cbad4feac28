package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, content, 0o600))
	return path
}

func TestReadComponent(t *testing.T) {
	module := avstest.Module(true, avstest.WASI)
	gzipped, err := wasmbin.Gzip(module)
	require.NoError(t, err)

	testCases := []struct {
		name    string
		file    string
		content []byte
		// errContains are all in the error; the error is an ErrInvalidComponent
		// when invalid is set.
		errContains []string
		invalid     bool
	}{
		{
			name:    "wasi command",
			file:    "square.wasm",
			content: module,
		},
		{
			name:    "gzip is left to the chain",
			file:    "square.wasm.gz",
			content: gzipped,
		},
		{
			name:        "not wasm",
			file:        "notwasm.txt",
			content:     []byte("#!/bin/sh\necho 16\n"),
			errContains: []string{"notwasm.txt is not a wasm module", "make components"},
		},
		{
			name:        "wasm that is no command",
			file:        "lib.wasm",
			content:     avstest.Module(false, avstest.WASI),
			errContains: []string{"lib.wasm: ", "no _start"},
			invalid:     true,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readComponent(writeFile(t, tc.file, tc.content), types.DefaultParams().MaxComponentSize)
			if tc.errContains != nil {
				require.Error(t, err)
				for _, s := range tc.errContains {
					require.Contains(t, err.Error(), s)
				}
				require.NotContains(t, err.Error(), ".go:", "the error text carries no source position")
				if tc.invalid {
					require.ErrorIs(t, err, types.ErrInvalidComponent)
				}
				return
			}
			require.NoError(t, err)
			require.True(t, wasmbin.IsGzip(got), "sent gzip-compressed")
			plain, err := wasmbin.Gunzip(got, uint64(len(module)))
			require.NoError(t, err)
			require.Equal(t, module, plain)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := readComponent(filepath.Join(t.TempDir(), "absent.wasm"), types.DefaultParams().MaxComponentSize)
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}

func TestReadManifest(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())

	t.Run("the help's example decodes", func(t *testing.T) {
		example := manifestHelp[strings.Index(manifestHelp, "{") : strings.LastIndex(manifestHelp, "}")+1]
		m, err := ReadManifest(cdc, writeFile(t, "manifest.json", []byte(example)))
		require.NoError(t, err)
		require.Equal(t, "square", m.Name)
		require.Len(t, m.Triggers, 3)
	})

	t.Run("an unknown field is refused and the help named", func(t *testing.T) {
		_, err := ReadManifest(cdc, writeFile(t, "manifest.json", []byte(`{"name": "square", "colour": "blue"}`)))
		require.Error(t, err)
		require.Contains(t, err.Error(), "manifest.json")
		require.Contains(t, err.Error(), `"colour"`)
		require.Contains(t, err.Error(), "avsd tx avs create-service --help")
	})
}
