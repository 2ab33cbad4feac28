package keeper_test

import (
	"time"

	"github.com/avschain/avschain/x/avs/types"
)

// livenessService sets liveness_window 4 and jail_threshold 2 and creates an
// EXACT EQUAL service (threshold 0.5, timeout 5) with 3 operators.
func (s *KeeperTestSuite) livenessService() (uint64, []string) {
	s.startClock()
	s.setParams(func(p *types.Params) { p.LivenessWindow, p.JailThreshold = 4, 2 })
	m := defaultManifest("")
	m.TaskTimeout = 5
	return s.setupService(m, 3)
}

// honestTask creates a task at the current height that ops[0] and ops[1]
// complete; it returns the task and its deadline.
func (s *KeeperTestSuite) honestTask(id uint64, ops []string) (uint64, int64) {
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], tid, "A"))
	return tid, s.task(tid).DeadlineHeight
}

// Missing jail_threshold deadlines within the window jails the operator:
// event, jailed_until, votes refused, out of the next snapshot; MsgUnjail
// works after the cooldown.
func (s *KeeperTestSuite) TestLivenessJails() {
	id, ops := s.livenessService()
	lazy := ops[2]

	t1, d1 := s.honestTask(id, ops)
	s.endBlockAt(d1 - 1)
	s.Require().False(s.task(t1).Settled, "not before the deadline")
	s.Require().Zero(s.liveness(id, lazy).WindowTasks)
	s.endBlockAt(d1)
	s.Require().True(s.task(t1).Settled)
	o := s.liveness(id, lazy)
	s.Require().False(o.Jailed)
	s.Require().Equal(uint64(1), o.WindowTasks)
	s.Require().Equal(uint64(1), o.WindowMissed)
	s.Require().Equal(uint64(1), o.Missed)
	s.Require().Equal(uint64(0), s.liveness(id, ops[0]).WindowMissed)
	s.Require().Equal(uint64(1), s.liveness(id, ops[0]).WindowTasks)

	_, d2 := s.honestTask(id, ops)
	s.ctx = s.ctx.WithBlockHeight(d2 - 1)
	ctx := s.withEvents()
	s.ctx = ctx
	s.endBlockAt(d2)
	o = s.liveness(id, lazy)
	s.Require().True(o.Jailed)
	s.Require().Equal(uint64(2), o.Missed)
	s.Require().Zero(o.WindowTasks, "the window restarts on jailing")
	s.Require().Zero(o.WindowMissed)
	cooldown := s.params().JailCooldown
	s.Require().Equal(types.DefaultJailCooldown, cooldown)
	s.Require().True(s.ctx.BlockTime().Add(cooldown).Equal(o.JailedUntil), "jailed until %s", o.JailedUntil)
	evs := s.typedEvents(ctx, &types.EventOperatorJailed{})
	s.Require().Len(evs, 1)
	ev := evs[0].(*types.EventOperatorJailed)
	s.Require().Equal(lazy, ev.Operator)
	s.Require().Equal(uint64(2), ev.Missed)
	s.Require().Equal(uint64(2), ev.Window)
	s.Require().True(o.JailedUntil.Equal(ev.JailedUntil))
	s.Require().False(s.liveness(id, ops[0]).Jailed)
	s.Require().False(s.liveness(id, ops[1]).Jailed)

	// this epoch's snapshot still holds it: it still answers for its tasks
	// (its stake is at risk for them), which counts for its liveness
	t3 := s.createTask(id)
	s.Require().Equal(uint64(3), s.task(t3).PowerTotal, "this epoch's snapshot still holds it")
	s.mustVote(lazy, t3, "A")
	before := s.stakeState()
	_, err := s.msgServer.Unjail(s.ctx, &types.MsgUnjail{Operator: lazy, ServiceId: id})
	s.Require().ErrorIs(err, types.ErrUnjailTooEarly)
	s.requireStakeUnchanged(before)

	// out of the next epoch's snapshot
	s.nextEpoch()
	t4 := s.createTask(id)
	s.Require().Equal(uint64(2), s.task(t4).PowerTotal)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], t4, "A"))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], t4, "A"), "2 of 2")

	// unjail a nanosecond early, then on time
	s.ctx = s.ctx.WithBlockTime(o.JailedUntil.Add(-time.Nanosecond))
	_, err = s.msgServer.Unjail(s.ctx, &types.MsgUnjail{Operator: lazy, ServiceId: id})
	s.Require().ErrorIs(err, types.ErrUnjailTooEarly)
	s.ctx = s.ctx.WithBlockTime(o.JailedUntil)
	_, err = s.msgServer.Unjail(s.ctx, &types.MsgUnjail{Operator: lazy, ServiceId: id})
	s.Require().NoError(err)
	s.Require().False(s.liveness(id, lazy).Jailed)
	// back in the snapshot of the epoch after
	s.nextEpoch()
	t5 := s.createTask(id)
	s.Require().Equal(uint64(3), s.task(t5).PowerTotal)
	s.mustVote(lazy, t5, "A")
	s.requireBalanced()
}

// A vote that comes after the task completed (late) but by the deadline is
// not a miss; a vote at the deadline height itself counts too.
func (s *KeeperTestSuite) TestLivenessLateVoteIsNotMissing() {
	id, ops := s.livenessService()
	lazy := ops[2]
	for range 3 {
		tid, d := s.honestTask(id, ops)
		s.ctx = s.ctx.WithBlockHeight(d)
		s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(lazy, tid, "A"), "late, at the deadline height")
		s.endBlockAt(d)
	}
	o := s.liveness(id, lazy)
	s.Require().False(o.Jailed)
	s.Require().Zero(o.Missed)
	s.Require().Zero(o.WindowMissed)
	s.Require().Equal(uint64(3), o.WindowTasks)

	// one block after the deadline the vote is refused, and missed
	tid, d := s.honestTask(id, ops)
	s.endBlockAt(d)
	s.ctx = s.ctx.WithBlockHeight(d + 1)
	s.Require().ErrorIs(outcomeErr(s.vote(lazy, tid, "A")), types.ErrVotingClosed)
	o = s.liveness(id, lazy)
	s.Require().Equal(uint64(1), o.Missed)
	s.Require().Zero(o.WindowTasks, "the 4th task closed the window")
	s.Require().Zero(o.WindowMissed)
}

// The window resets after liveness_window tasks: misses in different windows
// do not add up; two in one window jail. An expired task counts every
// operator that did not vote.
func (s *KeeperTestSuite) TestLivenessWindowResets() {
	id, ops := s.livenessService()
	lazy := ops[2]
	miss := func() {
		_, d := s.honestTask(id, ops)
		s.endBlockAt(d)
	}
	vote := func() {
		tid, d := s.honestTask(id, ops)
		s.mustVote(lazy, tid, "A")
		s.endBlockAt(d)
	}
	miss() // window: 1 task, 1 missed
	vote()
	vote()
	vote() // 4 tasks: reset
	o := s.liveness(id, lazy)
	s.Require().Zero(o.WindowTasks)
	s.Require().Zero(o.WindowMissed)
	s.Require().Equal(uint64(1), o.Missed)
	miss() // new window: 1 missed
	o = s.liveness(id, lazy)
	s.Require().False(o.Jailed)
	s.Require().Equal(uint64(1), o.WindowTasks)
	s.Require().Equal(uint64(1), o.WindowMissed)
	vote()
	vote()
	s.Require().False(s.liveness(id, lazy).Jailed)
	miss() // 2 of 4 in this window
	o = s.liveness(id, lazy)
	s.Require().True(o.Jailed)
	s.Require().Equal(uint64(3), o.Missed)

	// an expired task: nobody voted, every operator in its snapshot missed it
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	tid := s.createTask(id)
	before := [2]uint64{s.liveness(id, ops[0]).Missed, s.liveness(id, ops[1]).Missed}
	s.endBlockAt(s.task(tid).DeadlineHeight)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(tid).Status)
	s.Require().Equal(before[0]+1, s.liveness(id, ops[0]).Missed)
	s.Require().Equal(before[1]+1, s.liveness(id, ops[1]).Missed)
	s.Require().False(s.liveness(id, ops[0]).Jailed, "one miss is under the threshold")
	s.requireBalanced()
}

// A jail is per service (security review H-2): the operator jailed in one
// service still opts in to and serves another; in the service that jailed
// it, leaving and coming back does not clear the jail.
func (s *KeeperTestSuite) TestH2JailIsPerService() {
	id, ops := s.livenessService()
	for range 2 {
		_, d := s.honestTask(id, ops)
		s.endBlockAt(d)
	}
	s.Require().True(s.liveness(id, ops[2]).Jailed)
	other := s.createService(defaultManifest(types.Digest(validWasm())))
	s.allow(ops[2], other)
	_, err := s.msgServer.OptIn(s.ctx, &types.MsgOptIn{Operator: ops[2], ServiceId: other})
	s.Require().NoError(err, "jailed in service %d only", id)
	s.Require().False(s.liveness(other, ops[2]).Jailed)
	tid := s.createTask(other)
	s.Require().Equal(uint64(1), s.task(tid).PowerTotal, "it has power in the other service")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"))

	_, err = s.msgServer.OptOut(s.ctx, &types.MsgOptOut{Operator: ops[2], ServiceId: id})
	s.Require().NoError(err)
	before := s.stakeState()
	_, err = s.msgServer.OptIn(s.ctx, &types.MsgOptIn{Operator: ops[2], ServiceId: id})
	s.Require().ErrorIs(err, types.ErrOperatorJailed)
	s.requireStakeUnchanged(before)
}
