package keeper_test

import (
	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/types"
)

// L-3: a genesis the chain would halt on, or pay out of, is refused at
// validation: a pending task without its power snapshot, a task creator or
// unbonding committer that is not an address (its refund or release would
// fail in EndBlock), a commission outside [0, 1], a negative treasury, an
// unbonding id twice.
func (s *KeeperTestSuite) TestL3GenesisRefusesWhatWouldHaltTheChain() {
	s.startClock()
	m := defaultManifest("")
	id, ops := s.setupService(m, 2)
	s.createTask(id)
	s.fundService(id, 1000)
	s.fundAndCommit("committer", ops[0], id, 100)
	s.uncommit(addr("committer"), ops[0], id, 10)
	s.uncommit(addr("committer"), ops[0], id, 10)
	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(exported.Validate())
	s.Require().NotEmpty(exported.Snapshots)
	s.Require().Len(exported.Unbonding, 2)

	cases := []struct {
		name  string
		spoil func(gs *types.GenesisState)
		want  string
	}{
		{"pending task without its snapshot", func(gs *types.GenesisState) { gs.Snapshots = nil }, "pending task 1 has no power snapshot"},
		{"task creator not an address", func(gs *types.GenesisState) { gs.Tasks[0].Creator = "nobody" }, `task 1 creator "nobody" is not an address`},
		{"negative commission", func(gs *types.GenesisState) { gs.Operators[0].Commission = sdkmath.LegacyNewDec(-1) }, "commission -1.000000000000000000 is not in [0, 1]"},
		{"commission over one", func(gs *types.GenesisState) { gs.Operators[0].Commission = sdkmath.LegacyNewDec(2) }, "is not in [0, 1]"},
		{"missing commission", func(gs *types.GenesisState) { gs.Operators[0].Commission = sdkmath.LegacyDec{} }, "is not in [0, 1]"},
		{"negative treasury", func(gs *types.GenesisState) { gs.Treasuries[0].Amount = sdkmath.NewInt(-1) }, "treasury of service 1 is negative"},
		{"treasury of no service", func(gs *types.GenesisState) { gs.Treasuries[0].ServiceId = 99 }, "treasury names unknown service 99"},
		{"unbonding id twice", func(gs *types.GenesisState) { gs.Unbonding[1].Id = gs.Unbonding[0].Id }, "appears twice"},
		{"unbonding committer not an address", func(gs *types.GenesisState) { gs.Unbonding[0].Committer = "x" }, `committer "x" is not an address`},
	}
	for _, tc := range cases {
		s.Run(tc.name, func() { s.requireGenesisRefused(tc.spoil, tc.want) })
	}
}

// L-8: changing epoch_length used to map new heights onto old epoch numbers
// and reuse a stale snapshot (operators who opted in since could not vote).
// Now the change starts a fresh epoch number.
func (s *KeeperTestSuite) TestL8EpochLengthChangeDoesNotReuseSnapshots() {
	s.setParams(func(p *types.Params) { p.EpochLength = 100 })
	m := defaultManifest("")
	id, ops := s.setupService(m, 1) // {A}
	s.ctx = s.ctx.WithBlockHeight(1_050)
	first := s.createTask(id)
	s.Require().Equal(uint64(10), s.task(first).Epoch)

	s.ctx = s.ctx.WithBlockHeight(10_001)
	params := s.params()
	params.EpochLength = 1000 // 10_001 / 1000 = epoch 10 again, before the fix
	_, err := s.msgServer.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: s.keeper.GetAuthority(), Params: params})
	s.Require().NoError(err)
	var newcomers []string // B and C
	for _, name := range []string{"newcomer-b", "newcomer-c"} {
		op := s.registerOperator(name)
		s.optIn(op, id)
		newcomers = append(newcomers, op)
	}
	later := s.createTask(id)
	s.Require().Greater(s.task(later).Epoch, uint64(100), "after the epoch of height 10_001 under the old length")
	s.Require().Equal(uint64(3), s.task(later).PowerTotal, "a fresh snapshot holds A, B and C")
	for _, op := range append(newcomers, ops[0]) {
		o := s.vote(op, later, "A")
		s.Require().NoError(outcomeErr(o), op)
	}
	// and the epochs go on under the new length from there
	s.ctx = s.ctx.WithBlockHeight(10_001 + 1000)
	next := s.createTask(id)
	s.Require().Equal(s.task(later).Epoch+1, s.task(next).Epoch)
}

// L-1: an operator could raise its commission from 0 to 1 in the block where
// a fee-heavy task completes, while its committers stay locked for the
// unbonding time. Now a rise is at most max_commission_increase, applies only
// after commission_change_delay, and comes at most once per that delay; a
// cut applies at once.
func (s *KeeperTestSuite) TestL1CommissionRiseLimitedAndDelayed() {
	s.startClock()
	op := s.registerWithCommission("op1", "0.1")
	update := func(c string) error {
		_, err := s.msgServer.UpdateOperator(s.ctx, &types.MsgUpdateOperator{Operator: op, Moniker: "op1", Commission: dec(c)})
		return err
	}
	s.Require().ErrorIs(update("1"), types.ErrInvalidCommission, "0.1 to 1 in one step")
	s.Require().NoError(update("0.15"))
	o := s.operator(op)
	s.Require().True(dec("0.1").Equal(o.Commission), "not yet")
	s.Require().True(dec("0.15").Equal(o.PendingCommission))
	delay := s.params().CommissionChangeDelay
	s.Require().True(s.ctx.BlockTime().Add(delay).Equal(o.PendingCommissionAt))
	err := update("0.12")
	s.Require().ErrorIs(err, types.ErrInvalidCommission)
	s.Require().Contains(err.Error(), "pending until")

	// payouts use 0.1 until the rise applies, 0.15 after
	id := s.createService(defaultManifest(""))
	ops := []string{op}
	s.optIn(op, id)
	s.fundAndCommit("committer", op, id, 1000)
	s.nextEpoch()
	t1 := s.payTask(id, 1000)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t1, "A"))
	s.Require().Equal(int64(900), s.pendingRewards(addr("committer")), "the committers' 90% at the old commission")
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(delay))
	t2 := s.payTask(id, 1000)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t2, "A"))
	s.Require().Equal(int64(900+850), s.pendingRewards(addr("committer")), "85% once the rise applies")

	// the next rise comes a delay after the last change; a cut at once
	s.Require().NoError(update("0.2"))
	s.Require().True(dec("0.2").Equal(s.operator(op).PendingCommission))
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(delay))
	s.Require().NoError(update("0"))
	o = s.operator(op)
	s.Require().True(o.Commission.IsZero(), "a cut applies at once")
	s.Require().True(o.PendingCommissionAt.IsZero())
}
