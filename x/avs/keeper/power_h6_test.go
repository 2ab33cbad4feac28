package keeper_test

import (
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// servicePower returns the ServicePower query's power now of each operator.
func (s *KeeperTestSuite) servicePower(id uint64) map[string]uint64 {
	res, err := s.queryServer.ServicePower(s.ctx, &types.QueryServicePowerRequest{ServiceId: id})
	s.Require().NoError(err)
	out := map[string]uint64{}
	for _, p := range res.Current {
		out[p.Operator] = p.Power
	}
	return out
}

// TestH6NoFreePower is the review's H-6: an EQUAL + OPEN service let
// operators without stake take the quorum. Such a manifest is refused; a
// STAKE service counts only operators whose own commitment reaches
// min_operator_stake (or the service's higher min_self_stake), and the
// ServicePower query agrees with the snapshot.
func (s *KeeperTestSuite) TestH6NoFreePower() {
	const minStake = 1_000_000
	s.setParams(func(p *types.Params) { p.MinOperatorStake = sdkmath.NewInt(minStake) })

	// the review's manifest: refused, with what to change
	open := defaultManifest("")
	open.Admission = types.ADMISSION_OPEN
	open.Quorum.Threshold = dec("0.67")
	open.ComponentDigest = s.storeComponent()
	_, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: open})
	s.Require().ErrorIs(err, types.ErrEqualWeightingOpen)
	s.Require().Contains(err.Error(), "ADMISSION_ALLOWLIST")
	s.Require().Contains(err.Error(), "min_self_stake")

	// STAKE: a (self 1e6) counts; b (5e6 from others, none of its own) and
	// c (self 1e6 - 1) do not, whatever their committers put up.
	m := stakeManifest("0.67")
	m.Admission = types.ADMISSION_OPEN
	id, ops := s.setupService(m, 3)
	a, b, c := ops[0], ops[1], ops[2]
	s.bank.Fund(accFromString(a), stakeCoins(minStake))
	s.commit(a, a, id, minStake)
	s.fundAndCommit("whale", b, id, 5*minStake)
	s.bank.Fund(accFromString(c), stakeCoins(minStake-1))
	s.commit(c, c, id, minStake-1)
	s.fundAndCommit("friend", c, id, 10*minStake)

	s.Require().Equal(map[string]uint64{a: minStake, b: 0, c: 0}, s.servicePower(id))
	tid := s.createTask(id)
	snap := s.snapshotOf(id, s.task(tid).Epoch)
	s.Require().Equal([]types.OperatorPower{{Operator: a, Power: minStake}}, snap.Powers)
	s.Require().ErrorIs(outcomeErr(s.vote(b, tid, "bad")), types.ErrNotOptedIn, "no stake of its own, no power")
	s.Require().ErrorIs(outcomeErr(s.vote(c, tid, "bad")), types.ErrNotOptedIn)

	// c tops its own commitment up: it counts from the next snapshot, with
	// all that is committed to it
	s.bank.Fund(accFromString(c), stakeCoins(1))
	s.commit(c, c, id, 1)
	s.Require().Equal(uint64(11*minStake), s.servicePower(id)[c])
	s.nextEpoch()
	tid = s.createTask(id)
	s.Require().Equal(uint64(12*minStake), s.task(tid).PowerTotal)

	// a service may ask more than the module, never less
	m.MinSelfStake = sdkmath.NewInt(2 * minStake)
	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: id, Manifest: withDigest(m, s.storeComponent())})
	s.Require().NoError(err)
	s.Require().Equal(map[string]uint64{a: 0, b: 0, c: 0}, s.servicePower(id))
	m.MinSelfStake = sdkmath.NewInt(1)
	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: id, Manifest: withDigest(m, s.storeComponent())})
	s.Require().NoError(err)
	s.Require().Equal(map[string]uint64{a: minStake, b: 0, c: 11 * minStake}, s.servicePower(id))
}

// TestH6EqualOpenNeedsSelfStake: EQUAL weighting with OPEN admission and a
// min_self_stake: the attacker's seven stakeless operators opt in freely but
// have no power; the three honest operators, each with its own stake, decide.
func (s *KeeperTestSuite) TestH6EqualOpenNeedsSelfStake() {
	m := defaultManifest("")
	m.Admission = types.ADMISSION_OPEN
	m.MinSelfStake = sdkmath.NewInt(1000)
	m.Quorum.Threshold = dec("0.67")
	id, ops := s.setupService(m, 10)
	honest, sybils := ops[:3], ops[3:]
	for _, op := range honest {
		s.bank.Fund(accFromString(op), stakeCoins(1000))
		s.commit(op, op, id, 1000)
	}
	tid := s.createTask(id)
	s.Require().Equal(uint64(3), s.task(tid).PowerTotal, "power 1 each, for the three with stake")
	for _, op := range sybils {
		s.Require().ErrorIs(outcomeErr(s.vote(op, tid, "bad")), types.ErrNotOptedIn)
	}
	s.mustVote(honest[0], tid, "good")
	s.mustVote(honest[1], tid, "good")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(honest[2], tid, "good"), "0.67 of 3 EQUAL operators is 3 of 3 (I-3)")
	s.Require().Equal([]byte("good"), s.task(tid).Result)
}

func stakeCoins(n int64) sdk.Coins { return sdk.NewCoins(stake(n)) }
