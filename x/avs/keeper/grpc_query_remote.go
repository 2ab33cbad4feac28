package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// RemoteResult returns a result requested from, or pushed by, another chain.
func (q queryServer) RemoteResult(ctx context.Context, req *types.QueryRemoteResultRequest) (*types.QueryRemoteResultResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	r, err := q.Keeper.RemoteResults.Get(ctx, collections.Join(req.Channel, req.Sequence))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryRemoteResultResponse{RemoteResult: r}, nil
}

// RemoteResults lists remote results by channel and sequence.
func (q queryServer) RemoteResults(ctx context.Context, req *types.QueryRemoteResultsRequest) (*types.QueryRemoteResultsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	items, page, err := query.CollectionPaginate(ctx, q.Keeper.RemoteResults, pageReq,
		func(_ collections.Pair[string, uint64], r types.RemoteResult) (types.RemoteResult, error) {
			return r, nil
		})
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryRemoteResultsResponse{RemoteResults: items, Pagination: page}, nil
}
