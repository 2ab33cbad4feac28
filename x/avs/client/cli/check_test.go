package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/client/cli"
	"github.com/avschain/avschain/x/avs/types"
)

// offlineCtx is a client context for commands run with --generate-only
// --offline: the codec and tx config of x/avs, and a keyring holding alice.
func offlineCtx(t *testing.T) (client.Context, string) {
	t.Helper()
	enc := moduletestutil.MakeTestEncodingConfig(avs.AppModuleBasic{})
	kr := keyring.NewInMemory(enc.Codec)
	rec, _, err := kr.NewMnemonic("alice", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	addr, err := rec.GetAddress()
	require.NoError(t, err)
	return client.Context{}.
		WithCodec(enc.Codec).
		WithInterfaceRegistry(enc.InterfaceRegistry).
		WithTxConfig(enc.TxConfig).
		WithLegacyAmino(enc.Amino).
		WithKeyring(kr).
		WithAccountRetriever(client.MockAccountRetriever{}), addr.String()
}

// runOffline runs cmd with args and --generate-only --offline, returning its
// output (the unsigned tx) and error.
func runOffline(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	clientCtx, _ := offlineCtx(t)
	return runWith(clientCtx, cmd, args...)
}

func runWith(clientCtx client.Context, cmd *cobra.Command, args ...string) (string, error) {
	var out bytes.Buffer
	clientCtx = clientCtx.WithOutput(&out)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, "--from", "alice", "--generate-only", "--offline",
		"--account-number", "1", "--sequence", "1"))
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	ctx := context.WithValue(context.Background(), client.ClientContextKey, &clientCtx)
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// Each hand-written tx command refuses what the chain would refuse, before
// anything is signed, naming the argument and the accepted form (issue #19).
func TestTxCommandsRefuseBadInputLocally(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	manifest := func(threshold string) string {
		return `{"name":"sq","component_digest":"` + digest + `",
		  "limits":{"time_ms":"2000","memory_pages":64,"output_bytes":"1024"},
		  "quorum":{"threshold":"` + threshold + `","weighting":"WEIGHTING_STAKE","min_operators":1},
		  "aggregation":{"mode":"AGGREGATION_MODE_EXACT"},
		  "fee_per_task":{"denom":"uavs","amount":"1000"}}`
	}
	bigInput := strings.Repeat("x", int(types.DefaultParams().MaxInputSize)+1)
	tests := []struct {
		name string
		cmd  func() *cobra.Command
		args []string
		want string
	}{
		{"store-component: not wasm", cli.StoreComponentCmd, []string{writeTemp(t, "x.wasm", "hello")}, "is not a wasm module"},
		{"create-service: threshold", cli.CreateServiceCmd, []string{writeTemp(t, "m.json", manifest("0.4"))}, "m.json: quorum.threshold is 0.400000000000000000: set it above 0.5"},
		{"update-service: id", cli.UpdateServiceCmd, []string{"one", writeTemp(t, "m.json", manifest("0.67"))}, `service id "one": want a whole number`},
		{"create-task: fee denom", cli.CreateTaskCmd, []string{"1", "4", "--fee", "300stake"}, "--fee 300stake: x/avs takes only uavs"},
		{"create-task: fee without denom", cli.CreateTaskCmd, []string{"1", "4", "--fee", "300"}, `--fee "300" is not an amount: give a whole number with its denom, e.g. 1000000uavs`},
		{"create-task: input size", cli.CreateTaskCmd, []string{"1", "--input-file", writeTemp(t, "in", bigInput)}, "max_input_size"},
		{"create-tasks: input size", cli.CreateTasksCmd, []string{"1", "4", bigInput}, "input 2 is"},
		{"commit: operator", cli.CommitCmd, []string{"bob", "1", "1000uavs"}, `operator "bob" is neither an address`},
		{"commit: amount", cli.CommitCmd, []string{"alice", "1", "1000000"}, `amount "1000000" is not an amount`},
		{"uncommit: denom", cli.UncommitCmd, []string{"alice", "1", "1000stake"}, "x/avs takes only uavs"},
		{"fund-service: zero", cli.FundServiceCmd, []string{"1", "0uavs"}, "must be more than zero"},
		{"register-operator: percent", cli.RegisterOperatorCmd, []string{"op", "--commission", "10%"}, "--commission 0.1 for 10%"},
		{"update-operator: over one", cli.UpdateOperatorCmd, []string{"op", "--commission", "1.5"}, "a share in [0, 1]"},
		{"request-remote-task: channel", cli.RequestRemoteTaskCmd, []string{"chan0", "1", "7"}, `channel "chan0": want a channel id such as channel-0`},
		{"request-remote-task: timeout", cli.RequestRemoteTaskCmd, []string{"channel-0", "1", "7", "--timeout", "0s"}, "give at least 1s"},
		{"set-service-status: status", cli.SetServiceStatusCmd, []string{"1", "stopped"}, `status "stopped": use active or paused`},
		{"transfer-service: new owner", cli.TransferServiceCmd, []string{"1", "bob"}, `new owner "bob" is neither an address`},
		{"update-allowlist: nothing", cli.UpdateAllowlistCmd, []string{"1"}, "nothing to change: name operators with --add or --remove"},
		{"update-allowlist: unknown key", cli.UpdateAllowlistCmd, []string{"1", "--remove", "bob"}, `--remove: operator "bob" is neither an address`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runOffline(t, tc.cmd(), tc.args...)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), ".go:", "no source line in a user's error")
			require.NotContains(t, out, `"body"`, "nothing is generated")
		})
	}
}

// A key name is resolved to its address where an operator is expected, and
// a manifest the chain accepts passes the local check.
func TestTxCommandsAcceptGoodInput(t *testing.T) {
	clientCtx, alice := offlineCtx(t)
	out, err := runWith(clientCtx, cli.CommitCmd(), "alice", "1", "1000uavs")
	require.NoError(t, err)
	require.Contains(t, out, `"operator":"`+alice+`"`, "the key name becomes alice's address")

	out, err = runWith(clientCtx, cli.UpdateAllowlistCmd(), "3", "--add", "alice,"+alice, "--remove", alice)
	require.NoError(t, err)
	require.Contains(t, out, `"add":["`+alice+`","`+alice+`"],"remove":["`+alice+`"]`)

	out, err = runOffline(t, cli.SetServiceStatusCmd(), "2", "SERVICE_STATUS_PAUSED")
	require.NoError(t, err)
	require.Contains(t, out, `"status":"SERVICE_STATUS_PAUSED"`)

	out, err = runOffline(t, cli.RegisterOperatorCmd(), "op", "--commission", "0.1")
	require.NoError(t, err)
	require.Contains(t, out, `"commission":"0.100000000000000000"`)

	m := writeTemp(t, "m.json", `{"name":"sq","component_digest":"`+strings.Repeat("ab", 32)+`",
	  "limits":{"time_ms":"2000","memory_pages":64,"output_bytes":"1024"},
	  "quorum":{"threshold":"0.67","weighting":"WEIGHTING_STAKE","min_operators":1},
	  "aggregation":{"mode":"AGGREGATION_MODE_EXACT"},
	  "fee_per_task":{"denom":"uavs","amount":"1000"}}`)
	out, err = runOffline(t, cli.CreateServiceCmd(), m)
	require.NoError(t, err)
	require.Contains(t, out, `"@type":"/avschain.avs.v1.MsgCreateService"`)
}
