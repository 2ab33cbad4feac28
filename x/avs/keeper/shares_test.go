package keeper_test

import (
	"time"

	"github.com/avschain/avschain/x/avs/types"
)

// A slash of fraction 1 leaves the pool shares and no tokens: those shares
// are worth nothing. The next commit starts the pool afresh (a new
// generation) instead of sharing its tokens with them; the old commitment
// keeps the rewards it earned before the slash and none after, and leaves
// on its next touch. The unbonding pool the slash emptied restarts the same
// way: the old entry matures paying nothing, a new one paying what it put in.
func (s *KeeperTestSuite) TestSlashToNothingRenewsThePools() {
	s.startClock()
	m := defaultManifest("")
	m.TaskTimeout = 20
	m.SlashFraction = dec("1")
	id, ops := s.setupService(m, 3)
	bad := ops[2]
	alice := s.fundAndCommit("alice", bad, id, 500)
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)

	// alice earns a reward through bad before the slash
	t0 := s.createTask(id)
	s.mustVote(bad, t0, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t0, "A"))
	earned := s.pendingRewards(alice)
	s.Require().Positive(earned)

	t1 := s.createTask(id)
	old := s.uncommit(alice, bad, id, 100)
	s.mustVote(bad, t1, "B")
	s.mustVote(ops[0], t1, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], t1, "A"))
	s.Require().Equal(int64(500), s.bank.Burned(denom).Amount.Int64())
	s.Require().Equal(int64(0), s.committed(bad, id, alice))
	s.Require().Equal(int64(0), s.unbondingValue(old.EntryId))
	p := s.pool(bad, id)
	s.Require().True(p.Total.IsZero())
	s.Require().Equal(int64(400), p.Shares.Int64(), "worthless shares are left")
	s.requireBalanced()

	// bob's commit starts generation 1: his 300 is worth 300
	bob := s.fundAndCommit("bob", bad, id, 300)
	p = s.pool(bad, id)
	s.Require().Equal(uint64(1), p.Generation)
	s.Require().Equal(int64(300), p.Shares.Int64())
	s.Require().Equal(int64(300), s.committed(bad, id, bob))
	s.Require().Equal(int64(0), s.committed(bad, id, alice))
	s.requireBalanced()
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)

	// a reward after the renewal goes to bob; alice keeps what she earned
	t2 := s.createTask(id)
	s.mustVote(bad, t2, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t2, "A"))
	s.Require().Equal(earned, s.pendingRewards(alice))
	s.Require().Positive(s.pendingRewards(bob))
	s.Require().Equal(earned, s.withdraw(alice))
	_, ok := s.commitment(bad, id, alice)
	s.Require().False(ok, "the old commitment is gone once touched and paid")
	s.requireBalanced()

	// bob unbonds into the unbonding pool the slash emptied: it restarts
	fresh := s.uncommit(bob, bad, id, 300)
	s.Require().Equal(int64(300), s.unbondingValue(fresh.EntryId))
	s.Require().Equal(int64(0), s.unbondingValue(old.EntryId))
	s.requireBalanced()

	s.ctx = s.ctx.WithBlockTime(fresh.CompletionTime.Add(time.Second))
	aliceBefore, bobBefore := s.balance(alice), s.balance(bob)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().True(s.balance(alice).Equal(aliceBefore), "the slashed entry pays nothing")
	s.Require().Equal(int64(300), s.balance(bob).Sub(bobBefore).Int64())
	s.Require().Empty(s.unbondingPools())
	s.requireBalanced()
}

// Uncommit pays exactly the amount asked below the commitment's value; the
// value, or one more when the shares are worth a fraction more, takes every
// share: so a commitment worth less than a token after a slash can leave,
// and the last one out empties the pool.
func (s *KeeperTestSuite) TestUncommitAfterSlashRounding() {
	m := defaultManifest("")
	m.TaskTimeout = 20
	m.SlashFraction = dec("0.333")
	id, ops := s.setupService(m, 3)
	bad := ops[2]
	dust := s.fundAndCommit("dust", bad, id, 1)
	big := s.fundAndCommit("big", bad, id, 999)
	tid := s.createTask(id)
	s.mustVote(bad, tid, "B")
	s.mustVote(ops[0], tid, "A")
	s.mustVote(ops[1], tid, "A")
	// 1000 -> 667: dust is worth 0.667, big 666.333
	s.Require().Equal(int64(667), s.pool(bad, id).Total.Int64())
	s.Require().Equal(int64(0), s.committed(bad, id, dust))
	s.Require().Equal(int64(666), s.committed(bad, id, big))

	_, err := s.msgServer.Uncommit(s.ctx, &types.MsgUncommit{Committer: dust, Operator: bad, ServiceId: id, Amount: stake(2)})
	s.Require().ErrorIs(err, types.ErrInsufficientStake)
	res := s.uncommit(dust, bad, id, 1) // its value rounded up: all of it, paying 0
	s.Require().Equal(int64(0), s.unbondingValue(res.EntryId))
	_, ok := s.commitment(bad, id, dust)
	s.Require().False(ok)
	s.requireBalanced()

	// below the value: exactly the amount
	part := s.uncommit(big, bad, id, 600)
	s.Require().Equal(int64(600), s.unbondingValue(part.EntryId))
	left := s.committed(bad, id, big)
	s.Require().Equal(int64(67), left, "667 - 600: the dust's 0.667 went to the pool")
	s.uncommit(big, bad, id, left)
	p := s.pool(bad, id)
	s.Require().True(p.Total.IsZero())
	s.Require().True(p.Shares.IsZero())
	s.requireBalanced()
}

// H-1 (security review): stake uncommitted right after the epoch's snapshot
// keeps its power for the epoch's later tasks, so it must stay slashable for
// them. Unbonding pools are per epoch and a slash for a task of epoch e
// reaches those of epochs >= e: the entry begun after the snapshot, before
// the task, is cut; one begun in the previous epoch is not.
func (s *KeeperTestSuite) TestH1StakeUnbondedAfterTheSnapshotStaysSlashable() {
	s.startClock()
	m := stakeManifest("0.51")
	m.SlashFraction = dec("1")
	id, ops := s.setupService(m, 3)
	a, b, c := ops[0], ops[1], ops[2]
	s.fundAndCommit("a", a, id, 1000)
	early := s.fundAndCommit("early", a, id, 50)
	s.fundAndCommit("b", b, id, 600)
	s.fundAndCommit("c", c, id, 600)
	prev := s.uncommit(early, a, id, 50) // epoch 0

	s.nextEpoch()
	s.createTask(id) // takes epoch 1's snapshot: a has 1000
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	res := s.uncommit(addr("a"), a, id, 1000)
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1)
	t1 := s.createTask(id)
	s.Require().Equal(uint64(2200), s.task(t1).PowerTotal, "a still has its 1000 in the snapshot")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(a, t1, "X"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(b, t1, "Y"))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(c, t1, "Y"))

	s.Require().Equal(int64(0), s.unbondingValue(res.EntryId), "unbonded after the snapshot: cut")
	s.Require().Equal(int64(50), s.unbondingValue(prev.EntryId), "unbonded in an earlier epoch: not cut")
	s.Require().Equal(int64(1000), s.bank.Burned(denom).Amount.Int64())
	s.requireBalanced()
}
