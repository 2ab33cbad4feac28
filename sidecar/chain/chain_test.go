package chain_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// pagedOperators serves Query/Operator the way x/avs does: service_ids a
// page at a time (the SDK's 100 by default, at most types.MaxPageLimit), the
// next_key being the next id's position.
type pagedOperators struct {
	types.UnimplementedQueryServer
	operator string
	ids      []uint64
	requests int
}

func (p *pagedOperators) Operator(_ context.Context, req *types.QueryOperatorRequest) (*types.QueryOperatorResponse, error) {
	p.requests++
	if req.Address != p.operator {
		return nil, status.Error(codes.NotFound, "operator not found")
	}
	limit, start := uint64(query.DefaultLimit), uint64(0)
	if req.Pagination != nil {
		if req.Pagination.Limit > types.MaxPageLimit {
			return nil, status.Error(codes.InvalidArgument, "page limit")
		}
		if req.Pagination.Limit > 0 {
			limit = req.Pagination.Limit
		}
		if len(req.Pagination.Key) > 0 {
			start = binary.BigEndian.Uint64(req.Pagination.Key)
		}
	}
	end := min(start+limit, uint64(len(p.ids)))
	res := &types.QueryOperatorResponse{Operator: types.Operator{Address: p.operator}, ServiceIds: p.ids[start:end], Pagination: &query.PageResponse{}}
	if end < uint64(len(p.ids)) {
		res.Pagination.NextKey = binary.BigEndian.AppendUint64(nil, end)
	}
	return res, nil
}

func serve(t *testing.T, srv types.QueryServer) *chain.Client {
	t.Helper()
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(grpc.ForceServerCodec(codec.NewProtoCodec(enc.Registry).GRPCCodec()))
	types.RegisterQueryServer(s, srv)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	c, err := chain.Dial("test", []string{"http://127.0.0.1:1"}, []string{lis.Addr().String()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestL10OperatorServicesReadsEveryPage: an operator in more services than
// a page holds gets them all, each once, in order (the sidecar used to take
// the one unpaged answer).
func TestL10OperatorServicesReadsEveryPage(t *testing.T) {
	srv := &pagedOperators{operator: "avs1op"}
	for i := uint64(1); i <= 2*types.MaxPageLimit+5; i++ {
		srv.ids = append(srv.ids, i)
	}
	c := serve(t, srv)

	ids, err := c.OperatorServices(context.Background(), "avs1op")
	require.NoError(t, err)
	require.Equal(t, srv.ids, ids)
	require.Equal(t, 3, srv.requests, "pages of MaxPageLimit")

	ids, err = c.OperatorServices(context.Background(), "avs1other")
	require.NoError(t, err)
	require.Nil(t, ids, "an unregistered operator runs nothing")
}

// revisions serves a service at revision 3 and the manifests of its past
// revisions, counting the revision queries.
type revisions struct {
	types.UnimplementedQueryServer
	past     map[uint64]types.ServiceManifest
	requests int
}

func (r *revisions) Service(_ context.Context, req *types.QueryServiceRequest) (*types.QueryServiceResponse, error) {
	return &types.QueryServiceResponse{Service: types.Service{
		Id: req.ServiceId, Revision: 3, Manifest: types.ServiceManifest{Name: "current", Limits: types.Limits{TimeMs: 30}},
	}}, nil
}

func (r *revisions) ServiceRevision(_ context.Context, req *types.QueryServiceRevisionRequest) (*types.QueryServiceRevisionResponse, error) {
	r.requests++
	m, ok := r.past[req.Revision]
	if !ok {
		return nil, status.Error(codes.NotFound, "service revision not found")
	}
	return &types.QueryServiceRevisionResponse{Manifest: m}, nil
}

// TestH3TaskServiceServesTheTaskRevision: the sidecar runs a task with the
// manifest of its revision (H-3), asked once per revision; the current
// revision, and a task without one, need no extra query.
func TestH3TaskServiceServesTheTaskRevision(t *testing.T) {
	srv := &revisions{past: map[uint64]types.ServiceManifest{1: {Name: "first", Limits: types.Limits{TimeMs: 10}}}}
	c := serve(t, srv)
	ctx := context.Background()
	for range 2 {
		svc, err := c.TaskService(ctx, types.Task{ServiceId: 7, ServiceRevision: 1})
		require.NoError(t, err)
		require.Equal(t, "first", svc.Manifest.Name)
		require.Equal(t, uint64(10), svc.Manifest.Limits.TimeMs)
		require.Equal(t, uint64(1), svc.Revision)
		require.Equal(t, uint64(7), svc.Id)
	}
	require.Equal(t, 1, srv.requests, "a revision is fetched once")
	for _, rev := range []uint64{3, 0} {
		svc, err := c.TaskService(ctx, types.Task{ServiceId: 7, ServiceRevision: rev})
		require.NoError(t, err)
		require.Equal(t, "current", svc.Manifest.Name)
	}
	require.Equal(t, 1, srv.requests)
	_, err := c.TaskService(ctx, types.Task{ServiceId: 7, ServiceRevision: 2})
	require.Equal(t, codes.NotFound, status.Code(errors.Unwrap(err)))
}
