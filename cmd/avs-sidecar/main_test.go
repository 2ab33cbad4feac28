package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/testutil/avstest"
)

// run runs the avs-sidecar command line in-process.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(rootCmd(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// A runtime error is one "Error: ..." line that says what to do, with no
// usage text and no source path.
func TestRuntimeErrorIsOneLine(t *testing.T) {
	home := t.TempDir()
	unknown := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(unknown, "sidecar.toml"), []byte("chain_id = \"x\"\nkey_nmae = \"op\"\n"), 0o600))
	// A config whose keyring does not hold the key; the node is unreachable.
	noKey := t.TempDir()
	code, _, stderr := run(t, "init", "--home", noKey, "--rpc", "tcp://127.0.0.1:1", "--grpc", "127.0.0.1:1",
		"--keyring-dir", filepath.Join(noKey, "keyring"), "--metrics-addr", "")
	require.Zero(t, code, stderr)
	notWasm := filepath.Join(t.TempDir(), "component.txt")
	require.NoError(t, os.WriteFile(notWasm, []byte("not wasm"), 0o600))
	// what the chain refuses, exec refuses too (issue #15 item 11): a module
	// without _start used to run and exit 0 with empty output
	noStart := filepath.Join(t.TempDir(), "nostart.wasm")
	require.NoError(t, os.WriteFile(noStart, avstest.Module(false, avstest.WASI), 0o600))
	exits := filepath.Join(t.TempDir(), "exit3.wasm")
	require.NoError(t, os.WriteFile(exits, avstest.Exit(3), 0o600))

	for _, tc := range []struct {
		name string
		args []string
		want []string // in the one line
	}{
		{name: "no config file", args: []string{"start", "--home", home}, want: []string{"read config", "avs-sidecar init"}},
		{name: "unknown setting", args: []string{"start", "--home", unknown}, want: []string{"unknown setting key_nmae (line 2)", "remove it or fix its name"}},
		{name: "unusable settings", args: []string{"init", "--home", home, "--concurrency", "0", "--rpc", ""},
			want: []string{"rpc_endpoints is empty", "; concurrency must be at least 1"}},
		{name: "key not in the keyring", args: []string{"start", "--home", noKey, "--log-level", "error"},
			want: []string{`operator key "operator1" is not in the test keyring`, "avsd keys add operator1 --recover"}},
		{name: "not a wasm file", args: []string{"exec", "--wasm", notWasm}, want: []string{"store-component would refuse it", "not a wasm module"}},
		{name: "a module without _start", args: []string{"exec", "--wasm", noStart}, want: []string{"store-component would refuse it", "_start"}},
		{name: "a component that exits 3", args: []string{"exec", "--wasm", exits}, want: []string{"exit code 3", "an operator votes this failure: FAILURE_REASON_EXIT"}},
		{name: "missing component file", args: []string{"exec", "--wasm", filepath.Join(home, "none.wasm")}, want: []string{"read component"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			require.Equal(t, 1, code)
			require.True(t, strings.HasPrefix(stderr, "Error: "), stderr)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			for _, w := range tc.want {
				require.Contains(t, stderr, w)
			}
			require.NotContains(t, stderr, "Usage:")
			require.NotContains(t, stderr, ".go:", "no source path")
		})
	}
}

// A mistake in the command line itself prints the error, then the usage.
func TestUsageErrorPrintsUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown flag", args: []string{"start", "--nope"}, want: "unknown flag: --nope"},
		{name: "unknown command", args: []string{"strat"}, want: `unknown command "strat"`},
		{name: "extra argument", args: []string{"start", "now"}, want: `unknown command "now"`},
		{name: "missing --wasm", args: []string{"exec"}, want: "--wasm is required"},
		{name: "malformed --config", args: []string{"exec", "--wasm", "x.wasm", "--config", "novalue"}, want: "want KEY=VALUE"},
		{name: "bad flag value", args: []string{"init", "--home", t.TempDir(), "--concurrency", "many"}, want: "--concurrency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			require.Equal(t, 1, code)
			first, rest, _ := strings.Cut(stderr, "\n")
			require.True(t, strings.HasPrefix(first, "Error: "), stderr)
			require.Contains(t, first, tc.want)
			require.Contains(t, rest, "Usage:")
		})
	}
}

func TestSuccessPrintsNoError(t *testing.T) {
	code, stdout, stderr := run(t, "version")
	require.Zero(t, code)
	require.Equal(t, version+"\n", stdout)
	require.Empty(t, stderr)

	home := t.TempDir()
	code, stdout, stderr = run(t, "init", "--home", home)
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "wrote "+filepath.Join(home, "sidecar.toml"))
	require.FileExists(t, filepath.Join(home, "sidecar.toml"))
}

func TestOneLineDropsSourcePaths(t *testing.T) {
	err := errors.New("operator1.info: key not found [cosmos/cosmos-sdk@v0.50.15/crypto/keyring/keyring.go:521] (import it)\nsecond")
	require.Equal(t, "operator1.info: key not found (import it); second", oneLine(err))
}

// TestItem12Doctor: doctor prints one line per problem and exits 1 only
// on a fatal one (here: the operator key is missing).
func TestItem12Doctor(t *testing.T) {
	home := t.TempDir()
	code, _, stderr := run(t, "init", "--home", home, "--rpc", "tcp://127.0.0.1:1", "--grpc", "127.0.0.1:1",
		"--keyring-dir", filepath.Join(home, "keyring"), "--metrics-addr", "")
	require.Zero(t, code, stderr)

	code, stdout, stderr := run(t, "doctor", "--home", home)
	require.Equal(t, 1, code)
	require.Contains(t, stdout, `fatal: operator key "operator1" is not in the test keyring`)
	require.NotContains(t, stdout, ".go:", "no source path")
	require.Contains(t, stderr, "Error: fatal problems found")

	// With the key, an unreachable node is a warning per fact unread.
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	kr, err := keyring.New("avschain", "test", filepath.Join(home, "keyring"), nil, enc.Codec)
	require.NoError(t, err)
	_, _, err = kr.NewMnemonic("operator1", keyring.English, "", "", hd.Secp256k1)
	require.NoError(t, err)
	code, stdout, stderr = run(t, "doctor", "--home", home, "--gas-prices", "0.01uavs")
	require.Zero(t, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		require.True(t, strings.HasPrefix(l, "warn: "), l)
	}
	require.Contains(t, stdout, "answers /status")
}

func TestLogFormat(t *testing.T) {
	var buf bytes.Buffer
	cmd := rootCmd()
	cmd.SetErr(&buf)
	loggerAs(cmd, "json").Info("hello", "k", 1)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, "hello", line["msg"])

	home := t.TempDir()
	code, _, stderr := run(t, "init", "--home", home, "--log-format", "xml")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `log_format must be "text" or "json"`)
}

// --cpu-profile writes a pprof profile (gzip-compressed protobuf) when the
// run stops, and a path it cannot create is an error before the run.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sidecar.prof")
	stop, err := startCPUProfile(path)
	require.NoError(t, err)
	stop()
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(bz), 2)
	require.Equal(t, []byte{0x1f, 0x8b}, bz[:2], "a gzip stream, as pprof writes")

	_, err = startCPUProfile(filepath.Join(t.TempDir(), "missing", "dir", "x.prof"))
	require.ErrorContains(t, err, "--cpu-profile")
}
