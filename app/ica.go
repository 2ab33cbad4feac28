package app

import (
	"encoding/json"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	ica "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts"
	genesistypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/genesis/types"
	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
	icasim "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/simulation"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"

	avstypes "github.com/avschain/avschain/x/avs/types"
)

// ICAAllowMessages is the default allow-list of the interchain accounts host:
// what an account controlled from another chain needs to use a service —
// create tasks, fund a service, commit to an operator (and take it back),
// withdraw rewards — and bank sends to move its funds. Service and operator
// administration, staking and governance stay with local keys. Governance
// changes the list with the host's MsgUpdateParams
// (/ibc.applications.interchain_accounts.host.v1.MsgUpdateParams).
func ICAAllowMessages() []string {
	return []string{
		sdk.MsgTypeURL(&avstypes.MsgCreateTask{}),
		sdk.MsgTypeURL(&avstypes.MsgCreateTasks{}),
		sdk.MsgTypeURL(&avstypes.MsgFundService{}),
		sdk.MsgTypeURL(&avstypes.MsgCommit{}),
		sdk.MsgTypeURL(&avstypes.MsgUncommit{}),
		sdk.MsgTypeURL(&avstypes.MsgWithdrawRewards{}),
		sdk.MsgTypeURL(&banktypes.MsgSend{}),
	}
}

// icaAppModule is ibc-go's interchain accounts module with avschain's default
// genesis: the host enabled with ICAAllowMessages instead of ibc-go's "*"
// (every message). Overriding DefaultGenesis on the module itself covers both
// places a default is read: `avsd init` (the basic manager is built from the
// module manager) and RunMigrations, which initialises a module new to the
// chain, as the v0.2.0 upgrade does, from the module's DefaultGenesis.
type icaAppModule struct {
	ica.AppModule
}

// DefaultGenesis returns the host genesis with the allow-list and the default
// (unused: avsd has no controller) controller genesis.
func (icaAppModule) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs := genesistypes.NewGenesisState(
		genesistypes.DefaultControllerGenesis(),
		genesistypes.NewHostGenesisState(nil, nil, icatypes.HostPortID, icahosttypes.NewParams(true, ICAAllowMessages())),
	)
	return cdc.MustMarshalJSON(gs)
}

// ProposalMsgs keeps only ibc-go's host MsgUpdateParams proposal for the
// simulation: avsd has no controller, so the controller's MsgUpdateParams
// has no route and a proposal carrying it fails.
func (icaAppModule) ProposalMsgs(module.SimulationState) []simtypes.WeightedProposalMsg {
	return []simtypes.WeightedProposalMsg{
		simulation.NewWeightedProposalMsg(icasim.OpWeightMsgUpdateParams, icasim.DefaultWeightMsgUpdateParams, icasim.SimulateHostMsgUpdateParams),
	}
}
