package keeper_test

import (
	"fmt"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// snapshotOf returns the service's stored snapshot for an epoch.
func (s *KeeperTestSuite) snapshotOf(serviceID, epoch uint64) types.PowerSnapshot {
	snap, err := s.keeper.Snapshots.Get(s.ctx, collections.Join(serviceID, epoch))
	s.Require().NoError(err)
	return snap
}

func (s *KeeperTestSuite) votePower(taskID uint64, operator string) uint64 {
	v, err := s.keeper.Votes.Get(s.ctx, collections.Join(taskID, operator))
	s.Require().NoError(err)
	return v.Power
}

// A STAKE service tallies by committed power: 70/20/10 at threshold 0.5, the
// 70 alone completes, the 30 together do not; an operator without stake has
// no power and cannot vote.
func (s *KeeperTestSuite) TestStakeWeightingTally() {
	id, ops := s.setupService(stakeManifest("0.51"), 4)
	s.fundAndCommit("a", ops[0], id, 70)
	s.fundAndCommit("b", ops[1], id, 20)
	s.fundAndCommit("c", ops[2], id, 10) // ops[3] has no stake

	tid := s.createTask(id)
	task := s.task(tid)
	s.Require().Equal(uint64(100), task.PowerTotal)
	snap := s.snapshotOf(id, task.Epoch)
	s.Require().ElementsMatch([]types.OperatorPower{{Operator: ops[0], Power: 70}, {Operator: ops[1], Power: 20}, {Operator: ops[2], Power: 10}}, snap.Powers)

	s.Require().ErrorIs(outcomeErr(s.vote(ops[3], tid, "A")), types.ErrNotOptedIn, "no stake, no power")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[1], tid, "B"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[2], tid, "B"), "30 of 100 is below 0.5")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], tid, "A"), "70 of 100 completes alone")
	task = s.task(tid)
	s.Require().Equal([]byte("A"), task.Result)
	s.Require().Equal(uint64(70), task.PowerFor)
	s.Require().Equal(uint64(70), s.votePower(tid, ops[0]))
	s.Require().Equal(uint64(20), s.votePower(tid, ops[1]))
	s.requireBalanced()
}

// With EQUAL weighting stake changes nothing: every opted-in operator has
// power 1, with or without stake.
func (s *KeeperTestSuite) TestEqualWeightingIgnoresStake() {
	m := defaultManifest("")
	m.TaskTimeout = 20
	id, ops := s.setupService(m, 3)
	s.fundAndCommit("a", ops[0], id, 70)
	s.fundAndCommit("b", ops[1], id, 20)
	tid := s.createTask(id)
	s.Require().Equal(uint64(3), s.task(tid).PowerTotal)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], tid, "A"))
	s.Require().Equal(uint64(1), s.votePower(tid, ops[0]))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"), "the operator without stake counts 1")
}

// A STAKE service nobody committed to has no power: no task can be created.
func (s *KeeperTestSuite) TestStakeWeightingWithoutStake() {
	id, ops := s.setupService(stakeManifest("0.51"), 2)
	before := s.stakeState()
	_, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: stake(defaultFee)})
	s.Require().ErrorIs(err, types.ErrNoOperators)
	// the error says why: operators are opted in but have no power (issue #19)
	s.Require().ErrorContains(err, fmt.Sprintf("the operators opted in to service %d have no power in epoch 0's snapshot", id))
	s.Require().ErrorContains(err, "counts from the next epoch, at height 100")
	s.requireStakeUnchanged(before)

	// stake committed to an operator not opted in gives no power either
	loner := s.registerOperator("loner")
	s.fundAndCommit("a", loner, id, 500)
	_, err = s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: stake(defaultFee)})
	s.Require().ErrorIs(err, types.ErrNoOperators)

	// the first stake behind an opted-in operator makes the snapshot, mid-epoch
	s.fundAndCommit("b", ops[1], id, 5)
	tid := s.createTask(id)
	s.Require().Equal(uint64(5), s.task(tid).PowerTotal)
}

// The snapshot is fixed for the epoch: stake committed or uncommitted after
// the epoch's first task changes no task of that epoch; the next epoch's first
// task sees it.
func (s *KeeperTestSuite) TestStakeSnapshotPerEpoch() {
	s.startClock()
	id, ops := s.setupService(stakeManifest("0.51"), 3)
	a := s.fundAndCommit("a", ops[0], id, 70)
	s.fundAndCommit("b", ops[1], id, 20)
	s.fundAndCommit("c", ops[2], id, 10)
	t1 := s.createTask(id)
	epoch0 := s.task(t1).Epoch

	// after the snapshot: c's operator gets 1000 more, a's loses 60
	s.fundAndCommit("c2", ops[2], id, 1000)
	s.uncommit(a, ops[0], id, 60)
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 40)
	t2 := s.createTask(id)
	s.Require().Equal(epoch0, s.task(t2).Epoch)
	s.Require().Equal(uint64(100), s.task(t2).PowerTotal, "same epoch, same snapshot")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[2], t2, "C"))
	s.Require().Equal(uint64(10), s.votePower(t2, ops[2]), "the new stake cannot sway the task")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t2, "A"), "the uncommitted stake still counts this epoch")
	s.Require().Equal([]byte("A"), s.task(t2).Result)

	// next epoch: 10 / 20 / 1010
	s.nextEpoch()
	t3 := s.createTask(id)
	s.Require().Equal(epoch0+1, s.task(t3).Epoch)
	s.Require().Equal(uint64(1040), s.task(t3).PowerTotal)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], t3, "A"))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], t3, "C"))
	s.Require().Equal([]byte("C"), s.task(t3).Result)
	s.Require().Equal(uint64(1010), s.task(t3).PowerFor)
	s.requireBalanced()
}

// A jailed operator is out of the next snapshot (the current one keeps it);
// unjailed, it is back in the one after.
func (s *KeeperTestSuite) TestStakeSnapshotSkipsJailed() {
	s.startClock()
	id, ops := s.setupService(stakeManifest("0.51"), 3)
	s.fundAndCommit("a", ops[0], id, 70)
	s.fundAndCommit("b", ops[1], id, 20)
	s.fundAndCommit("c", ops[2], id, 10)
	t1 := s.createTask(id)

	s.setLiveness(id, ops[0], types.OperatorLiveness{Jailed: true, JailedUntil: stakeStart})
	t2 := s.createTask(id)
	s.Require().Equal(uint64(100), s.task(t2).PowerTotal, "the epoch's snapshot keeps it")
	s.Require().Equal(s.task(t1).Epoch, s.task(t2).Epoch)

	s.nextEpoch()
	t3 := s.createTask(id)
	s.Require().Equal(uint64(30), s.task(t3).PowerTotal)
	_, in := powerOf(s.snapshotOf(id, s.task(t3).Epoch), ops[0])
	s.Require().False(in)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], t3, "B"), "20 of 30")

	_, err := s.msgServer.Unjail(s.ctx, &types.MsgUnjail{Operator: ops[0], ServiceId: id})
	s.Require().NoError(err)
	s.nextEpoch()
	t4 := s.createTask(id)
	s.Require().Equal(uint64(100), s.task(t4).PowerTotal)
}

func powerOf(snap types.PowerSnapshot, operator string) (uint64, bool) {
	for _, p := range snap.Powers {
		if p.Operator == operator {
			return p.Power, true
		}
	}
	return 0, false
}

// TestH6SnapshotBoundedByMaxSnapshotOperators: a service's epoch snapshot
// holds at most max_snapshot_operators operators, the ones with the most
// power, ties broken by address; an operator cut from it cannot vote. Without
// the bound every opted-in operator entered the snapshot, and every deadline
// of the epoch worked over all of them (security review H-6, C-1).
func (s *KeeperTestSuite) TestH6SnapshotBoundedByMaxSnapshotOperators() {
	p, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	p.MaxSnapshotOperators = 3
	s.Require().NoError(s.keeper.Params.Set(s.ctx, p))

	id, ops := s.setupService(stakeManifest("0.51"), 5)
	s.fundAndCommit("a", ops[0], id, 10)
	s.fundAndCommit("b", ops[1], id, 40)
	s.fundAndCommit("c", ops[2], id, 20)
	s.fundAndCommit("d", ops[3], id, 20)
	s.fundAndCommit("e", ops[4], id, 5)

	tid := s.createTask(id)
	task := s.task(tid)
	snap := s.snapshotOf(id, task.Epoch)
	s.Require().Len(snap.Powers, 3)
	// 40, then the two 20s (a tie, both above 10): the top three by power.
	s.Require().ElementsMatch([]types.OperatorPower{
		{Operator: ops[1], Power: 40}, {Operator: ops[2], Power: 20}, {Operator: ops[3], Power: 20},
	}, snap.Powers)
	s.Require().Equal(uint64(80), task.PowerTotal)
	s.Require().ErrorIs(outcomeErr(s.vote(ops[0], tid, "A")), types.ErrNotOptedIn, "cut from the snapshot: no power")

	// A tie at the cut is broken by address: with room for two, the 40 and
	// the lower address of the two 20s.
	powers := []types.OperatorPower{{Operator: "b", Power: 20}, {Operator: "c", Power: 40}, {Operator: "a", Power: 20}}
	s.Require().Equal([]types.OperatorPower{{Operator: "c", Power: 40}, {Operator: "a", Power: 20}}, keeper.TopPowers(powers, 2))
	s.Require().Equal(powers, keeper.TopPowers(powers, 3), "under the cap: unchanged")
}

// A service nobody opted in to says so, and names the command that fixes it.
func (s *KeeperTestSuite) TestNoOperatorOptedInSaysHow() {
	s.creator()
	id := s.createService(defaultManifest(""))
	_, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: stake(defaultFee)})
	s.Require().ErrorIs(err, types.ErrNoOperators)
	s.Require().ErrorContains(err, fmt.Sprintf("service %d has no operator opted in: operators join it with `avsd tx avs opt-in %d`", id, id))
}
