package keeper_test

import (
	sdkmath "cosmossdk.io/math"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

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
			expErr:   types.ErrInvalidRequest,
		},
		{
			name:     "failure: blank moniker",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Moniker = "   " },
			expErr:   types.ErrInvalidRequest,
		},
		{
			name:     "failure: moniker too long",
			malleate: func(msg *types.MsgRegisterOperator) { msg.Moniker = strings.Repeat("m", keeper.MaxMonikerLength+1) },
			expErr:   types.ErrInvalidRequest,
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
			s.Require().Equal(types.Operator{Address: msg.Operator, Moniker: msg.Moniker, RegisteredHeight: 10, Commission: sdkmath.LegacyZeroDec()}, s.operator(msg.Operator))
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
			expErr:   types.ErrInvalidRequest,
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
				op := s.operator(msg.Operator)
				op.Jailed = true
				s.Require().NoError(s.keeper.Operators.Set(s.ctx, op.Address, op))
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
			open = s.createService(defaultManifest(""))
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
