package keeper_test

import (
	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

func (s *KeeperTestSuite) TestGenesisRoundTrip() {
	gs := types.DefaultGenesis()
	gs.Params.EpochLength = 11
	gs.Params.MaxVotesPerTx = 3
	s.Require().NoError(s.keeper.InitGenesis(s.ctx, gs))

	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, exported)
}

func (s *KeeperTestSuite) TestInitGenesisRefusesInvalidState() {
	gs := types.DefaultGenesis()
	gs.Params.LivenessWindow = 0
	err := s.keeper.InitGenesis(s.ctx, gs)
	s.Require().ErrorIs(err, types.ErrInvalidGenesis)
	s.Require().Contains(err.Error(), "liveness_window")

	kept, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal(types.DefaultParams(), kept)
}

// A task that completed before its deadline is still waiting to be settled
// (liveness counted) at its deadline: an export and import must keep it in the
// deadline index, not only the PENDING tasks, or such a task is never settled
// after a genesis import.
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

// TestGenesisExportImportLiveState exports a chain with services, operators,
// a pending task with one vote and a completed one, imports it into a fresh
// keeper, and checks that the second export is the first, that the derived
// indexes and tallies are rebuilt as they were, and that the imported chain
// carries on: a second matching vote completes the pending task.
func (s *KeeperTestSuite) TestGenesisExportImportLiveState() {
	m := defaultManifest(s.storeComponent())
	m.TaskTimeout = 20
	m.Config = []types.ConfigEntry{{Key: "PAIR", Value: "ATOM/USD"}, {Key: "SOURCE", Value: "x"}, {Key: "DEPTH", Value: "3"}}
	id, ops := s.setupService(m, 4)
	gated := defaultManifest(types.Digest(validWasm()))
	gated.Admission = types.ADMISSION_ALLOWLIST
	gatedID := s.createService(gated)
	_, err := s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: gatedID, Add: []string{ops[0], addr("someone")}})
	s.Require().NoError(err)
	s.optIn(ops[0], gatedID)

	completed := s.createTask(id)
	s.mustVote(ops[0], completed, "A")
	s.mustVote(ops[1], completed, "A")
	s.mustVote(ops[2], completed, "B") // late
	expired := s.createTask(id)
	s.ctx = s.ctx.WithBlockHeight(22)
	pending := s.createTask(id)
	s.mustVote(ops[0], pending, "A")
	s.ctx = s.ctx.WithBlockHeight(30)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(completed).Status)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(expired).Status)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(pending).Status)
	s.Require().Equal(uint64(1), s.operator(ops[1]).Missed)

	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(exported.Validate())
	s.Require().Len(exported.Services, 2)
	s.Require().Len(exported.Operators, 4)
	s.Require().Len(exported.OptIns, 5)
	s.Require().Len(exported.Allowlist, 2)
	s.Require().Len(exported.Tasks, 3)
	s.Require().Len(exported.Votes, 4)
	s.Require().Equal(uint64(3), exported.NextServiceId)
	s.Require().Equal(uint64(4), exported.NextTaskId)

	// A fresh chain: this module's genesis, and the bank's balances as the
	// bank module's own genesis would carry them (the escrow included).
	other := s.newEnv()
	other.ctx = other.ctx.WithBlockHeight(30)
	for a, c := range s.bank.Balances {
		other.bank.Balances[a] = c
	}
	s.Require().NoError(other.keeper.InitGenesis(other.ctx, exported))

	again, err := other.keeper.ExportGenesis(other.ctx)
	s.Require().NoError(err)
	s.Require().Equal(exported, again)
	s.Require().Equal(s.state(), stateOf(s, other.ctx, other.keeper, other.bank),
		"indexes and tallies are rebuilt as they were")

	// The imported chain carries on from the tallies it rebuilt.
	res, err := other.msgServer.SubmitResults(other.ctx, &types.MsgSubmitResults{Operator: ops[3], Results: []types.TaskResult{{TaskId: pending, Result: []byte("A")}}})
	s.Require().NoError(err)
	s.Require().Equal([]types.ResultOutcome{{TaskId: pending, Accepted: true, TaskStatus: types.TASK_STATUS_COMPLETED}}, res.Outcomes)
	task, err := other.keeper.Tasks.Get(other.ctx, pending)
	s.Require().NoError(err)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, task.Status)
	s.Require().Equal(uint64(2), task.PowerFor)
	s.Require().True(other.bank.ModuleBalance(types.ModuleName, denom).IsZero(), "the escrow is paid out")

	// ... the epoch's power snapshot came across: an operator opting in now
	// is not in it, so a new task still counts the four ...
	newcomer := addr("newcomer")
	_, err = other.msgServer.RegisterOperator(other.ctx, &types.MsgRegisterOperator{Operator: newcomer, Moniker: "newcomer"})
	s.Require().NoError(err)
	_, err = other.msgServer.OptIn(other.ctx, &types.MsgOptIn{Operator: newcomer, ServiceId: id})
	s.Require().NoError(err)
	created, err := other.msgServer.CreateTask(other.ctx, &types.MsgCreateTask{Creator: s.creator(), ServiceId: id, Fee: m.FeePerTask})
	s.Require().NoError(err)
	task, err = other.keeper.Tasks.Get(other.ctx, created.TaskId)
	s.Require().NoError(err)
	s.Require().Equal(uint64(4), task.PowerTotal)
	res, err = other.msgServer.SubmitResults(other.ctx, &types.MsgSubmitResults{Operator: newcomer, Results: []types.TaskResult{{TaskId: created.TaskId, Result: []byte("A")}}})
	s.Require().NoError(err)
	s.Require().ErrorIs(outcomeErr(res.Outcomes[0]), types.ErrNotOptedIn)

	// ... and the id sequences continue.
	s.Require().Equal(exported.NextTaskId, created.TaskId)
	svc, err := other.msgServer.CreateService(other.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	s.Require().NoError(err)
	s.Require().Equal(exported.NextServiceId, svc.ServiceId)

	// The expired task is in no deadline index to be swept again.
	has, err := other.keeper.TasksByDeadline.Has(other.ctx, collections.Join(int64(30), expired))
	s.Require().NoError(err)
	s.Require().False(has)
}
