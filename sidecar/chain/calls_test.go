package chain_test

import (
	"context"
	"sync"
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

// TestBlockCacheAsksOncePerHeight: the watcher, the submitter and the
// trigger matcher read the same recent blocks; the client asks the node
// once per height for each of block and block_results, also when they ask
// at once. A height the node cannot serve yet is asked again, and heights
// above a latest height the node reports (a chain reset) are forgotten.
func TestBlockCacheAsksOncePerHeight(t *testing.T) {
	node := newFakeNode(t, 10)
	c, err := chain.Dial("test", []string{node.URL}, []string{"127.0.0.1:1"}, chain.WithBlockCache(4))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx := context.Background()

	var wg sync.WaitGroup
	heights := make([][2]int64, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			res, err := c.BlockResults(ctx, 9)
			if err != nil {
				errs[i] = err
				return
			}
			block, err := c.Block(ctx, 9)
			if err != nil {
				errs[i] = err
				return
			}
			heights[i] = [2]int64{res.Height, block.Block.Height}
		})
	}
	wg.Wait()
	for i := range 8 {
		require.NoError(t, errs[i])
		require.Equal(t, [2]int64{9, 9}, heights[i])
	}
	require.Equal(t, 1, node.hitCount("block_results"), "one request for eight callers")
	require.Equal(t, 1, node.hitCount("block"))

	_, err = c.BlockResults(ctx, 11)
	require.Error(t, err, "not committed yet")
	node.set(func(f *fakeNode) { f.height = 11 })
	res, err := c.BlockResults(ctx, 11)
	require.NoError(t, err, "a failed request is not kept")
	require.Equal(t, int64(11), res.Height)
	require.Equal(t, 3, node.hitCount("block_results"))

	// The chain was reset: height 11 is asked again once the node says it
	// is below it.
	node.set(func(f *fakeNode) { f.height = 10 })
	_, err = c.LatestHeight(ctx)
	require.NoError(t, err)
	node.set(func(f *fakeNode) { f.height = 11 })
	_, err = c.BlockResults(ctx, 11)
	require.NoError(t, err)
	require.Equal(t, 4, node.hitCount("block_results"))
	_, err = c.BlockResults(ctx, 9)
	require.NoError(t, err)
	require.Equal(t, 4, node.hitCount("block_results"), "height 9 is still kept")

	// Only the latest heights are kept.
	for h := int64(1); h <= 4; h++ {
		_, err = c.BlockResults(ctx, h)
		require.NoError(t, err)
	}
	_, err = c.BlockResults(ctx, 11)
	require.NoError(t, err)
	require.Equal(t, 4+4, node.hitCount("block_results"), "11 was kept (above the lower heights)")
	_, err = c.BlockResults(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, 4+4+1, node.hitCount("block_results"), "1 was dropped for the higher ones")
}
