package chain_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	nm "github.com/cometbft/cometbft/node"
	rpctest "github.com/cometbft/cometbft/rpc/test"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/testutil/localnet"
)

// TestL1RealCometBFTNode runs the client against a real CometBFT node (the
// kvstore app, in process): /status, and a websocket subscription that
// streams new blocks, ends with its context, and can be opened again.
func TestL1RealCometBFTNode(t *testing.T) {
	node := startCometBFT(t, localnet.FreePorts)
	rpc := node.Config().RPC.ListenAddress

	c, err := chain.Dial(node.GenesisDoc().ChainID, []string{rpc}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	st, err := c.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, node.GenesisDoc().ChainID, st.NodeInfo.Network)

	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := c.Subscribe(ctx)
		require.NoError(t, err)
		first := receive(t, ch)
		require.Positive(t, first.Height)
		require.Equal(t, first.Height+1, receive(t, ch).Height)
		cancel()
		requireEnds(t, ch, "cancelled subscription")
	}
	require.Equal(t, rpc, c.RPCURL())
}

// TestStartCometBFTRetriesATakenPort: a port taken between its choice and
// the node's bind fails the start; the node is started again on fresh ports,
// and what the failed start had bound (its RPC port) is released.
func TestStartCometBFTRetriesATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = taken.Close() })

	var calls, firstRPC int
	ports := func(tb testing.TB, n int) []int {
		calls++
		p := localnet.FreePorts(tb, n)
		if calls == 1 {
			// the RPC port is bound first, then the P2P port fails
			firstRPC, p[1] = p[0], taken.Addr().(*net.TCPAddr).Port
			return p
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", firstRPC))
		require.NoError(tb, err, "the failed start's RPC port is released")
		require.NoError(tb, l.Close())
		return p
	}
	node := startCometBFT(t, ports)
	require.Equal(t, 2, calls, "started on the second ports")
	require.True(t, node.IsRunning())
	require.NotEqual(t, fmt.Sprintf("tcp://127.0.0.1:%d", firstRPC), node.Config().RPC.ListenAddress)
}

// startAttempts bounds the starts of a test node whose ports were taken.
const startAttempts = 5

// startCometBFT starts a CometBFT node running the kvstore app in process,
// its RPC and P2P on 127.0.0.1 ports from ports (RPC first), its gRPC off,
// and stops it when the test ends. rpctest picks the ports itself and
// panics when one was taken between its choice and the bind (another
// process, an outgoing connection's ephemeral port): here such a start is
// undone and made again on fresh ports, up to startAttempts times.
func startCometBFT(t *testing.T, ports func(testing.TB, int) []int) *nm.Node {
	t.Helper()
	var err error
	for range startAttempts {
		p := ports(t, 2)
		cfg := rpctest.GetConfig(true) // a fresh root directory, used by NewTendermint
		cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", p[0])
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", p[1])
		cfg.RPC.GRPCListenAddress = ""
		var opts rpctest.Options
		rpctest.SuppressStdout(&opts)
		node := rpctest.NewTendermint(kvstore.NewInMemoryApplication(), &opts)
		if err = node.Start(); err == nil {
			t.Cleanup(func() { rpctest.StopTendermint(node) })
			return node
		}
		// Stop does nothing to a node that did not start: close what it
		// opened (the listeners bound before the failure, the stores).
		node.OnStop()
		require.NoError(t, os.RemoveAll(cfg.RootDir))
		if !strings.Contains(err.Error(), syscall.EADDRINUSE.Error()) {
			break
		}
	}
	require.NoError(t, err, "start the CometBFT node")
	return nil
}
