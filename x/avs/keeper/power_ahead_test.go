package keeper_test

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/types"
)

// lastOfEpoch is the last height of the current epoch.
func (s *KeeperTestSuite) lastOfEpoch() int64 {
	l := int64(s.params().EpochLength)
	return (s.ctx.BlockHeight()/l+1)*l - 1
}

func (s *KeeperTestSuite) hasSnapshot(serviceID, epoch uint64) bool {
	ok, err := s.keeper.Snapshots.Has(s.ctx, collections.Join(serviceID, epoch))
	s.Require().NoError(err)
	return ok
}

// The last block of an epoch takes the next epoch's snapshot of a service
// that had tasks in it (issue #16: no task creator pays for it): stake
// committed before that block counts, stake committed in the next epoch
// before its first task does not. A service without tasks in the ending
// epoch is left to its first task, as before.
func (s *KeeperTestSuite) TestSnapshotTakenAheadAtEpochEnd() {
	s.startClock()
	id, ops := s.setupService(stakeManifest("0.51"), 3)
	s.fundAndCommit("a", ops[0], id, 70)
	s.fundAndCommit("b", ops[1], id, 20)
	s.fundAndCommit("c", ops[2], id, 10)
	idle := s.createService(stakeManifest("0.51"))
	idleOp := s.registerOperator("idle-op")
	s.optIn(idleOp, idle)
	s.fundAndCommit("d", idleOp, idle, 50)
	epoch := s.task(s.createTask(id)).Epoch

	s.fundAndCommit("c2", ops[2], id, 1000) // before the epoch's end: counts next epoch
	s.endBlockAt(s.lastOfEpoch())
	s.Require().True(s.hasSnapshot(id, epoch+1), "taken in the epoch's last block")
	s.Require().ElementsMatch([]types.OperatorPower{{Operator: ops[0], Power: 70}, {Operator: ops[1], Power: 20}, {Operator: ops[2], Power: 1010}},
		s.snapshotOf(id, epoch+1).Powers)
	s.Require().False(s.hasSnapshot(idle, epoch+1), "no task this epoch: its first task takes it")

	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	s.fundAndCommit("b2", ops[1], id, 5000) // after the snapshot: counts the epoch after
	t := s.task(s.createTask(id))
	s.Require().Equal(epoch+1, t.Epoch)
	s.Require().Equal(uint64(1100), t.PowerTotal, "the snapshot taken ahead, without b2's 5000")
	s.Require().Equal(uint64(50), s.task(s.createTask(idle)).PowerTotal, "taken by the first task")
	s.requireBalanced()
}

// The snapshots taken ahead stay within max_settlements_per_block operators:
// with a budget of 3 only the first of two 3-operator services gets one; the
// other's first task takes its own.
func (s *KeeperTestSuite) TestSnapshotsAheadWithinBudget() {
	s.setParams(func(p *types.Params) { p.MaxSettlementsPerBlock = 3 })
	first, _ := s.setupService(defaultManifest(""), 3)
	second := s.createService(defaultManifest(""))
	for _, op := range []string{"x1", "x2", "x3"} {
		s.optIn(s.registerOperator(op), second)
	}
	s.createTask(first)
	epoch := s.task(s.createTask(second)).Epoch
	s.endBlockAt(s.lastOfEpoch())
	s.Require().True(s.hasSnapshot(first, epoch+1))
	s.Require().False(s.hasSnapshot(second, epoch+1), "past the budget")

	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	s.Require().Equal(uint64(3), s.task(s.createTask(second)).PowerTotal)
	s.Require().True(s.hasSnapshot(second, epoch+1))
}

// failingPower is a PowerSource that cannot tell anyone's power.
type failingPower struct{}

func (failingPower) OperatorPowers(context.Context, uint64) ([]types.OperatorPower, error) {
	return nil, errors.New("power source down")
}

// A snapshot that cannot be taken ahead never fails the block: nothing of it
// is written, and the first task of the epoch takes it (or says why not).
func (s *KeeperTestSuite) TestSnapshotAheadNeverFailsTheBlock() {
	id, _ := s.setupService(defaultManifest(""), 3)
	epoch := s.task(s.createTask(id)).Epoch
	s.usePowerSource(failingPower{})
	s.endBlockAt(s.lastOfEpoch())
	s.Require().False(s.hasSnapshot(id, epoch+1), "nothing of it written")

	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	_, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{Creator: s.creator(), ServiceId: id, Input: []byte("input"), Fee: stake(defaultFee)})
	s.Require().ErrorContains(err, "power source down")
	s.usePowerSource(nil)
	s.Require().Equal(uint64(3), s.task(s.createTask(id)).PowerTotal)
}

// The budget counts the opt-ins a snapshot walks, whether or not they have
// power: a first service with 4 opt-ins does not fit a budget of 3, and the
// services after it wait for their first tasks too (the store's order stays).
func (s *KeeperTestSuite) TestSnapshotsAheadBudgetCountsOptIns() {
	s.setParams(func(p *types.Params) { p.MaxSettlementsPerBlock = 3 })
	big, _ := s.setupService(defaultManifest(""), 4)
	small := s.createService(defaultManifest(""))
	s.optIn(s.registerOperator("y1"), small)
	s.createTask(big)
	epoch := s.task(s.createTask(small)).Epoch
	s.endBlockAt(s.lastOfEpoch())
	s.Require().False(s.hasSnapshot(big, epoch+1), "4 opt-ins, a budget of 3")
	s.Require().False(s.hasSnapshot(small, epoch+1), "after the one that did not fit")
}
