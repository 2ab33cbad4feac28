package keeper

import (
	"context"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// Commitments lists a page of a committer's commitments, by (operator,
// service), with their withdrawable rewards, through the commitments'
// committer index.
func (q queryServer) Commitments(ctx context.Context, req *types.QueryCommitmentsRequest) (*types.QueryCommitmentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, err := q.accAddress("committer", req.Committer); err != nil {
		return nil, grpcError(err)
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	epoch, err := q.currentEpoch(ctx, params)
	if err != nil {
		return nil, grpcError(err)
	}
	items, page, err := query.CollectionPaginate(ctx, q.CommitmentsByPool.Indexes.ByCommitter.Keys, pageReq,
		func(key collections.Triple[string, string, uint64], _ collections.NoValue) (types.CommitmentView, error) {
			c, err := q.CommitmentsByPool.Get(ctx, commitmentKey(key.K2(), key.K3(), key.K1()))
			if err != nil {
				return types.CommitmentView{}, err
			}
			p, err := q.pool(ctx, c.Operator, c.ServiceId)
			if err != nil {
				return types.CommitmentView{}, err
			}
			pending, err := q.pendingRewards(ctx, c, p, epoch)
			if err != nil {
				return types.CommitmentView{}, err
			}
			value := sdkmath.ZeroInt()
			if c.Generation == p.Generation {
				value = tokensOf(c.Shares, p.Total, p.Shares)
			}
			return types.CommitmentView{
				Commitment: c, PendingRewards: sdk.NewCoin(params.StakeDenom, pending), Value: sdk.NewCoin(params.StakeDenom, value),
			}, nil
		}, withTriplePrefix[string, string, uint64](req.Committer))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryCommitmentsResponse{Commitments: items, Pagination: page}, nil
}

// Unbonding lists a page of a committer's unbonding entries, by id, through
// the entries' committer index.
func (q queryServer) Unbonding(ctx context.Context, req *types.QueryUnbondingRequest) (*types.QueryUnbondingResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, err := q.accAddress("committer", req.Committer); err != nil {
		return nil, grpcError(err)
	}
	items, page, err := query.CollectionPaginate(ctx, q.unbondingByCommitter, pageReq,
		func(key collections.Pair[string, uint64], _ collections.NoValue) (types.UnbondingEntry, error) {
			return q.Keeper.Unbonding.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[string, uint64](req.Committer))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryUnbondingResponse{Unbonding: items, Pagination: page}, nil
}

// OperatorCommitments lists a page of the commitments to an operator, by
// (service, committer), and the pools of that page's services.
func (q queryServer) OperatorCommitments(ctx context.Context, req *types.QueryOperatorCommitmentsRequest) (*types.QueryOperatorCommitmentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, err := q.accAddress("operator", req.Operator); err != nil {
		return nil, grpcError(err)
	}
	if _, err := q.getOperator(ctx, req.Operator); err != nil {
		return nil, grpcError(err)
	}
	items, page, err := query.CollectionPaginate(ctx, q.CommitmentsByPool, pageReq,
		func(_ collections.Triple[string, uint64, string], c types.Commitment) (types.Commitment, error) {
			return c, nil
		},
		withTriplePrefix[string, uint64, string](req.Operator))
	if err != nil {
		return nil, grpcError(err)
	}
	res := &types.QueryOperatorCommitmentsResponse{Commitments: items, Pagination: page}
	for i, c := range items {
		if i > 0 && items[i-1].ServiceId == c.ServiceId {
			continue
		}
		p, err := q.Pools.Get(ctx, collections.Join(req.Operator, c.ServiceId))
		if isNotFound(err) {
			continue
		} else if err != nil {
			return nil, grpcError(err)
		}
		res.Pools = append(res.Pools, p)
	}
	return res, nil
}

// ServiceCommitments lists the commitments in a service, through the
// commitments' service index.
func (q queryServer) ServiceCommitments(ctx context.Context, req *types.QueryServiceCommitmentsRequest) (*types.QueryServiceCommitmentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, err := q.getService(ctx, req.ServiceId); err != nil {
		return nil, grpcError(err)
	}
	items, page, err := query.CollectionPaginate(ctx, q.commitmentsByService, pageReq,
		func(key collections.Pair[uint64, collections.Triple[string, uint64, string]], _ collections.NoValue) (types.Commitment, error) {
			return q.CommitmentsByPool.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, collections.Triple[string, uint64, string]](req.ServiceId))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryServiceCommitmentsResponse{Commitments: items, Pagination: page}, nil
}

// ServicePower returns a page of the service's opted-in operators with their
// power now (0 for those a snapshot would leave out: jailed, below the
// minimum self-commitment, or without stake under stake weighting), through the service's opt-ins, and the current
// epoch's snapshot (at most max_snapshot_operators).
func (q queryServer) ServicePower(ctx context.Context, req *types.QueryServicePowerRequest) (*types.QueryServicePowerResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
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
	need, err := q.minSelfStake(ctx, svc)
	if err != nil {
		return nil, grpcError(err)
	}
	current, page, err := query.CollectionPaginate(ctx, q.OptIns, pageReq,
		func(key collections.Pair[uint64, string], _ collections.NoValue) (types.OperatorPower, error) {
			p, ok, err := q.operatorPower(ctx, svc, need, key.K2())
			if !ok {
				p = types.OperatorPower{Operator: key.K2()} // listed with no power: pages stay exact
			}
			return p, err
		}, query.WithCollectionPaginationPairPrefix[uint64, string](svc.Id))
	if err != nil {
		return nil, grpcError(err)
	}
	epoch, err := q.currentEpoch(ctx, params)
	if err != nil {
		return nil, grpcError(err)
	}
	snap, err := q.Snapshots.Get(ctx, collections.Join(svc.Id, epoch))
	if err != nil && !isNotFound(err) {
		return nil, grpcError(err)
	}
	return &types.QueryServicePowerResponse{Weighting: svc.Manifest.Quorum.Weighting, Current: current, Epoch: epoch, Snapshot: snap, Pagination: page}, nil
}

// Rewards returns the withdrawable rewards of a page of a committer's
// commitments (the page Commitments lists): a client pages through for the
// total, as WithdrawRewards pays it.
func (q queryServer) Rewards(ctx context.Context, req *types.QueryRewardsRequest) (*types.QueryRewardsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	res, err := q.Commitments(ctx, &types.QueryCommitmentsRequest{Committer: req.Committer, Pagination: req.Pagination})
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
	held, err := q.operatorRewards(ctx, req.Committer)
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryRewardsResponse{Rewards: total, Pagination: res.Pagination,
		OperatorRewards: sdk.NewCoin(params.StakeDenom, held)}, nil
}

// withTriplePrefix pages the keys of a collection keyed by a triple that
// start with k1 (the SDK has the option for pairs only).
func withTriplePrefix[K1, K2, K3 any](k1 K1) func(*query.CollectionsPaginateOptions[collections.Triple[K1, K2, K3]]) {
	return func(o *query.CollectionsPaginateOptions[collections.Triple[K1, K2, K3]]) {
		prefix := collections.TriplePrefix[K1, K2, K3](k1)
		o.Prefix = &prefix
	}
}
