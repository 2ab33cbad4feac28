package keeper

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

type queryServer struct {
	Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the x/avs Query service backed by the keeper.
func NewQueryServerImpl(k Keeper) types.QueryServer {
	return queryServer{Keeper: k}
}

// grpcError maps a keeper error to a gRPC status, keeping its message.
func grpcError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, collections.ErrNotFound),
		errors.Is(err, types.ErrComponentNotFound), errors.Is(err, types.ErrServiceNotFound),
		errors.Is(err, types.ErrOperatorNotFound), errors.Is(err, types.ErrTaskNotFound),
		errors.Is(err, types.ErrServiceRevisionNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, types.ErrInvalidAddress), errors.Is(err, types.ErrInvalidRequest),
		errors.Is(err, types.ErrPageLimit):
		return status.Error(codes.InvalidArgument, err.Error())
	default:
		return status.Error(codes.Internal, err.Error())
	}
}

var errEmptyRequest = status.Error(codes.InvalidArgument, "empty request")

// pageRequest checks a list query's page and fills in its limit. It refuses
// a page larger than types.MaxPageLimit, and a key with an offset (which the
// SDK reports as an internal error). A request without a limit gets the SDK's
// default page, asked for explicitly: given no limit, the SDK would also
// count the whole list (count_total), walking it to its end.
func pageRequest(p *query.PageRequest) (*query.PageRequest, error) {
	switch {
	case p == nil:
		return &query.PageRequest{Limit: query.DefaultLimit}, nil
	case p.Limit > types.MaxPageLimit:
		return nil, grpcError(errorsmod.Wrapf(types.ErrPageLimit, "pagination.limit %d, at most %d", p.Limit, types.MaxPageLimit))
	case len(p.Key) > 0 && p.Offset > 0:
		return nil, grpcError(errorsmod.Wrap(types.ErrInvalidRequest, "pagination: either key or offset, not both"))
	case p.Limit == 0:
		withLimit := *p
		withLimit.Limit = query.DefaultLimit
		return &withLimit, nil
	}
	return p, nil
}

// Params returns the module parameters.
func (q queryServer) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryParamsResponse{Params: params}, nil
}

// Component returns a component's metadata.
func (q queryServer) Component(ctx context.Context, req *types.QueryComponentRequest) (*types.QueryComponentResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	c, err := q.Keeper.Components.Get(ctx, req.Digest)
	if isNotFound(err) {
		return nil, grpcError(errorsmod.Wrapf(types.ErrComponentNotFound, "digest %q", req.Digest))
	} else if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryComponentResponse{Component: c}, nil
}

// ComponentCode returns a component's uncompressed wasm.
func (q queryServer) ComponentCode(ctx context.Context, req *types.QueryComponentCodeRequest) (*types.QueryComponentCodeResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	code, err := q.GetComponentCode(ctx, req.Digest)
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryComponentCodeResponse{Wasm: code}, nil
}

// Components lists stored components.
func (q queryServer) Components(ctx context.Context, req *types.QueryComponentsRequest) (*types.QueryComponentsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	items, page, err := query.CollectionPaginate(ctx, q.Keeper.Components, pageReq,
		func(_ string, c types.Component) (types.Component, error) { return c, nil })
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryComponentsResponse{Components: items, Pagination: page}, nil
}

// Service returns one service.
func (q queryServer) Service(ctx context.Context, req *types.QueryServiceRequest) (*types.QueryServiceResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	s, err := q.getService(ctx, req.ServiceId)
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryServiceResponse{Service: s}, nil
}

// ServiceRevision returns the manifest of one revision of a service.
func (q queryServer) ServiceRevision(ctx context.Context, req *types.QueryServiceRevisionRequest) (*types.QueryServiceRevisionResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	m, err := q.serviceRevision(ctx, req.ServiceId, req.Revision)
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryServiceRevisionResponse{Manifest: m}, nil
}

// Services lists services by id.
func (q queryServer) Services(ctx context.Context, req *types.QueryServicesRequest) (*types.QueryServicesResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	items, page, err := query.CollectionPaginate(ctx, q.Keeper.Services, pageReq,
		func(_ uint64, s types.Service) (types.Service, error) { return s, nil })
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryServicesResponse{Services: items, Pagination: page}, nil
}

// ServiceOperators lists the operators opted in to a service.
func (q queryServer) ServiceOperators(ctx context.Context, req *types.QueryServiceOperatorsRequest) (*types.QueryServiceOperatorsResponse, error) {
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
	items, page, err := query.CollectionPaginate(ctx, q.OptIns, pageReq,
		func(key collections.Pair[uint64, string], _ collections.NoValue) (types.Operator, error) {
			return q.Keeper.Operators.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, string](req.ServiceId))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryServiceOperatorsResponse{Operators: items, Pagination: page}, nil
}

// Operator returns one operator and a page of the services it is opted in
// to, through the opt-ins' operator index.
func (q queryServer) Operator(ctx context.Context, req *types.QueryOperatorRequest) (*types.QueryOperatorResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, err := q.accAddress("operator", req.Address); err != nil {
		return nil, grpcError(err)
	}
	op, err := q.getOperator(ctx, req.Address)
	if err != nil {
		return nil, grpcError(err)
	}
	ids, page, err := query.CollectionPaginate(ctx, q.OptIns.Indexes.ByOperator, pageReq,
		func(key collections.Pair[string, uint64], _ collections.NoValue) (uint64, error) {
			return key.K2(), nil
		},
		query.WithCollectionPaginationPairPrefix[string, uint64](req.Address))
	if err != nil {
		return nil, grpcError(err)
	}
	liveness := make([]types.OperatorLiveness, len(ids))
	for i, id := range ids {
		if liveness[i], err = q.operatorLiveness(ctx, id, req.Address); err != nil {
			return nil, grpcError(err)
		}
	}
	return &types.QueryOperatorResponse{Operator: op, ServiceIds: ids, Pagination: page, Liveness: liveness}, nil
}

// Operators lists operators by address.
func (q queryServer) Operators(ctx context.Context, req *types.QueryOperatorsRequest) (*types.QueryOperatorsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	items, page, err := query.CollectionPaginate(ctx, q.Keeper.Operators, pageReq,
		func(_ string, o types.Operator) (types.Operator, error) { return o, nil })
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryOperatorsResponse{Operators: items, Pagination: page}, nil
}

// Task returns one task.
func (q queryServer) Task(ctx context.Context, req *types.QueryTaskRequest) (*types.QueryTaskResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	t, err := q.Keeper.Tasks.Get(ctx, req.TaskId)
	if isNotFound(err) {
		return nil, q.missingTaskStatus(ctx, req.TaskId)
	} else if err != nil {
		return nil, grpcError(err)
	}
	res := &types.QueryTaskResponse{Task: t}
	if req.Operator == "" {
		return res, nil
	}
	if _, err := q.addressCodec.StringToBytes(req.Operator); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "operator %q: %v", req.Operator, err)
	}
	snap, err := q.Snapshots.Get(ctx, collections.Join(t.ServiceId, t.Epoch))
	if err != nil && !isNotFound(err) {
		return nil, grpcError(err)
	}
	res.OperatorPower, res.InSnapshot = powerIn(snap, req.Operator)
	if res.Voted, err = q.Votes.Has(ctx, collections.Join(t.Id, req.Operator)); err != nil {
		return nil, grpcError(err)
	}
	return res, nil
}

// Tasks lists a service's tasks by id, all or of one status, through the
// tasks' service or (service, status) index.
func (q queryServer) Tasks(ctx context.Context, req *types.QueryTasksRequest) (*types.QueryTasksResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, ok := types.TaskStatus_name[int32(req.Status)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "unknown task status %d", req.Status)
	}
	if _, err := q.getService(ctx, req.ServiceId); err != nil {
		return nil, grpcError(err)
	}
	toTask := func(id uint64) (types.Task, error) { return q.Keeper.Tasks.Get(ctx, id) }
	var (
		items []types.Task
		page  *query.PageResponse
	)
	if req.Status == types.TASK_STATUS_UNSPECIFIED {
		items, page, err = query.CollectionPaginate(ctx, q.tasksByService, pageReq,
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Task, error) {
				return toTask(key.K2())
			}, query.WithCollectionPaginationPairPrefix[uint64, uint64](req.ServiceId))
	} else {
		items, page, err = query.CollectionPaginate(ctx, q.tasksByServiceStatus, pageReq,
			func(key collections.Pair[collections.Pair[uint64, int32], uint64], _ collections.NoValue) (types.Task, error) {
				return toTask(key.K2())
			}, query.WithCollectionPaginationPairPrefix[collections.Pair[uint64, int32], uint64](
				collections.Join(req.ServiceId, int32(req.Status))))
	}
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryTasksResponse{Tasks: items, Pagination: page}, nil
}

// TaskVotes lists the votes on a task by operator.
func (q queryServer) TaskVotes(ctx context.Context, req *types.QueryTaskVotesRequest) (*types.QueryTaskVotesResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	pageReq, err := pageRequest(req.Pagination)
	if err != nil {
		return nil, err
	}
	if has, err := q.Keeper.Tasks.Has(ctx, req.TaskId); err != nil {
		return nil, grpcError(err)
	} else if !has {
		return nil, grpcError(errorsmod.Wrapf(types.ErrTaskNotFound, "task %d", req.TaskId))
	}
	items, page, err := query.CollectionPaginate(ctx, q.Votes, pageReq,
		func(key collections.Pair[uint64, string], v types.Vote) (types.Vote, error) {
			return restoreVote(key.K1(), key.K2(), v), nil
		},
		query.WithCollectionPaginationPairPrefix[uint64, string](req.TaskId))
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryTaskVotesResponse{Votes: items, Pagination: page}, nil
}

// Treasury returns a service's treasury.
func (q queryServer) Treasury(ctx context.Context, req *types.QueryTreasuryRequest) (*types.QueryTreasuryResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.getService(ctx, req.ServiceId); err != nil {
		return nil, grpcError(err)
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	t, err := q.treasury(ctx, req.ServiceId)
	if err != nil {
		return nil, grpcError(err)
	}
	return &types.QueryTreasuryResponse{Treasury: sdk.NewCoin(params.StakeDenom, t)}, nil
}
