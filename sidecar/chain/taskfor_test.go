package chain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/avschain/avschain/x/avs/types"
)

// tasks serves Query/Task with an operator's part in the task.
type tasks struct {
	types.UnimplementedQueryServer
	asked []string
}

func (s *tasks) Task(_ context.Context, req *types.QueryTaskRequest) (*types.QueryTaskResponse, error) {
	s.asked = append(s.asked, req.Operator)
	if req.TaskId != 7 {
		return nil, status.Error(codes.NotFound, "task not found")
	}
	res := &types.QueryTaskResponse{Task: types.Task{Id: 7, DeadlineHeight: 40, Status: types.TASK_STATUS_COMPLETED}}
	if req.Operator == "avs1op" {
		res.InSnapshot, res.OperatorPower, res.Voted = true, 12, true
	}
	return res, nil
}

// TestH1TaskForAsksForTheOperator: TaskFor sends the operator and returns
// the chain's answer about it whole.
func TestH1TaskForAsksForTheOperator(t *testing.T) {
	srv := &tasks{}
	c := serve(t, srv)
	res, err := c.TaskFor(context.Background(), 7, "avs1op")
	require.NoError(t, err)
	require.Equal(t, uint64(7), res.Task.Id)
	require.Equal(t, int64(40), res.Task.DeadlineHeight)
	require.True(t, res.InSnapshot)
	require.Equal(t, uint64(12), res.OperatorPower)
	require.True(t, res.Voted)

	res, err = c.TaskFor(context.Background(), 7, "avs1other")
	require.NoError(t, err)
	require.False(t, res.InSnapshot)
	require.False(t, res.Voted)
	require.Equal(t, []string{"avs1op", "avs1other"}, srv.asked)

	_, err = c.TaskFor(context.Background(), 8, "avs1op")
	require.Equal(t, codes.NotFound, status.Code(err))
}
