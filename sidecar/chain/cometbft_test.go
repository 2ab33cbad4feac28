package chain_test

import (
	"context"
	"testing"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	rpctest "github.com/cometbft/cometbft/rpc/test"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
)

// TestL1RealCometBFTNode runs the client against a real CometBFT node (the
// kvstore app, in process): /status, and a websocket subscription that
// streams new blocks, ends with its context, and can be opened again.
func TestL1RealCometBFTNode(t *testing.T) {
	node := rpctest.StartTendermint(kvstore.NewInMemoryApplication(), rpctest.SuppressStdout, rpctest.RecreateConfig)
	t.Cleanup(func() { rpctest.StopTendermint(node) })
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
