package chain_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// pagedTasks serves Query/Tasks of one service the way x/avs does over its
// (service, id) index: ascending ids, or descending with reverse, next_key
// the position of the next task.
type pagedTasks struct {
	types.UnimplementedQueryServer
	service  uint64
	tasks    []types.Task // ascending ids
	requests int
}

func (p *pagedTasks) Tasks(_ context.Context, req *types.QueryTasksRequest) (*types.QueryTasksResponse, error) {
	p.requests++
	if req.ServiceId != p.service {
		return nil, status.Error(codes.NotFound, "service not found")
	}
	if req.Status != types.TASK_STATUS_UNSPECIFIED || req.Pagination == nil || !req.Pagination.Reverse || req.Pagination.Limit == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "the test serves every status, newest first, in pages: %v", req)
	}
	pos := len(p.tasks) - 1
	if len(req.Pagination.Key) > 0 {
		pos = int(binary.BigEndian.Uint64(req.Pagination.Key))
	}
	res := &types.QueryTasksResponse{Pagination: &query.PageResponse{}}
	for i := uint64(0); i < req.Pagination.Limit && pos >= 0; i++ {
		res.Tasks = append(res.Tasks, p.tasks[pos])
		pos--
	}
	if pos >= 0 {
		res.Pagination.NextKey = binary.BigEndian.AppendUint64(nil, uint64(pos))
	}
	return res, nil
}

// TestH7TasksCreatedSinceWalksNewestFirst: the tasks of the blocks the
// watcher skipped are listed newest first, every status, over as many pages
// as they fill, and the walk stops at the first older task.
func TestH7TasksCreatedSinceWalksNewestFirst(t *testing.T) {
	srv := &pagedTasks{service: 4}
	for id := uint64(1); id <= 250; id++ {
		srv.tasks = append(srv.tasks, types.Task{Id: id, ServiceId: 4, CreatedHeight: int64(id), Status: types.TaskStatus(id % 4)})
	}
	c := serve(t, srv)
	ctx := context.Background()

	got, err := c.TasksCreatedSince(ctx, 4, 120)
	require.NoError(t, err)
	require.Len(t, got, 131)
	for i, task := range got {
		require.Equal(t, uint64(250-i), task.Id, "newest first")
	}
	require.Equal(t, 2, srv.requests, "the walk stops in the page holding height 119")

	srv.requests = 0
	got, err = c.TasksCreatedSince(ctx, 4, 1)
	require.NoError(t, err)
	require.Len(t, got, 250)
	require.Equal(t, 3, srv.requests)

	got, err = c.TasksCreatedSince(ctx, 4, 251)
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = c.TasksCreatedSince(ctx, 5, 1)
	require.Equal(t, codes.NotFound, status.Code(err), "the gRPC code survives: %v", err)
}

// TestH7EarliestHeight reads the node's earliest_block_height from /status.
func TestH7EarliestHeight(t *testing.T) {
	rpc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		assert.Equal(t, "status", req.Method)
		res, err := cmtjson.Marshal(&coretypes.ResultStatus{SyncInfo: coretypes.SyncInfo{EarliestBlockHeight: 4200, LatestBlockHeight: 5000}})
		assert.NoError(t, err)
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": json.RawMessage(res)})
	}))
	t.Cleanup(rpc.Close)
	c, err := chain.Dial("test", []string{rpc.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	h, err := c.EarliestHeight(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 4200, h)
}
