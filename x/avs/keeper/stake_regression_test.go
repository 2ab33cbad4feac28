package keeper_test

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Rewards are accounted (pool outstanding, withdrawals) in the stake denom,
// so a task fee in another denom must be refused, also on a free service,
// where no fee_per_task pins the denom. Before the fix a free service took a
// 1000uatom tip, credited 1000 to its committers' pool and let them withdraw
// 1000uavs out of other committers' stake.
func (s *KeeperTestSuite) TestFeeInAnotherDenomRefused() {
	m := defaultManifest("")
	m.FeePerTask = sdk.Coin{}
	m.TaskTimeout = 20
	id, ops := s.setupService(m, 1)
	alice := s.fundAndCommit("alice", ops[0], id, 100)
	s.fundAndCommit("bob", ops[0], s.createService(defaultManifest(types.Digest(validWasm()))), 5000)
	s.bank.Fund(acc("creator"), sdk.NewCoins(sdk.NewInt64Coin("uatom", 1000)))

	before := s.stakeState()
	_, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: sdk.NewInt64Coin("uatom", 1000),
	})
	s.Require().ErrorIs(err, types.ErrWrongDenom)
	s.requireStakeUnchanged(before)

	// a tip in the stake denom is fine and rewards the committers
	res, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: stake(1000),
	})
	s.Require().NoError(err)
	s.mustVote(ops[0], res.TaskId, "A")
	s.Require().Equal(int64(1000), s.pendingRewards(alice))
	s.requireBalanced()
}

// A task that completed before its deadline is still waiting to be settled
// (liveness counted) at its deadline: an export and import must keep it in the
// deadline index. Before the fix InitGenesis indexed PENDING tasks only, so
// such a task was never settled after a genesis import.
func (s *KeeperTestSuite) TestGenesisKeepsUnsettledCompletedTasks() {
	s.startClock()
	s.setParams(func(p *types.Params) { p.LivenessWindow, p.JailThreshold = 4, 1 })
	m := defaultManifest("")
	m.TaskTimeout = 20
	id, ops := s.setupService(m, 2)
	alice := s.fundAndCommit("alice", ops[0], id, 300)
	s.uncommit(alice, ops[0], id, 100)
	s.fundService(id, 500)
	done := s.createTask(id)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], done, "A"))
	pending := s.createTask(id)
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)

	e := s.newEnv()
	for a, c := range s.bank.Balances { // the same ledger, in its own bank
		e.bank.Balances[a] = c
	}
	ctx := e.ctx.WithBlockTime(s.ctx.BlockTime())
	s.Require().NoError(e.keeper.InitGenesis(ctx, gs))
	s.Require().Equal(keys(s, s.ctx, s.keeper.TasksByDeadline), keys(s, ctx, e.keeper.TasksByDeadline))
	s.Require().Equal(keys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys), keys(s, ctx, e.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys))
	s.Require().Equal(multiKeys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByService), multiKeys(s, ctx, e.keeper.CommitmentsByPool.Indexes.ByService))
	s.Require().Equal(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByTime), multiKeys(s, ctx, e.keeper.Unbonding.Indexes.ByTime))
	s.Require().Equal(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByPool), multiKeys(s, ctx, e.keeper.Unbonding.Indexes.ByPool))
	s.Require().Equal(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByCommitter), multiKeys(s, ctx, e.keeper.Unbonding.Indexes.ByCommitter))
	again, err := e.keeper.ExportGenesis(ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, again)

	// at the deadline both chains settle both tasks and jail the absentee
	deadline := s.task(pending).DeadlineHeight
	s.ctx = s.ctx.WithBlockHeight(deadline)
	ctx = ctx.WithBlockHeight(deadline)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().NoError(e.keeper.EndBlocker(ctx))
	for _, k := range []struct {
		ctx sdk.Context
		get func(uint64) types.Task
	}{
		{s.ctx, s.task},
		{ctx, func(id uint64) types.Task { t, err := e.keeper.Tasks.Get(ctx, id); s.Require().NoError(err); return t }},
	} {
		s.Require().True(k.get(done).Settled)
		s.Require().True(k.get(pending).Settled)
	}
	s.Require().NoError(e.keeper.CheckModuleBalance(ctx))
	s.Require().Equal(s.state().Balances, stateOf(s, ctx, e.keeper, e.bank).Balances)
	op, err := e.keeper.Operators.Get(ctx, ops[1])
	s.Require().NoError(err)
	s.Require().Equal(s.operator(ops[1]), op)
	s.Require().True(op.Jailed)
}
