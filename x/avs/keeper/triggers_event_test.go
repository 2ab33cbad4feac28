package keeper_test

import (
	"fmt"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/store/types"

	"github.com/avschain/avschain/x/avs/types"
)

func eventTrigger(typ string) types.Trigger {
	return types.Trigger{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: typ}}}
}

// eventVote sends one event-referenced vote and returns its outcome.
func (s *KeeperTestSuite) eventVote(operator string, ref types.EventRef, result string) types.ResultOutcome {
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{
		Operator: operator, Results: []types.TaskResult{{Result: []byte(result), Event: &ref}},
	})
	s.Require().NoError(err)
	s.Require().Len(res.Outcomes, 1)
	return res.Outcomes[0]
}

func (s *KeeperTestSuite) eventService(treasury int64, operators int) (uint64, []string) {
	m := defaultManifest(s.storeComponent())
	m.Quorum.Threshold = dec("0.6")
	m.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	id, ops := s.setupService(m, operators)
	if treasury > 0 {
		funder := s.fund("funder", treasury*defaultFee)
		_, err := s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: funder, ServiceId: id, Amount: stake(treasury * defaultFee)})
		s.Require().NoError(err)
	}
	return id, ops
}

func ref(service uint64, height int64, idx uint32) types.EventRef {
	return types.EventRef{ServiceId: service, Height: height, TxHash: strings.Repeat("AB", 32), EventIndex: idx, Input: []byte(`{"pair":"ATOM/USD"}`)}
}

// The first vote on an event opens its task; the peers' votes on the same
// reference join it, and quorum decides it as for any task.
func (s *KeeperTestSuite) TestEventTriggerFirstVoteOpensTask() {
	id, ops := s.eventService(10, 3)
	r := ref(id, 9, 2)
	first := s.eventVote(ops[0], r, "12.5")
	s.Require().True(first.Accepted, first.Error)
	s.Require().EqualValues(1, first.TaskId)
	task := s.task(1)
	s.Require().Equal(types.ORIGIN_KIND_TRIGGER, task.Origin.Kind)
	s.Require().True(task.PaidByTreasury)
	s.Require().Equal(r.Input, task.Input)

	second := s.eventVote(ops[1], r, "12.5")
	s.Require().True(second.Accepted, second.Error)
	s.Require().EqualValues(1, second.TaskId, "the same reference is the same task")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(1).Status)

	dup := s.eventVote(ops[0], r, "12.5")
	s.Require().False(dup.Accepted)
	s.Require().ErrorIs(outcomeErr(dup), types.ErrDuplicateVote)

	other := s.eventVote(ops[2], ref(id, 9, 3), "1")
	s.Require().True(other.Accepted)
	s.Require().EqualValues(2, other.TaskId, "another event index is another task")
}

// An event only one operator claims gets no quorum and expires; its fee goes
// back to the treasury, and the peers that did not confirm it are not counted
// as missing it (an honest operator does not vote on an event it cannot see).
func (s *KeeperTestSuite) TestEventTriggerUnconfirmedExpires() {
	id, ops := s.eventService(10, 3)
	out := s.eventVote(ops[0], ref(id, 9, 0), "forged")
	s.Require().True(out.Accepted)
	task := s.task(out.TaskId)
	s.ctx = s.ctx.WithBlockHeight(task.DeadlineHeight)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(out.TaskId).Status)
	s.Require().True(s.task(out.TaskId).Settled)
	for _, op := range ops {
		o := s.liveness(id, op)
		s.Require().Zero(o.WindowTasks, "%s: an unconfirmed event counts for no one's liveness", op)
		s.Require().Zero(o.Missed)
	}
	treasury, err := s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: id})
	s.Require().NoError(err)
	s.Require().EqualValues(10*defaultFee, treasury.Treasury.Amount.Int64())
}

func (s *KeeperTestSuite) TestEventTriggerRefusals() {
	id, ops := s.eventService(10, 2)
	plain := s.createService(defaultManifest(s.storeComponent()))
	s.optIn(ops[0], plain)
	pm := defaultManifest(s.storeComponent())
	pm.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	poor := s.createService(pm) // no treasury
	s.optIn(ops[0], poor)
	stranger := s.registerOperator("stranger")
	for _, tc := range []struct {
		name     string
		operator string
		ref      types.EventRef
		err      error
		text     string
	}{
		{"service without an event trigger", ops[0], ref(plain, 9, 0), types.ErrInvalidEventRef, "no event trigger"},
		{"unknown service", ops[0], ref(99, 9, 0), types.ErrServiceNotFound, ""},
		{"event from a future block", ops[0], ref(id, 10, 0), types.ErrInvalidEventRef, "past block"},
		{"bad tx hash", ops[0], types.EventRef{ServiceId: id, Height: 9, TxHash: "xyz"}, types.ErrInvalidEventRef, "tx_hash"},
		{"treasury cannot pay", ops[0], ref(poor, 9, 0), types.ErrTreasuryEmpty, ""},
		{"input over max_input_size", ops[0], types.EventRef{ServiceId: id, Height: 9, EventIndex: 7, Input: make([]byte, types.DefaultParams().MaxInputSize+1)}, types.ErrInputTooLarge, "max_input_size"},
		{"operator not in the service", stranger, ref(id, 9, 5), types.ErrNotOptedIn, ""},
	} {
		s.Run(tc.name, func() {
			before, err := s.keeper.TaskSeq.Peek(s.ctx)
			s.Require().NoError(err)
			out := s.eventVote(tc.operator, tc.ref, "1")
			s.Require().False(out.Accepted)
			s.Require().ErrorIs(outcomeErr(out), tc.err)
			s.Require().Contains(out.Error, tc.text)
			after, err := s.keeper.TaskSeq.Peek(s.ctx)
			s.Require().NoError(err)
			s.Require().Equal(before, after, "a refused event vote opens no task")
		})
	}
}

// Event tasks are found by reference again after a genesis round trip.
func (s *KeeperTestSuite) TestEventTasksSurviveGenesis() {
	id, ops := s.eventService(10, 3)
	r := ref(id, 9, 1)
	s.Require().True(s.eventVote(ops[0], r, "7").Accepted)
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)

	other := s.newEnv()
	other.ctx = other.ctx.WithBlockHeight(s.ctx.BlockHeight())
	for a, c := range s.bank.Balances {
		other.bank.Balances[a] = c
	}
	s.Require().NoError(other.keeper.InitGenesis(other.ctx, gs))
	got, err := other.keeper.Tasks.Indexes.ByEvent.Refs.Get(other.ctx, "1/9/"+strings.Repeat("AB", 32)+"/1")
	s.Require().NoError(err)
	s.Require().EqualValues(1, got)
}

// max_auto_tasks_per_block caps event tasks too, in a count of their own
// (M-3): past the cap a vote that would open one more is refused
// (ErrAutoTaskLimit, an EventTaskSkipped), a vote joining an open one is not,
// and the next block has room again.
func (s *KeeperTestSuite) TestEventTriggerCap() {
	s.setParams(func(p *types.Params) { p.MaxAutoTasksPerBlock = 2 })
	id, ops := s.eventService(10, 3)
	ctx := s.withEvents()
	s.ctx = ctx
	s.Require().True(s.eventVote(ops[0], ref(id, 9, 0), "1").Accepted)
	s.Require().True(s.eventVote(ops[1], ref(id, 9, 1), "1").Accepted, "each operator opens one event task per block")
	// The cap is checked before the task is created: the refused vote writes
	// nothing, not even in the cached store it is discarded with.
	writes := s.ctx.WithGasMeter(storetypes.NewInfiniteGasMeter()).WithKVGasConfig(storetypes.GasConfig{WriteCostFlat: 1, DeleteCost: 1})
	res, err := s.msgServer.SubmitResults(writes, &types.MsgSubmitResults{
		Operator: ops[0], Results: []types.TaskResult{{Result: []byte("1"), Event: &types.EventRef{}}},
	})
	s.Require().NoError(err)
	s.Require().False(res.Outcomes[0].Accepted)
	s.Require().Zero(writes.GasMeter().GasConsumed(), "writes of a refused entry")
	r := ref(id, 9, 2)
	res, err = s.msgServer.SubmitResults(writes, &types.MsgSubmitResults{
		Operator: ops[2], Results: []types.TaskResult{{Result: []byte("1"), Event: &r}},
	})
	s.Require().NoError(err)
	third := res.Outcomes[0]
	s.Require().Zero(writes.GasMeter().GasConsumed(), "no task was created and discarded")
	s.Require().False(third.Accepted)
	s.Require().ErrorIs(outcomeErr(third), types.ErrAutoTaskLimit)
	skipped := s.typedEvents(ctx, &types.EventTaskSkipped{})
	s.Require().Len(skipped, 1)
	s.Require().Contains(skipped[0].(*types.EventTaskSkipped).Reason, "max_auto_tasks_per_block")
	s.Require().True(s.eventVote(ops[0], ref(id, 9, 1), "1").Accepted, "joining an open task is not opening one")

	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	again := s.eventVote(ops[0], ref(id, 9, 2), "1")
	s.Require().True(again.Accepted, again.Error)
	n, err := s.keeper.EventTasksThisBlock.Get(s.ctx, id)
	s.Require().NoError(err)
	s.Require().EqualValues(1, n)
	has, err := s.keeper.AutoTasksThisBlock.Has(s.ctx, id)
	s.Require().NoError(err)
	s.Require().False(has, "event tasks are not counted with the interval and cron tasks")
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	has, err = s.keeper.EventTasksThisBlock.Has(s.ctx, id)
	s.Require().NoError(err)
	s.Require().False(has, "the count does not outlive its block")
	has, err = s.keeper.EventOpenersThisBlock.Has(s.ctx, collections.Join(id, ops[0]))
	s.Require().NoError(err)
	s.Require().False(has, "nor the openers")
}

func TestEventTriggerMatches(t *testing.T) {
	trig := types.EventTrigger{Type: "wasm-announce", Attributes: []types.EventAttributeFilter{
		{Key: "_contract_address", Value: "avs1contract"}, {Key: "data"},
	}}
	ev := func(typ string, kv ...string) abci.Event {
		e := abci.Event{Type: typ}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Attributes = append(e.Attributes, abci.EventAttribute{Key: kv[i], Value: kv[i+1]})
		}
		return e
	}
	for _, tc := range []struct {
		name string
		ev   abci.Event
		want bool
	}{
		{"all filters", ev("wasm-announce", "_contract_address", "avs1contract", "data", "7", "msg_index", "0"), true},
		{"empty filter value is any value", ev("wasm-announce", "data", "", "_contract_address", "avs1contract"), true},
		{"other type", ev("wasm-other", "_contract_address", "avs1contract", "data", "7"), false},
		{"other contract", ev("wasm-announce", "_contract_address", "avs1other", "data", "7"), false},
		{"missing attribute", ev("wasm-announce", "_contract_address", "avs1contract"), false},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, trig.Matches(tc.ev)) })
	}
}

// A vote names a task or an event, never both.
func (s *KeeperTestSuite) TestEventVoteWithTaskIDRefused() {
	id, ops := s.eventService(10, 3)
	r := ref(id, 9, 0)
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{
		Operator: ops[0], Results: []types.TaskResult{{TaskId: 1, Result: []byte("1"), Event: &r}},
	})
	s.Require().NoError(err)
	s.Require().False(res.Outcomes[0].Accepted)
	s.Require().ErrorIs(outcomeErr(res.Outcomes[0]), types.ErrInvalidEventRef)
	s.Require().Contains(res.Outcomes[0].Error, "not both")
	_, err = s.keeper.Tasks.Indexes.ByEvent.Refs.Get(s.ctx, r.Key())
	s.Require().ErrorIs(err, collections.ErrNotFound, "no task was opened for the event")
}

// An event of the block itself (FinalizeBlock events) has no transaction: its
// reference has an empty tx_hash and is a task of its own.
func (s *KeeperTestSuite) TestEventTriggerBlockEvent() {
	id, ops := s.eventService(10, 3)
	blockRef := types.EventRef{ServiceId: id, Height: 9, EventIndex: 2, Input: []byte(`{"trigger":"event"}`)}
	out := s.eventVote(ops[0], blockRef, "1")
	s.Require().True(out.Accepted, out.Error)
	s.Require().Equal("event:"+blockRef.Key(), s.task(out.TaskId).Origin.Ref)
	s.Require().Equal(fmt.Sprintf("%d/9//2", id), blockRef.Key())
	txRef := ref(id, 9, 2)
	other := s.eventVote(ops[1], txRef, "1")
	s.Require().True(other.Accepted, other.Error)
	s.Require().NotEqual(out.TaskId, other.TaskId, "the same index in a transaction is another event")
}
