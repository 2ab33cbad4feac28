package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// remoteResults is where a query looks: this chain's requests, or the
// results other chains pushed (M-2: apart).
func (q queryServer) remoteResults(pushed bool) collections.Map[collections.Pair[string, uint64], types.RemoteResult] {
	if pushed {
		return q.PushedResults
	}
	return q.Keeper.RemoteResults
}

// RemoteResult returns a result requested from, or (pushed) pushed by,
// another chain.
func (q queryServer) RemoteResult(ctx context.Context, req *types.QueryRemoteResultRequest) (*types.QueryRemoteResultResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	r, err := q.remoteResults(req.Pushed).Get(ctx, collections.Join(req.Channel, req.Sequence))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryRemoteResultResponse{RemoteResult: r}, nil
}

// RemoteResults lists this chain's requests, or (pushed) the results other
// chains pushed, by channel and sequence.
func (q queryServer) RemoteResults(ctx context.Context, req *types.QueryRemoteResultsRequest) (*types.QueryRemoteResultsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	items, page, err := query.CollectionPaginate(ctx, q.remoteResults(req.Pushed), pageReq,
		func(_ collections.Pair[string, uint64], r types.RemoteResult) (types.RemoteResult, error) {
			return r, nil
		})
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryRemoteResultsResponse{RemoteResults: items, Pagination: page}, nil
}
