package keeper_test

import (
	"sort"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// rewardService creates an EQUAL EXACT service (threshold 0.5, timeout 20)
// with the given operators, registered with their commissions, opted in.
func (s *KeeperTestSuite) rewardService(commissions ...string) (uint64, []string) {
	s.creator()
	m := defaultManifest("")
	m.TaskTimeout = 20
	id := s.createService(m)
	ops := make([]string, len(commissions))
	for i, c := range commissions {
		ops[i] = s.registerWithCommission("op"+string(rune('1'+i)), c)
		s.optIn(ops[i], id)
	}
	return id, ops
}

// A completed task's fee goes to its backer: the operator keeps its
// commission, its committers share the rest by stake, rounding down; the dust
// stays in the pool's outstanding.
func (s *KeeperTestSuite) TestRewardSplit() {
	testCases := []struct {
		name       string
		commission string
		// committer name -> stake; "self" is the operator itself
		commitments map[string]int64
		fee         int64
		// the operator's balance gain at completion (commission, or all)
		expOperator int64
		// each committer's withdrawable reward
		expRewards map[string]int64
		// the pool's outstanding once every committer withdrew
		expDust int64
	}{
		{
			name: "10% commission, committers 3:1", commission: "0.1",
			commitments: map[string]int64{"alice": 300, "bob": 100}, fee: 1000,
			expOperator: 100, expRewards: map[string]int64{"alice": 675, "bob": 225},
		},
		{
			name: "rounding down leaves dust in the pool", commission: "0.1",
			commitments: map[string]int64{"alice": 300, "bob": 100}, fee: 101,
			// keep trunc(10.1) = 10; 91 over 400 is 0.2275 a unit: 68.25 and 22.75
			expOperator: 10, expRewards: map[string]int64{"alice": 68, "bob": 22}, expDust: 1,
		},
		{
			name: "the operator's self-commitment counts as a committer", commission: "0.1",
			commitments: map[string]int64{"alice": 300, "bob": 100, "self": 100}, fee: 1000,
			expOperator: 100, expRewards: map[string]int64{"alice": 540, "bob": 180, "self": 180},
		},
		{
			name: "no committers: the operator keeps everything", commission: "0.1",
			fee: 1000, expOperator: 1000, expRewards: map[string]int64{},
		},
		{
			name: "commission 1: the operator keeps everything", commission: "1",
			commitments: map[string]int64{"alice": 300}, fee: 1000,
			expOperator: 1000, expRewards: map[string]int64{"alice": 0},
		},
		{
			name: "commission 0: all to the committers", commission: "0",
			commitments: map[string]int64{"alice": 300, "bob": 100}, fee: 1000,
			expRewards: map[string]int64{"alice": 750, "bob": 250},
		},
		{
			name: "three committers with an inexact split", commission: "0.15",
			commitments: map[string]int64{"alice": 1, "bob": 1, "carol": 1}, fee: 100,
			// keep 15; 85 / 3 = 28.333333333333333333 each
			expOperator: 15, expRewards: map[string]int64{"alice": 28, "bob": 28, "carol": 28}, expDust: 1,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, ops := s.rewardService(tc.commission)
			op := ops[0]
			who := map[string]string{}
			for name, n := range tc.commitments {
				if name == "self" {
					s.bank.Fund(accFromString(op), sdk.NewCoins(stake(n)))
					s.commit(op, op, id, n)
					who[name] = op
					continue
				}
				who[name] = s.fundAndCommit(name, op, id, n)
			}
			s.nextEpoch() // commitments earn from the epoch after they were made (L-2)
			opBefore := s.earned(op)
			total := s.bank.Total(denom)
			tid := s.payTask(id, tc.fee)
			s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(op, tid, "A"))
			s.Require().Equal(tc.expOperator, s.earned(op).Sub(opBefore).Int64(), "credited to the operator")
			s.requireBalanced()
			for name, want := range tc.expRewards {
				s.Require().Equal(want, s.pendingRewards(who[name]), name)
			}
			var paid int64
			for name, want := range tc.expRewards {
				// the operator's own withdrawal pays its commission too
				var asOperator int64
				if who[name] == op {
					asOperator = tc.expOperator
				}
				if want+asOperator == 0 {
					_, err := s.msgServer.WithdrawRewards(s.ctx, &types.MsgWithdrawRewards{Committer: who[name]})
					s.Require().ErrorIs(err, types.ErrNoRewards)
					continue
				}
				b := s.balance(who[name])
				s.Require().Equal(want+asOperator, s.withdraw(who[name]), name)
				s.Require().Equal(want+asOperator, s.balance(who[name]).Sub(b).Int64())
				s.Require().Zero(s.pendingRewards(who[name]))
				paid += want
				s.requireBalanced()
			}
			s.Require().Equal(tc.fee, tc.expOperator+paid+tc.expDust, "the fee is fully accounted for")
			s.Require().Equal(tc.expDust, s.pool(op, id).Outstanding.Int64())
			s.Require().Equal(total, s.bank.Total(denom))
			// the stake is untouched
			for name, n := range tc.commitments {
				s.Require().Equal(n, s.committed(op, id, who[name]))
			}
		})
	}
}

// Two backers split the fee by power (the remainder to the first by address),
// then each share is split by its own operator's commission.
func (s *KeeperTestSuite) TestRewardTwoBackers() {
	id, ops := s.rewardService("0.1", "0.5", "0")
	alice := s.fundAndCommit("alice", ops[0], id, 100)
	bob := s.fundAndCommit("bob", ops[1], id, 100)
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)
	tid := s.payTask(id, 1001)
	s.mustVote(ops[2], tid, "B") // the loser gets nothing
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], tid, "A"))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], tid, "A"))

	backers := []string{ops[0], ops[1]}
	sort.Strings(backers)
	share := map[string]int64{ops[0]: 500, ops[1]: 500}
	share[backers[0]]++
	s.Require().Equal(share[ops[0]]/10, s.earned(ops[0]).Int64())
	s.Require().Equal(share[ops[0]]-share[ops[0]]/10, s.pendingRewards(alice))
	s.Require().Equal(share[ops[1]]/2, s.earned(ops[1]).Int64())
	s.Require().Equal(share[ops[1]]-share[ops[1]]/2, s.pendingRewards(bob))
	s.Require().Zero(s.earned(ops[2]).Int64())
	s.requireBalanced()
}

// WithdrawRewards pays the sum over all of a committer's commitments, in every
// pool, and zeroes each.
func (s *KeeperTestSuite) TestWithdrawAcrossCommitments() {
	id, ops := s.rewardService("0", "0")
	other := s.createService(defaultManifest(types.Digest(validWasm())))
	s.optIn(ops[0], other)
	alice := s.fund("alice", 300)
	s.commit(alice, ops[0], id, 100)
	s.commit(alice, ops[1], id, 100)
	s.commit(alice, ops[0], other, 100)
	bob := s.fundAndCommit("bob", ops[0], other, 300)
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)

	// both operators complete each task (threshold above 0.5), alice alone
	// in both pools: 200 + 200, then 100 + 100
	t1 := s.payTask(id, 400)
	s.mustVote(ops[0], t1, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], t1, "A"))
	t2 := s.payTask(id, 200)
	s.mustVote(ops[1], t2, "A")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t2, "A"))
	t3 := s.payTask(other, 400)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], t3, "A")) // 400 over 400: alice 100, bob 300

	s.Require().Equal(int64(700), s.pendingRewards(alice))
	ctx := s.withEvents()
	res, err := s.msgServer.WithdrawRewards(ctx, &types.MsgWithdrawRewards{Committer: alice})
	s.Require().NoError(err)
	s.Require().Equal(stake(700), res.Amount)
	s.Require().Equal(int64(700), s.balance(alice).Int64())
	evs := s.typedEvents(ctx, &types.EventRewardsWithdrawn{})
	s.Require().Len(evs, 1)
	s.Require().Equal(&types.EventRewardsWithdrawn{Committer: alice, Amount: stake(700)}, evs[0])

	cres, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: alice})
	s.Require().NoError(err)
	s.Require().Len(cres.Commitments, 3)
	for _, c := range cres.Commitments {
		s.Require().True(c.PendingRewards.IsZero())
		s.Require().True(c.Commitment.Unclaimed.IsZero())
		s.Require().Equal(stake(100), c.Value)
	}
	_, err = s.msgServer.WithdrawRewards(s.ctx, &types.MsgWithdrawRewards{Committer: alice})
	s.Require().ErrorIs(err, types.ErrNoRewards)
	s.Require().Equal(int64(300), s.withdraw(bob))
	s.requireBalanced()
}

// Commit and uncommit between rewards settle first: rewards earned before an
// uncommit are kept, a commitment made after a reward earns nothing of it.
func (s *KeeperTestSuite) TestRewardsAcrossCommitChanges() {
	id, ops := s.rewardService("0")
	op := ops[0]
	alice := s.fundAndCommit("alice", op, id, 300)
	bob := s.fundAndCommit("bob", op, id, 100)
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)

	t1 := s.payTask(id, 1000) // alice 750, bob 250
	s.mustVote(op, t1, "A")
	s.Require().Equal(int64(750), s.pendingRewards(alice))

	// alice leaves entirely: her commitment stays, holding 750 unclaimed
	s.uncommit(alice, op, id, 300)
	c, ok := s.commitment(op, id, alice)
	s.Require().True(ok, "a commitment with unclaimed rewards is kept")
	s.Require().True(c.Shares.IsZero())
	s.Require().Equal(int64(750), c.Unclaimed.Int64())
	// carol arrives after t1
	carol := s.fundAndCommit("carol", op, id, 300)
	s.requireBalanced()
	s.nextEpoch() // carol earns from the next epoch (L-2)

	t2 := s.payTask(id, 800) // bob 200, carol 600, alice nothing
	s.mustVote(op, t2, "A")
	s.Require().Equal(int64(750), s.pendingRewards(alice))
	s.Require().Equal(int64(450), s.pendingRewards(bob))
	s.Require().Equal(int64(600), s.pendingRewards(carol))

	// bob adds stake: his 450 are settled first, then he earns on 200
	s.commit(s.fund("bob", 100), op, id, 100)
	s.nextEpoch()            // bob's 100 more earn from the next epoch (L-2)
	t3 := s.payTask(id, 500) // bob 200 of 500, carol 300 of 500
	s.mustVote(op, t3, "A")
	s.Require().Equal(int64(650), s.pendingRewards(bob))
	s.Require().Equal(int64(900), s.pendingRewards(carol))

	s.Require().Equal(int64(750), s.withdraw(alice))
	_, ok = s.commitment(op, id, alice)
	s.Require().False(ok, "emptied and withdrawn, the commitment is gone")
	s.Require().Equal(int64(650), s.withdraw(bob))
	s.Require().Equal(int64(900), s.withdraw(carol))
	s.Require().True(s.pool(op, id).Outstanding.IsZero())
	s.requireBalanced()
}

func (s *KeeperTestSuite) TestWithdrawRewardsErrors() {
	var (
		id    uint64
		ops   []string
		alice string
	)
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgWithdrawRewards)
		expErr   error
	}{
		{name: "failure: commitment without rewards", malleate: func(*types.MsgWithdrawRewards) {}, expErr: types.ErrNoRewards},
		{name: "failure: no commitment at all", malleate: func(msg *types.MsgWithdrawRewards) { msg.Committer = addr("bob") }, expErr: types.ErrNoRewards},
		{
			name: "failure: everything already withdrawn",
			malleate: func(*types.MsgWithdrawRewards) {
				tid := s.payTask(id, 1000)
				s.mustVote(ops[0], tid, "A")
				s.Require().Equal(int64(1000), s.withdraw(alice))
			},
			expErr: types.ErrNoRewards,
		},
		{
			name: "failure: uncommitted before any reward",
			malleate: func(*types.MsgWithdrawRewards) {
				s.uncommit(alice, ops[0], id, 400)
			},
			expErr: types.ErrNoRewards,
		},
		{name: "failure: committer is not an address", malleate: func(msg *types.MsgWithdrawRewards) { msg.Committer = "alice" }, expErr: types.ErrInvalidAddress},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, ops = s.setupService(defaultManifest(""), 1)
			alice = s.fundAndCommit("alice", ops[0], id, 400)
			s.nextEpoch() // commitments earn from the epoch after they were made (L-2)
			msg := &types.MsgWithdrawRewards{Committer: alice}
			tc.malleate(msg)
			before := s.stakeState()
			_, err := s.msgServer.WithdrawRewards(s.ctx, msg)
			s.Require().ErrorIs(err, tc.expErr)
			s.requireStakeUnchanged(before)
		})
	}
}
