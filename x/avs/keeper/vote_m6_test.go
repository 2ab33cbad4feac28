package keeper_test

import (
	"github.com/avschain/avschain/x/avs/types"
)

// TestM6EarlyVotersCannotChooseTheMedian is the review's M-6: EQUAL weights,
// 5 operators, threshold 0.6, spread 0.1. Two attackers vote 110 first, then
// the honest operators 100. The median over the first three votes was 110,
// all three within the spread, 3 of 5: the task completed with 110. Now the
// median waits for 0.8 of the power (max(0.6, 2·0.4)) and is taken over every
// vote present: 100. A threshold of 0.5 is refused.
func (s *KeeperTestSuite) TestM6EarlyVotersCannotChooseTheMedian() {
	id, ops := s.setupService(medianManifest("", "0.6", "0.1"), 5)
	a1, a2, h1, h2, h3 := ops[0], ops[1], ops[2], ops[3], ops[4]
	tid := s.createTask(id)
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(a1, tid, "110"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(a2, tid, "110"))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(h1, tid, "100"), "3 of 5 present: no median yet")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(h2, tid, "100"))
	task := s.task(tid)
	s.Require().Equal([]byte("100"), task.Result)
	s.mustVote(h3, tid, "100") // late

	m := medianManifest(s.storeComponent(), "0.5", "0.1")
	_, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	s.Require().ErrorIs(err, types.ErrWeakThreshold)
	m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_EXACT}
	_, err = s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	s.Require().ErrorIs(err, types.ErrWeakThreshold, "two disjoint EXACT quorums could form")
}
