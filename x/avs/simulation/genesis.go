package simulation

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/avschain/avschain/x/avs/types"
)

// Simulation parameter keys: a simulation params file may set any of them.
const (
	MaxComponentSize     = "max_component_size"
	MaxInputSize         = "max_input_size"
	MaxResultSize        = "max_result_size"
	DefaultTaskTimeout   = "default_task_timeout"
	MaxTaskTimeout       = "max_task_timeout"
	EpochLength          = "epoch_length"
	UnbondingTime        = "unbonding_time"
	MaxVotesPerTx        = "max_votes_per_tx"
	HandlerGasLimit      = "handler_gas_limit"
	LivenessWindow       = "liveness_window"
	JailThreshold        = "jail_threshold"
	ComponentGasPerByte  = "component_gas_per_byte"
	JailCooldown         = "jail_cooldown"
	MaxAutoTasksPerBlock = "max_auto_tasks_per_block"
	MaxSnapshotOperators = "max_snapshot_operators"
)

// between returns a uniform value in [lo, hi].
func between(r *rand.Rand, lo, hi uint64) uint64 { return lo + uint64(r.Int63n(int64(hi-lo+1))) }

// RandomParams returns parameters drawn at random within the bounds
// Params.Validate accepts, with stake in denom.
func RandomParams(r *rand.Rand, denom string) types.Params {
	p := types.DefaultParams()
	p.StakeDenom = denom
	p.MaxComponentSize = between(r, 1<<20, 64<<20)
	p.MaxInputSize = between(r, 1<<10, 64<<10)
	p.MaxResultSize = between(r, 1<<10, 64<<10)
	p.DefaultTaskTimeout = between(r, 5, 200)
	p.MaxTaskTimeout = p.DefaultTaskTimeout + between(r, 0, 10_000)
	p.EpochLength = between(r, 1, 500)
	p.UnbondingTime = time.Duration(between(r, 60, 21*24*3600)) * time.Second
	p.MaxVotesPerTx = uint32(between(r, 1, 200))
	p.HandlerGasLimit = between(r, 100_000, 5_000_000)
	p.LivenessWindow = between(r, 1, 1_000)
	p.JailThreshold = between(r, 1, p.LivenessWindow)
	p.ComponentGasPerByte = between(r, 1, 10)
	p.JailCooldown = time.Duration(between(r, 0, 3600)) * time.Second
	p.MaxAutoTasksPerBlock = uint32(between(r, 1, 20))
	// Not drawn: a draw here would shift every later module's random genesis
	// and operations of a fixed seed. A params file can set it.
	p.MaxSnapshotOperators = types.DefaultMaxSnapshotOperators
	return p
}

// RandomizedGenState puts a default x/avs genesis with RandomParams into
// simState, stake in the simulation's bond denom. A simulation params file
// may set any parameter by its key; what it sets is used as is.
func RandomizedGenState(simState *module.SimulationState) {
	p := RandomParams(simState.Rand, simState.BondDenom)
	for key, ptr := range map[string]any{
		MaxComponentSize: &p.MaxComponentSize, MaxInputSize: &p.MaxInputSize, MaxResultSize: &p.MaxResultSize,
		DefaultTaskTimeout: &p.DefaultTaskTimeout, MaxTaskTimeout: &p.MaxTaskTimeout, EpochLength: &p.EpochLength,
		UnbondingTime: &p.UnbondingTime, MaxVotesPerTx: &p.MaxVotesPerTx, HandlerGasLimit: &p.HandlerGasLimit,
		LivenessWindow: &p.LivenessWindow, JailThreshold: &p.JailThreshold, ComponentGasPerByte: &p.ComponentGasPerByte,
		JailCooldown: &p.JailCooldown, MaxAutoTasksPerBlock: &p.MaxAutoTasksPerBlock,
		MaxSnapshotOperators: &p.MaxSnapshotOperators,
	} {
		simState.AppParams.GetOrGenerate(key, ptr, simState.Rand, func(*rand.Rand) {})
	}

	gs := types.DefaultGenesis()
	gs.Params = p
	if err := gs.Validate(); err != nil {
		// Only a params file can get here: its values are out of bounds.
		panic(fmt.Sprintf("x/avs simulation genesis: %s", err))
	}
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
