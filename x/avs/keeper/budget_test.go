package keeper_test

import (
	"errors"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// openTasks counts the tasks still PENDING.
func (s *KeeperTestSuite) openTasks() int {
	n := 0
	s.Require().NoError(s.keeper.Tasks.Walk(s.ctx, nil, func(_ uint64, t types.Task) (bool, error) {
		if t.Status == types.TASK_STATUS_PENDING {
			n++
		}
		return false, nil
	}))
	return n
}

// settledTasks returns the ids of the settled tasks.
func (s *KeeperTestSuite) settledTasks() map[uint64]bool {
	out := map[uint64]bool{}
	s.Require().NoError(s.keeper.Tasks.Walk(s.ctx, nil, func(id uint64, t types.Task) (bool, error) {
		if t.Settled {
			out[id] = true
		}
		return false, nil
	}))
	return out
}

// C-1: tasks sharing one deadline are settled at most
// max_settlements_per_block per block, in deadline order, each exactly once;
// the rest wait in the deadline index, and refuse votes meanwhile.
func (s *KeeperTestSuite) TestC1SettlementsCarryOverInOrder() {
	s.startClock()
	s.setParams(func(p *types.Params) {
		p.MaxSettlementsPerBlock = 300
		p.LivenessWindow, p.JailThreshold = 100_000, 100_000 // nobody votes: keep them unjailed
	})
	m := defaultManifest("")
	m.TaskTimeout = 20
	id, ops := s.setupService(m, 3)
	const n = 1000
	var ids []uint64
	for i := 0; i < n; i++ {
		if i == n/2 {
			s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1) // two creation heights
			m.TaskTimeout = 19                                     // ...sharing one deadline
			s.updateManifest(id, m)
		}
		ids = append(ids, s.createTask(id))
	}
	deadline := s.task(ids[0]).DeadlineHeight
	s.Require().Equal(deadline, s.task(ids[n-1]).DeadlineHeight)
	creatorBefore := s.balance(s.creator())

	s.endBlockAt(deadline)
	settled := s.settledTasks()
	s.Require().Len(settled, 300, "the budget, not the whole deadline")
	for _, tid := range ids[:300] {
		s.Require().True(settled[tid], "in deadline index order: task %d", tid)
	}
	s.Require().Equal(creatorBefore.AddRaw(300*defaultFee), s.balance(s.creator()), "only the settled ones are refunded")

	// a task past its deadline refuses votes whether or not it was settled
	late := ids[n-1]
	s.Require().False(s.task(late).Settled)
	s.ctx = s.ctx.WithBlockHeight(deadline + 1) // the next block's transactions
	s.Require().ErrorIs(outcomeErr(s.vote(ops[0], late, "A")), types.ErrVotingClosed)

	for h := deadline + 1; len(s.settledTasks()) < n; h++ {
		s.Require().LessOrEqual(h, deadline+3, "1000 tasks at 300 per block take 4 blocks")
		before := len(s.settledTasks())
		s.endBlockAt(h)
		s.Require().LessOrEqual(len(s.settledTasks())-before, 300)
	}
	s.Require().Equal(creatorBefore.AddRaw(n*defaultFee), s.balance(s.creator()), "every fee refunded exactly once")
	left, err := s.keeper.TasksByDeadline.Iterate(s.ctx, nil)
	s.Require().NoError(err)
	defer left.Close()
	s.Require().False(left.Valid(), "the deadline index is empty")
	s.requireBalanced()
}

// C-1/C-2: handler calls made from EndBlock stop at max_hook_gas_per_block;
// the rest of the due tasks wait for the next block.
func (s *KeeperTestSuite) TestC1HandlerCallsWithinHookGas() {
	fake := &fakeContracts{}
	handler := contractAddr("handler")
	serviceID, _ := s.handlerService(fake, handler)
	limit := s.params().HandlerGasLimit
	s.setParams(func(p *types.Params) { p.MaxHookGasPerBlock = 3 * limit })
	fake.do = func(ctx sdk.Context) error { ctx.GasMeter().ConsumeGas(limit, "burn it all"); return nil }
	var ids []uint64
	for i := 0; i < 7; i++ {
		ids = append(ids, s.createTask(serviceID))
	}
	d := s.task(ids[0]).DeadlineHeight
	s.endBlockAt(d)
	s.Require().Len(fake.calls, 3, "three full calls fit in the hook gas")
	s.Require().Len(s.settledTasks(), 3)
	s.endBlockAt(d + 1)
	s.Require().Len(fake.calls, 6)
	s.endBlockAt(d + 2)
	s.Require().Len(fake.calls, 7)
	s.Require().Len(s.settledTasks(), 7)
	s.requireBalanced()
}

// C-2: a handler contract that opens tasks whenever one of its service's
// tasks expires (timeout 1) cannot multiply them: what it dispatches from a
// block hook counts against max_auto_tasks_per_block and
// max_hook_tasks_per_block; each task it opens is paid (fee and handler
// deposit) by the contract itself; the handler gas of an expiry comes out of
// the expired task's deposit, and the rest goes back to its payer.
func (s *KeeperTestSuite) TestC2HandlerCannotReplicateTasks() {
	fake := &fakeContracts{}
	handler := contractAddr("handler")
	m := defaultManifest("")
	m.FeePerTask = sdk.NewInt64Coin(denom, 0)
	m.HandlerContract = handler
	m.TaskTimeout = 1
	s.keeper.SetContractKeeper(fake)
	id, _ := s.setupService(m, 1)
	s.fundService(id, 1_000*s.depositAmount())
	const gasPerCall = 50_000
	refused := 0
	fake.do = func(ctx sdk.Context) error {
		ctx.GasMeter().ConsumeGas(gasPerCall, "contract work")
		for i := 0; i < 20; i++ { // a contract opening 20 tasks, stopping at the first refusal
			if _, err := s.msgServer.CreateTask(ctx, &types.MsgCreateTask{Creator: handler, ServiceId: id, Input: []byte("again")}); err != nil {
				if !errors.Is(err, types.ErrAutoTaskLimit) && !errors.Is(err, types.ErrHookTaskLimit) {
					return err
				}
				refused++
				return nil
			}
		}
		return nil
	}
	first := s.createTask(id)
	creatorAfterCreate := s.balance(s.creator())
	treasuryAfterCreate := s.treasuryOf(id)
	h := s.task(first).DeadlineHeight
	maxAuto := int(s.params().MaxAutoTasksPerBlock)
	var firstUsed uint64
	for b := 0; b < 5; b++ {
		s.ctx = s.ctx.WithBlockHeight(h + int64(b) - 1)
		s.ctx = s.withEvents()
		s.endBlockAt(h + int64(b))
		called, _ := s.handlerEvents(s.ctx)
		if b == 0 {
			s.Require().Len(called, 1)
			firstUsed = called[0].GasUsed
		}
		s.Require().LessOrEqual(s.openTasks(), maxAuto, "block %d: at most max_auto_tasks_per_block new tasks", b)
	}
	seq, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	s.Require().LessOrEqual(seq, uint64(1+5*maxAuto+1), "linear growth at most, never 20^k")
	s.Require().Positive(refused, "the caps refused the rest")

	// The first task's deposit paid its handler's gas; the rest went back to
	// the treasury, which also paid the deposits of the tasks the contract
	// opened; the creators paid nothing more (free tasks).
	deposit := s.depositAmount()
	s.Require().Greater(firstUsed, uint64(gasPerCall), "the tasks the contract opened count in its gas")
	cost := s.params().HandlerGasPrice.MulInt64(int64(firstUsed)).Ceil().TruncateInt64()
	s.Require().Less(cost, deposit)
	s.Require().Equal(creatorAfterCreate, s.balance(s.creator()), "a free task's creator pays no handler gas")
	s.Require().Less(s.treasuryOf(id), treasuryAfterCreate+deposit-cost, "the treasury paid the deposits of the tasks the contract opened")
	feeCollector := s.bank.ModuleBalance(authtypes.FeeCollectorName, denom)
	s.Require().GreaterOrEqual(feeCollector.Amount.Int64(), cost, "the handler gas went to the fee collector")
	s.requireBalanced()

	// the global cap binds across services
	s.setParams(func(p *types.Params) { p.MaxHookTasksPerBlock = 2 })
	before, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	s.endBlockAt(s.ctx.BlockHeight() + 1)
	after, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	s.Require().LessOrEqual(after-before, uint64(2), "max_hook_tasks_per_block")
}

// A task keeps the handler its service had when it was created.
func (s *KeeperTestSuite) TestHandlerFixedAtCreation() {
	fake := &fakeContracts{}
	handler := contractAddr("handler")
	serviceID, op := s.handlerService(fake, handler)
	taskID := s.createTask(serviceID)
	s.Require().Equal(handler, s.task(taskID).HandlerContract)
	s.Require().Equal(s.depositAmount(), s.task(taskID).HandlerDeposit.Amount.Int64())
	s.Require().False(s.task(taskID).HandlerUnpaid)
	svc, err := s.keeper.Services.Get(s.ctx, serviceID)
	s.Require().NoError(err)
	svc.Manifest.HandlerContract = ""
	s.updateManifest(serviceID, svc.Manifest)
	s.completeWithEvents(op, taskID, "16")
	s.Require().Len(fake.calls, 1, "the task's own handler is told")
	s.requireBalanced()
}

// updateManifest replaces a service's manifest (its owner signs), keeping the
// component when m names none.
func (s *KeeperTestSuite) updateManifest(id uint64, m types.ServiceManifest) {
	if m.ComponentDigest == "" {
		svc, err := s.keeper.Services.Get(s.ctx, id)
		s.Require().NoError(err)
		m.ComponentDigest = svc.Manifest.ComponentDigest
	}
	_, err := s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: id, Manifest: m})
	s.Require().NoError(err)
}

// Without a treasury to pay its handler deposit, a task is still created,
// and its expiry is not told to the handler from the block hook.
func (s *KeeperTestSuite) TestC2UnpaidHandlerNotCalledFromBlockHook() {
	fake := &fakeContracts{}
	handler := contractAddr("handler")
	s.keeper.SetContractKeeper(fake)
	m := defaultManifest("")
	m.HandlerContract = handler
	m.TaskTimeout = 5
	id, op := s.setupService(m, 1)
	expiring := s.createTask(id)
	s.Require().True(s.task(expiring).HandlerUnpaid)
	s.Require().True(s.task(expiring).HandlerDeposit.IsZero())
	completing := s.createTask(id)
	s.completeWithEvents(op[0], completing, "16")
	s.Require().Len(fake.calls, 1, "a completion is told, in the completing transaction")
	ctx := s.expireWithEvents(expiring)
	s.Require().Len(fake.calls, 1, "an unpaid expiry is not")
	_, failed := s.handlerEvents(ctx)
	s.Require().Len(failed, 1)
	s.Require().Contains(failed[0].Error, "fund the treasury")
	s.requireBalanced()
}

// settleGas is the gas of the EndBlock settling one expired task of an epoch
// whose other task is still open (so no liveness review runs), on a service
// whose snapshot holds n operators.
func (s *KeeperTestSuite) settleGas(n int) uint64 {
	s.SetupTest()
	s.setParams(func(p *types.Params) { p.MaxSnapshotOperators = 1000 })
	m := defaultManifest("")
	m.TaskTimeout = 5
	id, _ := s.setupService(m, n)
	tid := s.createTask(id)
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	s.createTask(id) // keeps the epoch open
	ctx := s.ctx.WithBlockHeight(s.task(tid).DeadlineHeight).WithGasMeter(storetypes.NewGasMeter(1 << 40))
	s.Require().NoError(s.keeper.EndBlocker(ctx))
	s.Require().True(s.task(tid).Settled)
	return ctx.GasMeter().GasConsumed()
}

// C-1 / issue item 2: settling a task costs the same whatever the size of
// its snapshot (the old code read every snapshot operator's vote and wrote
// its record at every deadline).
func (s *KeeperTestSuite) TestC1SettlementCostIndependentOfSnapshot() {
	small, large := s.settleGas(4), s.settleGas(400)
	s.T().Logf("settling one task: %d gas with 4 operators, %d with 400", small, large)
	s.Require().InDelta(float64(small), float64(large), 200, "constant work per settled task")
}

// An epoch's liveness review counts at most max_settlements_per_block
// operators per block and goes on from where it stopped; every operator is
// counted exactly once, and a second review of the epoch counts nothing new.
func (s *KeeperTestSuite) TestC1LivenessReviewCarriesOver() {
	s.setParams(func(p *types.Params) {
		p.MaxSnapshotOperators = 1000
		p.MaxSettlementsPerBlock = 300
	})
	m := defaultManifest("")
	m.TaskTimeout = 5
	id, ops := s.setupService(m, 1000)
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "A")
	d := s.task(tid).DeadlineHeight
	counted := map[string]int{}
	for h := d; h < d+4; h++ {
		s.ctx = s.ctx.WithBlockHeight(h - 1)
		s.ctx = s.withEvents()
		s.endBlockAt(h)
		evs := s.typedEvents(s.ctx, &types.EventLivenessCounted{})
		s.Require().LessOrEqual(len(evs), 300, "height %d", h)
		for _, e := range evs {
			counted[e.(*types.EventLivenessCounted).Operator]++
		}
	}
	s.Require().Len(counted, 999, "every operator that missed, once; not the one that voted")
	for op, n := range counted {
		s.Require().Equal(1, n, op)
		s.Require().Equal(uint64(1), s.liveness(id, op).Missed)
	}
	s.Require().Zero(s.liveness(id, ops[0]).Missed)
	s.Require().Equal(uint64(1), s.liveness(id, ops[0]).WindowTasks)
	reviews, err := s.keeper.LivenessReviews.Iterate(s.ctx, nil)
	s.Require().NoError(err)
	defer reviews.Close()
	s.Require().False(reviews.Valid(), "the review is done")
}

// An epoch whose last task settles after the epoch ended is final: its
// liveness records are counted and deleted, so they do not pile up.
func (s *KeeperTestSuite) TestLivenessRecordsGoWhenEpochFinal() {
	m := defaultManifest("")
	m.TaskTimeout = 5
	id, ops := s.setupService(m, 3)
	l := int64(s.params().EpochLength)
	s.ctx = s.ctx.WithBlockHeight((s.ctx.BlockHeight()/l+1)*l - 2) // two blocks before the epoch ends
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "A")
	epoch := s.task(tid).Epoch
	has, err := s.keeper.EpochAnswers.Has(s.ctx, collections.Join3(id, epoch, ops[0]))
	s.Require().NoError(err)
	s.Require().True(has)
	s.endBlockAt(s.task(tid).DeadlineHeight) // in the next epoch
	s.Require().Equal(uint64(1), s.liveness(id, ops[1]).Missed)
	s.Require().Zero(s.liveness(id, ops[0]).Missed)
	has, err = s.keeper.EpochTasks.Has(s.ctx, collections.Join(id, epoch))
	s.Require().NoError(err)
	s.Require().False(has, "the final review deleted the epoch's count")
	has, err = s.keeper.Snapshots.Has(s.ctx, collections.Join(id, epoch))
	s.Require().NoError(err)
	s.Require().False(has, "and its snapshot")
	for _, op := range ops {
		has, err := s.keeper.EpochAnswers.Has(s.ctx, collections.Join3(id, epoch, op))
		s.Require().NoError(err)
		s.Require().False(has, op)
	}
}

// An epoch whose last task settled while it was still current gets its final
// review when the service's first task of a later epoch opens.
func (s *KeeperTestSuite) TestLivenessEarlierEpochFinishedByNextEpochsFirstTask() {
	m := defaultManifest("")
	m.TaskTimeout = 5
	id, ops := s.setupService(m, 3)
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "A")
	epoch := s.task(tid).Epoch
	s.endBlockAt(s.task(tid).DeadlineHeight) // settled and reviewed within its epoch
	s.Require().Equal(uint64(1), s.liveness(id, ops[1]).Missed)
	has, err := s.keeper.EpochTasks.Has(s.ctx, collections.Join(id, epoch))
	s.Require().NoError(err)
	s.Require().True(has, "the epoch could still get tasks")

	s.nextEpoch()
	s.createTask(id)
	s.endBlockAt(s.ctx.BlockHeight())
	for _, kv := range []struct {
		name string
		has  func() (bool, error)
	}{
		{"epoch count", func() (bool, error) { return s.keeper.EpochTasks.Has(s.ctx, collections.Join(id, epoch)) }},
		{"snapshot", func() (bool, error) { return s.keeper.Snapshots.Has(s.ctx, collections.Join(id, epoch)) }},
		{"answers", func() (bool, error) {
			return s.keeper.EpochAnswers.Has(s.ctx, collections.Join3(id, epoch, ops[0]))
		}},
	} {
		has, err := kv.has()
		s.Require().NoError(err)
		s.Require().False(has, kv.name)
	}
	s.Require().Equal(uint64(1), s.liveness(id, ops[1]).Missed, "counted once")
}
