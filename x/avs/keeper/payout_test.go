package keeper_test

import (
	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/types"
)

// Payouts at the end of the block (payout.go). TestQuorumCompletes checks a
// task's fee waits in escrow until EndBlock pays it.

// TestPayoutsWithinTheBlockBudget: EndBlock pays at most
// max_settlements_per_block decided tasks; the rest are paid first in the
// next block, and the module account stays balanced in between.
func (s *KeeperTestSuite) TestPayoutsWithinTheBlockBudget() {
	s.setParams(func(p *types.Params) { p.MaxSettlementsPerBlock = 2 })
	id, ops := s.exactService("0.51", 0, 3)
	var tasks []uint64
	for range 5 {
		tasks = append(tasks, s.createTask(id))
	}
	for _, op := range ops[:2] {
		msg := &types.MsgSubmitResults{Operator: op}
		for _, t := range tasks {
			msg.Results = append(msg.Results, types.TaskResult{TaskId: t, Result: []byte("A")})
		}
		_, err := s.msgServer.SubmitResults(s.ctx, msg)
		s.Require().NoError(err)
	}
	unpaid := func() (n int) {
		for _, t := range tasks {
			has, err := s.keeper.UnpaidTasks.Has(s.ctx, t)
			s.Require().NoError(err)
			if has {
				n++
			}
		}
		return n
	}
	s.Require().Equal(5, unpaid())
	s.requireBalanced()
	for _, want := range []int{3, 1, 0} {
		s.endBlockAt(s.ctx.BlockHeight() + 1)
		s.Require().Equal(want, unpaid())
		s.requireBalanced()
	}
	// 5 fees of 100 split between the two backers
	s.Require().Equal(int64(250), s.earned(ops[0]).Int64())
	s.Require().Equal(int64(250), s.earned(ops[1]).Int64())
	s.Require().Equal(s.heldForOperators(), s.moduleBalance(), "the module holds only the operators' claimable rewards")
}

// TestUnpaidTaskPaidBeforeItIsSettled: a decided task whose payout is still
// queued when its deadline comes (a backlog over the budget) is paid when it
// is settled, so that pruning never drops the votes its payout reads.
func (s *KeeperTestSuite) TestUnpaidTaskPaidBeforeItIsSettled() {
	id, ops := s.exactService("0.51", 0, 3)
	tid := s.createTask(id)
	for _, op := range ops[:2] {
		_, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{{TaskId: tid, Result: []byte("A")}}})
		s.Require().NoError(err)
	}
	// no EndBlock paid it (as when a backlog is over the per-block budget):
	// the settlement of its deadline reaches it while queued
	task := s.task(tid)
	s.ctx = s.ctx.WithBlockHeight(task.DeadlineHeight)
	s.Require().NoError(s.keeper.ExpireTasks(s.ctx))
	has, err := s.keeper.UnpaidTasks.Has(s.ctx, tid)
	s.Require().NoError(err)
	s.Require().False(has, "paid when settled")
	s.Require().True(s.task(tid).Settled)
	s.Require().Equal(int64(50), s.earned(ops[0]).Int64())
	s.Require().Equal(int64(50), s.earned(ops[1]).Int64())
	s.requireBalanced()
}

// TestUnpaidTasksThroughGenesis: a fee owed at export is still paid after
// import, and a genesis whose unpaid_tasks name no decided task is refused.
func (s *KeeperTestSuite) TestUnpaidTasksThroughGenesis() {
	id, ops := s.exactService("0.51", 0, 3)
	tid := s.createTask(id)
	pending := s.createTask(id)
	for _, op := range ops[:2] {
		_, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{{TaskId: tid, Result: []byte("A")}}})
		s.Require().NoError(err)
	}
	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal([]uint64{tid}, exported.UnpaidTasks)
	s.Require().NoError(exported.Validate())

	cases := []struct {
		name  string
		spoil func(gs *types.GenesisState)
		want  string
	}{
		{"no such task", func(gs *types.GenesisState) { gs.UnpaidTasks = []uint64{99} }, "unpaid task 99 is not a task"},
		{"twice", func(gs *types.GenesisState) { gs.UnpaidTasks = []uint64{tid, tid} }, "appears twice"},
		{"a pending task", func(gs *types.GenesisState) { gs.UnpaidTasks = []uint64{pending} }, "only a decided task not yet settled"},
		{"a vote's digest not its result's", func(gs *types.GenesisState) { gs.Votes[0].Digest = types.Digest([]byte("B")) }, "is not its result's"},
		{"a vote's operator not an address", func(gs *types.GenesisState) { gs.Votes[0].Operator = "op" }, `operator "op" is not an address`},
		{"an epoch answer's operator not an address", func(gs *types.GenesisState) { gs.EpochAnswers[0].Operator = "op" }, `operator "op" is not an address`},
	}
	for _, tc := range cases {
		s.Run(tc.name, func() { s.requireGenesisRefused(tc.spoil, tc.want) })
	}

	// a fresh chain, with the bank's balances as its genesis would carry them
	other := s.newEnv()
	other.ctx = other.ctx.WithBlockHeight(s.ctx.BlockHeight())
	for a, c := range s.bank.Balances {
		other.bank.Balances[a] = c
	}
	s.Require().NoError(other.keeper.InitGenesis(other.ctx, exported))
	s.Require().NoError(other.keeper.EndBlocker(other.ctx))
	has, err := other.keeper.UnpaidTasks.Has(other.ctx, tid)
	s.Require().NoError(err)
	s.Require().False(has)
	held, err := other.keeper.OperatorRewards.Get(other.ctx, ops[0])
	s.Require().NoError(err)
	s.Require().Equal(int64(50), held.Int64())
}

// TestOperatorRewardsClaimable: an operator's part of a fee is credited to
// it in x/avs (no bank send per task), shown by the Rewards query, and paid
// by its MsgWithdrawRewards; a genesis with a malformed entry is refused.
func (s *KeeperTestSuite) TestOperatorRewardsClaimable() {
	id, ops := s.exactService("0.51", 0, 3)
	tid := s.createTask(id)
	bankBefore := s.balance(ops[0])
	s.mustVote(ops[0], tid, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], tid, "A"))
	s.Require().Equal(bankBefore, s.balance(ops[0]), "no bank send per task")
	held, err := s.keeper.OperatorRewards.Get(s.ctx, ops[0])
	s.Require().NoError(err)
	s.Require().Equal(int64(50), held.Int64())
	s.requireBalanced()

	res, err := s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: ops[0]})
	s.Require().NoError(err)
	s.Require().Equal(stake(50), res.OperatorRewards)
	s.Require().True(res.Rewards.IsZero(), "no commitments")

	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Len(exported.OperatorRewards, 2)
	cases := []struct {
		name  string
		spoil func(gs *types.GenesisState)
		want  string
	}{
		{"not an address", func(gs *types.GenesisState) { gs.OperatorRewards[0].Operator = "op" }, `operator reward of "op": not an address`},
		{"twice", func(gs *types.GenesisState) { gs.OperatorRewards[1].Operator = gs.OperatorRewards[0].Operator }, "appears twice"},
		{"zero", func(gs *types.GenesisState) { gs.OperatorRewards[0].Amount = sdkmath.ZeroInt() }, "must be positive"},
	}
	for _, tc := range cases {
		s.Run(tc.name, func() { s.requireGenesisRefused(tc.spoil, tc.want) })
	}

	ctx := s.withEvents()
	wres, err := s.msgServer.WithdrawRewards(ctx, &types.MsgWithdrawRewards{Committer: ops[0]})
	s.Require().NoError(err)
	s.Require().Equal(stake(50), wres.Amount)
	s.Require().Equal(bankBefore.AddRaw(50), s.balance(ops[0]))
	s.Require().Len(s.typedEvents(ctx, &types.EventRewardsWithdrawn{}), 1)
	has, err := s.keeper.OperatorRewards.Has(s.ctx, ops[0])
	s.Require().NoError(err)
	s.Require().False(has)
	_, err = s.msgServer.WithdrawRewards(s.ctx, &types.MsgWithdrawRewards{Committer: ops[0]})
	s.Require().ErrorIs(err, types.ErrNoRewards)
	s.requireBalanced()
}

// TestPayoutFailureRefundsAndNeverHalts: a payout that fails (here a backer
// whose operator record is gone) must not fail EndBlock, which would halt
// the chain: nothing of it is written, the fee goes back to the creator and
// EventTaskSkipped says why.
func (s *KeeperTestSuite) TestPayoutFailureRefundsAndNeverHalts() {
	id, ops := s.exactService("0.51", 0, 3)
	tid := s.createTask(id)
	creatorBefore := s.balance(s.creator())
	for _, op := range ops[:2] {
		_, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{{TaskId: tid, Result: []byte("A")}}})
		s.Require().NoError(err)
	}
	s.Require().NoError(s.keeper.Operators.Remove(s.ctx, ops[1]))
	s.requirePayoutRefunded(tid, creatorBefore, "could not be paid to its backers and was refunded")
	s.Require().True(s.earned(ops[0]).IsZero(), "nothing of the failed payout is kept")

	// a decided task whose backing votes are gone (pruned too early, say):
	// refunded too, never left in the module account
	tid = s.createTask(id)
	creatorBefore = s.balance(s.creator())
	for _, op := range []string{ops[0], ops[2]} {
		_, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{{TaskId: tid, Result: []byte("A")}}})
		s.Require().NoError(err)
	}
	for _, op := range []string{ops[0], ops[2]} {
		s.Require().NoError(s.keeper.Votes.Remove(s.ctx, collections.Join(tid, op)))
	}
	s.requirePayoutRefunded(tid, creatorBefore, "no vote of task")
}

// requirePayoutRefunded runs EndBlock, which must not fail, and checks that
// the task's fee went back to its creator with EventTaskSkipped saying why.
func (s *KeeperTestSuite) requirePayoutRefunded(tid uint64, creatorBefore sdkmath.Int, why string) {
	ctx := s.withEvents()
	s.Require().NoError(s.keeper.EndBlocker(ctx))
	has, err := s.keeper.UnpaidTasks.Has(s.ctx, tid)
	s.Require().NoError(err)
	s.Require().False(has)
	s.Require().Equal(creatorBefore.AddRaw(defaultFee), s.balance(s.creator()), "refunded")
	evs := s.typedEvents(ctx, &types.EventTaskSkipped{})
	s.Require().Len(evs, 1)
	s.Require().Contains(evs[0].(*types.EventTaskSkipped).Reason, why)
	s.requireBalanced()
}
