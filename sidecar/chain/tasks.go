package chain

import (
	"bytes"
	"context"
	"fmt"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"google.golang.org/grpc"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// tasksPage is the page size TasksCreatedSince asks for: most walks stop in
// the first page.
const tasksPage = 100

// EarliestHeight returns the earliest block the node still holds (its
// earliest_block_height): blocks below it were pruned or skipped by state
// sync, and their results can no longer be read.
func (c *Client) EarliestHeight(ctx context.Context) (int64, error) {
	var h int64
	err := c.withRPC(ctx, "status", func(r *rpchttp.HTTP) error {
		st, err := r.Status(ctx)
		if err != nil {
			return err
		}
		h = st.SyncInfo.EarliestBlockHeight
		return nil
	})
	return h, err
}

// TasksCreatedSince returns a service's tasks created at fromHeight or later,
// of every status, newest first. It walks Query/Tasks pages in reverse (task
// ids grow with the height they are created at) and stops at the first task
// created before fromHeight, so it reads only the recent tasks. The watcher
// uses it to find the tasks of blocks it could not read.
func (c *Client) TasksCreatedSince(ctx context.Context, serviceID uint64, fromHeight int64) ([]types.Task, error) {
	var (
		out []types.Task
		key []byte
	)
	for {
		var res *types.QueryTasksResponse
		err := c.withGRPC(ctx, func(conn *grpc.ClientConn) (err error) {
			res, err = types.NewQueryClient(conn).Tasks(ctx, &types.QueryTasksRequest{
				ServiceId: serviceID, Pagination: &query.PageRequest{Key: key, Limit: tasksPage, Reverse: true},
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("tasks of service %d: %w", serviceID, err)
		}
		for _, t := range res.Tasks {
			if t.CreatedHeight < fromHeight {
				return out, nil
			}
			out = append(out, t)
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		if bytes.Equal(res.Pagination.NextKey, key) {
			return nil, fmt.Errorf("tasks of service %d: pagination next_key %x repeats", serviceID, key)
		}
		key = res.Pagination.NextKey
	}
}
