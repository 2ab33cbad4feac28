package keeper_test

import (
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

var trigger = types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: "every-block"}

func (s *KeeperTestSuite) fundService(id uint64, n int64) {
	_, err := s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: s.fund("funder", n), ServiceId: id, Amount: stake(n)})
	s.Require().NoError(err)
}

func (s *KeeperTestSuite) treasuryOf(id uint64) int64 {
	res, err := s.queryServer.Treasury(s.ctx, &types.QueryTreasuryRequest{ServiceId: id})
	s.Require().NoError(err)
	return res.Treasury.Amount.Int64()
}

// A treasury that can pay escrows the fee out of the treasury; one that
// cannot creates nothing and says so in EventTaskSkipped; the treasury task
// pays its backers when it completes.
func (s *KeeperTestSuite) TestCreateTaskFromTreasury() {
	m := defaultManifest("")
	m.TaskTimeout = 20
	id, ops := s.setupService(m, 1)
	s.fundService(id, 150)
	total := s.bank.Total(denom)

	ctx := s.withEvents()
	task, ok, err := s.keeper.CreateTaskFromTreasury(ctx, id, []byte("in"), trigger)
	s.Require().NoError(err)
	s.Require().True(ok)
	s.Require().True(task.PaidByTreasury)
	s.Require().Equal(stake(defaultFee), task.Fee)
	s.Require().Equal(trigger, task.Origin)
	s.Require().Equal(addrOf(authtypes.NewModuleAddress(types.ModuleName)), task.Creator)
	s.Require().Equal(task, s.task(task.Id))
	s.Require().Equal(int64(50), s.treasuryOf(id))
	s.Require().Equal(int64(150), s.moduleBalance().Int64(), "no token moves: the fee is escrowed in place")
	s.Require().Len(s.typedEvents(ctx, &types.EventTaskCreated{}), 1)
	s.requireBalanced()

	// 50 cannot pay 100: skipped, nothing written
	before := s.stakeState()
	ctx = s.withEvents()
	skipped, ok, err := s.keeper.CreateTaskFromTreasury(ctx, id, []byte("in"), trigger)
	s.Require().NoError(err)
	s.Require().False(ok)
	s.Require().Zero(skipped.Id)
	s.requireStakeUnchanged(before)
	evs := s.typedEvents(ctx, &types.EventTaskSkipped{})
	s.Require().Len(evs, 1)
	s.Require().Equal(id, evs[0].(*types.EventTaskSkipped).ServiceId)
	s.Require().NotEmpty(evs[0].(*types.EventTaskSkipped).Reason)
	s.Require().Empty(s.typedEvents(ctx, &types.EventTaskCreated{}))

	// the treasury task completes: the escrowed fee pays the backer
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[0], task.Id, "A"))
	s.Require().Equal(int64(defaultFee), s.earned(ops[0]).Int64())
	s.Require().Equal(int64(50), s.treasuryOf(id))
	s.Require().Equal(int64(50+defaultFee), s.moduleBalance().Int64(), "the treasury, and the backer's claimable fee")
	s.Require().Equal(total, s.bank.Total(denom))
	s.requireBalanced()

	// exactly the fee is enough
	s.fundService(id, 50)
	_, ok, err = s.keeper.CreateTaskFromTreasury(s.ctx, id, nil, trigger)
	s.Require().NoError(err)
	s.Require().True(ok)
	s.Require().Zero(s.treasuryOf(id))
	s.requireBalanced()
}

// An expired treasury task refunds the treasury, not an account.
func (s *KeeperTestSuite) TestTreasuryTaskExpiryRefunds() {
	m := defaultManifest("")
	m.TaskTimeout = 20
	id, _ := s.setupService(m, 2)
	s.fundService(id, 250)
	task, ok, err := s.keeper.CreateTaskFromTreasury(s.ctx, id, []byte("in"), trigger)
	s.Require().NoError(err)
	s.Require().True(ok)
	s.Require().Equal(int64(150), s.treasuryOf(id))
	balances := s.state().Balances

	s.ctx = s.ctx.WithBlockHeight(task.DeadlineHeight)
	ctx := s.withEvents()
	s.Require().NoError(s.keeper.EndBlocker(ctx))
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(task.Id).Status)
	s.Require().Equal(int64(250), s.treasuryOf(id))
	s.Require().Equal(balances, s.state().Balances, "no account is refunded")
	evs := s.typedEvents(ctx, &types.EventTaskExpired{})
	s.Require().Len(evs, 1)
	s.Require().Equal(stake(defaultFee), evs[0].(*types.EventTaskExpired).Refund)
	s.requireBalanced()
}

// CreateTaskFromTreasury refuses what CreateTask refuses, without touching
// the treasury; a free service needs no treasury.
func (s *KeeperTestSuite) TestCreateTaskFromTreasuryErrors() {
	var id uint64
	testCases := []struct {
		name     string
		malleate func()
		expErr   error
		expOK    bool
	}{
		{name: "failure: unknown service", malleate: func() { id = 99 }, expErr: types.ErrServiceNotFound},
		{
			name: "failure: paused service",
			malleate: func() {
				_, err := s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: addr("owner"), ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
				s.Require().NoError(err)
			},
			expErr: types.ErrServicePaused,
		},
		{
			name: "failure: no operators",
			malleate: func() {
				id = s.createService(defaultManifest(types.Digest(validWasm())))
				s.fundService(id, 500)
			},
			expErr: types.ErrNoOperators,
		},
		{
			name: "success: a free service needs no treasury",
			malleate: func() {
				m := defaultManifest(types.Digest(validWasm()))
				m.FeePerTask = sdk.Coin{}
				id = s.createService(m)
				s.optIn(addr("op1"), id)
			},
			expOK: true,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, _ = s.setupService(defaultManifest(""), 1)
			s.fundService(id, 500)
			tc.malleate()
			before := s.stakeState()
			task, ok, err := s.keeper.CreateTaskFromTreasury(s.ctx, id, []byte("in"), trigger)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().False(ok)
				s.requireStakeUnchanged(before)
				return
			}
			s.Require().NoError(err)
			s.Require().Equal(tc.expOK, ok)
			s.Require().True(types.IsFree(task.Fee))
			s.Require().True(task.PaidByTreasury)
			s.requireBalanced()
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
