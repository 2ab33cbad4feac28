package chain

import (
	"context"

	"google.golang.org/grpc"

	"github.com/avschain/avschain/x/avs/types"
)

// TaskFor returns a task with the operator's part in it: whether it is in
// the task's power snapshot (so that its vote counts), with what power, and
// whether it has voted. Eligibility follows the snapshot, not the operator's
// current opt-ins (reliability review H1).
func (c *Client) TaskFor(ctx context.Context, id uint64, operator string) (types.QueryTaskResponse, error) {
	var out types.QueryTaskResponse
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).Task(ctx, &types.QueryTaskRequest{TaskId: id, Operator: operator})
		if err == nil {
			out = *res
		}
		return err
	})
	return out, err
}
