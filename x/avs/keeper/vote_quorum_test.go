package keeper_test

import (
	"sort"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// exactService creates an EXACT service with the threshold, min_operators
// and task timeout 20, and n operators.
func (s *KeeperTestSuite) exactService(threshold string, minOps uint32, n int) (uint64, []string) {
	m := defaultManifest("")
	m.Quorum.Threshold = dec(threshold)
	m.Quorum.MinOperators = minOps
	m.TaskTimeout = 20
	return s.setupService(m, n)
}

func (s *KeeperTestSuite) TestQuorumThreshold() {
	testCases := []struct {
		name      string
		threshold string
		minOps    uint32
		operators int
		// the vote, 1-based, that completes the task
		completesAt int
	}{
		{name: "just above one half: 3 of 4 at 0.51", threshold: "0.51", operators: 4, completesAt: 3},
		{name: "exact threshold: 3 of 5 at 0.6", threshold: "0.6", operators: 5, completesAt: 3},
		{name: "just under: 2 of 4 at 0.75 is not enough", threshold: "0.75", operators: 4, completesAt: 3},
		{name: "a hair above 3 of 4 needs all 4", threshold: "0.750000000000000001", operators: 4, completesAt: 4},
		{name: "unanimity", threshold: "1", operators: 4, completesAt: 4},
		{name: "2 of 3 at 0.51", threshold: "0.51", operators: 3, completesAt: 2},
		{name: "0.67 with 3 operators needs all 3 (I-3: an exact decimal >=)", threshold: "0.67", operators: 3, completesAt: 3},
		{name: "one operator", threshold: "1", operators: 1, completesAt: 1},
		{name: "min_operators 4 holds back a 0.51 threshold", threshold: "0.51", minOps: 4, operators: 5, completesAt: 4},
		{name: "min_operators above the operator count never completes", threshold: "0.51", minOps: 5, operators: 4, completesAt: 0},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, ops := s.exactService(tc.threshold, tc.minOps, tc.operators)
			tid := s.createTask(id)
			for i, op := range ops {
				status := s.mustVote(op, tid, "A")
				if i+1 < tc.completesAt || tc.completesAt == 0 {
					s.Require().Equal(types.TASK_STATUS_PENDING, status, "vote %d", i+1)
					s.Require().Equal(types.TASK_STATUS_PENDING, s.task(tid).Status)
					continue
				}
				if i+1 == tc.completesAt {
					s.Require().Equal(types.TASK_STATUS_COMPLETED, status, "vote %d completes the task in that very message", i+1)
					task := s.task(tid)
					s.Require().Equal(types.TASK_STATUS_COMPLETED, task.Status)
					s.Require().Equal(uint64(tc.completesAt), task.PowerFor)
					continue
				}
				vote, err := s.keeper.Votes.Get(s.ctx, collections.Join(tid, op))
				s.Require().NoError(err)
				s.Require().True(vote.Late, "vote %d comes after completion", i+1)
			}
		})
	}
}

// The vote that makes the quorum completes the task: result, indexes, event, payout.
func (s *KeeperTestSuite) TestQuorumCompletes() {
	id, ops := s.exactService("0.51", 0, 3)
	total := s.bank.Total(denom)
	tid := s.createTask(id)
	s.Require().Equal(int64(defaultFee), s.moduleBalance().Int64())
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], tid, "A"))

	s.ctx = s.ctx.WithBlockHeight(12)
	ctx := s.withEvents()
	res, err := s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: ops[1], Results: []types.TaskResult{{TaskId: tid, Result: []byte("A")}}})
	s.Require().NoError(err)
	s.Require().Equal([]types.ResultOutcome{{TaskId: tid, Accepted: true, TaskStatus: types.TASK_STATUS_COMPLETED}}, res.Outcomes)

	task := s.task(tid)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, task.Status)
	s.Require().Equal([]byte("A"), task.Result)
	s.Require().Equal(types.Digest([]byte("A")), task.ResultDigest)
	s.Require().Equal(uint64(2), task.PowerFor)
	s.Require().Equal(uint64(3), task.PowerTotal)
	s.Require().Equal(int64(12), task.EndedHeight)

	// A completed task stays in the deadline index until its deadline, when
	// the operators of its snapshot are counted for liveness.
	has, err := s.keeper.TasksByDeadline.Has(s.ctx, collections.Join(task.DeadlineHeight, tid))
	s.Require().NoError(err)
	s.Require().True(has, "a completed task waits for its deadline to be settled")
	pending, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id, Status: types.TASK_STATUS_PENDING})
	s.Require().NoError(err)
	s.Require().Empty(pending.Tasks)
	done, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id, Status: types.TASK_STATUS_COMPLETED})
	s.Require().NoError(err)
	s.Require().Len(done.Tasks, 1)

	// the fee is paid to the backers at the end of the block: until then it
	// stays in escrow, and the task waits in UnpaidTasks
	s.Require().True(s.earned(ops[0]).IsZero())
	s.Require().Equal(int64(defaultFee), s.moduleBalance().Int64())
	unpaid, err := s.keeper.UnpaidTasks.Has(s.ctx, tid)
	s.Require().NoError(err)
	s.Require().True(unpaid)
	s.requireBalanced()
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	unpaid, err = s.keeper.UnpaidTasks.Has(s.ctx, tid)
	s.Require().NoError(err)
	s.Require().False(unpaid)
	s.Require().Equal(int64(50), s.earned(ops[0]).Int64())
	s.Require().Equal(int64(50), s.earned(ops[1]).Int64())
	s.Require().Equal(s.heldForOperators(), s.moduleBalance(), "the module holds only the operators' claimable rewards")
	s.Require().Equal(total, s.bank.Total(denom))

	evs := s.typedEvents(ctx, &types.EventTaskCompleted{})
	s.Require().Len(evs, 1)
	ev := evs[0].(*types.EventTaskCompleted)
	s.Require().Equal(tid, ev.TaskId)
	s.Require().Equal(task.ResultDigest, ev.ResultDigest)
	s.Require().Equal(uint64(2), ev.PowerFor)
	s.Require().ElementsMatch([]string{ops[0], ops[1]}, ev.Operators)

	// the sweep at the deadline leaves the outcome alone, marks the task
	// settled and counts the operator that never voted as missing it
	s.ctx = s.ctx.WithBlockHeight(task.DeadlineHeight)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	settled := s.task(tid)
	s.Require().True(settled.Settled)
	settled.Settled = false
	s.Require().Equal(task, settled)
	s.Require().Equal(int64(50), s.earned(ops[0]).Int64())
	s.Require().Zero(s.liveness(id, ops[0]).Missed)
	s.Require().EqualValues(1, s.liveness(id, ops[2]).Missed)
	s.Require().EqualValues(1, s.liveness(id, ops[2]).WindowMissed)
	has, err = s.keeper.TasksByDeadline.Has(s.ctx, collections.Join(task.DeadlineHeight, tid))
	s.Require().NoError(err)
	s.Require().False(has, "settled at its deadline")
}

func (s *KeeperTestSuite) TestCompetingDigests() {
	id, ops := s.exactService("0.51", 0, 3)
	total := s.bank.Total(denom)
	tid := s.createTask(id)

	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], tid, "A"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[1], tid, "B"))
	tallyA, err := s.keeper.Tallies.Get(s.ctx, collections.Join(tid, keeper.TallyKey(types.Digest([]byte("A")))))
	s.Require().NoError(err)
	s.Require().Equal(types.Tally{Power: 1, Count: 1}, tallyA)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"))

	task := s.task(tid)
	s.Require().Equal([]byte("A"), task.Result)
	s.Require().Equal(uint64(2), task.PowerFor)
	s.Require().Equal(int64(50), s.earned(ops[0]).Int64())
	s.Require().True(s.earned(ops[1]).IsZero(), "the B voter backed the losing result")
	s.Require().Equal(int64(50), s.earned(ops[2]).Int64())
	s.Require().Equal(total, s.bank.Total(denom))
}

func (s *KeeperTestSuite) TestDuplicateVote() {
	id, ops := s.exactService("0.75", 0, 4)
	tid := s.createTask(id)

	s.Run("in a second message", func() {
		s.mustVote(ops[0], tid, "A")
		before := s.state()
		o := s.vote(ops[0], tid, "A")
		s.Require().ErrorIs(outcomeErr(o), types.ErrDuplicateVote)
		s.Require().Equal(types.TASK_STATUS_PENDING, o.TaskStatus)
		o = s.vote(ops[0], tid, "B")
		s.Require().ErrorIs(outcomeErr(o), types.ErrDuplicateVote, "a changed mind is a duplicate too")
		s.requireUnchanged(before)
	})
	s.Run("twice in one message", func() {
		res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: ops[1], Results: []types.TaskResult{
			{TaskId: tid, Result: []byte("A")}, {TaskId: tid, Result: []byte("B")},
		}})
		s.Require().NoError(err)
		s.Require().Len(res.Outcomes, 2)
		s.Require().True(res.Outcomes[0].Accepted)
		s.Require().ErrorIs(outcomeErr(res.Outcomes[1]), types.ErrDuplicateVote)
		vote, err := s.keeper.Votes.Get(s.ctx, collections.Join(tid, ops[1]))
		s.Require().NoError(err)
		s.Require().Equal([]byte("A"), vote.Result)
		tally, err := s.keeper.Tallies.Get(s.ctx, collections.Join(tid, keeper.TallyKey(types.Digest([]byte("A")))))
		s.Require().NoError(err)
		s.Require().Equal(types.Tally{Power: 2, Count: 2}, tally)
	})
}

// A task is voted on by the operators of its power snapshot: opting in later
// does not let an operator vote, opting out later does not stop it.
func (s *KeeperTestSuite) TestVoteSnapshotRule() {
	id, ops := s.exactService("0.75", 0, 4)
	tid := s.createTask(id)
	stranger := s.registerOperator("stranger")
	late := s.registerOperator("late")
	s.optIn(late, id)
	s.optOut(ops[3], id)

	before := s.state()
	s.Require().ErrorIs(outcomeErr(s.vote(stranger, tid, "A")), types.ErrNotOptedIn, "never opted in")
	s.Require().ErrorIs(outcomeErr(s.vote(late, tid, "A")), types.ErrNotOptedIn, "opted in after the task was created")
	s.requireUnchanged(before)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[3], tid, "A"), "opted out after the task was created")

	// Within the epoch the snapshot holds, for new tasks too.
	t2 := s.createTask(id)
	s.Require().Equal(uint64(4), s.task(t2).PowerTotal)
	s.Require().ErrorIs(outcomeErr(s.vote(late, t2, "A")), types.ErrNotOptedIn)

	// The next epoch takes a new one.
	s.ctx = s.ctx.WithBlockHeight(int64(types.DefaultEpochLength) + 5)
	t3 := s.createTask(id)
	task := s.task(t3)
	s.Require().Equal(uint64(1), task.Epoch)
	s.Require().Equal(uint64(4), task.PowerTotal)
	s.mustVote(late, t3, "A")
	s.Require().ErrorIs(outcomeErr(s.vote(ops[3], t3, "A")), types.ErrNotOptedIn)
}

func (s *KeeperTestSuite) TestVoteAfterDeadline() {
	id, ops := s.exactService("0.75", 0, 4)
	tid := s.createTask(id)
	deadline := s.task(tid).DeadlineHeight
	s.Require().Equal(int64(30), deadline)

	s.ctx = s.ctx.WithBlockHeight(deadline)
	s.mustVote(ops[0], tid, "A")

	s.ctx = s.ctx.WithBlockHeight(deadline + 1)
	before := s.state()
	o := s.vote(ops[1], tid, "A")
	s.Require().ErrorIs(outcomeErr(o), types.ErrVotingClosed)
	s.Require().Equal(types.TASK_STATUS_PENDING, o.TaskStatus, "not swept yet, but closed")
	s.requireUnchanged(before)
}

func (s *KeeperTestSuite) TestExpiry() {
	id, ops := s.exactService("0.75", 0, 4)
	creator := s.creator()
	total := s.bank.Total(denom)
	tid := s.createTask(id)
	s.Require().Equal(int64(creatorFunds-defaultFee), s.balance(creator).Int64())
	s.mustVote(ops[0], tid, "A")
	s.mustVote(ops[1], tid, "B")

	// one block early: nothing happens
	s.ctx = s.ctx.WithBlockHeight(29)
	before := s.state()
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.requireUnchanged(before)

	s.ctx = s.ctx.WithBlockHeight(30)
	ctx := s.withEvents()
	s.Require().NoError(s.keeper.EndBlocker(ctx))

	task := s.task(tid)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, task.Status)
	s.Require().Equal(int64(30), task.EndedHeight)
	s.Require().Empty(task.Result)
	s.Require().Equal(int64(creatorFunds), s.balance(creator).Int64(), "the fee is refunded")
	s.Require().Equal(s.heldForOperators(), s.moduleBalance(), "the module holds only the operators' claimable rewards")
	s.Require().Equal(total, s.bank.Total(denom))
	for i, op := range ops {
		want := uint64(0)
		if i >= 2 {
			want = 1
		}
		s.Require().Equal(want, s.liveness(id, op).Missed, "operator %d", i+1)
	}
	evs := s.typedEvents(ctx, &types.EventTaskExpired{})
	s.Require().Len(evs, 1)
	ev := evs[0].(*types.EventTaskExpired)
	s.Require().Equal(tid, ev.TaskId)
	s.Require().Equal(id, ev.ServiceId)
	s.Require().Equal(uint64(4), ev.PowerTotal)
	var missed []string
	for _, e := range s.typedEvents(ctx, &types.EventLivenessCounted{}) {
		lc := e.(*types.EventLivenessCounted)
		s.Require().Equal(uint64(1), lc.Missed)
		missed = append(missed, lc.Operator)
	}
	s.Require().ElementsMatch([]string{ops[2], ops[3]}, missed, "the epoch's review counts who missed")
	s.Require().Equal(task.Fee.String(), ev.Refund.String())

	keys := keys(s, s.ctx, s.keeper.TasksByDeadline)
	s.Require().Empty(keys)
	expired, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id, Status: types.TASK_STATUS_EXPIRED})
	s.Require().NoError(err)
	s.Require().Len(expired.Tasks, 1)

	// no more votes, and a second sweep neither refunds nor counts again
	before = s.state()
	s.Require().ErrorIs(outcomeErr(s.vote(ops[2], tid, "A")), types.ErrVotingClosed)
	s.ctx = s.ctx.WithBlockHeight(31)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.requireUnchanged(before)
}

// Two tasks with different deadlines expire each at its own height.
func (s *KeeperTestSuite) TestExpiryByDeadline() {
	id, _ := s.exactService("0.51", 0, 2)
	t1 := s.createTask(id)
	s.ctx = s.ctx.WithBlockHeight(15)
	t2 := s.createTask(id)

	s.ctx = s.ctx.WithBlockHeight(30)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(t1).Status)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(t2).Status)

	// a skipped height still sweeps everything due
	s.ctx = s.ctx.WithBlockHeight(40)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(t2).Status)
	s.Require().Equal(int64(creatorFunds), s.balance(s.creator()).Int64())
}

func (s *KeeperTestSuite) TestLateVote() {
	id, ops := s.exactService("0.51", 0, 5)
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "A")
	s.mustVote(ops[1], tid, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"))
	task := s.task(tid)
	balances := s.state().Balances
	tallies := s.state().Tallies

	for _, v := range []struct{ op, result string }{{ops[3], "A"}, {ops[4], "B"}} {
		ctx := s.withEvents()
		res, err := s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: v.op, Results: []types.TaskResult{{TaskId: tid, Result: []byte(v.result)}}})
		s.Require().NoError(err)
		s.Require().Equal([]types.ResultOutcome{{TaskId: tid, Accepted: true, TaskStatus: types.TASK_STATUS_COMPLETED}}, res.Outcomes)
		vote, err := s.keeper.Votes.Get(s.ctx, collections.Join(tid, v.op))
		s.Require().NoError(err)
		s.Require().True(vote.Late)
		s.Require().Equal([]byte(v.result), vote.Result)
		evs := s.typedEvents(ctx, &types.EventVoteAccepted{})
		s.Require().Len(evs, 1)
		s.Require().True(evs[0].(*types.EventVoteAccepted).Late)
		s.Require().Empty(s.typedEvents(ctx, &types.EventTaskCompleted{}))
	}
	s.Require().Equal(balances, s.state().Balances, "a late vote moves no tokens")
	s.Require().Equal(tallies, s.state().Tallies)
	s.Require().Equal(task, s.task(tid))

	votes, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: tid})
	s.Require().NoError(err)
	s.Require().Len(votes.Votes, 5)
}

// With equal power the fee splits evenly; the remainder goes to the first
// backer in address order.
func (s *KeeperTestSuite) TestFeeSplitEqualPower() {
	id, ops := s.exactService("0.75", 0, 4)
	total := s.bank.Total(denom)
	tid := s.createTask(id)
	s.mustVote(ops[3], tid, "A")
	s.mustVote(ops[1], tid, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"))

	backers := []string{ops[1], ops[2], ops[3]}
	sort.Strings(backers)
	s.Require().Equal(int64(34), s.earned(backers[0]).Int64())
	s.Require().Equal(int64(33), s.earned(backers[1]).Int64())
	s.Require().Equal(int64(33), s.earned(backers[2]).Int64())
	s.Require().True(s.earned(ops[0]).IsZero())
	s.Require().Equal(s.heldForOperators(), s.moduleBalance(), "the module holds only the operators' claimable rewards")
	s.Require().Equal(total, s.bank.Total(denom))
}

// With unequal power the fee splits by power, rounding down, and the
// remainder goes to the first backer in address order.
func (s *KeeperTestSuite) TestFeeSplitByPower() {
	id, ops := s.exactService("0.51", 0, 4)
	powers := fixedPower{{Operator: ops[0], Power: 1}, {Operator: ops[1], Power: 2}, {Operator: ops[2], Power: 3}, {Operator: ops[3], Power: 4}}
	s.usePowerSource(powers)
	total := s.bank.Total(denom)
	tid := s.createTask(id)
	s.Require().Equal(uint64(10), s.task(tid).PowerTotal)

	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], tid, "A"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[3], tid, "B"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[1], tid, "A"), "3 of 10")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"), "6 of 10")
	s.Require().Equal(uint64(6), s.task(tid).PowerFor)

	// 100 * 1/6 = 16, 100 * 2/6 = 33, 100 * 3/6 = 50: 99 paid, 1 left over.
	want := map[string]int64{ops[0]: 16, ops[1]: 33, ops[2]: 50}
	first := []string{ops[0], ops[1], ops[2]}
	sort.Strings(first)
	want[first[0]]++
	for op, amt := range want {
		s.Require().Equal(sdkmath.NewInt(amt), s.earned(op), op)
	}
	s.Require().True(s.earned(ops[3]).IsZero())
	s.Require().Equal(s.heldForOperators(), s.moduleBalance(), "the module holds only the operators' claimable rewards")
	s.Require().Equal(total, s.bank.Total(denom))
}
