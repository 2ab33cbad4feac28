package chain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
)

// TestRPCCallsCounted: every request sent to a node is counted by kind and
// method, each try on each endpoint (the load the sidecar puts on its nodes,
// avs_sidecar_rpc_calls_total), and the health check's /status of every
// endpoint too.
func TestRPCCallsCounted(t *testing.T) {
	node := newFakeNode(t, 42)
	rec := &recorder{}
	// The first RPC endpoint refuses connections: the call is tried there,
	// then on the node.
	c, err := chain.Dial("test", []string{"http://127.0.0.1:1", node.URL}, []string{serveGRPC(t, &params{maxVotes: 7})},
		chain.WithMetrics(rec))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx := context.Background()

	_, err = c.LatestHeight(ctx)
	require.NoError(t, err)
	_, err = c.BroadcastSync(ctx, []byte("tx"))
	require.NoError(t, err)
	_, err = c.Params(ctx)
	require.NoError(t, err)
	_, err = c.Params(ctx)
	require.NoError(t, err)
	c.CheckHealth(ctx)

	require.Equal(t, map[string]int{
		"rpc/status":                        2 + 2, // a try on each endpoint, then the health check of both
		"rpc/broadcast_tx_sync":             1,
		"grpc/avschain.avs.v1.Query/Params": 2,
	}, rec.callCounts())
	require.Equal(t, 1+1+1, node.hitCount("status")+node.hitCount("broadcast_tx_sync"), "the node saw the calls counted for it")
}
