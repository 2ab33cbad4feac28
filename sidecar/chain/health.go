package chain

import (
	"context"
	"sync"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
)

// Status returns the /status of the RPC endpoint in use: its node id,
// network (the chain id), earliest and latest blocks, whether it is catching
// up, and whether it indexes transactions (NodeInfo.Other.TxIndex, or
// TxIndexEnabled).
func (c *Client) Status(ctx context.Context) (*coretypes.ResultStatus, error) {
	var st *coretypes.ResultStatus
	err := c.withRPC(ctx, "status", func(r *rpchttp.HTTP) (err error) {
		st, err = r.Status(ctx)
		return err
	})
	return st, err
}

// Watch runs CheckHealth every health interval (WithHealthInterval) until
// ctx ends, then returns nil.
func (c *Client) Watch(ctx context.Context) error {
	t := time.NewTicker(c.healthEvery)
	defer t.Stop()
	for {
		c.CheckHealth(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// CheckHealth asks every RPC endpoint for its /status (each bounded by the
// call timeout) and leaves the endpoint in use, for the next healthy one,
// when it is unreachable, catching up, stale (its latest block older than
// WithStaleAfter) or lagging (more than WithMaxLag blocks behind the best
// endpoint). With nothing healthier to go to it stays, and says so. It
// reports the chain head of the endpoint in use.
func (c *Client) CheckHealth(ctx context.Context) {
	n := len(c.rpcs)
	sts, errs := make([]*coretypes.ResultStatus, n), make([]error, n)
	var wg sync.WaitGroup
	for i, r := range c.rpcs {
		wg.Add(1)
		c.metrics.RPCCall(kindRPC, "status")
		go func() {
			defer wg.Done()
			sts[i], errs[i] = r.Status(ctx)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	var best int64
	for i, st := range sts {
		if errs[i] == nil && !st.SyncInfo.CatchingUp {
			best = max(best, st.SyncInfo.LatestBlockHeight)
		}
	}
	now := time.Now()
	cur, _ := c.currentRPC()
	if errs[cur] == nil {
		c.metrics.ChainHead(sts[cur].SyncInfo.LatestBlockHeight)
	}
	reason := c.unhealthy(sts[cur], errs[cur], best, now)
	if reason == "" {
		return
	}
	for k := 1; k < n; k++ {
		j := (cur + k) % n
		if c.unhealthy(sts[j], errs[j], best, now) == "" {
			if c.move(kindRPC, cur, j, reason) {
				c.metrics.ChainHead(sts[j].SyncInfo.LatestBlockHeight)
			}
			return
		}
	}
	args := []any{"rpc", c.rpcURLs[cur], "reason", reason}
	if errs[cur] != nil {
		args = append(args, "err", errs[cur])
	} else {
		args = append(args, "height", sts[cur].SyncInfo.LatestBlockHeight, "block_time", sts[cur].SyncInfo.LatestBlockTime)
	}
	c.warn("unhealthy", "the RPC endpoint in use is unhealthy and no other endpoint is better; staying on it (check the nodes)", args...)
}

// unhealthy names what is wrong with an endpoint's status, "" for nothing.
func (c *Client) unhealthy(st *coretypes.ResultStatus, err error, best int64, now time.Time) string {
	switch {
	case err != nil:
		return failReason(err)
	case st.SyncInfo.CatchingUp:
		return "catching_up"
	case now.Sub(st.SyncInfo.LatestBlockTime) > c.staleAfter:
		return "stale"
	case best-st.SyncInfo.LatestBlockHeight > c.maxLag:
		return "lagging"
	}
	return ""
}
