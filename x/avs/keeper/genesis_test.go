package keeper_test

import (
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

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
	s.Require().Equal(testParams(), kept)
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
	m.Quorum.Weighting = types.WEIGHTING_STAKE // ops[0] alone (200 of 300) makes the quorum
	id, ops := s.setupService(m, 2)
	alice := s.fundAndCommit("alice", ops[0], id, 300)
	s.uncommit(alice, ops[0], id, 100)
	s.fundAndCommit("bob", ops[1], id, 100)
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
	s.Require().Equal(s.state().Balances, stateOf(s, ctx, e.keeper, e.bank, e.key).Balances)
	l, err := e.keeper.Liveness.Get(ctx, collections.Join(id, ops[1]))
	s.Require().NoError(err)
	s.Require().Equal(s.liveness(id, ops[1]), l)
	s.Require().True(l.Jailed)
}

// TestGenesisExportImportLiveState exports a chain with services, operators,
// a pending task with two votes and a completed one, imports it into a fresh
// keeper, and checks that the second export is the first, that the derived
// indexes and tallies are rebuilt as they were, and that the imported chain
// carries on: a third matching vote completes the pending task.
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
	s.mustVote(ops[2], completed, "A")
	s.mustVote(ops[3], completed, "B") // late
	expired := s.createTask(id)
	s.ctx = s.ctx.WithBlockHeight(22)
	pending := s.createTask(id)
	s.mustVote(ops[0], pending, "A")
	s.mustVote(ops[1], pending, "A")
	s.ctx = s.ctx.WithBlockHeight(30)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(completed).Status)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(expired).Status)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(pending).Status)
	// Liveness waits for the epoch's last open task (pending): the two
	// settled ones are counted, nobody's window yet.
	counts, err := s.keeper.EpochTasks.Get(s.ctx, collections.Join(id, s.task(pending).Epoch))
	s.Require().NoError(err)
	s.Require().Equal(types.EpochTasks{Open: 1, Settled: 2}, counts)
	s.Require().Zero(s.liveness(id, ops[1]).Missed)

	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(exported.Validate())
	s.Require().Len(exported.Services, 2)
	s.Require().Len(exported.Operators, 4)
	s.Require().Len(exported.OptIns, 5)
	s.Require().Len(exported.Allowlist, 6)
	s.Require().Len(exported.Tasks, 3)
	s.Require().Len(exported.Votes, 6)
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
	s.Require().Equal(s.state(), stateOf(s, other.ctx, other.keeper, other.bank, other.key),
		"indexes and tallies are rebuilt as they were")

	// The imported chain carries on from the tallies it rebuilt.
	res, err := other.msgServer.SubmitResults(other.ctx, &types.MsgSubmitResults{Operator: ops[3], Results: []types.TaskResult{{TaskId: pending, Result: []byte("A")}}})
	s.Require().NoError(err)
	s.Require().Equal([]types.ResultOutcome{{TaskId: pending, Accepted: true, TaskStatus: types.TASK_STATUS_COMPLETED}}, res.Outcomes)
	task, err := other.keeper.Tasks.Get(other.ctx, pending)
	s.Require().NoError(err)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, task.Status)
	s.Require().Equal(uint64(3), task.PowerFor)
	s.Require().False(other.bank.ModuleBalance(types.ModuleName, denom).IsZero(), "the fee is paid at the end of the block")
	otherParams, err := other.keeper.Params.Get(other.ctx)
	s.Require().NoError(err)
	s.Require().NoError(other.keeper.PayDecided(other.ctx, otherParams))
	held, err := other.keeper.OperatorRewards.Get(other.ctx, ops[3])
	s.Require().NoError(err)
	s.Require().True(held.IsPositive(), "the backer is credited")
	s.Require().NoError(other.keeper.CheckModuleBalance(other.ctx), "the escrow is paid out: the module holds what the operators may withdraw")

	// ... the epoch's power snapshot came across: an operator opting in now
	// is not in it, so a new task still counts the four ...
	newcomer := addr("newcomer")
	_, err = other.msgServer.RegisterOperator(other.ctx, &types.MsgRegisterOperator{Operator: newcomer, Moniker: "newcomer"})
	s.Require().NoError(err)
	_, err = other.msgServer.UpdateAllowlist(other.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: id, Add: []string{newcomer}})
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

	// The liveness counters came across: once the epoch's last tasks settle,
	// its misses are counted with the answers given before the export.
	other.ctx = other.ctx.WithBlockHeight(task.DeadlineHeight)
	s.Require().NoError(other.keeper.EndBlocker(other.ctx))
	for i, want := range []uint64{2, 2, 3, 2} { // ops[2] answered task 1 of the 4; the others tasks 1 and 3
		o, err := other.keeper.Liveness.Get(other.ctx, collections.Join(id, ops[i]))
		s.Require().NoError(err)
		s.Require().Equal(want, o.Missed, "operator %d", i)
	}
}

// The share accounting survives an export and import: pools whose tokens a
// slash lowered below their shares, a pool renewed after a slash to nothing
// (and the reward index its old generation ended at), unbonding pools of two
// epochs. The imported chain exports the same state, holds its invariants,
// and pays the same as the original.
func (s *KeeperTestSuite) TestGenesisShareAccountingRoundTrip() {
	gs := s.shareState()
	s.Require().NoError(gs.Validate())
	s.Require().NotEmpty(gs.UnbondingPools)
	s.Require().NotEmpty(gs.PoolGenerationEnds)

	e := s.newEnv()
	for a, c := range s.bank.Balances {
		e.bank.Balances[a] = c
	}
	ctx := e.ctx.WithBlockHeight(s.ctx.BlockHeight()).WithBlockTime(s.ctx.BlockTime())
	s.Require().NoError(e.keeper.InitGenesis(ctx, gs))
	again, err := e.keeper.ExportGenesis(ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, again)
	s.Require().NoError(e.keeper.CheckModuleBalance(ctx))
	s.Require().NoError(e.keeper.CheckShares(ctx))

	// both chains mature every entry alike
	later := s.ctx.BlockTime().Add(s.params().UnbondingTime + time.Hour)
	s.ctx = s.ctx.WithBlockTime(later)
	ctx = ctx.WithBlockTime(later)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().NoError(e.keeper.EndBlocker(ctx))
	s.Require().Equal(s.state().Balances, stateOf(s, ctx, e.keeper, e.bank, e.key).Balances)
}

// shareState builds a chain with slashed, renewed and unbonding pools and
// returns its export.
func (s *KeeperTestSuite) shareState() *types.GenesisState {
	s.startClock()
	m := defaultManifest("")
	m.TaskTimeout = 20
	m.SlashFraction = dec("0.3")
	id, ops := s.setupService(m, 3)
	wipe := defaultManifest(types.Digest(validWasm()))
	wipe.TaskTimeout = 20
	wipe.SlashFraction = dec("1")
	wipeID := s.createService(wipe)
	for _, op := range ops {
		s.optIn(op, wipeID)
	}
	bad := ops[2]
	alice := s.fundAndCommit("alice", bad, id, 1000)
	bob := s.fundAndCommit("bob", bad, id, 333)
	carol := s.fundAndCommit("carol", bad, wipeID, 700)
	s.uncommit(bob, bad, id, 33) // epoch 0
	s.nextEpoch()
	t := s.createTask(id)
	w := s.createTask(wipeID)
	s.uncommit(alice, bad, id, 100) // epoch 1
	s.uncommit(carol, bad, wipeID, 70)
	for _, task := range []uint64{t, w} {
		s.mustVote(bad, task, "B")
		s.mustVote(ops[0], task, "A")
		s.mustVote(ops[1], task, "A")
	}
	s.fundAndCommit("dave", bad, wipeID, 50) // renews the wiped pool
	s.requireBalanced()
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	return gs
}

// Genesis validation refuses share accounting that does not add up.
func (s *KeeperTestSuite) TestGenesisValidatesShares() {
	base := s.shareState()
	s.Require().NoError(base.Validate())
	poolOf := func(gs *types.GenesisState, gen uint64) *types.Pool {
		for i := range gs.Pools {
			if gs.Pools[i].Generation == gen {
				return &gs.Pools[i]
			}
		}
		s.FailNow("no pool of generation", gen)
		return nil
	}
	testCases := []struct {
		name     string
		malleate func(gs *types.GenesisState)
		expErr   string
	}{
		{"negative commitment shares", func(gs *types.GenesisState) { gs.Commitments[0].Shares = sdkmath.NewInt(-1) }, "negative or missing shares"},
		{"commitment shares do not add up", func(gs *types.GenesisState) {
			gs.Commitments[0].Shares = gs.Commitments[0].Shares.AddRaw(1)
		}, "its holders"},
		{"tokens exceed shares", func(gs *types.GenesisState) {
			p := poolOf(gs, 0)
			p.Total = p.Shares.AddRaw(1)
		}, "tokens never exceed shares"},
		{"negative pool tokens", func(gs *types.GenesisState) { poolOf(gs, 0).Total = sdkmath.NewInt(-5) }, "negative or missing tokens"},
		{"missing pool shares", func(gs *types.GenesisState) { poolOf(gs, 0).Shares = sdkmath.Int{} }, "negative or missing tokens or shares"},
		{"an old generation without its end", func(gs *types.GenesisState) { gs.PoolGenerationEnds = nil }, "has no end"},
		{"a commitment of a future generation", func(gs *types.GenesisState) {
			c := gs.Commitments[0]
			c.Committer, c.Generation, c.Shares = addr("stranger"), 7, sdkmath.ZeroInt()
			gs.Commitments = append(gs.Commitments, c)
		}, "generation 7"},
		{"duplicate generation end", func(gs *types.GenesisState) {
			gs.PoolGenerationEnds = append(gs.PoolGenerationEnds, gs.PoolGenerationEnds[0])
		}, "appears twice"},
		{"duplicate commitment", func(gs *types.GenesisState) { gs.Commitments = append(gs.Commitments, gs.Commitments[0]) }, "appears twice"},
		{"entry shares do not add up", func(gs *types.GenesisState) {
			for i := range gs.Unbonding {
				e := &gs.Unbonding[i]
				if e.Shares.IsPositive() && e.ServiceId == gs.UnbondingPools[0].ServiceId && e.Epoch == gs.UnbondingPools[0].Epoch {
					e.Shares = e.Shares.SubRaw(1)
					return
				}
			}
		}, "its holders"},
		{"negative entry shares", func(gs *types.GenesisState) { gs.Unbonding[0].Shares = sdkmath.NewInt(-1) }, "negative or missing shares"},
		{"unbonding pool without shares", func(gs *types.GenesisState) {
			gs.UnbondingPools[0].Shares = sdkmath.ZeroInt()
		}, "has no shares"},
		{"unbonding pool tokens exceed shares", func(gs *types.GenesisState) {
			gs.UnbondingPools[0].Total = gs.UnbondingPools[0].Shares.AddRaw(1)
		}, "tokens never exceed shares"},
		{"duplicate unbonding pool", func(gs *types.GenesisState) {
			gs.UnbondingPools = append(gs.UnbondingPools, gs.UnbondingPools[0])
		}, "appears twice"},
		{"pool pending shares above its shares (L-2)", func(gs *types.GenesisState) {
			p := poolOf(gs, 0)
			p.PendingShares = p.Shares.AddRaw(1)
		}, "pending shares"},
		{"commitment pending shares above its shares (L-2)", func(gs *types.GenesisState) {
			gs.Commitments[0].PendingShares = gs.Commitments[0].Shares.AddRaw(1)
		}, "pending shares"},
		{"a pending join without holders (L-2)", func(gs *types.GenesisState) {
			gs.PendingJoins = append(gs.PendingJoins, types.PendingJoin{Operator: gs.Pools[0].Operator, ServiceId: gs.Pools[0].ServiceId,
				Epoch: 3, RewardIndex: sdkmath.LegacyZeroDec()})
		}, "no holders"},
		{"a pending join twice (L-2)", func(gs *types.GenesisState) {
			j := types.PendingJoin{Operator: gs.Pools[0].Operator, ServiceId: gs.Pools[0].ServiceId, Epoch: 3, RewardIndex: sdkmath.LegacyZeroDec(), Holders: 1}
			gs.PendingJoins = append(gs.PendingJoins, j, j)
		}, "appears twice"},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			var gs types.GenesisState
			bz, err := base.Marshal()
			s.Require().NoError(err)
			s.Require().NoError(gs.Unmarshal(bz))
			tc.malleate(&gs)
			err = gs.Validate()
			s.Require().ErrorIs(err, types.ErrInvalidGenesis)
			s.Require().Contains(err.Error(), tc.expErr)
		})
	}
}
