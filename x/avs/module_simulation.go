package avs

import (
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/avschain/avschain/x/avs/simulation"
	"github.com/avschain/avschain/x/avs/types"
)

// The x/avs side of the app's simulation manager, as in the SDK's own modules
// (x/distribution/module.go's "AppModuleSimulation functions").
var _ module.AppModuleSimulation = AppModule{}

// GenerateGenesisState creates a randomized genesis state of x/avs.
func (AppModule) GenerateGenesisState(simState *module.SimulationState) {
	simulation.RandomizedGenState(simState)
}

// RegisterStoreDecoder registers the x/avs store decoder.
func (am AppModule) RegisterStoreDecoder(sdr simtypes.StoreDecoderRegistry) {
	sdr[types.StoreKey] = simulation.NewDecodeStore(am.cdc)
}

// WeightedOperations returns the x/avs operations with their weights.
func (AppModule) WeightedOperations(simState module.SimulationState) []simtypes.WeightedOperation {
	return simulation.WeightedOperations(simState.AppParams, simState.TxConfig)
}

// ProposalMsgs returns the x/avs messages governance proposals carry in simulations.
func (AppModule) ProposalMsgs(module.SimulationState) []simtypes.WeightedProposalMsg {
	return simulation.ProposalMsgs()
}
