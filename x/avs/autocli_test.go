package avs_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/client/v2/autocli/flag"
	"cosmossdk.io/x/tx/signing"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/client/cli"
	"github.com/avschain/avschain/x/avs/types"
)

// recordingConn is a gRPC connection that records the last request.
type recordingConn struct {
	method  string
	request string
}

func (c *recordingConn) Invoke(_ context.Context, method string, args, _ any, _ ...grpc.CallOption) error {
	c.method = method
	bz, err := protojson.Marshal(args.(protov2.Message))
	c.request = string(bz)
	return err
}

func (*recordingConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	panic("no streams")
}

// queryCmd builds `avsd query avs` as the app does: the hand-written
// commands, then autocli's from AutoCLIOptions, over conn.
func queryCmd(t *testing.T, conn *recordingConn) *cobra.Command {
	t.Helper()
	reg, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.NewBech32Codec("avs"),
			ValidatorAddressCodec: address.NewBech32Codec("avsvaloper"),
		},
	})
	require.NoError(t, err)
	types.RegisterInterfaces(reg)
	b := &autocli.Builder{
		Builder: flag.Builder{
			TypeResolver:          protoregistry.GlobalTypes,
			FileResolver:          reg,
			AddressCodec:          address.NewBech32Codec("avs"),
			ValidatorAddressCodec: address.NewBech32Codec("avsvaloper"),
			ConsensusAddressCodec: address.NewBech32Codec("avsvalcons"),
		},
		GetClientConn:     func(*cobra.Command) (grpc.ClientConnInterface, error) { return conn, nil },
		AddQueryConnFlags: flags.AddQueryFlagsToCmd,
	}
	require.NoError(t, b.ValidateAndComplete())
	cmd := cli.GetQueryCmd()
	require.NoError(t, b.AddQueryServiceCommands(cmd, avs.AppModule{}.AutoCLIOptions().Query))
	return cmd
}

// TestL10QueryCommandsPage: every list query's command has the --page-*
// flags, and they reach the request.
func TestL10QueryCommandsPage(t *testing.T) {
	conn := &recordingConn{}
	root := queryCmd(t, conn)
	op := "avs1qyqszqgpqyqszqgpqyqszqgpqyqszqgp3ws3a3"
	for _, tc := range []struct {
		args   []string
		method string
	}{
		{[]string{"components"}, "Components"},
		{[]string{"services"}, "Services"},
		{[]string{"service-operators", "1"}, "ServiceOperators"},
		{[]string{"operator", op}, "Operator"},
		{[]string{"operators"}, "Operators"},
		{[]string{"tasks", "1"}, "Tasks"},
		{[]string{"task-votes", "1"}, "TaskVotes"},
		{[]string{"unbonding", op}, "Unbonding"},
		{[]string{"operator-commitments", op}, "OperatorCommitments"},
		{[]string{"service-commitments", "1"}, "ServiceCommitments"},
		{[]string{"power", "1"}, "ServicePower"},
		{[]string{"rewards", op}, "Rewards"},
		{[]string{"remote-results"}, "RemoteResults"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			cmd, _, err := root.Find(tc.args[:1])
			require.NoError(t, err)
			for _, f := range []string{"page-key", "page-limit", "page-offset", "page-count-total", "page-reverse"} {
				require.NotNil(t, cmd.Flags().Lookup(f), "%s has no --%s", tc.args[0], f)
			}
			root.SetArgs(append(tc.args, "--page-limit", "7", "--page-key", hex.EncodeToString([]byte("next"))))
			require.NoError(t, root.Execute())
			require.Equal(t, "/avschain.avs.v1.Query/"+tc.method, conn.method)
			var req struct {
				Pagination map[string]any `json:"pagination"`
			}
			require.NoError(t, json.Unmarshal([]byte(conn.request), &req))
			require.Equal(t, map[string]any{"key": "bmV4dA==", "limit": "7"}, req.Pagination)
		})
	}
}

// TestH3ServiceRevisionCommand: `avsd query avs service-revision 3 2` asks
// Query/ServiceRevision for revision 2 of service 3.
func TestH3ServiceRevisionCommand(t *testing.T) {
	conn := &recordingConn{}
	root := queryCmd(t, conn)
	root.SetArgs([]string{"service-revision", "3", "2"})
	require.NoError(t, root.Execute())
	require.Equal(t, "/avschain.avs.v1.Query/ServiceRevision", conn.method)
	require.JSONEq(t, `{"serviceId":"3","revision":"2"}`, conn.request)
}
