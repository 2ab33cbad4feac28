package simulation_test

import (
	"math/rand"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/address"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/avschain/avschain/x/avs/simulation"
	"github.com/avschain/avschain/x/avs/types"
)

// TestProposalMsgs checks the one proposal message: MsgUpdateParams from the
// gov module account, with valid params in the bond denom.
func TestProposalMsgs(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ctx := sdk.NewContext(nil, cmtproto.Header{}, true, nil)
	accounts := simtypes.RandomAccounts(r, 3)

	msgs := simulation.ProposalMsgs()
	require.Len(t, msgs, 1)
	require.Equal(t, simulation.OpWeightMsgUpdateParams, msgs[0].AppParamsKey())
	require.Equal(t, simulation.DefaultWeightMsgUpdateParams, msgs[0].DefaultWeight())

	msg, ok := msgs[0].MsgSimulatorFn()(r, ctx, accounts).(*types.MsgUpdateParams)
	require.True(t, ok)
	require.Equal(t, sdk.AccAddress(address.Module("gov")).String(), msg.Authority)
	require.NoError(t, msg.Params.Validate())
	require.Equal(t, sdk.DefaultBondDenom, msg.Params.StakeDenom)
	require.NotEqual(t, types.DefaultParams(), msg.Params)
}
