package simulation_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"

	"github.com/avschain/avschain/x/avs/simulation"
	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// TestWeightedOperations checks the operations and their default weights, and
// that a params file overrides a weight by its key. That each operation
// delivers its tx is app.TestAvsSimulation's job (it needs the whole app).
func TestWeightedOperations(t *testing.T) {
	txConfig := authtx.NewTxConfig(codec.NewProtoCodec(codectypes.NewInterfaceRegistry()), authtx.DefaultSignModes)
	weights := func(appParams simtypes.AppParams) []int {
		var out []int
		for _, op := range simulation.WeightedOperations(appParams, txConfig) {
			require.NotNil(t, op.Op())
			out = append(out, op.Weight())
		}
		return out
	}
	defaults := []int{
		simulation.DefaultWeightMsgRegisterOperator, simulation.DefaultWeightMsgCreateService,
		simulation.DefaultWeightMsgOptIn, simulation.DefaultWeightMsgCreateTask, simulation.DefaultWeightMsgCreateTasks,
		simulation.DefaultWeightMsgCommit, simulation.DefaultWeightMsgUncommit, simulation.DefaultWeightMsgFundService,
	}
	require.Equal(t, defaults, weights(make(simtypes.AppParams)))

	overridden := append([]int(nil), defaults...)
	overridden[5] = 3
	require.Equal(t, overridden, weights(simtypes.AppParams{simulation.OpWeightMsgCommit: json.RawMessage(`3`)}))
}

// TestSimComponentIsValid checks the component the simulation stores passes
// the chain's own component check, or MsgStoreComponent would fail.
func TestSimComponentIsValid(t *testing.T) {
	imports, err := wasmbin.Validate(simulation.SimComponent())
	require.NoError(t, err)
	require.Equal(t, []string{types.WASIModule + ".proc_exit"}, imports)
}
