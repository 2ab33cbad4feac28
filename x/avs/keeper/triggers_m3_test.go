package keeper_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeRef is an event reference at height with input, distinct per index.
func fakeRef(service uint64, height int64, idx uint32, input string) types.EventRef {
	return types.EventRef{ServiceId: service, Height: height, TxHash: strings.Repeat("CD", 32), EventIndex: idx, Input: []byte(input)}
}

// eventVotes sends several event votes in one message and returns the outcomes.
func (s *KeeperTestSuite) eventVotes(operator string, refs ...types.EventRef) []types.ResultOutcome {
	results := make([]types.TaskResult, len(refs))
	for i := range refs {
		results[i] = types.TaskResult{Result: []byte("1"), Event: &refs[i]}
	}
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: operator, Results: results})
	s.Require().NoError(err)
	return res.Outcomes
}

// TestM3OneOperatorCannotStarveIntervalTriggers (security review M-3 a): an
// operator sends five event references a block. It opens one task (an
// operator opens one event task per service per block, ErrEventOpenLimit),
// and the service's every-block interval trigger fires in every block: event
// tasks are counted apart from it (with max_auto_tasks_per_block 1, a shared
// count would leave the trigger no room).
func (s *KeeperTestSuite) TestM3OneOperatorCannotStarveIntervalTriggers() {
	s.startClock()
	s.setParams(func(p *types.Params) { p.MaxAutoTasksPerBlock = 1 })
	m := defaultManifest(s.storeComponent())
	m.Quorum.Threshold = dec("0.6")
	m.Triggers = []types.Trigger{eventTrigger("wasm-price_request"), intervalTrigger(1, 0, 0)}
	id, ops := s.setupService(m, 3)
	s.fundService(id, 1000*defaultFee)
	ctx := s.withEvents()
	s.ctx = ctx
	start := s.ctx.BlockHeight() + 1
	for h := start; h < start+5; h++ {
		s.ctx = s.ctx.WithBlockHeight(h)
		s.Require().NoError(s.keeper.BeginBlocker(s.ctx))
		var refs []types.EventRef
		for i := uint32(0); i < 5; i++ {
			refs = append(refs, fakeRef(id, h-1, i, `{"fake":true}`))
		}
		out := s.eventVotes(ops[0], refs...)
		s.Require().True(out[0].Accepted, out[0].Error)
		for _, o := range out[1:] {
			s.Require().False(o.Accepted)
			s.Require().ErrorIs(outcomeErr(o), types.ErrEventOpenLimit)
		}
		s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	}
	for _, e := range s.typedEvents(ctx, &types.EventTaskSkipped{}) {
		s.Require().NotContains(e.(*types.EventTaskSkipped).Reason, "block_interval", "the interval trigger was skipped")
	}
	tasks, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id})
	s.Require().NoError(err)
	interval, event := 0, 0
	for _, t := range tasks.Tasks {
		switch {
		case t.Origin.Ref == "block_interval/1":
			interval++
		case t.Origin.IsEventOrigin():
			event++
		}
	}
	s.Require().Equal(5, interval, "the interval trigger fired in each of the 5 blocks")
	s.Require().Equal(5, event, "one event task per block for the one operator")
}

// TestM3OpenerCannotChooseTheInput (security review M-3 c): the opener
// claims {"pair":"BTC"} for an event the others read as {"pair":"ATOM"}, and
// votes the result they vote. Votes are tallied on (input, result): the
// opener's agreeing result does not make a quorum with a different input,
// the task completes on the others' input, the handler is told that input
// (the IBC result packet carries the same task.Input), and the opener, whose
// input the quorum did not share, is neither paid nor slashed.
func (s *KeeperTestSuite) TestM3OpenerCannotChooseTheInput() {
	fake := &fakeContracts{}
	s.keeper.SetContractKeeper(fake)
	s.msgServer = keeper.NewMsgServerImpl(s.keeper)
	m := defaultManifest(s.storeComponent())
	m.Quorum.Threshold = dec("0.6")
	m.SlashFraction = dec("0.1")
	m.HandlerContract = contractAddr("handler")
	m.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	id, ops := s.setupService(m, 3)
	s.fundService(id, 100*s.depositAmount())
	btc, atom := `{"pair":"BTC"}`, `{"pair":"ATOM"}`
	h := s.ctx.BlockHeight() - 1

	opener := s.eventVote(ops[0], fakeRef(id, h, 0, btc), "42")
	s.Require().True(opener.Accepted, opener.Error)
	s.Require().Equal([]byte(btc), s.task(opener.TaskId).Input, "while pending, the input is the opener's claim")
	first := s.eventVote(ops[1], fakeRef(id, h, 0, atom), "42")
	s.Require().True(first.Accepted, first.Error)
	s.Require().Equal(opener.TaskId, first.TaskId)
	s.Require().Equal(types.TASK_STATUS_PENDING, first.TaskStatus, "the same result read from another input is no quorum")

	ctx := s.withEvents()
	s.ctx = ctx
	second := s.eventVote(ops[2], fakeRef(id, h, 0, atom), "42")
	s.Require().True(second.Accepted, second.Error)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, second.TaskStatus)
	task := s.task(opener.TaskId)
	s.Require().Equal([]byte(atom), task.Input, "the task's input is the quorum's")
	s.Require().Equal(uint64(2), task.PowerFor, "two backers: the opener is not among them")

	s.Require().Len(fake.calls, 1)
	var msg keeper.HandlerMsg
	s.Require().NoError(json.Unmarshal([]byte(fake.calls[0].msg), &msg))
	s.Require().Equal([]byte(atom), msg.AVSTaskResult.Input, "the handler gets the quorum's input")

	s.Require().Empty(s.typedEvents(ctx, &types.EventOperatorSlashed{}), "a vote on another input is not slashed")
	votes, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: task.Id})
	s.Require().NoError(err)
	s.Require().Len(votes.Votes, 3)
	for _, v := range votes.Votes {
		want := types.Digest([]byte(atom))
		if v.Operator == ops[0] {
			want = types.Digest([]byte(btc))
		}
		s.Require().Equal(want, v.InputDigest, v.Operator)
	}
	s.requireBalanced()
}

// A vote on an event task must name the event (and so the input it read):
// a vote by task id has no input and is refused.
func (s *KeeperTestSuite) TestM3EventTaskVoteNeedsItsInput() {
	id, ops := s.eventService(10, 3)
	out := s.eventVote(ops[0], ref(id, 9, 0), "1")
	s.Require().True(out.Accepted, out.Error)
	byID := s.vote(ops[1], out.TaskId, "1")
	s.Require().False(byID.Accepted)
	s.Require().ErrorIs(outcomeErr(byID), types.ErrInvalidEventRef)
	s.Require().Contains(byID.Error, "input you read")
}

// TestM3TreasuryLockBounded (security review M-3 b): an operator opens an
// event task in every block for events nobody else sees. Each escrows a fee
// for event_confirm_blocks only, so the treasury never has more than
// event_confirm_blocks + 1 fees locked by it, and gets each back; an event a
// second operator confirms (same input) gets the service's full timeout.
func (s *KeeperTestSuite) TestM3TreasuryLockBounded() {
	id, ops := s.eventService(100, 3)
	confirm := int64(s.params().EventConfirmBlocks)
	full := s.treasuryOf(id)
	start := s.ctx.BlockHeight() + 1
	for h := start; h < start+20; h++ {
		s.endBlockAt(h - 1)
		s.ctx = s.ctx.WithBlockHeight(h)
		var refs []types.EventRef
		for i := uint32(0); i < 5; i++ {
			refs = append(refs, fakeRef(id, h-1, i, fmt.Sprintf(`{"fake":%d}`, i)))
		}
		out := s.eventVotes(ops[0], refs...)
		s.Require().True(out[0].Accepted, out[0].Error)
		s.Require().Equal(h+confirm, s.task(out[0].TaskId).DeadlineHeight, "an unconfirmed event task waits event_confirm_blocks")
		locked := full - s.treasuryOf(id)
		s.Require().LessOrEqual(locked, (confirm+1)*defaultFee, "height %d: %d locked", h, locked)
	}
	s.endBlockAt(start + 20 + confirm)
	s.Require().Equal(full, s.treasuryOf(id), "every unconfirmed fee went back")
	s.requireBalanced()

	// Confirmed: a second operator read the same input (with another result,
	// so the task stays open): it gets the normal timeout.
	h := s.ctx.BlockHeight() + 1
	s.ctx = s.ctx.WithBlockHeight(h)
	r := fakeRef(id, h-1, 9, `{"pair":"ATOM"}`)
	out := s.eventVote(ops[0], r, "1")
	s.Require().True(out.Accepted, out.Error)
	other := s.eventVote(ops[1], fakeRef(id, h-1, 9, `{"pair":"BTC"}`), "1")
	s.Require().True(other.Accepted, other.Error)
	s.Require().Equal(h+confirm, s.task(out.TaskId).DeadlineHeight, "another input confirms nothing")
	s.ctx = s.ctx.WithBlockHeight(h + confirm)
	peer := s.eventVote(ops[2], r, "2")
	s.Require().True(peer.Accepted, peer.Error)
	task := s.task(out.TaskId)
	s.Require().Equal(types.TASK_STATUS_PENDING, task.Status)
	s.Require().Equal(h+int64(s.params().DefaultTaskTimeout), task.DeadlineHeight, "confirmed: the normal timeout")
	s.endBlockAt(h + confirm + 1)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(out.TaskId).Status, "not expired at the confirmation deadline")
	s.endBlockAt(task.DeadlineHeight)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(out.TaskId).Status)
	s.Require().Equal(full, s.treasuryOf(id))
	s.requireBalanced()
}

// An event task that one vote completes (its power meets the quorum) is
// confirmed by that: it gets the service's timeout, so its peers can still
// vote on it (late) and are not counted as missing it.
func (s *KeeperTestSuite) TestM3EventTaskCompletedAloneKeepsItsDeadline() {
	m := defaultManifest(s.storeComponent())
	m.Quorum.Threshold = dec("0.6")
	m.Quorum.MinOperators = 1
	m.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	id, ops := s.setupService(m, 1)
	s.fundService(id, 10*defaultFee)
	out := s.eventVote(ops[0], ref(id, 9, 0), "1")
	s.Require().True(out.Accepted, out.Error)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, out.TaskStatus)
	task := s.task(out.TaskId)
	s.Require().Equal(task.CreatedHeight+int64(s.params().DefaultTaskTimeout), task.DeadlineHeight)
	s.endBlockAt(task.CreatedHeight + int64(s.params().EventConfirmBlocks))
	s.Require().False(s.task(out.TaskId).Settled, "settled at its full deadline, not the confirmation deadline")
	s.requireBalanced()
}

// MEDIAN event tasks: the median is taken over the votes that read the
// completing vote's input, and the task takes that input.
func (s *KeeperTestSuite) TestM3MedianEventTaskGroupsByInput() {
	m := medianManifest(s.storeComponent(), "0.7", "0.01")
	m.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	id, ops := s.setupService(m, 4)
	s.fundService(id, 10*defaultFee)
	h := s.ctx.BlockHeight() - 1
	btc, atom := `{"pair":"BTC"}`, `{"pair":"ATOM"}`
	first := s.eventVote(ops[0], fakeRef(id, h, 0, btc), "10")
	s.Require().True(first.Accepted, first.Error)
	second := s.eventVote(ops[1], fakeRef(id, h, 0, atom), "10")
	s.Require().True(second.Accepted, second.Error)
	third := s.eventVote(ops[2], fakeRef(id, h, 0, atom), "10.05")
	s.Require().True(third.Accepted, third.Error)
	s.Require().Equal(types.TASK_STATUS_PENDING, third.TaskStatus, "three equal values, but read from two inputs: no quorum of one input")
	fourth := s.eventVote(ops[3], fakeRef(id, h, 0, atom), "10")
	s.Require().True(fourth.Accepted, fourth.Error)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, fourth.TaskStatus)
	task := s.task(first.TaskId)
	s.Require().Equal([]byte(atom), task.Input)
	s.Require().EqualValues(3, task.PowerFor)
	s.requireBalanced()
}
