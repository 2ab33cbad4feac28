package simulation

import (
	"math/rand"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/address"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/avschain/avschain/x/avs/types"
)

// OpWeightMsgUpdateParams weighs MsgUpdateParams among governance proposals.
const (
	OpWeightMsgUpdateParams          = "op_weight_msg_update_params"
	DefaultWeightMsgUpdateParams int = 50
)

// ProposalMsgs returns the x/avs messages governance proposals carry, as
// x/distribution/simulation/proposals.go does.
func ProposalMsgs() []simtypes.WeightedProposalMsg {
	return []simtypes.WeightedProposalMsg{
		simulation.NewWeightedProposalMsg(OpWeightMsgUpdateParams, DefaultWeightMsgUpdateParams, SimulateMsgUpdateParams),
	}
}

// SimulateMsgUpdateParams returns a MsgUpdateParams with RandomParams, from
// the gov module account (the app's x/avs authority). The stake denom stays
// the bond denom: x/avs refuses to switch it while it holds stake.
func SimulateMsgUpdateParams(r *rand.Rand, _ sdk.Context, _ []simtypes.Account) sdk.Msg {
	var authority sdk.AccAddress = address.Module("gov")
	return &types.MsgUpdateParams{Authority: authority.String(), Params: RandomParams(r, sdk.DefaultBondDenom)}
}
