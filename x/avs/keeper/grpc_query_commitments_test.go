package keeper_test

import (
	"github.com/avschain/avschain/x/avs/types"
)

// The stake queries: Commitments (pending rewards, unbonding), OperatorCommitments,
// ServiceCommitments, ServicePower, Rewards, Treasury.
func (s *KeeperTestSuite) TestStakeQueries() {
	s.startClock()
	id, ops := s.setupService(stakeManifest("0.51"), 2)
	other := s.createService(stakeManifest("0.51"))
	s.optIn(ops[0], other)
	alice := s.fundAndCommit("alice", ops[0], id, 300)
	s.commit(s.fund("alice", 200), ops[0], other, 200)
	bob := s.fundAndCommit("bob", ops[0], id, 100)
	s.fundAndCommit("carol", ops[1], id, 50)
	s.uncommit(bob, ops[0], id, 40)
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)

	// a 1000 fee, op1 alone backs it (power 360 of 410): no commission, so
	// 1000 over op1's 360 in the service
	tid := s.payTask(id, 1000)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], tid, "A"))

	cres, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: alice})
	s.Require().NoError(err)
	s.Require().Len(cres.Commitments, 2)
	pending := map[uint64]int64{}
	for _, c := range cres.Commitments {
		pending[c.Commitment.ServiceId] = c.PendingRewards.Amount.Int64()
	}
	s.Require().Equal(map[uint64]int64{id: 833, other: 0}, pending) // 1000*300/360
	ures, err := s.queryServer.Unbonding(s.ctx, &types.QueryUnbondingRequest{Committer: alice})
	s.Require().NoError(err)
	s.Require().Empty(ures.Unbonding)
	s.Require().Equal(int64(833), s.pendingRewards(alice))
	s.Require().Equal(int64(166), s.pendingRewards(bob)) // 1000*60/360

	bres, err := s.queryServer.Unbonding(s.ctx, &types.QueryUnbondingRequest{Committer: bob})
	s.Require().NoError(err)
	s.Require().Len(bres.Unbonding, 1)
	s.Require().Equal(int64(40), bres.Unbonding[0].Amount.Int64())

	ores, err := s.queryServer.OperatorCommitments(s.ctx, &types.QueryOperatorCommitmentsRequest{Operator: ops[0]})
	s.Require().NoError(err)
	s.Require().Len(ores.Commitments, 3)
	s.Require().Len(ores.Pools, 2)
	totals := map[uint64]int64{}
	for _, p := range ores.Pools {
		totals[p.ServiceId] = p.Total.Int64()
	}
	s.Require().Equal(map[uint64]int64{id: 360, other: 200}, totals)

	sres, err := s.queryServer.ServiceCommitments(s.ctx, &types.QueryServiceCommitmentsRequest{ServiceId: id})
	s.Require().NoError(err)
	s.Require().Len(sres.Commitments, 3)
	for _, c := range sres.Commitments {
		s.Require().Equal(id, c.ServiceId)
	}

	pres, err := s.queryServer.ServicePower(s.ctx, &types.QueryServicePowerRequest{ServiceId: id})
	s.Require().NoError(err)
	s.Require().Equal(types.WEIGHTING_STAKE, pres.Weighting)
	s.Require().ElementsMatch([]types.OperatorPower{{Operator: ops[0], Power: 360}, {Operator: ops[1], Power: 50}}, pres.Current)
	s.Require().Equal(uint64(1), pres.Epoch)
	s.Require().Equal(uint64(410), pres.Snapshot.Total)

	s.Require().Equal(int64(833), s.withdraw(alice))
	s.Require().Equal(int64(0), s.pendingRewards(alice))

	fund := s.fund("funder", 77)
	_, err = s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: fund, ServiceId: other, Amount: stake(77)})
	s.Require().NoError(err)
	tres, err := s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: other})
	s.Require().NoError(err)
	s.Require().Equal(stake(77), tres.Treasury)
	tres, err = s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: id})
	s.Require().NoError(err)
	s.Require().Equal(stake(0), tres.Treasury)

	// bad requests
	_, err = s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: "alice"})
	s.Require().Error(err)
	_, err = s.queryServer.Commitments(s.ctx, nil)
	s.Require().Error(err)
	_, err = s.queryServer.OperatorCommitments(s.ctx, &types.QueryOperatorCommitmentsRequest{Operator: addr("nobody")})
	s.Require().Error(err)
	_, err = s.queryServer.ServiceCommitments(s.ctx, &types.QueryServiceCommitmentsRequest{ServiceId: 99})
	s.Require().Error(err)
	_, err = s.queryServer.ServicePower(s.ctx, &types.QueryServicePowerRequest{ServiceId: 99})
	s.Require().Error(err)
	_, err = s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: 99})
	s.Require().Error(err)
	_, err = s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: "x"})
	s.Require().Error(err)
	s.requireBalanced()
}
