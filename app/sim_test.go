package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	wasmsim "github.com/CosmWasm/wasmd/x/wasm/simulation"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log"

	"github.com/cosmos/cosmos-sdk/baseapp"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/avschain/avschain/app"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// TestAvsSimulation runs the SDK simulator on the real app, as simapp's
// sim_test.go does, for a short fixed run: a random genesis of every module
// (x/avs's RandomizedGenState included), then 20 blocks of about 50 random
// operations of every module, each a signed tx through the ante handler and
// the router. No operation or block may fail, and x/avs's operations must have
// delivered txs (from the simulator's own operation statistics).
//
// In SDK v0.50 the simulator delivers operations after FinalizeBlock and
// never writes them to the committed store (cosmos/cosmos-sdk#20541, fixed in
// v0.52 by #20936's SimWriteState), so what operations build lasts one block:
// x/avs's later steps (commit to an operator, create a task) only run when
// their earlier steps landed in the same block.
//
// Seed 381 draws a mock CometBFT that reports almost no double-sign evidence
// (seed 11, say, tombstones every validator by block 15 and the simulator
// skips the test), and the params file bonds 20 validators at genesis.
func TestAvsSimulation(t *testing.T) {
	t.Cleanup(func() {
		if t.Skipped() { // the SDK simulator skips when no validator is left
			t.Error("the simulation stopped early: the validator set emptied, choose another seed")
		}
	})
	app.SetAddressPrefixes() // the simulation's bond denom is sdk.DefaultBondDenom
	dir := t.TempDir()
	// wasm's store-code compiles a contract per op: off, to keep the run short
	// (wasmd's own simulations cover it).
	paramsFile := filepath.Join(dir, "params.json")
	require.NoError(t, os.WriteFile(paramsFile, []byte(fmt.Sprintf(`{%q: 20, %q: 0}`,
		simtestutil.InitiallyBondedValidators, wasmsim.OpWeightMsgStoreCode)), 0o600))
	const chainID = "avs-sim-1"
	config := simtypes.Config{
		ChainID:            chainID,
		Seed:               381,
		InitialBlockHeight: 1,
		NumBlocks:          20,
		BlockSize:          50,
		Commit:             true,
		ParamsFile:         paramsFile,
		ExportStatsPath:    filepath.Join(dir, "stats.json"),
	}
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(dir), nil,
		baseapp.SetChainID(chainID), func(b *baseapp.BaseApp) { b.SetFauxMerkleMode() })

	out := io.Discard
	if testing.Verbose() {
		out = os.Stdout
	}
	stopEarly, _, err := simulation.SimulateFromSeed(t, out, a.BaseApp,
		simtestutil.AppStateFn(a.AppCodec(), a.SimulationManager(), a.DefaultGenesis()),
		simtypes.RandomAccounts, simtestutil.SimulationOperations(a, a.AppCodec(), config),
		app.BlockedAddresses(), config, a.AppCodec())
	require.NoError(t, err)
	require.False(t, stopEarly)

	bz, err := os.ReadFile(config.ExportStatsPath)
	require.NoError(t, err)
	var stats simulation.EventStats
	require.NoError(t, json.Unmarshal(bz, &stats))
	delivered := map[string]int{}
	for msg, results := range stats[avstypes.ModuleName] {
		if results["ok"] > 0 {
			delivered[msg] = results["ok"]
		}
	}
	t.Logf("x/avs operations: %v", stats[avstypes.ModuleName])
	require.NotEmpty(t, delivered, "no x/avs operation was delivered: %v", stats[avstypes.ModuleName])
	require.Contains(t, delivered, sdk.MsgTypeURL(&avstypes.MsgRegisterOperator{}))
}
