package keeper_test

import (
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

func (s *KeeperTestSuite) TestCommit() {
	var (
		id    uint64
		ops   []string
		alice string
	)
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgCommit)
		expErr   error
		// success only: alice's commitment and the pool's total after
		expCommitted int64
		expPool      int64
	}{
		{name: "success: first commitment", malleate: func(*types.MsgCommit) {}, expCommitted: 400, expPool: 400},
		{
			name:         "success: adds to an existing commitment",
			malleate:     func(*types.MsgCommit) { s.commit(alice, ops[0], id, 100) },
			expCommitted: 500, expPool: 500,
		},
		{
			name:         "success: another committer in the same pool",
			malleate:     func(*types.MsgCommit) { s.fundAndCommit("bob", ops[0], id, 250) },
			expCommitted: 400, expPool: 650,
		},
		{
			name:         "success: the whole balance",
			malleate:     func(msg *types.MsgCommit) { msg.Amount = stake(1000) },
			expCommitted: 1000, expPool: 1000,
		},
		{
			name:         "success: to an operator not opted in to the service",
			malleate:     func(msg *types.MsgCommit) { msg.Operator = s.registerOperator("loner") },
			expCommitted: 400, expPool: 400,
		},
		{name: "failure: zero amount", malleate: func(msg *types.MsgCommit) { msg.Amount = stake(0) }, expErr: types.ErrInvalidAmount},
		{
			name:     "failure: negative amount",
			malleate: func(msg *types.MsgCommit) { msg.Amount = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-5)} },
			expErr:   types.ErrInvalidAmount,
		},
		{
			name:     "failure: no amount",
			malleate: func(msg *types.MsgCommit) { msg.Amount = sdk.Coin{Denom: denom} },
			expErr:   types.ErrInvalidAmount,
		},
		{name: "failure: wrong denom", malleate: func(msg *types.MsgCommit) { msg.Amount = sdk.NewInt64Coin("uatom", 400) }, expErr: types.ErrWrongDenom},
		{name: "failure: empty coin", malleate: func(msg *types.MsgCommit) { msg.Amount = sdk.Coin{} }, expErr: types.ErrWrongDenom},
		{name: "failure: unknown operator", malleate: func(msg *types.MsgCommit) { msg.Operator = addr("nobody") }, expErr: types.ErrOperatorNotFound},
		{name: "failure: operator is not an address", malleate: func(msg *types.MsgCommit) { msg.Operator = "op1" }, expErr: types.ErrInvalidAddress},
		{name: "failure: unknown service", malleate: func(msg *types.MsgCommit) { msg.ServiceId = 99 }, expErr: types.ErrServiceNotFound},
		{name: "failure: committer is not an address", malleate: func(msg *types.MsgCommit) { msg.Committer = "alice" }, expErr: types.ErrInvalidAddress},
		{
			name:     "failure: committer without funds",
			malleate: func(msg *types.MsgCommit) { msg.Committer = addr("poor") },
			expErr:   sdkerrors.ErrInsufficientFunds,
		},
		{
			name:     "failure: one more than the committer holds",
			malleate: func(msg *types.MsgCommit) { msg.Amount = stake(1001) },
			expErr:   sdkerrors.ErrInsufficientFunds,
		},
		{
			name: "failure: pool beyond the largest power",
			malleate: func(msg *types.MsgCommit) {
				big := sdkmath.NewIntFromUint64(keeper.MaxOperatorPower).AddRaw(1)
				s.bank.Fund(acc("alice"), sdk.NewCoins(sdk.NewCoin(denom, big)))
				msg.Amount = sdk.NewCoin(denom, big)
			},
			expErr: types.ErrStakeTooLarge,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, ops = s.setupService(defaultManifest(""), 1)
			alice = s.fund("alice", 1000)
			msg := &types.MsgCommit{Committer: alice, Operator: ops[0], ServiceId: id, Amount: stake(400)}
			tc.malleate(msg)
			before := s.stakeState()
			total := s.bank.Total(denom)
			committerBefore := s.bank.Balance(acc("alice"), denom).Amount
			moduleBefore := s.moduleBalance()
			ctx := s.withEvents()
			_, err := s.msgServer.Commit(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			s.Require().Equal(tc.expCommitted, s.committed(msg.Operator, id, alice))
			s.Require().Equal(tc.expPool, s.pool(msg.Operator, id).Total.Int64())
			s.Require().Equal(committerBefore.Sub(msg.Amount.Amount).Int64(), s.balance(alice).Int64())
			s.Require().Equal(moduleBefore.Add(msg.Amount.Amount).Int64(), s.moduleBalance().Int64())
			s.Require().Equal(total, s.bank.Total(denom))
			has, err := s.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys.Has(s.ctx, collections.Join3(alice, msg.Operator, id))
			s.Require().NoError(err)
			s.Require().True(has, "the committer index lists the commitment")
			evs := s.typedEvents(ctx, &types.EventCommitted{})
			s.Require().Len(evs, 1)
			s.Require().Equal(&types.EventCommitted{Committer: alice, Operator: msg.Operator, ServiceId: id, Amount: msg.Amount}, evs[0])
			s.requireBalanced()
		})
	}
}

func (s *KeeperTestSuite) TestUncommit() {
	var (
		id    uint64
		ops   []string
		alice string
	)
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgUncommit)
		expErr   error
		// success only
		expCommitted int64
		expGone      bool // the commitment is deleted
	}{
		{name: "success: part", malleate: func(*types.MsgUncommit) {}, expCommitted: 250},
		{name: "success: all of it deletes the commitment", malleate: func(msg *types.MsgUncommit) { msg.Amount = stake(400) }, expGone: true},
		{name: "failure: one more than committed", malleate: func(msg *types.MsgUncommit) { msg.Amount = stake(401) }, expErr: types.ErrInsufficientStake},
		{name: "failure: no commitment", malleate: func(msg *types.MsgUncommit) { msg.Committer = s.fund("bob", 1000) }, expErr: types.ErrInsufficientStake},
		{
			name: "failure: no commitment in that service",
			malleate: func(msg *types.MsgUncommit) {
				msg.ServiceId = s.createService(defaultManifest(types.Digest(validWasm())))
			},
			expErr: types.ErrInsufficientStake,
		},
		{
			name:     "failure: no commitment to that operator",
			malleate: func(msg *types.MsgUncommit) { msg.Operator = s.registerOperator("other") },
			expErr:   types.ErrInsufficientStake,
		},
		{name: "failure: zero amount", malleate: func(msg *types.MsgUncommit) { msg.Amount = stake(0) }, expErr: types.ErrInvalidAmount},
		{
			name:     "failure: negative amount",
			malleate: func(msg *types.MsgUncommit) { msg.Amount = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-1)} },
			expErr:   types.ErrInvalidAmount,
		},
		{name: "failure: no amount", malleate: func(msg *types.MsgUncommit) { msg.Amount = sdk.Coin{Denom: denom} }, expErr: types.ErrInvalidAmount},
		{name: "failure: wrong denom", malleate: func(msg *types.MsgUncommit) { msg.Amount = sdk.NewInt64Coin("uatom", 1) }, expErr: types.ErrWrongDenom},
		{name: "failure: unknown operator", malleate: func(msg *types.MsgUncommit) { msg.Operator = addr("nobody") }, expErr: types.ErrOperatorNotFound},
		{name: "failure: operator is not an address", malleate: func(msg *types.MsgUncommit) { msg.Operator = "x" }, expErr: types.ErrInvalidAddress},
		{name: "failure: unknown service", malleate: func(msg *types.MsgUncommit) { msg.ServiceId = 42 }, expErr: types.ErrServiceNotFound},
		{name: "failure: committer is not an address", malleate: func(msg *types.MsgUncommit) { msg.Committer = "alice" }, expErr: types.ErrInvalidAddress},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.startClock()
			id, ops = s.setupService(defaultManifest(""), 1)
			alice = s.fundAndCommit("alice", ops[0], id, 400)
			msg := &types.MsgUncommit{Committer: alice, Operator: ops[0], ServiceId: id, Amount: stake(150)}
			tc.malleate(msg)
			before := s.stakeState()
			ctx := s.withEvents()
			res, err := s.msgServer.Uncommit(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			wantDone := stakeStart.Add(types.DefaultUnbondingTime)
			s.Require().True(wantDone.Equal(res.CompletionTime), "completion %s", res.CompletionTime)
			_, found := s.commitment(ops[0], id, alice)
			s.Require().Equal(!tc.expGone, found)
			s.Require().Equal(tc.expCommitted, s.committed(ops[0], id, alice))
			s.Require().Equal(tc.expCommitted, s.pool(ops[0], id).Total.Int64())
			has, err := s.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys.Has(s.ctx, collections.Join3(alice, ops[0], id))
			s.Require().NoError(err)
			s.Require().Equal(!tc.expGone, has)

			e, err := s.keeper.Unbonding.Get(s.ctx, res.EntryId)
			s.Require().NoError(err)
			s.Require().Equal(msg.Amount.Amount, e.Amount)
			s.Require().Equal(s.ctx.BlockHeight(), e.CreationHeight)
			s.Require().Equal(alice, e.Committer)
			s.Require().Equal(ops[0], e.Operator)
			s.Require().Equal(id, e.ServiceId)
			// the tokens stay in the module account until the entry matures
			s.Require().Equal(int64(0), s.balance(alice).Int64())
			s.Require().Equal(int64(400), s.moduleBalance().Int64())
			s.requireBalanced()

			evs := s.typedEvents(ctx, &types.EventUncommitted{})
			s.Require().Len(evs, 1)
			ev := evs[0].(*types.EventUncommitted)
			s.Require().Equal(res.EntryId, ev.EntryId)
			s.Require().Equal(msg.Amount, ev.Amount)
		})
	}
}

// An unbonding entry is released by EndBlocker once the block time reaches its
// completion time, not a nanosecond earlier, and pays back exactly its amount.
func (s *KeeperTestSuite) TestUnbondingMatures() {
	s.startClock()
	id, ops := s.setupService(defaultManifest(""), 1)
	alice := s.fundAndCommit("alice", ops[0], id, 1000)
	first := s.uncommit(alice, ops[0], id, 300)
	s.ctx = s.ctx.WithBlockHeight(11).WithBlockTime(stakeStart.Add(time.Hour))
	second := s.uncommit(alice, ops[0], id, 200)
	s.Require().NotEqual(first.EntryId, second.EntryId)
	s.Require().Equal(int64(0), s.balance(alice).Int64())
	s.requireBalanced()

	// queries while unbonding
	cres, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: alice})
	s.Require().NoError(err)
	s.Require().Len(cres.Commitments, 1)
	s.Require().Equal(stake(500), cres.Commitments[0].Value)
	s.Require().Equal(int64(500), cres.Commitments[0].Commitment.Shares.Int64(), "one share per token until a slash")
	s.Require().Equal(stake(0), cres.Commitments[0].PendingRewards)
	ures, err := s.queryServer.Unbonding(s.ctx, &types.QueryUnbondingRequest{Committer: alice})
	s.Require().NoError(err)
	s.Require().Len(ures.Unbonding, 2)
	s.Require().ElementsMatch([]int64{300, 200}, []int64{ures.Unbonding[0].Amount.Int64(), ures.Unbonding[1].Amount.Int64()})

	// a nanosecond before the first completion: nothing is released
	s.ctx = s.ctx.WithBlockHeight(12).WithBlockTime(first.CompletionTime.Add(-time.Nanosecond))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(int64(0), s.balance(alice).Int64())
	_, err = s.keeper.Unbonding.Get(s.ctx, first.EntryId)
	s.Require().NoError(err)

	// at the completion time: the first entry only
	s.ctx = s.ctx.WithBlockHeight(13).WithBlockTime(first.CompletionTime)
	ctx := s.withEvents()
	s.Require().NoError(s.keeper.EndBlocker(ctx))
	s.Require().Equal(int64(300), s.balance(alice).Int64())
	has, err := s.keeper.Unbonding.Has(s.ctx, first.EntryId)
	s.Require().NoError(err)
	s.Require().False(has)
	has, err = s.keeper.Unbonding.Has(s.ctx, second.EntryId)
	s.Require().NoError(err)
	s.Require().True(has)
	s.Require().Equal(int64(700), s.moduleBalance().Int64())
	evs := s.typedEvents(ctx, &types.EventUnbondingMatured{})
	s.Require().Len(evs, 1)
	s.Require().Equal(&types.EventUnbondingMatured{EntryId: first.EntryId, Committer: alice, Amount: stake(300)}, evs[0])
	s.requireBalanced()

	// long after: the second too, and the indexes are empty
	s.ctx = s.ctx.WithBlockHeight(14).WithBlockTime(second.CompletionTime.Add(time.Hour))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(int64(500), s.balance(alice).Int64())
	s.Require().Empty(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByTime))
	s.Require().Empty(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByPool))
	s.Require().Equal(int64(500), s.moduleBalance().Int64())
	s.requireBalanced()

	// a later EndBlocker releases nothing twice
	s.ctx = s.ctx.WithBlockHeight(15).WithBlockTime(second.CompletionTime.Add(2 * time.Hour))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Equal(int64(500), s.balance(alice).Int64())
}
