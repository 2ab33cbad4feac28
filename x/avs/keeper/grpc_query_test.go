package keeper_test

import (
	"bytes"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

func (s *KeeperTestSuite) TestQueryParams() {
	res, err := s.queryServer.Params(s.ctx, &types.QueryParamsRequest{})
	s.Require().NoError(err)
	s.Require().Equal(testParams(), res.Params)

	_, err = s.queryServer.Params(s.ctx, nil)
	s.Require().Equal(codes.InvalidArgument, status.Code(err))
}

func taskIDs(tasks []types.Task) []uint64 {
	out := make([]uint64, len(tasks))
	for i, t := range tasks {
		out[i] = t.Id
	}
	return out
}

func (s *KeeperTestSuite) TestQueryTasks() {
	svc1, ops := s.exactService("0.51", 0, 3)
	svc2, _ := s.exactService("0.51", 0, 0)
	s.optIn(ops[0], svc2)

	done := s.createTask(svc1)    // 1: completed
	expired := s.createTask(svc1) // 2: expires at 30
	other := s.createTask(svc2)   // 3: another service's, expires at 30
	s.mustVote(ops[1], done, "A")
	s.mustVote(ops[0], done, "A")
	s.ctx = s.ctx.WithBlockHeight(25)
	pending := s.createTask(svc1) // 4: open until 45
	s.ctx = s.ctx.WithBlockHeight(30)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))

	one, err := s.queryServer.Task(s.ctx, &types.QueryTaskRequest{TaskId: done})
	s.Require().NoError(err)
	s.Require().Equal(s.task(done), one.Task)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, one.Task.Status)

	listed := func(serviceID uint64, st types.TaskStatus) []uint64 {
		res, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: serviceID, Status: st})
		s.Require().NoError(err)
		return taskIDs(res.Tasks)
	}
	s.Require().Equal([]uint64{done, expired, pending}, listed(svc1, types.TASK_STATUS_UNSPECIFIED))
	s.Require().Equal([]uint64{pending}, listed(svc1, types.TASK_STATUS_PENDING))
	s.Require().Equal([]uint64{done}, listed(svc1, types.TASK_STATUS_COMPLETED))
	s.Require().Equal([]uint64{expired}, listed(svc1, types.TASK_STATUS_EXPIRED))
	s.Require().Equal([]uint64{other}, listed(svc2, types.TASK_STATUS_UNSPECIFIED))
	s.Require().Equal([]uint64{other}, listed(svc2, types.TASK_STATUS_EXPIRED))
	s.Require().Empty(listed(svc2, types.TASK_STATUS_PENDING))

	// pagination, limit 1, walks all three of service 1's tasks in id order
	var (
		seen []uint64
		key  []byte
	)
	for i := 0; i < 3; i++ {
		res, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: svc1, Pagination: &query.PageRequest{Key: key, Limit: 1, CountTotal: i == 0}})
		s.Require().NoError(err)
		s.Require().Len(res.Tasks, 1)
		if i == 0 {
			s.Require().Equal(uint64(3), res.Pagination.Total)
		}
		seen = append(seen, res.Tasks[0].Id)
		key = res.Pagination.NextKey
	}
	s.Require().Equal([]uint64{done, expired, pending}, seen)
	s.Require().Empty(key, "no page after the last")

	// with a status filter too
	res, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: svc1, Status: types.TASK_STATUS_COMPLETED, Pagination: &query.PageRequest{Limit: 1}})
	s.Require().NoError(err)
	s.Require().Equal([]uint64{done}, taskIDs(res.Tasks))
	s.Require().Empty(res.Pagination.NextKey)

	// votes of a task, by operator, with pagination
	votes, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: done})
	s.Require().NoError(err)
	s.Require().Len(votes.Votes, 2)
	s.Require().Equal(-1, bytes.Compare(mustAddrBytes(votes.Votes[0].Operator), mustAddrBytes(votes.Votes[1].Operator)),
		"by operator address bytes")
	for _, v := range votes.Votes {
		s.Require().Equal(done, v.TaskId)
		s.Require().Equal([]byte("A"), v.Result)
		s.Require().Equal(types.Digest([]byte("A")), v.Digest)
		s.Require().Equal(uint64(1), v.Power)
		s.Require().False(v.Late)
	}
	page, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: done, Pagination: &query.PageRequest{Limit: 1}})
	s.Require().NoError(err)
	s.Require().Len(page.Votes, 1)
	s.Require().NotEmpty(page.Pagination.NextKey)
	none, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: pending})
	s.Require().NoError(err)
	s.Require().Empty(none.Votes)
}

func (s *KeeperTestSuite) TestQueryServices() {
	id1 := s.createService(defaultManifest(""))
	m := defaultManifest("")
	m.Name = "second"
	id2 := s.createService(m)

	res, err := s.queryServer.Services(s.ctx, &types.QueryServicesRequest{})
	s.Require().NoError(err)
	s.Require().Len(res.Services, 2)
	s.Require().Equal(id1, res.Services[0].Id)
	s.Require().Equal(id2, res.Services[1].Id)
	s.Require().Equal("second", res.Services[1].Manifest.Name)

	page, err := s.queryServer.Services(s.ctx, &types.QueryServicesRequest{Pagination: &query.PageRequest{Limit: 1}})
	s.Require().NoError(err)
	s.Require().Len(page.Services, 1)
	s.Require().Equal(id1, page.Services[0].Id)
	page, err = s.queryServer.Services(s.ctx, &types.QueryServicesRequest{Pagination: &query.PageRequest{Key: page.Pagination.NextKey, Limit: 1}})
	s.Require().NoError(err)
	s.Require().Len(page.Services, 1)
	s.Require().Equal(id2, page.Services[0].Id)

	one, err := s.queryServer.Service(s.ctx, &types.QueryServiceRequest{ServiceId: id2})
	s.Require().NoError(err)
	s.Require().Equal(res.Services[1], one.Service)

	comps, err := s.queryServer.Components(s.ctx, &types.QueryComponentsRequest{})
	s.Require().NoError(err)
	s.Require().Len(comps.Components, 1, "both services use the one component")
	s.Require().Equal(types.Digest(validWasm()), comps.Components[0].Digest)
}

func (s *KeeperTestSuite) TestQueryErrors() {
	id, _ := s.exactService("0.51", 0, 1)
	tid := s.createTask(id)
	unknownDigest := types.Digest([]byte("never stored"))

	testCases := []struct {
		name    string
		query   func() error
		expCode codes.Code
	}{
		{"task: unknown id", func() error {
			_, err := s.queryServer.Task(s.ctx, &types.QueryTaskRequest{TaskId: tid + 1})
			return err
		}, codes.NotFound},
		{"tasks: unknown service", func() error {
			_, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: 99})
			return err
		}, codes.NotFound},
		{"tasks: unknown status", func() error {
			_, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id, Status: 9})
			return err
		}, codes.InvalidArgument},
		{"task votes: unknown task", func() error {
			_, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: 99})
			return err
		}, codes.NotFound},
		{"service: unknown id", func() error {
			_, err := s.queryServer.Service(s.ctx, &types.QueryServiceRequest{ServiceId: 99})
			return err
		}, codes.NotFound},
		{"service operators: unknown service", func() error {
			_, err := s.queryServer.ServiceOperators(s.ctx, &types.QueryServiceOperatorsRequest{ServiceId: 99})
			return err
		}, codes.NotFound},
		{"component: unknown digest", func() error {
			_, err := s.queryServer.Component(s.ctx, &types.QueryComponentRequest{Digest: unknownDigest})
			return err
		}, codes.NotFound},
		{"component code: unknown digest", func() error {
			_, err := s.queryServer.ComponentCode(s.ctx, &types.QueryComponentCodeRequest{Digest: unknownDigest})
			return err
		}, codes.NotFound},
		{"operator: unknown", func() error {
			_, err := s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: addr("nobody")})
			return err
		}, codes.NotFound},
		{"operator: not an address", func() error {
			_, err := s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: "nobody"})
			return err
		}, codes.InvalidArgument},
		{"task: nil request", func() error {
			_, err := s.queryServer.Task(s.ctx, nil)
			return err
		}, codes.InvalidArgument},
		{"tasks: nil request", func() error {
			_, err := s.queryServer.Tasks(s.ctx, nil)
			return err
		}, codes.InvalidArgument},
		{"task votes: nil request", func() error {
			_, err := s.queryServer.TaskVotes(s.ctx, nil)
			return err
		}, codes.InvalidArgument},
		{"services: nil request", func() error {
			_, err := s.queryServer.Services(s.ctx, nil)
			return err
		}, codes.InvalidArgument},
		{"components: nil request", func() error {
			_, err := s.queryServer.Components(s.ctx, nil)
			return err
		}, codes.InvalidArgument},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			err := tc.query()
			s.Require().Error(err)
			s.Require().Equal(tc.expCode, status.Code(err), err.Error())
		})
	}
}

// TestQueryTaskForOperator: Task with an operator says whether the operator
// is in the task's snapshot and has voted (the sidecar's H1 check: a vote
// still counts after the task completed, judged by the snapshot, not by
// current opt-ins).
func (s *KeeperTestSuite) TestQueryTaskForOperator() {
	svc, ops := s.exactService("0.51", 0, 3)
	tid := s.createTask(svc)
	ask := func(op string) *types.QueryTaskResponse {
		res, err := s.queryServer.Task(s.ctx, &types.QueryTaskRequest{TaskId: tid, Operator: op})
		s.Require().NoError(err)
		return res
	}
	s.Require().Equal(&types.QueryTaskResponse{Task: s.task(tid), InSnapshot: true, OperatorPower: 1}, ask(ops[0]))
	s.mustVote(ops[0], tid, "A")
	s.mustVote(ops[1], tid, "A")
	res := ask(ops[0])
	s.Require().Equal(types.TASK_STATUS_COMPLETED, res.Task.Status)
	s.Require().True(res.InSnapshot)
	s.Require().True(res.Voted)
	late := ask(ops[2])
	s.Require().True(late.InSnapshot, "opted in when the task was created")
	s.Require().False(late.Voted)

	outsider := addr("outsider")
	s.Require().Equal(&types.QueryTaskResponse{Task: s.task(tid)}, ask(outsider))

	_, err := s.queryServer.Task(s.ctx, &types.QueryTaskRequest{TaskId: tid, Operator: "not-an-address"})
	s.Require().Equal(codes.InvalidArgument, status.Code(err))
}
