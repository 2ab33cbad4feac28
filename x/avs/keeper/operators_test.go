package keeper_test

import (
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

func (s *KeeperTestSuite) TestRegisterOperator() {
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgRegisterOperator)
		expErr   *errorsmod.Error
	}{
		{name: "success", malleate: func(*types.MsgRegisterOperator) {}},
		{
			name:     "success: longest moniker",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Moniker = strings.Repeat("m", keeper.MaxMonikerLength) },
		},
		{
			name:     "failure: already registered",
			malleate: func(msg *types.MsgRegisterOperator) { s.registerOperator("op1") },
			expErr:   types.ErrOperatorExists,
		},
		{
			name:     "failure: empty moniker",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Moniker = "" },
			expErr:   types.ErrInvalidMoniker,
		},
		{
			name:     "failure: blank moniker",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Moniker = "   " },
			expErr:   types.ErrInvalidMoniker,
		},
		{
			name:     "failure: moniker too long",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Moniker = strings.Repeat("m", keeper.MaxMonikerLength+1) },
			expErr:   types.ErrInvalidMoniker,
		},
		{
			name:     "failure: operator is not an address",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Operator = "op1" },
			expErr:   types.ErrInvalidAddress,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			msg := &types.MsgRegisterOperator{Operator: addr("op1"), Moniker: "Operator One"}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			_, err := s.msgServer.RegisterOperator(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			s.Require().Equal(types.Operator{Address: msg.Operator, Moniker: msg.Moniker, RegisteredHeight: 10, Commission: sdkmath.LegacyZeroDec(), PendingCommission: sdkmath.LegacyZeroDec()}, s.operator(msg.Operator))
			evs := s.typedEvents(ctx, &types.EventOperatorRegistered{})
			s.Require().Equal([]any{&types.EventOperatorRegistered{Operator: msg.Operator, Moniker: msg.Moniker}}, toAny(evs))
		})
	}
}

func (s *KeeperTestSuite) TestUpdateOperator() {
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgUpdateOperator)
		expErr   *errorsmod.Error
	}{
		{name: "success", malleate: func(*types.MsgUpdateOperator) {}},
		{
			name:     "failure: not registered",
			malleate: func(msg *types.MsgUpdateOperator) { msg.Operator = addr("op2") },
			expErr:   types.ErrOperatorNotFound,
		},
		{
			name:     "failure: empty moniker",
			malleate: func(msg *types.MsgUpdateOperator) { msg.Moniker = "" },
			expErr:   types.ErrInvalidMoniker,
		},
		{
			name:     "failure: operator is not an address",
			malleate: func(msg *types.MsgUpdateOperator) { msg.Operator = "op1" },
			expErr:   types.ErrInvalidAddress,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.registerOperator("op1")
			msg := &types.MsgUpdateOperator{Operator: addr("op1"), Moniker: "renamed"}
			tc.malleate(msg)
			before := s.state()

			_, err := s.msgServer.UpdateOperator(s.ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			op := s.operator(addr("op1"))
			s.Require().Equal("renamed", op.Moniker)
			s.Require().Equal(int64(10), op.RegisteredHeight)
		})
	}
}

func (s *KeeperTestSuite) TestOptIn() {
	var open, gated uint64
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgOptIn)
		expErr   *errorsmod.Error
	}{
		{name: "success: open service", malleate: func(*types.MsgOptIn) {}},
		{
			name:     "success: allow-list service, listed",
			malleate: func(msg *types.MsgOptIn) { msg.ServiceId, msg.Operator = gated, addr("listed") },
		},
		{
			name:     "success: opted out, then in again",
			malleate: func(msg *types.MsgOptIn) { s.optIn(msg.Operator, open); s.optOut(msg.Operator, open) },
		},
		{
			name:     "failure: allow-list service, not listed",
			malleate: func(msg *types.MsgOptIn) { msg.ServiceId = gated },
			expErr:   types.ErrNotAllowlisted,
		},
		{
			name: "failure: allow-list service, removed from the list",
			malleate: func(msg *types.MsgOptIn) {
				msg.ServiceId, msg.Operator = gated, addr("listed")
				_, err := s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: gated, Remove: []string{addr("listed")}})
				s.Require().NoError(err)
			},
			expErr: types.ErrNotAllowlisted,
		},
		{
			name:     "failure: already opted in",
			malleate: func(msg *types.MsgOptIn) { s.optIn(msg.Operator, open) },
			expErr:   types.ErrAlreadyOptedIn,
		},
		{
			name:     "failure: unregistered operator",
			malleate: func(msg *types.MsgOptIn) { msg.Operator = addr("nobody") },
			expErr:   types.ErrOperatorNotFound,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgOptIn) { msg.ServiceId = 99 },
			expErr:   types.ErrServiceNotFound,
		},
		{
			name: "failure: jailed operator",
			malleate: func(msg *types.MsgOptIn) {
				s.setLiveness(msg.ServiceId, msg.Operator, types.OperatorLiveness{Jailed: true})
			},
			expErr: types.ErrOperatorJailed,
		},
		{
			name:     "failure: operator is not an address",
			malleate: func(msg *types.MsgOptIn) { msg.Operator = "op1" },
			expErr:   types.ErrInvalidAddress,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			open = s.createService(openManifest(""))
			m := defaultManifest("")
			m.Admission = types.ADMISSION_ALLOWLIST
			gated = s.createService(m)
			_, err := s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: gated, Add: []string{addr("listed")}})
			s.Require().NoError(err)
			s.registerOperator("op1")
			s.registerOperator("listed")

			msg := &types.MsgOptIn{Operator: addr("op1"), ServiceId: open}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			_, err = s.msgServer.OptIn(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			has, err := s.keeper.OptIns.Has(s.ctx, collections.Join(msg.ServiceId, msg.Operator))
			s.Require().NoError(err)
			s.Require().True(has)
			has, err = s.operatorIndexed(msg.Operator, msg.ServiceId)
			s.Require().NoError(err)
			s.Require().True(has)
			evs := s.typedEvents(ctx, &types.EventOptedIn{})
			s.Require().Equal([]any{&types.EventOptedIn{Operator: msg.Operator, ServiceId: msg.ServiceId}}, toAny(evs))
		})
	}
}

func (s *KeeperTestSuite) optOut(operator string, serviceID uint64) {
	_, err := s.msgServer.OptOut(s.ctx, &types.MsgOptOut{Operator: operator, ServiceId: serviceID})
	s.Require().NoError(err)
}

func (s *KeeperTestSuite) TestOptOut() {
	var id uint64
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgOptOut)
		expErr   *errorsmod.Error
	}{
		{name: "success", malleate: func(*types.MsgOptOut) {}},
		{
			name:     "failure: not opted in",
			malleate: func(msg *types.MsgOptOut) { msg.Operator = s.registerOperator("op2") },
			expErr:   types.ErrNotOptedIn,
		},
		{
			name:     "failure: opted out already",
			malleate: func(msg *types.MsgOptOut) { s.optOut(msg.Operator, id) },
			expErr:   types.ErrNotOptedIn,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgOptOut) { msg.ServiceId = 99 },
			expErr:   types.ErrNotOptedIn,
		},
		{
			name:     "failure: unregistered operator",
			malleate: func(msg *types.MsgOptOut) { msg.Operator = addr("nobody") },
			expErr:   types.ErrOperatorNotFound,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			var ops []string
			id, ops = s.setupService(defaultManifest(""), 1)
			msg := &types.MsgOptOut{Operator: ops[0], ServiceId: id}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			_, err := s.msgServer.OptOut(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			has, err := s.keeper.OptIns.Has(s.ctx, collections.Join(id, msg.Operator))
			s.Require().NoError(err)
			s.Require().False(has)
			has, err = s.operatorIndexed(msg.Operator, id)
			s.Require().NoError(err)
			s.Require().False(has)
			evs := s.typedEvents(ctx, &types.EventOptedOut{})
			s.Require().Equal([]any{&types.EventOptedOut{Operator: msg.Operator, ServiceId: id}}, toAny(evs))
		})
	}
}

// Taking an operator off the allow-list stops new opt-ins only.
func (s *KeeperTestSuite) TestAllowlistRemovalKeepsOptIn() {
	m := defaultManifest("")
	m.Admission = types.ADMISSION_ALLOWLIST
	id := s.createService(m)
	op := s.registerOperator("op1")
	_, err := s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: id, Add: []string{op}})
	s.Require().NoError(err)
	s.optIn(op, id)
	_, err = s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: id, Remove: []string{op}})
	s.Require().NoError(err)

	has, err := s.keeper.OptIns.Has(s.ctx, collections.Join(id, op))
	s.Require().NoError(err)
	s.Require().True(has)
}

func (s *KeeperTestSuite) TestQueryOperators() {
	s1, ops := s.setupService(defaultManifest(""), 3)
	s2 := s.createService(defaultManifest(""))
	s.optIn(ops[0], s2)
	idle := s.registerOperator("idle")

	res, err := s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: ops[0]})
	s.Require().NoError(err)
	s.Require().Equal(s.operator(ops[0]), res.Operator)
	s.Require().Equal([]uint64{s1, s2}, res.ServiceIds)

	res, err = s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: ops[1]})
	s.Require().NoError(err)
	s.Require().Equal([]uint64{s1}, res.ServiceIds)

	res, err = s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: idle})
	s.Require().NoError(err)
	s.Require().Empty(res.ServiceIds)

	so, err := s.queryServer.ServiceOperators(s.ctx, &types.QueryServiceOperatorsRequest{ServiceId: s1})
	s.Require().NoError(err)
	got := make([]string, len(so.Operators))
	for i, o := range so.Operators {
		got[i] = o.Address
	}
	s.Require().ElementsMatch(ops, got)

	so, err = s.queryServer.ServiceOperators(s.ctx, &types.QueryServiceOperatorsRequest{ServiceId: s2})
	s.Require().NoError(err)
	s.Require().Len(so.Operators, 1)
	s.Require().Equal(ops[0], so.Operators[0].Address)

	page, err := s.queryServer.ServiceOperators(s.ctx, &types.QueryServiceOperatorsRequest{ServiceId: s1, Pagination: &query.PageRequest{Limit: 1, CountTotal: true}})
	s.Require().NoError(err)
	s.Require().Len(page.Operators, 1)
	s.Require().NotEmpty(page.Pagination.NextKey)
	s.Require().Equal(uint64(3), page.Pagination.Total)

	all, err := s.queryServer.Operators(s.ctx, &types.QueryOperatorsRequest{})
	s.Require().NoError(err)
	s.Require().Len(all.Operators, 4)

	_, err = s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: addr("nobody")})
	s.Require().Equal(codes.NotFound, status.Code(err))
	_, err = s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: "nobody"})
	s.Require().Equal(codes.InvalidArgument, status.Code(err))
	_, err = s.queryServer.ServiceOperators(s.ctx, &types.QueryServiceOperatorsRequest{ServiceId: 99})
	s.Require().Equal(codes.NotFound, status.Code(err))
}

func (s *KeeperTestSuite) TestUnjail() {
	var op string
	jail := func(until time.Time) {
		s.setLiveness(1, op, types.OperatorLiveness{Jailed: true, JailedUntil: until, WindowTasks: 3, WindowMissed: 2})
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
				s.setLiveness(1, op, types.OperatorLiveness{JailedUntil: stakeStart.Add(time.Hour)})
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
			msg := &types.MsgUnjail{Operator: op, ServiceId: 1}
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
			o := s.liveness(1, op)
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
		{name: "failure: negative", commission: dec("-0.000000000000000001"), expErr: types.ErrInvalidCommission},
		{name: "failure: above one", commission: dec("1.000000000000000001"), expErr: types.ErrInvalidCommission},
		{name: "failure: far above one", commission: dec("150"), expErr: types.ErrInvalidCommission},
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
		{name: "success: a cut to zero applies at once", commission: dec("0"), expected: "0"},
		{name: "success: a cut to 5% applies at once", commission: dec("0.05"), expected: "0.05"},
		{name: "success: a rise within max_commission_increase waits (L-1)", commission: dec("0.25"), expected: "0.2"},
		{name: "failure: a rise over max_commission_increase (L-1)", commission: dec("1"), expErr: types.ErrInvalidCommission},
		{name: "failure: negative", commission: dec("-0.1"), expErr: types.ErrInvalidCommission},
		{name: "failure: above one", commission: dec("1.5"), expErr: types.ErrInvalidCommission},
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
