package keeper_test

import (
	"fmt"

	"cosmossdk.io/collections"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs/types"
)

// failVote submits a failure vote, which must be accepted, and returns the
// task's status after it.
func (s *KeeperTestSuite) failVote(operator string, taskID uint64, reason types.FailureReason) types.TaskStatus {
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{
		Operator: operator, Results: []types.TaskResult{{TaskId: taskID, Failure: reason}},
	})
	s.Require().NoError(err)
	s.Require().Len(res.Outcomes, 1)
	s.Require().True(res.Outcomes[0].Accepted, "failure vote refused: %s", res.Outcomes[0].Error)
	return res.Outcomes[0].TaskStatus
}

// failureManifest is an EXACT service of 2-of-3 EQUAL operators (allowlisted)
// that slashes, with a liveness window in which 50 misses jail (the defaults).
func (s *KeeperTestSuite) failureService(n int) (uint64, []string) {
	s.startClock()
	m := defaultManifest("")
	m.Quorum.Threshold = dec("0.66")
	m.TaskTimeout = 10
	return s.setupService(m, n)
}

// The review's test (security review H-2): 150 tasks whose input the
// component cannot handle (square of "x") used to be missed by every honest
// operator and jail them all, for fees that came back. Now each operator
// votes the failure, the tasks end FAILED in the block of the votes, the fee
// pays the operators that ran them, and nobody is jailed or counted a miss.
func (s *KeeperTestSuite) TestH2FailingInputJailsNobody() {
	id, ops := s.failureService(3)
	const n = 150
	creator := s.creator()
	creatorBefore, opBefore := s.balance(creator), s.earned(ops[0])
	tasks := make([]uint64, n)
	for i := range tasks {
		res, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{Creator: creator, ServiceId: id, Input: []byte("x"), Fee: stake(defaultFee)})
		s.Require().NoError(err)
		tasks[i] = res.TaskId
	}
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	ctx := s.withEvents()
	s.ctx = ctx
	for _, tid := range tasks {
		s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[0], tid, types.FAILURE_REASON_EXIT))
		s.Require().Equal(types.TASK_STATUS_FAILED, s.failVote(ops[1], tid, types.FAILURE_REASON_EXIT))
		s.Require().Equal(types.TASK_STATUS_FAILED, s.failVote(ops[2], tid, types.FAILURE_REASON_EXIT), "a late failure vote is an answer")
	}
	for _, tid := range tasks {
		task := s.task(tid)
		s.Require().Equal(types.TASK_STATUS_FAILED, task.Status)
		s.Require().Equal(types.FAILURE_REASON_EXIT, task.Failure)
		s.Require().Empty(task.Result)
		s.Require().Equal(uint64(2), task.PowerFor)
	}
	evs := s.typedEvents(ctx, &types.EventTaskFailed{})
	s.Require().Len(evs, n)
	ev := evs[0].(*types.EventTaskFailed)
	s.Require().Equal(types.FAILURE_REASON_EXIT, ev.Reason)
	s.Require().ElementsMatch([]string{ops[0], ops[1]}, ev.Operators)

	// the asker paid: the fee went to the two operators whose failure votes
	// decided, at the end of the block
	s.payDecided()
	s.Require().Equal(creatorBefore.SubRaw(n*defaultFee), s.balance(creator))
	s.Require().Equal(opBefore.AddRaw(n*defaultFee/2), s.earned(ops[0]))

	s.endBlockAt(s.task(tasks[n-1]).DeadlineHeight)
	for _, op := range ops {
		l := s.liveness(id, op)
		s.Require().False(l.Jailed, op)
		s.Require().Zero(l.Missed, op)
	}
	s.Require().Empty(s.typedEvents(s.ctx, &types.EventOperatorJailed{}))
	s.requireBalanced()
}

// Failure votes are tallied together whatever their reason: the task fails
// on the power of all of them, and records the reason with the most power.
func (s *KeeperTestSuite) TestH2FailureReasonsTallyTogether() {
	id, ops := s.failureService(5)
	tid := s.createTask(id)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[0], tid, types.FAILURE_REASON_TIME))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[1], tid, types.FAILURE_REASON_MEMORY))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[2], tid, types.FAILURE_REASON_MEMORY))
	s.Require().Equal(types.TASK_STATUS_FAILED, s.failVote(ops[3], tid, types.FAILURE_REASON_TIME), "4 of 5 failed")
	s.Require().Equal(types.FAILURE_REASON_TIME, s.task(tid).Failure, "TIME and MEMORY tie at 2: the lower code")
	s.requireBalanced()
}

// A result quorum beats failure votes; a failure for a deterministic reason
// (the component trapped where the quorum got a result) is slashed like a
// losing result, one that depends on the machine (time, http) is not, on
// time or late.
func (s *KeeperTestSuite) TestH2FailureAgainstAResult() {
	s.startClock()
	m := defaultManifest("")
	m.Quorum.Threshold = dec("0.6")
	m.SlashFraction = dec("0.5")
	m.TaskTimeout = 10
	id, ops := s.setupService(m, 10)
	for i, op := range ops {
		s.fundAndCommit(string(rune('a'+i)), op, id, 1000)
	}
	tid := s.createTask(id)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[0], tid, types.FAILURE_REASON_TRAP))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[1], tid, types.FAILURE_REASON_TIME))
	for _, op := range ops[2:7] {
		s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(op, tid, "16"))
	}
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[7], tid, "16"), "6 of 10 results")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.failVote(ops[8], tid, types.FAILURE_REASON_HTTP))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.failVote(ops[9], tid, types.FAILURE_REASON_EXIT))
	for i, want := range []int64{500, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 500} {
		s.Require().Equal(want, s.pool(ops[i], id).Total.Int64(), "operator %d", i)
	}
	s.requireBalanced()
}

// A failure vote carries no result, and names a reason the enum knows.
func (s *KeeperTestSuite) TestH2FailureVoteValidation() {
	id, ops := s.failureService(3)
	tid := s.createTask(id)
	for _, r := range []types.TaskResult{
		{TaskId: tid, Failure: types.FAILURE_REASON_EXIT, Result: []byte("16")},
		{TaskId: tid, Failure: types.FailureReason(99)},
	} {
		res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: ops[0], Results: []types.TaskResult{r}})
		s.Require().NoError(err)
		s.Require().ErrorIs(outcomeErr(res.Outcomes[0]), types.ErrInvalidFailure)
	}
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(tid).Status)
}

// On a MEDIAN service, failures are tallied apart from the numbers: a quorum
// of failures fails the task, a failure never enters the median.
func (s *KeeperTestSuite) TestH2FailureOnMedian() {
	s.startClock()
	id, ops := s.setupService(medianManifest("", "0.7", "0.1"), 4)
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "100")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[1], tid, types.FAILURE_REASON_OUTPUT))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[2], tid, types.FAILURE_REASON_OUTPUT))
	s.Require().Equal(types.TASK_STATUS_FAILED, s.failVote(ops[3], tid, types.FAILURE_REASON_OUTPUT), "3 of 4 failed")
	s.Require().Equal(types.FAILURE_REASON_OUTPUT, s.task(tid).Failure)

	t2 := s.createTask(id)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.failVote(ops[0], t2, types.FAILURE_REASON_TIME))
	s.mustVote(ops[1], t2, "100")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[2], t2, "104"))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[3], t2, "102"), "3 of 4 numbers")
	s.Require().Equal("102", string(s.task(t2).Result), "the failure is not in the median")
	s.requireBalanced()
}

// The handler contract is told of a FAILED task: status "failed", the
// reason as the result (a field contracts built for completed/expired
// already decode).
func (s *KeeperTestSuite) TestH2HandlerToldOfFailure() {
	handler := contractAddr("handler")
	fake := &fakeContracts{}
	fake.do = s.writeAnd(10, func() error { return nil })
	serviceID, op := s.handlerService(fake, handler)
	taskID := s.createTask(serviceID)
	s.Require().Equal(types.TASK_STATUS_FAILED, s.failVote(op, taskID, types.FAILURE_REASON_EXIT))
	s.Require().Len(fake.calls, 1)
	//nolint:testifylint // the contract receives these exact bytes
	s.Require().Equal(fmt.Sprintf(
		`{"avs_task_result":{"task_id":"%d","service_id":"%d","status":"failed","input":"aW5wdXQ=","result":"ZXhpdA=="}}`,
		taskID, serviceID), fake.calls[0].msg, "result is base64 of \"exit\"")
}

// An IBC requester learns that its task failed: the ack's status "failed"
// makes the remote result FAILED with the reason.
func (s *KeeperTestSuite) TestH2RemoteRequestFailed() {
	s.pendingRequest("channel-0", 1, s.creator())
	s.keeper.SetContractKeeper(&fakeContracts{})
	ack := channeltypes.NewResultAcknowledgement(types.TaskAck{TaskID: "3", Status: "failed", Result: []byte("trap"),
		PowerFor: "2", PowerTotal: "3", Height: "41"}.GetBytes())
	s.Require().NoError(s.keeper.OnAcknowledgement(s.ctx, channeltypes.Packet{Sequence: 1, SourcePort: types.PortID, SourceChannel: "channel-0"}, ack))
	r, err := s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_FAILED, r.Status)
	s.Require().Contains(r.Error, "trap")
}
