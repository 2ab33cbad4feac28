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

// Standing is an operator's place in a service's power: in the current
// epoch's snapshot, and its power now (what the next snapshot takes).
type Standing struct {
	// Epoch is the chain's current epoch.
	Epoch uint64
	// Taken: the current epoch's snapshot is taken. Until the epoch's first
	// task takes it, it will hold the operators with power then.
	Taken bool
	// InSnapshot: the operator is in the current epoch's snapshot.
	InSnapshot bool
	// Power is the operator's power now; 0 when a snapshot would leave it
	// out (jailed, its own commitment below the service's minimum, no
	// stake under stake weighting) or it is not opted in.
	Power uint64
}

// OperatorStanding reads an operator's Standing in a service with one
// Query/ServicePower: the page of current powers starts at the operator's
// row (the page key of the service's opt-ins is the operator's address),
// so its size does not grow with the service's operators.
func (c *Client) OperatorStanding(ctx context.Context, serviceID uint64, operator string) (Standing, error) {
	var st Standing
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).ServicePower(ctx, &types.QueryServicePowerRequest{
			ServiceId: serviceID, Pagination: &query.PageRequest{Key: []byte(operator), Limit: 1},
		})
		if err != nil {
			return err
		}
		st = Standing{Epoch: res.Epoch, Taken: res.Snapshot.Total > 0}
		if len(res.Current) > 0 && res.Current[0].Operator == operator {
			st.Power = res.Current[0].Power
		}
		for _, p := range res.Snapshot.Powers {
			if p.Operator == operator {
				st.InSnapshot = true
				break
			}
		}
		return nil
	})
	return st, err
}
