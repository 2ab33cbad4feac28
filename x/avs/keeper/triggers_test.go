package keeper_test

import (
	"strconv"
	"time"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/types"
)

func intervalTrigger(every uint64, start, end int64) types.Trigger {
	return types.Trigger{Kind: &types.Trigger_BlockInterval{BlockInterval: &types.BlockIntervalTrigger{Every: every, Start: start, End: end}}}
}

func cronTrigger(schedule string) types.Trigger {
	return types.Trigger{Kind: &types.Trigger_Cron{Cron: &types.CronTrigger{Schedule: schedule}}}
}

// triggeredService creates a service with triggers, one opted-in operator and
// a treasury of treasury fees.
func (s *KeeperTestSuite) triggeredService(treasury int64, triggers ...types.Trigger) uint64 {
	m := defaultManifest(s.storeComponent())
	m.Triggers = triggers
	id, _ := s.setupService(m, 1)
	if treasury > 0 {
		funder := s.fund("funder", treasury*defaultFee)
		_, err := s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: funder, ServiceId: id, Amount: stake(treasury * defaultFee)})
		s.Require().NoError(err)
	}
	return id
}

// runBlocks runs Begin/EndBlock for heights from..to with 1 s block times and
// returns the number of tasks created.
func (s *KeeperTestSuite) runBlocks(from, to int64) uint64 {
	before, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	for h := from; h <= to; h++ {
		s.ctx = s.ctx.WithBlockHeight(h).WithBlockTime(s.ctx.BlockTime().Add(time.Second))
		s.Require().NoError(s.keeper.BeginBlocker(s.ctx))
		s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	}
	after, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	return after - before
}

func (s *KeeperTestSuite) TestIntervalTriggerBounds() {
	s.startClock()
	id := s.triggeredService(100, intervalTrigger(3, 12, 20))
	s.Require().EqualValues(3, s.runBlocks(11, 25), "heights 12, 15 and 18 (20 is the end, 21 is past it)")
	s.Require().Empty(keys(s, s.ctx, s.keeper.TriggersByTime), "no cron trigger: nothing is scheduled by time")
	s.Require().Empty(keys(s, s.ctx, s.keeper.TriggersByHeight), "the schedule ended at height 20")
	tasks, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id})
	s.Require().NoError(err)
	s.Require().Len(tasks.Tasks, 3)
	for i, t := range tasks.Tasks {
		s.Require().Equal(types.ORIGIN_KIND_TRIGGER, t.Origin.Kind)
		s.Require().True(t.PaidByTreasury)
		s.Require().JSONEq(`{"trigger":"block_interval","height":`+itoa(12+3*int64(i))+`}`, string(t.Input))
	}
	treasury, err := s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: id})
	s.Require().NoError(err)
	s.Require().EqualValues(97*defaultFee, treasury.Treasury.Amount.Int64(), "each task drew its fee from the treasury")
}

func (s *KeeperTestSuite) TestIntervalTriggerOpenEndedAndCapped() {
	s.startClock()
	s.setParams(func(p *types.Params) { p.MaxAutoTasksPerBlock = 2 })
	// three triggers due every block: the cap lets two through per block
	s.triggeredService(100, intervalTrigger(1, 0, 0), intervalTrigger(1, 0, 0), intervalTrigger(1, 0, 0))
	ctx := s.withEvents()
	s.ctx = ctx
	s.Require().EqualValues(4, s.runBlocks(11, 12))
	skipped := s.typedEvents(ctx, &types.EventTaskSkipped{})
	s.Require().Len(skipped, 2, "one skip per block")
	s.Require().Contains(skipped[0].(*types.EventTaskSkipped).Reason, "max_auto_tasks_per_block")
}

// The cap counts cron and interval tasks together: a service with both kinds
// due in the same block opens at most max_auto_tasks_per_block tasks.
func (s *KeeperTestSuite) TestCapCountsEveryTriggerKind() {
	s.startClock()
	s.setParams(func(p *types.Params) { p.MaxAutoTasksPerBlock = 2 })
	s.triggeredService(100, cronTrigger("* * * * *"), cronTrigger("* * * * *"), intervalTrigger(1, 0, 0))
	s.Require().EqualValues(1, s.runBlocks(11, 11), "first block: the interval fires, the crons wait for the next minute")
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(time.Minute))
	s.Require().EqualValues(2, s.runBlocks(12, 12), "two crons due and one interval: the cap lets two through")
}

// A service whose treasury cannot pay is never scheduled: its triggers cost
// no work per block at all (H-5), not even a skip event.
func (s *KeeperTestSuite) TestTriggerWithoutTreasurySkips() {
	s.startClock()
	id := s.triggeredService(0, intervalTrigger(1, 0, 0))
	s.Require().Empty(s.schedule(id), "an unfunded service is not in the trigger schedule")
	ctx := s.withEvents()
	s.ctx = ctx
	before := s.bank.Total(denom)
	s.Require().Zero(s.runBlocks(11, 13), "nothing is created when the treasury cannot pay")
	s.Require().Empty(s.typedEvents(ctx, &types.EventTaskSkipped{}))
	s.Require().Equal(before, s.bank.Total(denom))
}

func (s *KeeperTestSuite) TestTriggerOnPausedServiceSkips() {
	s.startClock()
	id := s.triggeredService(10, intervalTrigger(1, 0, 0))
	svc, err := s.keeper.Services.Get(s.ctx, id)
	s.Require().NoError(err)
	_, err = s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: svc.Owner, ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
	s.Require().NoError(err)
	s.Require().Empty(s.schedule(id), "a paused service's triggers leave the schedule")
	ctx := s.withEvents()
	s.ctx = ctx
	s.Require().Zero(s.runBlocks(11, 12))
	s.Require().Empty(s.typedEvents(ctx, &types.EventTaskSkipped{}), "nothing of a paused service is even looked at")

	s.ctx = s.ctx.WithBlockHeight(13) // the resume is a transaction of block 13
	_, err = s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: svc.Owner, ServiceId: id, Status: types.SERVICE_STATUS_ACTIVE})
	s.Require().NoError(err)
	s.Require().Equal(map[uint32]int64{0: 13}, s.schedule(id), "resumed: back at its next due height")
	s.Require().EqualValues(2, s.runBlocks(13, 14))
}

// A cron due every minute fires once in a block that comes five minutes
// after the previous one: at most once per block, no burst of missed ticks.
func (s *KeeperTestSuite) TestCronFiresAtMostOncePerBlock() {
	s.startClock()
	s.triggeredService(100, cronTrigger("* * * * *"))
	s.Require().Zero(s.runBlocks(11, 11), "the first block only starts the clock")
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(5 * time.Minute))
	s.Require().EqualValues(1, s.runBlocks(12, 12))
	s.Require().EqualValues(0, s.runBlocks(13, 14), "seconds later: not due again")
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(time.Minute))
	s.Require().EqualValues(1, s.runBlocks(15, 15))
}

func (s *KeeperTestSuite) TestRemovingTriggersUnindexes() {
	s.startClock()
	id := s.triggeredService(100, intervalTrigger(1, 0, 0))
	s.Require().Len(s.schedule(id), 1)
	svc, err := s.keeper.Services.Get(s.ctx, id)
	s.Require().NoError(err)
	m := svc.Manifest
	m.Triggers = nil
	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: svc.Owner, ServiceId: id, Manifest: m})
	s.Require().NoError(err)
	s.Require().Empty(s.schedule(id))
	s.Require().Empty(keys(s, s.ctx, s.keeper.TriggersByHeight))
	s.Require().Zero(s.runBlocks(11, 13))
}

func (s *KeeperTestSuite) TestTriggerValidation() {
	for _, tc := range []struct {
		name    string
		trigger types.Trigger
		errText string
	}{
		{"zero interval", intervalTrigger(0, 0, 0), "every"},
		{"end before start", intervalTrigger(2, 10, 5), "end"},
		{"negative start", intervalTrigger(2, -1, 0), "start"},
		{"bad cron", cronTrigger("every minute"), "cron schedule"},
		{"six-field cron", cronTrigger("0 * * * * *"), "cron schedule"},
		{"event without type", types.Trigger{Kind: &types.Trigger_Event{Event: &types.EventTrigger{}}}, "event.type"},
		{"event filter without key", types.Trigger{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: "wasm-x", Attributes: []types.EventAttributeFilter{{Value: "v"}}}}}, "key is required"},
		{"empty trigger", types.Trigger{}, "one of"},
	} {
		s.Run(tc.name, func() {
			m := defaultManifest(s.storeComponent())
			m.Triggers = []types.Trigger{tc.trigger}
			_, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
			s.Require().ErrorIs(err, types.ErrInvalidManifest)
			s.Require().Contains(err.Error(), tc.errText)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// schedule returns a service's triggers in the schedule: index -> due point.
func (s *KeeperTestSuite) schedule(id uint64) map[uint32]int64 {
	out := map[uint32]int64{}
	s.Require().NoError(s.keeper.TriggerDue.Walk(s.ctx, collections.NewPrefixedPairRange[uint64, uint32](id),
		func(k collections.Pair[uint64, uint32], due int64) (bool, error) {
			out[k.K2()] = due
			return false, nil
		}))
	return out
}

// The trigger schedule is derived state: not exported, rebuilt by
// InitGenesis from the services and treasuries at the genesis block, with the
// same entries when imported at the same height and time.
func (s *KeeperTestSuite) TestTriggerScheduleRebuiltAtGenesis() {
	s.startClock()
	s.ctx = s.ctx.WithBlockHeight(10)
	id := s.triggeredService(100, cronTrigger("* * * * *"), intervalTrigger(4, 0, 0))
	m := defaultManifest(types.Digest(validWasm()))
	m.Triggers = []types.Trigger{intervalTrigger(1, 0, 0)}
	unfunded := s.createService(m)
	want := s.schedule(id)
	s.Require().Len(want, 2)
	s.Require().Equal(int64(12), want[1], "every 4 from 0: the first due height from 10 is 12")
	s.Require().Equal(stakeStart.Truncate(time.Minute).Add(time.Minute).UnixNano(), want[0])
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Empty(gs.CronLast, "the schedule is not exported")

	other := s.newEnv()
	for a, c := range s.bank.Balances {
		other.bank.Balances[a] = c
	}
	other.ctx = other.ctx.WithBlockHeight(10).WithBlockTime(s.ctx.BlockTime())
	s.Require().NoError(other.keeper.InitGenesis(other.ctx, gs))
	var got []collections.Triple[int64, uint64, uint32]
	s.Require().NoError(other.keeper.TriggersByHeight.Walk(other.ctx, nil, func(k collections.Triple[int64, uint64, uint32]) (bool, error) {
		got = append(got, k)
		return false, nil
	}))
	s.Require().Equal([]collections.Triple[int64, uint64, uint32]{collections.Join3(int64(12), id, uint32(1))}, got,
		"the funded service's interval trigger, not the unfunded one's (%d)", unfunded)
	s.Require().Equal(keys(s, s.ctx, s.keeper.TriggersByTime), keys(s, other.ctx, other.keeper.TriggersByTime))
	s.Require().Equal(keys(s, s.ctx, s.keeper.TriggersByHeight), keys(s, other.ctx, other.keeper.TriggersByHeight))

	// and it runs: the cron tick a minute later fires on the imported chain
	ctx := other.ctx.WithBlockHeight(11).WithBlockTime(s.ctx.BlockTime().Add(time.Minute))
	before, err := other.keeper.TaskSeq.Peek(ctx)
	s.Require().NoError(err)
	s.Require().NoError(other.keeper.EndBlocker(ctx))
	after, err := other.keeper.TaskSeq.Peek(ctx)
	s.Require().NoError(err)
	s.Require().EqualValues(1, after-before)
}
