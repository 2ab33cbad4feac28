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
			msg := &types.MsgWithdrawRewards{Committer: alice}
			tc.malleate(msg)
			before := s.stakeState()
			_, err := s.msgServer.WithdrawRewards(s.ctx, msg)
			s.Require().ErrorIs(err, tc.expErr)
			s.requireStakeUnchanged(before)
		})
	}
}

func (s *KeeperTestSuite) TestFundService() {
	var (
		id     uint64
		funder string
	)
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgFundService)
		expErr   error
		// success only: the treasury after
		expTreasury int64
	}{
		{name: "success: first funding", malleate: func(*types.MsgFundService) {}, expTreasury: 150},
		{
			name: "success: adds to the treasury",
			malleate: func(msg *types.MsgFundService) {
				_, err := s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: msg.Funder, ServiceId: id, Amount: stake(50)})
				s.Require().NoError(err)
			},
			expTreasury: 200,
		},
		{
			name: "success: a paused service may be funded",
			malleate: func(*types.MsgFundService) {
				_, err := s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: addr("owner"), ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
				s.Require().NoError(err)
			},
			expTreasury: 150,
		},
		{name: "failure: zero amount", malleate: func(msg *types.MsgFundService) { msg.Amount = stake(0) }, expErr: types.ErrInvalidAmount},
		{
			name:     "failure: negative amount",
			malleate: func(msg *types.MsgFundService) { msg.Amount = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-150)} },
			expErr:   types.ErrInvalidAmount,
		},
		{name: "failure: wrong denom", malleate: func(msg *types.MsgFundService) { msg.Amount = sdk.NewInt64Coin("uatom", 150) }, expErr: types.ErrWrongDenom},
		{name: "failure: unknown service", malleate: func(msg *types.MsgFundService) { msg.ServiceId = 7 }, expErr: types.ErrServiceNotFound},
		{name: "failure: funder is not an address", malleate: func(msg *types.MsgFundService) { msg.Funder = "funder" }, expErr: types.ErrInvalidAddress},
		{name: "failure: funder without funds", malleate: func(msg *types.MsgFundService) { msg.Funder = addr("poor") }, expErr: sdkerrors.ErrInsufficientFunds},
		{name: "failure: more than the funder holds", malleate: func(msg *types.MsgFundService) { msg.Amount = stake(1001) }, expErr: sdkerrors.ErrInsufficientFunds},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, _ = s.setupService(defaultManifest(""), 1)
			funder = s.fund("funder", 1000)
			msg := &types.MsgFundService{Funder: funder, ServiceId: id, Amount: stake(150)}
			tc.malleate(msg)
			before := s.stakeState()
			funderBefore := s.balance(funder)
			total := s.bank.Total(denom)
			ctx := s.withEvents()
			_, err := s.msgServer.FundService(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			res, err := s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: id})
			s.Require().NoError(err)
			s.Require().Equal(stake(tc.expTreasury), res.Treasury)
			s.Require().Equal(funderBefore.SubRaw(150).Int64(), s.balance(funder).Int64())
			s.Require().Equal(total, s.bank.Total(denom))
			s.requireBalanced()
			evs := s.typedEvents(ctx, &types.EventServiceFunded{})
			s.Require().Len(evs, 1)
			s.Require().Equal(&types.EventServiceFunded{ServiceId: id, Funder: funder, Amount: stake(150), Treasury: stake(tc.expTreasury)}, evs[0])
		})
	}
}

func (s *KeeperTestSuite) TestUnjail() {
	var op string
	jail := func(until time.Time) {
		o := s.operator(op)
		o.Jailed, o.JailedUntil, o.WindowTasks, o.WindowMissed = true, until, 3, 2
		s.Require().NoError(s.keeper.Operators.Set(s.ctx, op, o))
	}
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgUnjail)
		expErr   error
	}{
		{name: "success: exactly at jailed_until", malleate: func(*types.MsgUnjail) { jail(stakeStart) }},
		{name: "success: after jailed_until", malleate: func(*types.MsgUnjail) { jail(stakeStart.Add(-time.Hour)) }},
		{name: "failure: not jailed", malleate: func(*types.MsgUnjail) {}, expErr: types.ErrNotJailed},
		{
			name: "failure: not jailed, though jailed_until lies ahead",
			malleate: func(*types.MsgUnjail) {
				o := s.operator(op)
				o.JailedUntil = stakeStart.Add(time.Hour)
				s.Require().NoError(s.keeper.Operators.Set(s.ctx, op, o))
			},
			expErr: types.ErrNotJailed,
		},
		{name: "failure: a nanosecond too early", malleate: func(*types.MsgUnjail) { jail(stakeStart.Add(time.Nanosecond)) }, expErr: types.ErrUnjailTooEarly},
		{name: "failure: unknown operator", malleate: func(msg *types.MsgUnjail) { msg.Operator = addr("nobody") }, expErr: types.ErrOperatorNotFound},
		{name: "failure: operator is not an address", malleate: func(msg *types.MsgUnjail) { msg.Operator = "op1" }, expErr: types.ErrInvalidAddress},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.startClock()
			op = s.registerOperator("op1")
			msg := &types.MsgUnjail{Operator: op}
			tc.malleate(msg)
			before := s.stakeState()
			ctx := s.withEvents()
			_, err := s.msgServer.Unjail(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			o := s.operator(op)
			s.Require().False(o.Jailed)
			s.Require().Zero(o.WindowTasks)
			s.Require().Zero(o.WindowMissed)
			s.Require().Len(s.typedEvents(ctx, &types.EventOperatorUnjailed{}), 1)
		})
	}
}

func (s *KeeperTestSuite) TestRegisterOperatorCommission() {
	testCases := []struct {
		name       string
		commission sdkmath.LegacyDec
		expErr     error
		expected   string
	}{
		{name: "success: unset is zero", commission: sdkmath.LegacyDec{}, expected: "0"},
		{name: "success: zero", commission: dec("0"), expected: "0"},
		{name: "success: 10%", commission: dec("0.1"), expected: "0.1"},
		{name: "success: all of it", commission: dec("1"), expected: "1"},
		{name: "failure: negative", commission: dec("-0.000000000000000001"), expErr: types.ErrInvalidRequest},
		{name: "failure: above one", commission: dec("1.000000000000000001"), expErr: types.ErrInvalidRequest},
		{name: "failure: far above one", commission: dec("150"), expErr: types.ErrInvalidRequest},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			before := s.stakeState()
			op := addr("op1")
			_, err := s.msgServer.RegisterOperator(s.ctx, &types.MsgRegisterOperator{Operator: op, Moniker: "op1", Commission: tc.commission})
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			s.Require().True(dec(tc.expected).Equal(s.operator(op).Commission), "commission %s", s.operator(op).Commission)
		})
	}
}

func (s *KeeperTestSuite) TestUpdateOperatorCommission() {
	testCases := []struct {
		name       string
		operator   string
		commission sdkmath.LegacyDec
		expErr     error
		expected   string
	}{
		{name: "success: unset keeps the current one", commission: sdkmath.LegacyDec{}, expected: "0.2"},
		{name: "success: to zero", commission: dec("0"), expected: "0"},
		{name: "success: to one", commission: dec("1"), expected: "1"},
		{name: "success: to 5%", commission: dec("0.05"), expected: "0.05"},
		{name: "failure: negative", commission: dec("-0.1"), expErr: types.ErrInvalidRequest},
		{name: "failure: above one", commission: dec("1.5"), expErr: types.ErrInvalidRequest},
		{name: "failure: unknown operator", operator: addr("nobody"), commission: dec("0.1"), expErr: types.ErrOperatorNotFound},
		{name: "failure: operator is not an address", operator: "op1", commission: dec("0.1"), expErr: types.ErrInvalidAddress},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			op := s.registerWithCommission("op1", "0.2")
			target := op
			if tc.operator != "" {
				target = tc.operator
			}
			before := s.stakeState()
			_, err := s.msgServer.UpdateOperator(s.ctx, &types.MsgUpdateOperator{Operator: target, Moniker: "renamed", Commission: tc.commission})
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			got := s.operator(op)
			s.Require().Equal("renamed", got.Moniker)
			s.Require().True(dec(tc.expected).Equal(got.Commission), "commission %s", got.Commission)
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
	s.Require().Equal(int64(500), cres.Commitments[0].Commitment.Amount.Int64())
	s.Require().Equal(stake(0), cres.Commitments[0].PendingRewards)
	s.Require().Len(cres.Unbonding, 2)
	s.Require().ElementsMatch([]int64{300, 200}, []int64{cres.Unbonding[0].Amount.Int64(), cres.Unbonding[1].Amount.Int64()})

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

// The stake queries: Commitments (pending rewards, unbonding), OperatorCommitments,
// ServiceCommitments, ServicePower, Rewards, Treasury.
func (s *KeeperTestSuite) TestStakeQueries() {
	s.startClock()
	id, ops := s.setupService(stakeManifest("0.5"), 2)
	other := s.createService(stakeManifest("0.5"))
	s.optIn(ops[0], other)
	alice := s.fundAndCommit("alice", ops[0], id, 300)
	s.commit(s.fund("alice", 200), ops[0], other, 200)
	bob := s.fundAndCommit("bob", ops[0], id, 100)
	s.fundAndCommit("carol", ops[1], id, 50)
	s.uncommit(bob, ops[0], id, 40)

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
	s.Require().Empty(cres.Unbonding)
	s.Require().Equal(int64(833), s.pendingRewards(alice))
	s.Require().Equal(int64(166), s.pendingRewards(bob)) // 1000*60/360

	bres, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: bob})
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
	s.Require().Equal(uint64(0), pres.Epoch)
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
