package runner_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"

	"github.com/avschain/avschain/cmd/avsd/internal/runner"
	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/client/cli"
	"github.com/avschain/avschain/x/avs/types"
)

// refusedTxErr is what the CLI gets back when the node refuses a transaction's
// simulation (--gas auto): x/auth/tx's Simulate formats the keeper's error
// with %v (source position included) into a gRPC status, baseapp wraps that
// as ErrUnknownRequest, and the client turns the ABCI log into a status again.
func refusedTxErr(msgIndex int) error {
	keeperErr := errorsmod.Wrapf(types.ErrServiceNotFound, "service %d", 7)
	runTxErr := errorsmod.Wrapf(keeperErr, "failed to execute message; message index: %d", msgIndex)
	simulate := status.Errorf(codes.Unknown, "%v with gas used: '%d'", runTxErr, 52345)
	abciLog := errorsmod.Wrap(sdkerrors.ErrUnknownRequest, simulate.Error()).Error()
	return status.Error(codes.Unknown, abciLog)
}

// newRootCmd is avsd's root command reduced to what these tests need: the
// client context set in the persistent pre-run, x/avs's tx commands, and a
// command that fails the way a refused transaction does. (The real root links
// the whole app.)
func newRootCmd(t *testing.T) *cobra.Command {
	reg := codectypes.NewInterfaceRegistry()
	types.RegisterInterfaces(reg)
	cdc := codec.NewProtoCodec(reg)
	clientCtx := client.Context{}.
		WithCodec(cdc).
		WithInterfaceRegistry(reg).
		WithTxConfig(authtx.NewTxConfig(cdc, authtx.DefaultSignModes)).
		WithKeyring(keyring.NewInMemory(cdc)).
		WithHomeDir(t.TempDir())

	root := &cobra.Command{
		Use:           "avsd",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return client.SetCmdClientContextHandler(clientCtx, cmd)
		},
	}
	txCmd := &cobra.Command{Use: "tx", RunE: client.ValidateCmd}
	txCmd.AddCommand(cli.GetTxCmd())
	// A group with its own persistent pre-run, which hides the root's.
	ownPreRun := &cobra.Command{
		Use:               "own",
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
	}
	ownPreRun.AddCommand(&cobra.Command{
		Use:  "fails",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return errors.New("it failed") },
	})
	root.AddCommand(txCmd, ownPreRun, &cobra.Command{
		Use:  "refused",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return refusedTxErr(0) },
	})
	return root
}

// execute runs avsd's root with args through runner.Execute and returns what
// it wrote to stdout and stderr together.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd(t)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := runner.Execute(root, "", t.TempDir())
	return out.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestExecuteRuntimeErrorIsOneLine(t *testing.T) {
	const from = "--from=cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a" // any address: nothing is signed
	testCases := []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{
			name: "a file that is not wasm",
			args: func(t *testing.T) []string {
				return []string{"tx", "avs", "store-component", writeFile(t, "notwasm.txt", "#!/bin/sh\n"), from, "--generate-only"}
			},
			want: "notwasm.txt is not a wasm module: give the .wasm file a component builds to " +
				"(`make components` builds the examples into components/<name>/<name>.wasm)",
		},
		{
			name: "a wasm module the chain would refuse",
			args: func(t *testing.T) []string {
				lib := writeFile(t, "lib.wasm", string(avstest.Module(false)))
				return []string{"tx", "avs", "store-component", lib, from, "--generate-only"}
			},
			want: "lib.wasm: module exports no _start function: a component is a WASI command (package main): " +
				types.ErrInvalidComponent.Error(),
		},
		{
			name: "a manifest with an unknown field",
			args: func(t *testing.T) []string {
				manifest := writeFile(t, "manifest.json", `{"colour": "blue"}`)
				return []string{"tx", "avs", "create-service", manifest, from, "--generate-only"}
			},
			want: `manifest.json: colour: unknown field "colour" (a manifest has name, component_digest, config, limits, quorum, ` +
				"aggregation, task_timeout, fee_per_task, admission, handler_contract, slash_fraction, ibc_request_channels, " +
				"ibc_result_channels, triggers, min_self_stake, vote_mode, commit_blocks): " + types.ErrInvalidManifest.Error() +
				" (examples/manifests/ has a complete manifest of each kind, examples/manifest.schema.json every field; " +
				"`avsd tx avs create-service --help`)",
		},
		{
			name: "a refused transaction",
			args: func(*testing.T) []string { return []string{"refused"} },
			want: "transaction refused: service 7: service not found",
		},
		{
			name: "under a command with its own persistent pre-run",
			args: func(*testing.T) []string { return []string{"own", "fails"} },
			want: "it failed",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := execute(t, tc.args(t)...)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(out, "Error: "), "output: %q", out)
			require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
			require.True(t, strings.HasSuffix(out, tc.want+"\n"), "output: %q\nwant suffix: %q", out, tc.want)
			require.NotContains(t, out, "Usage:")
			require.NotContains(t, out, ".go:")
			require.NotContains(t, out, "rpc error")
		})
	}
}

func TestExecuteWrongArgumentsPrintUsage(t *testing.T) {
	testCases := []struct {
		name      string
		args      []string
		wantError string
		wantUsage string
	}{
		{
			name:      "missing argument",
			args:      []string{"tx", "avs", "store-component"},
			wantError: "Error: accepts 1 arg(s), received 0\n",
			wantUsage: "avsd tx avs store-component [file.wasm] [flags]",
		},
		{
			name:      "unknown flag",
			args:      []string{"tx", "avs", "store-component", "x.wasm", "--colour=blue"},
			wantError: "Error: unknown flag: --colour\n",
			wantUsage: "avsd tx avs store-component [file.wasm] [flags]",
		},
		{
			name:      "unknown subcommand",
			args:      []string{"tx", "avs", "store-componnet"},
			wantError: "Error: unknown command \"store-componnet\" for \"avs\"\n",
			wantUsage: "Available Commands:",
		},
		{
			name:      "wrong arguments under a command with its own persistent pre-run",
			args:      []string{"own", "fails", "now"},
			wantError: "Error: unknown command \"now\" for \"avsd own fails\"\n",
			wantUsage: "avsd own fails [flags]",
		},
		{
			name:      "unknown command",
			args:      []string{"colour"},
			wantError: "Error: unknown command \"colour\" for \"avsd\"\n",
			wantUsage: "Available Commands:",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := execute(t, tc.args...)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(out, tc.wantError), "output: %q", out)
			require.Contains(t, out, "Usage:")
			require.Contains(t, out, tc.wantUsage)
			require.Equal(t, 1, strings.Count(out, "Error:"), "the error once: %q", out)
		})
	}
}

func TestExecuteTraceShowsTheSource(t *testing.T) {
	out, err := execute(t, "refused", "--trace")
	require.Error(t, err)
	lines := strings.SplitN(out, "\n", 2)
	require.NotContains(t, lines[0], ".go:", "the error line stays clean")
	require.Contains(t, lines[1], ".go:", "--trace adds where the error came from")
}

func TestMessage(t *testing.T) {
	raw := refusedTxErr(0).Error()
	require.Contains(t, raw, ".go:", "the node's text carries a source position")
	require.Equal(t, 2, strings.Count(raw, "rpc error: code = Unknown desc = "), "and two gRPC envelopes")

	testCases := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "plain",
			err:  fmt.Errorf("read manifest: %w", os.ErrNotExist),
			want: "read manifest: file does not exist",
		},
		{
			name: "a source position baked in by %w",
			err:  fmt.Errorf("lib.wasm: %w", errorsmod.Wrap(types.ErrInvalidComponent, "no _start")),
			want: "lib.wasm: no _start: " + types.ErrInvalidComponent.Error(),
		},
		{
			name: "a refused transaction",
			err:  refusedTxErr(0),
			want: "transaction refused: service 7: service not found",
		},
		{
			name: "a refused second message",
			err:  refusedTxErr(1),
			want: "transaction refused (message 1): service 7: service not found",
		},
		{
			name: "a failed query",
			err: status.Error(codes.NotFound,
				status.Error(codes.NotFound, "service 7: service not found: key not found").Error()),
			want: "service 7: service not found: key not found",
		},
		{
			name: "lines joined",
			err:  fmt.Errorf("first\n\tsecond\n"),
			want: "first second",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, runner.Message(tc.err))
		})
	}
}
