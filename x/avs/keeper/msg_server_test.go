package keeper_test

import (
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// The stake denom can change only while x/avs holds nothing in it.
func (s *KeeperTestSuite) TestUpdateParamsStakeDenom() {
	params, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	authority := s.authority
	id := s.triggeredService(1) // its treasury holds one fee in the stake denom
	s.Require().NotZero(id)
	changed := params
	changed.StakeDenom = "uother"
	_, err = s.msgServer.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: authority, Params: changed})
	s.Require().ErrorIs(err, types.ErrInvalidParams)
	s.Require().Contains(err.Error(), "stake_denom cannot change")
	after, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal(params.StakeDenom, after.StakeDenom)

	s.SetupTest() // nothing held: the denom may change
	_, err = s.msgServer.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: authority, Params: changed})
	s.Require().NoError(err)
}

func (s *KeeperTestSuite) TestUpdateParams() {
	stranger, err := address.NewBech32Codec("avs").BytesToString([]byte("stranger____________"))
	s.Require().NoError(err)

	testCases := []struct {
		name     string
		malleate func(msg *types.MsgUpdateParams)
		expErr   *errorsmod.Error
		errText  string
	}{
		{
			name:     "success: authority sets new params",
			malleate: func(msg *types.MsgUpdateParams) { msg.Params.MaxInputSize = 99 },
		},
		{
			name:     "failure: signer is not the authority",
			malleate: func(msg *types.MsgUpdateParams) { msg.Authority = stranger },
			expErr:   types.ErrUnauthorized,
			errText:  "expected authority",
		},
		{
			name:     "failure: authority is not an address",
			malleate: func(msg *types.MsgUpdateParams) { msg.Authority = "gov" },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name: "failure: authority has another chain's prefix",
			malleate: func(msg *types.MsgUpdateParams) {
				msg.Authority = sdk.MustBech32ifyAddressBytes("cosmos", []byte("stranger____________"))
			},
			expErr: types.ErrInvalidAddress,
		},
		{
			name:     "failure: zero epoch length",
			malleate: func(msg *types.MsgUpdateParams) { msg.Params.EpochLength = 0 },
			expErr:   types.ErrInvalidParams,
			errText:  "epoch_length",
		},
		{
			name:     "failure: zero max component size",
			malleate: func(msg *types.MsgUpdateParams) { msg.Params.MaxComponentSize = 0 },
			expErr:   types.ErrInvalidParams,
			errText:  "max_component_size",
		},
		{
			name:     "failure: max task timeout below default",
			malleate: func(msg *types.MsgUpdateParams) { msg.Params.MaxTaskTimeout = msg.Params.DefaultTaskTimeout - 1 },
			expErr:   types.ErrInvalidParams,
			errText:  "max_task_timeout",
		},
		{
			name:     "failure: jail threshold above the liveness window",
			malleate: func(msg *types.MsgUpdateParams) { msg.Params.JailThreshold = msg.Params.LivenessWindow + 1 },
			expErr:   types.ErrInvalidParams,
			errText:  "jail_threshold",
		},
		{
			name:     "failure: empty params",
			malleate: func(msg *types.MsgUpdateParams) { msg.Params = types.Params{} },
			expErr:   types.ErrInvalidParams,
		},
	}

	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			before, err := s.keeper.Params.Get(s.ctx)
			s.Require().NoError(err)

			msg := &types.MsgUpdateParams{Authority: s.authority, Params: types.DefaultParams()}
			tc.malleate(msg)
			ctx := s.ctx.WithEventManager(sdk.NewEventManager())
			_, err = s.msgServer.UpdateParams(ctx, msg)

			after, getErr := s.keeper.Params.Get(s.ctx)
			s.Require().NoError(getErr)
			if tc.expErr == nil {
				s.Require().NoError(err)
				s.Require().Equal(msg.Params, after)
				s.Require().Len(ctx.EventManager().Events(), 1)
				s.Require().Equal("avschain.avs.v1.EventParamsUpdated", ctx.EventManager().Events()[0].Type)
				return
			}
			s.Require().ErrorIs(err, tc.expErr)
			s.Require().Equal(types.ModuleName, tc.expErr.Codespace())
			s.Require().Contains(err.Error(), tc.errText)
			s.Require().Equal(before, after, "a refused update must not change state")
			s.Require().Empty(ctx.EventManager().Events())
		})
	}
}
