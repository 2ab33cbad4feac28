package chain

import (
	"context"

	"google.golang.org/grpc"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// CurrentSnapshot returns the power snapshot of a service's current epoch
// (Query/ServicePower): the operators whose votes count on the epoch's
// tasks. It is the zero snapshot (Total 0) until the epoch's first task takes
// it. The pipeline asks it once per (service, epoch) instead of asking each
// task whether the operator is in its snapshot.
func (c *Client) CurrentSnapshot(ctx context.Context, serviceID uint64) (types.PowerSnapshot, error) {
	var snap types.PowerSnapshot
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		// One row of the paged current powers: only the snapshot is used.
		res, err := types.NewQueryClient(conn).ServicePower(ctx, &types.QueryServicePowerRequest{
			ServiceId: serviceID, Pagination: &query.PageRequest{Limit: 1},
		})
		if err == nil {
			snap = res.Snapshot
		}
		return err
	})
	return snap, err
}
