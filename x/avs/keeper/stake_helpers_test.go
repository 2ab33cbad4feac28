package keeper_test

import (
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Helpers for the commitment, reward, slashing, liveness and treasury tests.

// stakeStart is the block time the stake tests start from.
var stakeStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func stake(n int64) sdk.Coin { return sdk.NewInt64Coin(denom, n) }

// startClock pins the block time, so that unbonding and jail times are exact.
func (s *KeeperTestSuite) startClock() {
	s.ctx = s.ctx.WithBlockTime(stakeStart)
}

// fund credits n of the stake denom to the account named name and returns
// its address. Never name an account "burned": it is the fake bank's burn
// address.
func (s *KeeperTestSuite) fund(name string, n int64) string {
	s.Require().NotEqual("burned", name)
	s.bank.Fund(acc(name), sdk.NewCoins(stake(n)))
	return addr(name)
}

// commit commits n from committer to operator in the service; it must succeed.
func (s *KeeperTestSuite) commit(committer, operator string, serviceID uint64, n int64) {
	_, err := s.msgServer.Commit(s.ctx, &types.MsgCommit{Committer: committer, Operator: operator, ServiceId: serviceID, Amount: stake(n)})
	s.Require().NoError(err)
}

// fundAndCommit funds the account named name with n and commits it all.
func (s *KeeperTestSuite) fundAndCommit(name, operator string, serviceID uint64, n int64) string {
	a := s.fund(name, n)
	s.commit(a, operator, serviceID, n)
	return a
}

// uncommit must succeed and returns its response.
func (s *KeeperTestSuite) uncommit(committer, operator string, serviceID uint64, n int64) *types.MsgUncommitResponse {
	res, err := s.msgServer.Uncommit(s.ctx, &types.MsgUncommit{Committer: committer, Operator: operator, ServiceId: serviceID, Amount: stake(n)})
	s.Require().NoError(err)
	return res
}

// commitment returns a commitment, and whether it exists.
func (s *KeeperTestSuite) commitment(operator string, serviceID uint64, committer string) (types.Commitment, bool) {
	c, err := s.keeper.CommitmentsByPool.Get(s.ctx, collections.Join3(operator, serviceID, committer))
	if err != nil {
		return types.Commitment{}, false
	}
	return c, true
}

// committed returns a commitment's amount, zero when there is none.
func (s *KeeperTestSuite) committed(operator string, serviceID uint64, committer string) int64 {
	c, ok := s.commitment(operator, serviceID, committer)
	if !ok {
		return 0
	}
	return c.Amount.Int64()
}

// pool returns an (operator, service) pool, zero when there is none.
func (s *KeeperTestSuite) pool(operator string, serviceID uint64) types.Pool {
	p, err := s.keeper.Pools.Get(s.ctx, collections.Join(operator, serviceID))
	if err != nil {
		return types.Pool{Operator: operator, ServiceId: serviceID, Total: sdkmath.ZeroInt(), RewardIndex: sdkmath.LegacyZeroDec(), Outstanding: sdkmath.ZeroInt()}
	}
	return p
}

// pendingRewards is what the Rewards query says committer may withdraw.
func (s *KeeperTestSuite) pendingRewards(committer string) int64 {
	res, err := s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: committer})
	s.Require().NoError(err)
	return res.Rewards.Amount.Int64()
}

// withdraw withdraws a committer's rewards; it must succeed.
func (s *KeeperTestSuite) withdraw(committer string) int64 {
	res, err := s.msgServer.WithdrawRewards(s.ctx, &types.MsgWithdrawRewards{Committer: committer})
	s.Require().NoError(err)
	return res.Amount.Amount.Int64()
}

// setParams changes the module params in place.
func (s *KeeperTestSuite) setParams(change func(*types.Params)) {
	p, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	change(&p)
	s.Require().NoError(p.Validate())
	s.Require().NoError(s.keeper.Params.Set(s.ctx, p))
}

func (s *KeeperTestSuite) params() types.Params {
	p, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	return p
}

// registerWithCommission registers name as an operator keeping commission.
func (s *KeeperTestSuite) registerWithCommission(name, commission string) string {
	a := addr(name)
	_, err := s.msgServer.RegisterOperator(s.ctx, &types.MsgRegisterOperator{Operator: a, Moniker: name, Commission: dec(commission)})
	s.Require().NoError(err)
	return a
}

// stakeManifest is an EXACT STAKE-weighted service with task timeout 20.
func stakeManifest(threshold string) types.ServiceManifest {
	m := defaultManifest("")
	m.Quorum = types.Quorum{Threshold: dec(threshold), Weighting: types.WEIGHTING_STAKE}
	m.TaskTimeout = 20
	return m
}

// payTask opens a task on the service paying fee (at least its fee per task).
func (s *KeeperTestSuite) payTask(serviceID uint64, fee int64) uint64 {
	res, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: serviceID, Input: []byte("input"), Fee: stake(fee),
	})
	s.Require().NoError(err)
	return res.TaskId
}

// nextEpoch moves to the first height of the next epoch.
func (s *KeeperTestSuite) nextEpoch() {
	l := int64(s.params().EpochLength)
	s.ctx = s.ctx.WithBlockHeight((s.ctx.BlockHeight()/l + 1) * l)
}

// endBlockAt moves to height h (one second per block) and runs EndBlocker.
func (s *KeeperTestSuite) endBlockAt(h int64) {
	s.Require().GreaterOrEqual(h, s.ctx.BlockHeight())
	d := time.Duration(h-s.ctx.BlockHeight()) * time.Second
	s.ctx = s.ctx.WithBlockHeight(h).WithBlockTime(s.ctx.BlockTime().Add(d))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
}

// requireBalanced checks the module account invariant.
func (s *KeeperTestSuite) requireBalanced() {
	s.Require().NoError(s.keeper.CheckModuleBalance(s.ctx))
}

// stakeState is state() plus the stake indexes it leaves out.
type stakeState struct {
	moduleState
	ByCommitter          []collections.Triple[string, string, uint64]
	ByService            []collections.Pair[uint64, collections.Triple[string, uint64, string]]
	UnbondingByTime      []collections.Pair[int64, uint64]
	UnbondingByPool      []collections.Pair[collections.Pair[string, uint64], uint64]
	UnbondingByCommitter []collections.Pair[string, uint64]
}

func (s *KeeperTestSuite) stakeState() stakeState {
	return stakeState{
		moduleState:          s.state(),
		ByCommitter:          keys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys),
		ByService:            multiKeys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByService),
		UnbondingByTime:      multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByTime),
		UnbondingByPool:      multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByPool),
		UnbondingByCommitter: multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByCommitter),
	}
}

// requireStakeUnchanged is requireUnchanged with the stake indexes too.
func (s *KeeperTestSuite) requireStakeUnchanged(before stakeState) {
	s.requireUnchanged(before.moduleState)
	s.Require().Equal(before, s.stakeState(), "a refused message must not change state")
}

// slashedEvents returns the EventOperatorSlashed events emitted on ctx.
func (s *KeeperTestSuite) slashedEvents(ctx sdk.Context) []*types.EventOperatorSlashed {
	var out []*types.EventOperatorSlashed
	for _, e := range s.typedEvents(ctx, &types.EventOperatorSlashed{}) {
		out = append(out, e.(*types.EventOperatorSlashed))
	}
	return out
}
