package keeper_test

import (
	"fmt"

	storetypes "cosmossdk.io/store/types"

	"github.com/avschain/avschain/x/avs/types"
)

// M-4 (security review): the honest vote that completes a task pays for
// slashing the losers. The slash used to walk every commitment and every
// unbonding entry of a losing pool, so an operator that preloaded its pool
// with K dust commitments of 1 (which fraction×1, truncated to 0, spared)
// and K tiny unbonding entries made the completing vote cost O(K) gas. Now a
// pool is shares over tokens: the slash lowers the tokens of the pool and of
// its unbonding pools only. The completing vote costs the same for K = 10 and
// K = 2000 (both slash a pool and an unbonding pool: with K = 1 the unbonding
// pool's cut, trunc(0.1 × 1), is nothing to write), and the dust pays its
// share of the slash.
func (s *KeeperTestSuite) TestM4CompletingVoteGasIndependentOfDustCommitments() {
	gas, burned := map[int]uint64{}, map[int]int64{}
	for _, k := range []int{10, 2000} {
		s.SetupTest()
		s.startClock()
		m := defaultManifest("")
		m.TaskTimeout = 20
		m.SlashFraction = dec("0.1")
		id, ops := s.setupService(m, 3)
		bad := ops[2]
		s.fundAndCommit("big", bad, id, 1000)
		tid := s.createTask(id)
		for i := 0; i < k; i++ {
			// 1 stays committed, 1 unbonds after the task was created:
			// both still back the task
			d := s.fundAndCommit(fmt.Sprintf("dust%d", i), bad, id, 2)
			s.uncommit(d, bad, id, 1)
		}
		s.mustVote(bad, tid, "B")
		s.mustVote(ops[0], tid, "A")

		ctx := s.ctx.WithGasMeter(storetypes.NewGasMeter(1 << 40)).WithKVGasConfig(storetypes.KVGasConfig())
		res, err := s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{
			Operator: ops[1], Results: []types.TaskResult{{TaskId: tid, Result: []byte("A")}},
		})
		s.Require().NoError(err)
		s.Require().True(res.Outcomes[0].Accepted, res.Outcomes[0].Error)
		s.Require().Equal(types.TASK_STATUS_COMPLETED, res.Outcomes[0].TaskStatus, "the third vote completes the task")
		gas[k] = ctx.GasMeter().GasConsumed()

		burned[k] = s.bank.Burned(denom).Amount.Int64()
		s.requireBalanced()
	}
	s.T().Logf("completing vote: %d gas with K=10, %d gas with K=2000", gas[10], gas[2000])
	diff := int64(gas[2000]) - int64(gas[10])
	s.Require().Less(max(diff, -diff), int64(500),
		"the completing vote's gas must not depend on the number of commitments (K=10: %d, K=2000: %d)", gas[10], gas[2000])
	for k, got := range burned {
		// every unit backing the task pays: trunc(0.1 × (1000 + K)) of the
		// pool and trunc(0.1 × K) of the stake unbonding since
		s.Require().Equal(int64((1000+k)/10+k/10), got, "K=%d: the dust pays its share of the slash", k)
	}
}
