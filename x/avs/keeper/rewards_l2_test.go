package keeper_test

// TestL2CommitJustBeforeCompletionEarnsNothing is the review's L-2: X holds
// 1e6 since the epoch started; the attacker commits 1e6 in the block where
// the task completes, before the completing vote. Rewards went to whoever
// was in the pool at completion, so the attacker took half of the
// committers' part. Now a commitment earns from the epoch after it was made:
// the attacker gets nothing of that task and X all of it; in the next epoch
// both earn. The pool's pending shares and their join survive an export and
// import.
func (s *KeeperTestSuite) TestL2CommitJustBeforeCompletionEarnsNothing() {
	const stakeX = 1_000_000
	id, ops := s.rewardService("0")
	op := ops[0]
	x := s.fundAndCommit("x", op, id, stakeX)
	s.nextEpoch()

	t1 := s.payTask(id, 1000)
	attacker := s.fundAndCommit("attacker", op, id, stakeX) // the completion block
	s.Require().Equal(int64(2*stakeX), s.pool(op, id).Total.Int64(), "the attacker's stake is stake: power, slashing")
	s.Require().Equal("TASK_STATUS_COMPLETED", s.mustVote(op, t1, "A").String())
	s.Require().Equal(int64(1000), s.pendingRewards(x), "X: all of the committers' part")
	s.Require().Zero(s.pendingRewards(attacker), "the attacker: nothing of a task completed in its commitment's epoch")
	s.requireBalanced()
	p := s.pool(op, id)
	s.Require().Equal(int64(stakeX), p.PendingShares.Int64())
	s.Require().Equal(uint64(1), p.PendingHolders)

	// the next epoch: both earn
	s.nextEpoch()
	t2 := s.payTask(id, 1000)
	s.mustVote(op, t2, "A")
	s.Require().Equal(int64(1500), s.pendingRewards(x))
	s.Require().Equal(int64(500), s.pendingRewards(attacker))
	s.requireBalanced()
	// each epoch's shares joined at the epoch's first reward after it; X's
	// and the attacker's commitments have not settled theirs yet: the joins
	// are kept, and come across an export
	p = s.pool(op, id)
	s.Require().True(p.PendingShares.IsZero())
	joins := s.pendingJoins()
	s.Require().Len(joins, 2)
	for _, j := range joins {
		s.Require().Equal(uint64(1), j.Holders)
	}

	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(gs.Validate())
	s.Require().Len(gs.PendingJoins, 2)
	e := s.newEnv()
	for a, c := range s.bank.Balances {
		e.bank.Balances[a] = c
	}
	s.Require().NoError(e.keeper.InitGenesis(e.ctx, gs))
	again, err := e.keeper.ExportGenesis(e.ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, again)
	s.Require().NoError(e.keeper.CheckShares(e.ctx))

	// withdrawing settles the pending shares and drops the joins
	s.Require().Equal(int64(500), s.withdraw(attacker))
	s.Require().Len(s.pendingJoins(), 1)
	s.Require().Equal(int64(1500), s.withdraw(x))
	s.Require().Empty(s.pendingJoins())
	s.requireBalanced()
}
