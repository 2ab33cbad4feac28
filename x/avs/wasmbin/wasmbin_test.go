package wasmbin_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

func TestValidate(t *testing.T) {
	testCases := []struct {
		name    string
		code    []byte
		errText string
	}{
		{"wasi command", avstest.Module(true, avstest.WASI), ""},
		{"wasi and avs host imports", avstest.Module(true, avstest.WASI, avstest.Import{Module: "avs", Name: "log"}), ""},
		{"no imports", avstest.Module(true), ""},
		{"empty", nil, "bad magic"},
		{"not wasm", []byte("#!/bin/sh\necho 16\n"), "bad magic"},
		{"component-model binary", []byte("\x00asm\x0d\x00\x01\x00"), "not a core module"},
		{"import from env", avstest.Module(true, avstest.Import{Module: "env", Name: "abort"}), `"env"."abort"`},
		{"no _start", avstest.Module(false, avstest.WASI), "no _start"},
		{"truncated", avstest.Module(true, avstest.WASI)[:20], ""},
		{"section runs past the end", append([]byte("\x00asm\x01\x00\x00\x00"), 0x01, 0x7f), "runs past the end"},
		{"unknown section", append([]byte("\x00asm\x01\x00\x00\x00"), 0x20, 0x00), "unknown section"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			imports, err := wasmbin.Validate(tc.code)
			if tc.name == "truncated" {
				require.ErrorIs(t, err, types.ErrInvalidComponent)
				return
			}
			if tc.errText == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidComponent)
			require.Contains(t, err.Error(), tc.errText)
			require.Nil(t, imports)
		})
	}
	imports, err := wasmbin.Validate(avstest.Module(true, avstest.WASI, avstest.Import{Module: "avs", Name: "http_fetch"}))
	require.NoError(t, err)
	require.Equal(t, []string{"wasi_snapshot_preview1.proc_exit", "avs.http_fetch"}, imports)
}

// FuzzValidate feeds arbitrary bytes to the wasm parser: it must
// never panic, and every refusal must carry ErrInvalidComponent.
func FuzzValidate(f *testing.F) {
	f.Add(avstest.Module(true, avstest.WASI))
	f.Add(avstest.Module(true, avstest.WASI, avstest.Import{Module: "avs", Name: "http_fetch"}))
	f.Add(avstest.Module(false))
	f.Add(avstest.Module(true, avstest.Import{Module: "env", Name: "abort"}))
	f.Add([]byte("\x00asm\x0d\x00\x01\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, code []byte) {
		imports, err := wasmbin.Validate(code)
		if err != nil {
			require.ErrorIs(t, err, types.ErrInvalidComponent)
			return
		}
		for _, im := range imports {
			require.Regexp(t, `^(wasi_snapshot_preview1|avs)\.`, im)
		}
	})
}
