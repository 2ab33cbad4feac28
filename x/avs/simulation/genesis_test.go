package simulation_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/avschain/avschain/x/avs/simulation"
	"github.com/avschain/avschain/x/avs/types"
)

func simState(seed int64, appParams simtypes.AppParams) *module.SimulationState {
	return &module.SimulationState{
		AppParams: appParams,
		Cdc:       codec.NewProtoCodec(codectypes.NewInterfaceRegistry()),
		Rand:      rand.New(rand.NewSource(seed)),
		BondDenom: "ustake",
		GenState:  make(map[string]json.RawMessage),
	}
}

func genesisOf(t *testing.T, s *module.SimulationState) types.GenesisState {
	t.Helper()
	var gs types.GenesisState
	s.Cdc.MustUnmarshalJSON(s.GenState[types.ModuleName], &gs)
	return gs
}

// roundTrip is gs as it reads back from JSON (empty lists become nil).
func roundTrip(t *testing.T, cdc codec.JSONCodec, gs *types.GenesisState) *types.GenesisState {
	t.Helper()
	var out types.GenesisState
	require.NoError(t, cdc.UnmarshalJSON(cdc.MustMarshalJSON(gs), &out))
	return &out
}

// TestRandomizedGenStateIsValid draws genesis states from many seeds: each
// passes Validate, is the default genesis but for its params, keeps stake in
// the bond denom, and the params do vary with the seed.
func TestRandomizedGenStateIsValid(t *testing.T) {
	seen := map[types.Params]bool{}
	for seed := int64(0); seed < 50; seed++ {
		s := simState(seed, make(simtypes.AppParams))
		simulation.RandomizedGenState(s)
		gs := genesisOf(t, s)
		require.NoError(t, gs.Validate(), "seed %d", seed)
		require.Equal(t, "ustake", gs.Params.StakeDenom, "seed %d", seed)
		want := types.DefaultGenesis()
		want.Params = gs.Params
		want = roundTrip(t, s.Cdc, want)
		require.Equal(t, *want, gs, "seed %d: only params are random", seed)
		seen[gs.Params] = true
	}
	require.Greater(t, len(seen), 1, "params never vary with the seed")
	delete(seen, types.DefaultParams())
	require.NotEmpty(t, seen, "params never differ from the defaults")
}

// TestRandomizedGenStateParamsFile checks a params file's value is used as is.
func TestRandomizedGenStateParamsFile(t *testing.T) {
	s := simState(1, simtypes.AppParams{simulation.EpochLength: json.RawMessage(`7`)})
	simulation.RandomizedGenState(s)
	require.Equal(t, uint64(7), genesisOf(t, s).Params.EpochLength)
}

// TestRandomizedGenStateRefusesInvalidParams checks a params file that breaks
// Params.Validate stops the simulation at genesis.
func TestRandomizedGenStateRefusesInvalidParams(t *testing.T) {
	s := simState(1, simtypes.AppParams{simulation.EpochLength: json.RawMessage(`0`)})
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		simulation.RandomizedGenState(s)
	}()
	require.NotNil(t, recovered, "an invalid params file must stop the simulation")
	require.Contains(t, fmt.Sprint(recovered), "epoch_length must be positive")
}

// TestRandomParamsAreValid covers the proposal path, whose params are not
// checked by a genesis.
func TestRandomParamsAreValid(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 200; i++ {
		require.NoError(t, simulation.RandomParams(r, "ustake").Validate())
	}
}
