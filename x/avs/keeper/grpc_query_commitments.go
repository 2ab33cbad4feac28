package keeper

import (
	"context"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// Commitments lists a committer's commitments with their withdrawable rewards,
// and its unbonding entries.
func (q queryServer) Commitments(ctx context.Context, req *types.QueryCommitmentsRequest) (*types.QueryCommitmentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.accAddress("committer", req.Committer); err != nil {
		return nil, grpcError(err)
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	list, err := q.committerCommitments(ctx, req.Committer)
	if err != nil {
		return nil, grpcError(err)
	}
	res := &types.QueryCommitmentsResponse{}
	for _, c := range list {
		p, err := q.pool(ctx, c.Operator, c.ServiceId)
		if err != nil {
			return nil, grpcError(err)
		}
		pending, err := q.pendingRewards(ctx, c, p)
		if err != nil {
			return nil, grpcError(err)
		}
		value := sdkmath.ZeroInt()
		if c.Generation == p.Generation {
			value = tokensOf(c.Shares, p.Total, p.Shares)
		}
		res.Commitments = append(res.Commitments, types.CommitmentView{
			Commitment: c, PendingRewards: sdk.NewCoin(params.StakeDenom, pending), Value: sdk.NewCoin(params.StakeDenom, value),
		})
	}
	err = q.Unbonding.Indexes.ByCommitter.Walk(ctx, collections.NewPrefixedPairRange[string, uint64](req.Committer),
		func(_ string, id uint64) (bool, error) {
			e, err := q.Unbonding.Get(ctx, id)
			res.Unbonding = append(res.Unbonding, e)
			return err != nil, err
		})
	if err != nil {
		return nil, grpcError(err)
	}
	return res, nil
}

// OperatorCommitments lists the commitments to an operator, and its pools.
func (q queryServer) OperatorCommitments(ctx context.Context, req *types.QueryOperatorCommitmentsRequest) (*types.QueryOperatorCommitmentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.accAddress("operator", req.Operator); err != nil {
		return nil, grpcError(err)
	}
	if _, err := q.getOperator(ctx, req.Operator); err != nil {
		return nil, grpcError(err)
	}
	res := &types.QueryOperatorCommitmentsResponse{}
	err := q.CommitmentsByPool.Walk(ctx, collections.NewPrefixedTripleRange[string, uint64, string](req.Operator),
		func(_ collections.Triple[string, uint64, string], c types.Commitment) (bool, error) {
			res.Commitments = append(res.Commitments, c)
			return false, nil
		})
	if err != nil {
		return nil, grpcError(err)
	}
	err = q.Pools.Walk(ctx, collections.NewPrefixedPairRange[string, uint64](req.Operator),
		func(_ collections.Pair[string, uint64], p types.Pool) (bool, error) {
			res.Pools = append(res.Pools, p)
			return false, nil
		})
	return res, grpcError(err)
}

// ServiceCommitments lists the commitments in a service, through the
// commitments' service index.
func (q queryServer) ServiceCommitments(ctx context.Context, req *types.QueryServiceCommitmentsRequest) (*types.QueryServiceCommitmentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.getService(ctx, req.ServiceId); err != nil {
		return nil, grpcError(err)
	}
	items, page, err := query.CollectionPaginate(ctx, q.commitmentsByService, req.Pagination,
		func(key collections.Pair[uint64, collections.Triple[string, uint64, string]], _ collections.NoValue) (types.Commitment, error) {
			return q.CommitmentsByPool.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, collections.Triple[string, uint64, string]](req.ServiceId))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryServiceCommitmentsResponse{Commitments: items, Pagination: page}, nil
}

// ServicePower returns the power table now and the current epoch's snapshot.
func (q queryServer) ServicePower(ctx context.Context, req *types.QueryServicePowerRequest) (*types.QueryServicePowerResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	svc, err := q.getService(sdkCtx, req.ServiceId)
	if err != nil {
		return nil, grpcError(err)
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	current, err := q.powersFor(ctx, svc)
	if err != nil {
		return nil, grpcError(err)
	}
	epoch := epochOf(sdkCtx.BlockHeight(), params.EpochLength)
	snap, err := q.Snapshots.Get(ctx, collections.Join(svc.Id, epoch))
	if err != nil && !isNotFound(err) {
		return nil, grpcError(err)
	}
	return &types.QueryServicePowerResponse{Weighting: svc.Manifest.Quorum.Weighting, Current: current, Epoch: epoch, Snapshot: snap}, nil
}

// Rewards returns a committer's withdrawable rewards.
func (q queryServer) Rewards(ctx context.Context, req *types.QueryRewardsRequest) (*types.QueryRewardsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	res, err := q.Commitments(ctx, &types.QueryCommitmentsRequest{Committer: req.Committer})
	if err != nil {
		return nil, err
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	total := sdk.NewInt64Coin(params.StakeDenom, 0)
	for _, c := range res.Commitments {
		total = total.Add(c.PendingRewards)
	}
	return &types.QueryRewardsResponse{Rewards: total}, nil
}
