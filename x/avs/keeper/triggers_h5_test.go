package keeper_test

import (
	"encoding/json"
	"time"

	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// opCounting counts every store operation (read, has, write, delete,
// iterator step) as one unit of gas, whatever its size: the gas a block hook
// uses is then the number of store operations it made.
func opCounting(ctx sdk.Context) sdk.Context {
	return ctx.WithGasMeter(storetypes.NewInfiniteGasMeter()).WithKVGasConfig(storetypes.GasConfig{
		HasCost: 1, DeleteCost: 1, ReadCostFlat: 1, WriteCostFlat: 1, IterNextCostFlat: 1,
	})
}

// endBlockOps runs EndBlock at height h (1 s later) and returns the store
// operations it made and the ids of the tasks it opened.
func (s *KeeperTestSuite) endBlockOps(h int64) (ops uint64, tasks []uint64) {
	s.ctx = s.ctx.WithBlockHeight(h).WithBlockTime(s.ctx.BlockTime().Add(time.Second))
	before, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	ctx := opCounting(s.ctx)
	s.Require().NoError(s.keeper.EndBlocker(ctx))
	after, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	for id := before; id < after; id++ {
		tasks = append(tasks, id)
	}
	return ctx.GasMeter().GasConsumed(), tasks
}

// TestH5TriggerWorkIsBoundedByTheBudget: 1,000 services whose interval
// triggers are all due at one height. Before, EndBlock decoded every
// triggered service every block and fired them all at once; now each block
// pops at most max_trigger_fires_per_block due entries of the schedule, and
// what is left fires in the next blocks, in order, each exactly once.
func (s *KeeperTestSuite) TestH5TriggerWorkIsBoundedByTheBudget() {
	const services, budget = 1000, 50
	s.startClock()
	s.setParams(func(p *types.Params) { p.MaxTriggerFiresPerBlock = budget })
	digest := s.storeComponent()
	op := s.registerOperator("op1")
	funder := s.fund("funder", services*10*defaultFee)
	m := defaultManifest(digest)
	m.Triggers = []types.Trigger{intervalTrigger(10_000, 20, 0)} // due at 20 only (then 10,020)
	ids := make([]uint64, services)
	for i := range ids {
		res, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
		s.Require().NoError(err)
		ids[i] = res.ServiceId
		s.optIn(op, ids[i])
		_, err = s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: funder, ServiceId: ids[i], Amount: stake(10 * defaultFee)})
		s.Require().NoError(err)
	}

	// The cost of a block that fires one trigger, everything included.
	s.setParams(func(p *types.Params) { p.MaxTriggerFiresPerBlock = 1 })
	s.ctx = s.ctx.WithBlockHeight(19)
	one, tasks := s.endBlockOps(20)
	s.Require().Len(tasks, 1)
	s.setParams(func(p *types.Params) { p.MaxTriggerFiresPerBlock = budget })

	fired := []uint64{s.task(tasks[0]).ServiceId}
	var most uint64
	for h := int64(21); len(fired) < services; h++ {
		s.Require().Less(h, int64(21+services/budget), "everything fires within the blocks the budget implies")
		ops, tasks := s.endBlockOps(h)
		s.Require().LessOrEqual(len(tasks), budget)
		most = max(most, ops)
		s.Require().LessOrEqual(ops, budget*one, "block %d: %d store operations for %d fires, a block firing one makes %d",
			h, ops, len(tasks), one)
		for _, id := range tasks {
			t := s.task(id)
			fired = append(fired, t.ServiceId)
			var in struct {
				Height int64 `json:"height"`
			}
			s.Require().NoError(json.Unmarshal(t.Input, &in))
			s.Require().EqualValues(20, in.Height, "a late fire names the height it was due at")
		}
	}
	s.T().Logf("%d services due at one height, budget %d: at most %d store operations per block (%d for a block firing one)",
		services, budget, most, one)
	s.Require().Equal(ids, fired, "every service fired once, in the schedule's order")
	ops, tasks := s.endBlockOps(int64(21 + services/budget))
	s.Require().Empty(tasks, "nothing fires twice for the same due point")
	s.Require().Less(ops, one, "an idle schedule costs less than one fire")
	s.Require().Len(keys(s, s.ctx, s.keeper.TriggersByHeight), services, "each trigger waits at its next due height")
}

// TestH5FreeTriggersRefused: the chain opens trigger tasks by itself, so a
// manifest with triggers of any kind must ask a fee, paid by its treasury.
func (s *KeeperTestSuite) TestH5FreeTriggersRefused() {
	event := types.Trigger{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: "wasm-x"}}}
	for _, tc := range []struct {
		name     string
		triggers []types.Trigger
		free     bool
		expErr   error
	}{
		{name: "free interval", triggers: []types.Trigger{intervalTrigger(1, 0, 0)}, free: true, expErr: types.ErrFreeTrigger},
		{name: "free cron", triggers: []types.Trigger{cronTrigger("* * * * *")}, free: true, expErr: types.ErrFreeTrigger},
		{name: "free event", triggers: []types.Trigger{event}, free: true, expErr: types.ErrFreeTrigger},
		{name: "free without triggers", free: true},
		{name: "paid interval", triggers: []types.Trigger{intervalTrigger(1, 0, 0)}},
	} {
		s.Run(tc.name, func() {
			m := defaultManifest(s.storeComponent())
			m.Triggers = tc.triggers
			if tc.free {
				m.FeePerTask = sdk.Coin{}
			}
			res, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Contains(err.Error(), "fee_per_task")
				// nor can an update make a paid triggered service free
				paid := m
				paid.FeePerTask = stake(defaultFee)
				id := s.createService(paid)
				_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: id, Manifest: m})
				s.Require().ErrorIs(err, tc.expErr)
				return
			}
			s.Require().NoError(err)
			s.Require().NotZero(res.ServiceId)
		})
	}
}

// TestH5EmptyTreasuryLeavesTheSchedule: a trigger whose treasury cannot pay
// leaves the schedule with EventTaskSkipped and costs nothing more per block;
// MsgFundService puts it back at its next due point.
func (s *KeeperTestSuite) TestH5EmptyTreasuryLeavesTheSchedule() {
	s.startClock()
	s.ctx = s.ctx.WithBlockHeight(10)
	id := s.triggeredService(2, intervalTrigger(1, 0, 0), cronTrigger("* * * * *"))
	s.Require().Len(s.schedule(id), 2)
	ctx := s.withEvents()
	s.ctx = ctx
	s.Require().EqualValues(2, s.runBlocks(11, 12), "two fees in the treasury: two tasks")
	s.Require().Zero(s.treasuryOf(id))
	s.Require().Zero(s.runBlocks(13, 13))
	skipped := s.typedEvents(ctx, &types.EventTaskSkipped{})
	s.Require().Len(skipped, 1)
	s.Require().Contains(skipped[0].(*types.EventTaskSkipped).Reason, "treasury")
	s.Require().Equal(map[uint32]int64{1: stakeStart.Truncate(time.Minute).Add(time.Minute).UnixNano()}, s.schedule(id),
		"the interval trigger left the schedule; the cron one is not due yet")

	// A minute later the cron trigger comes due and leaves too.
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(time.Minute))
	s.Require().Zero(s.runBlocks(14, 14))
	s.Require().Empty(s.schedule(id))
	s.Require().Len(s.typedEvents(ctx, &types.EventTaskSkipped{}), 2)
	ops, tasks := s.endBlockOps(15)
	s.Require().Empty(tasks)
	s.Require().Len(s.typedEvents(ctx, &types.EventTaskSkipped{}), 2, "out of the schedule: not looked at again")

	s.ctx = s.ctx.WithBlockHeight(16)
	s.fundService(id, 3*defaultFee)
	s.Require().Equal(int64(16), s.schedule(id)[0], "funded: back at its next due height")
	s.Require().Len(s.schedule(id), 2)
	s.Require().EqualValues(3, s.runBlocks(16, 18))
	s.T().Logf("an EndBlock with the service out of the schedule: %d store operations", ops)
}
