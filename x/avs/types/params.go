package types

import (
	"fmt"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Default parameter values, chosen for a small devnet with 1-second blocks.
const (
	DefaultMaxComponentSize     uint64 = 16 << 20 // a Go wasip1 component is 3 to 10 MB
	DefaultMaxInputSize         uint64 = 16 << 10
	DefaultMaxResultSize        uint64 = 16 << 10
	DefaultTaskTimeout          uint64 = 50
	DefaultMaxTaskTimeout       uint64 = 10_000
	DefaultEpochLength          uint64 = 100
	DefaultUnbondingTime               = 21 * 24 * time.Hour
	DefaultMaxVotesPerTx        uint32 = 100
	DefaultMaxTasksPerMsg       uint32 = 1000
	DefaultHandlerGasLimit      uint64 = 1_000_000
	DefaultLivenessWindow       uint64 = 100
	DefaultJailThreshold        uint64 = 50
	DefaultComponentGasPerByte  uint64 = 2
	DefaultStakeDenom                  = "uavs"
	DefaultJailCooldown                = 10 * time.Minute
	DefaultMaxAutoTasksPerBlock uint32 = 5
	// DefaultMaxSnapshotOperators bounds a snapshot (and so the per-task work
	// of deadlines and tallies) while leaving room for a large operator set.
	DefaultMaxSnapshotOperators    uint32 = 100
	DefaultMaxSettlementsPerBlock  uint32 = 500
	DefaultMaxReleasesPerBlock     uint32 = 500
	DefaultMaxTriggerFiresPerBlock uint32 = 200
	DefaultMaxHookTasksPerBlock    uint32 = 50
	// DefaultMaxHookGasPerBlock is twenty handler calls at the default
	// handler_gas_limit.
	DefaultMaxHookGasPerBlock uint64 = 20_000_000
	// DefaultTaskRetentionBlocks keeps an ended task about a week at 6-second blocks.
	DefaultTaskRetentionBlocks           uint64 = 100_000
	DefaultMaxPrunesPerBlock             uint32 = 200
	DefaultIBCRequestsPerChannelPerBlock uint32 = 20
	// DefaultMaxGzipRatio allows the padding of an optimised Go or Rust
	// component while refusing a gzip bomb.
	DefaultMaxGzipRatio uint32 = 100
	// DefaultEventConfirmBlocks gives an event task's peers two blocks to
	// join its opener: sidecars that read the same block vote within one or
	// two blocks of each other.
	DefaultEventConfirmBlocks uint64 = 2
	// DefaultMaxCommitBlocks bounds a COMMIT_REVEAL commit phase: with
	// sidecars that commit in the block after a task's, a quorum closes it in
	// one block; the bound is for operators that are slow or missing.
	DefaultMaxCommitBlocks uint64 = 10
	// maxBlockBudgetHardLimit bounds every per-block item budget.
	maxBlockBudgetHardLimit uint32 = 100_000
	// maxSnapshotOperatorsHardLimit keeps the power sum of a full snapshot at
	// MaxOperatorPower each within a uint64: (2^14 − 1) × 2^50 < 2^64, where
	// 2^14 of them would sum to 2^64 and wrap to 0.
	maxSnapshotOperatorsHardLimit uint32 = 1<<14 - 1
	maxComponentSizeHardLimit     uint64 = 64 << 20
)

// DefaultHandlerGasPrice is the price of a handler call's gas, in stake_denom
// per gas: the node's default minimum gas price.
func DefaultHandlerGasPrice() sdkmath.LegacyDec { return sdkmath.LegacyNewDecWithPrec(1, 2) }

// DefaultMaxCommissionIncrease is the most a commission may rise in one
// change: 5 points, as a typical x/staking validator's max change rate.
func DefaultMaxCommissionIncrease() sdkmath.LegacyDec { return sdkmath.LegacyNewDecWithPrec(5, 2) }

// DefaultCommissionChangeDelay is how long a commission rise waits.
const DefaultCommissionChangeDelay = 24 * time.Hour

// DefaultMinOperatorStake is the self-commitment an operator needs to count
// in a STAKE snapshot: 1 AVS (H-6).
func DefaultMinOperatorStake() sdkmath.Int { return sdkmath.NewInt(1_000_000) }

// DefaultParams returns the parameters a new chain starts with.
func DefaultParams() Params {
	return Params{
		MaxComponentSize:              DefaultMaxComponentSize,
		MaxInputSize:                  DefaultMaxInputSize,
		MaxResultSize:                 DefaultMaxResultSize,
		DefaultTaskTimeout:            DefaultTaskTimeout,
		MaxTaskTimeout:                DefaultMaxTaskTimeout,
		EpochLength:                   DefaultEpochLength,
		UnbondingTime:                 DefaultUnbondingTime,
		MaxVotesPerTx:                 DefaultMaxVotesPerTx,
		MaxTasksPerMsg:                DefaultMaxTasksPerMsg,
		HandlerGasLimit:               DefaultHandlerGasLimit,
		LivenessWindow:                DefaultLivenessWindow,
		JailThreshold:                 DefaultJailThreshold,
		ComponentGasPerByte:           DefaultComponentGasPerByte,
		StakeDenom:                    DefaultStakeDenom,
		JailCooldown:                  DefaultJailCooldown,
		MaxAutoTasksPerBlock:          DefaultMaxAutoTasksPerBlock,
		MaxSnapshotOperators:          DefaultMaxSnapshotOperators,
		MaxSettlementsPerBlock:        DefaultMaxSettlementsPerBlock,
		MaxReleasesPerBlock:           DefaultMaxReleasesPerBlock,
		MaxTriggerFiresPerBlock:       DefaultMaxTriggerFiresPerBlock,
		HandlerGasPrice:               DefaultHandlerGasPrice(),
		MaxHookTasksPerBlock:          DefaultMaxHookTasksPerBlock,
		TaskRetentionBlocks:           DefaultTaskRetentionBlocks,
		MaxPrunesPerBlock:             DefaultMaxPrunesPerBlock,
		IbcRequestsPerChannelPerBlock: DefaultIBCRequestsPerChannelPerBlock,
		MaxGzipRatio:                  DefaultMaxGzipRatio,
		MaxCommissionIncrease:         DefaultMaxCommissionIncrease(),
		CommissionChangeDelay:         DefaultCommissionChangeDelay,
		MaxHookGasPerBlock:            DefaultMaxHookGasPerBlock,
		EventConfirmBlocks:            DefaultEventConfirmBlocks,
		MaxCommitBlocks:               DefaultMaxCommitBlocks,
		MinOperatorStake:              DefaultMinOperatorStake(),
	}
}

// Validate reports the first parameter that is out of range, wrapped in ErrInvalidParams.
func (p Params) Validate() error {
	checks := []struct {
		ok  bool
		msg string
	}{
		{p.MaxComponentSize > 0, "max_component_size must be positive"},
		{p.MaxComponentSize <= maxComponentSizeHardLimit, fmt.Sprintf("max_component_size %d exceeds the hard limit %d", p.MaxComponentSize, maxComponentSizeHardLimit)},
		{p.MaxInputSize > 0, "max_input_size must be positive"},
		{p.MaxResultSize > 0, "max_result_size must be positive"},
		{p.DefaultTaskTimeout > 0, "default_task_timeout must be positive"},
		{p.MaxTaskTimeout >= p.DefaultTaskTimeout, fmt.Sprintf("max_task_timeout %d is below default_task_timeout %d", p.MaxTaskTimeout, p.DefaultTaskTimeout)},
		{p.EpochLength > 0, "epoch_length must be positive"},
		{p.UnbondingTime > 0, "unbonding_time must be positive"},
		{p.MaxVotesPerTx > 0, "max_votes_per_tx must be positive"},
		{budgetOK(p.MaxTasksPerMsg), budgetMsg("max_tasks_per_msg", p.MaxTasksPerMsg)},
		{p.HandlerGasLimit > 0, "handler_gas_limit must be positive"},
		{p.LivenessWindow > 0, "liveness_window must be positive"},
		{p.JailThreshold > 0, "jail_threshold must be positive"},
		{p.ComponentGasPerByte > 0, "component_gas_per_byte must be positive"},
		{sdk.ValidateDenom(p.StakeDenom) == nil, fmt.Sprintf("stake_denom %q is not a valid denom", p.StakeDenom)},
		{p.JailCooldown >= 0, "jail_cooldown must not be negative"},
		{p.MaxAutoTasksPerBlock > 0, "max_auto_tasks_per_block must be positive"},
		{p.MaxSnapshotOperators > 0, "max_snapshot_operators must be positive"},
		{p.MaxSnapshotOperators <= maxSnapshotOperatorsHardLimit, fmt.Sprintf("max_snapshot_operators %d exceeds the hard limit %d", p.MaxSnapshotOperators, maxSnapshotOperatorsHardLimit)},
		{budgetOK(p.MaxSettlementsPerBlock), budgetMsg("max_settlements_per_block", p.MaxSettlementsPerBlock)},
		{budgetOK(p.MaxReleasesPerBlock), budgetMsg("max_releases_per_block", p.MaxReleasesPerBlock)},
		{budgetOK(p.MaxTriggerFiresPerBlock), budgetMsg("max_trigger_fires_per_block", p.MaxTriggerFiresPerBlock)},
		{budgetOK(p.MaxHookTasksPerBlock), budgetMsg("max_hook_tasks_per_block", p.MaxHookTasksPerBlock)},
		{budgetOK(p.MaxPrunesPerBlock), budgetMsg("max_prunes_per_block", p.MaxPrunesPerBlock)},
		{budgetOK(p.IbcRequestsPerChannelPerBlock), budgetMsg("ibc_requests_per_channel_per_block", p.IbcRequestsPerChannelPerBlock)},
		{!p.HandlerGasPrice.IsNil() && !p.HandlerGasPrice.IsNegative(), "handler_gas_price must be set and not negative"},
		{p.TaskRetentionBlocks > 0, "task_retention_blocks must be positive"},
		{p.MaxGzipRatio > 0, "max_gzip_ratio must be positive"},
		{!p.MaxCommissionIncrease.IsNil() && !p.MaxCommissionIncrease.IsNegative() && p.MaxCommissionIncrease.LTE(sdkmath.LegacyOneDec()), "max_commission_increase must be in [0, 1]"},
		{p.CommissionChangeDelay >= 0, "commission_change_delay must not be negative"},
		{!p.MinOperatorStake.IsNil() && !p.MinOperatorStake.IsNegative(), "min_operator_stake must be set and not negative"},
		{p.MaxHookGasPerBlock >= p.HandlerGasLimit, fmt.Sprintf("max_hook_gas_per_block %d is below handler_gas_limit %d", p.MaxHookGasPerBlock, p.HandlerGasLimit)},
		{p.EventConfirmBlocks > 0, "event_confirm_blocks must be positive"},
		{p.EventConfirmBlocks <= p.MaxTaskTimeout, fmt.Sprintf("event_confirm_blocks %d exceeds max_task_timeout %d", p.EventConfirmBlocks, p.MaxTaskTimeout)},
		{p.MaxCommitBlocks > 0, "max_commit_blocks must be positive"},
		{p.MaxCommitBlocks < p.MaxTaskTimeout, fmt.Sprintf("max_commit_blocks %d must be below max_task_timeout %d", p.MaxCommitBlocks, p.MaxTaskTimeout)},
		{p.JailThreshold <= p.LivenessWindow, fmt.Sprintf("jail_threshold %d exceeds liveness_window %d", p.JailThreshold, p.LivenessWindow)},
	}
	for _, c := range checks {
		if !c.ok {
			return errorsmod.Wrap(ErrInvalidParams, c.msg)
		}
	}
	return nil
}

// budgetOK reports whether a per-block item budget is in (0, hard limit].
func budgetOK(n uint32) bool { return n > 0 && n <= maxBlockBudgetHardLimit }

func budgetMsg(name string, n uint32) string {
	return fmt.Sprintf("%s %d must be in [1, %d]", name, n, maxBlockBudgetHardLimit)
}
