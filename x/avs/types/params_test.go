package types_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/types"
)

func TestParamsValidate(t *testing.T) {
	testCases := []struct {
		name     string
		malleate func(p *types.Params)
		errText  string
	}{
		{"default params are valid", func(*types.Params) {}, ""},
		{"zero max input size", func(p *types.Params) { p.MaxInputSize = 0 }, "max_input_size"},
		{"zero max result size", func(p *types.Params) { p.MaxResultSize = 0 }, "max_result_size"},
		{"component size over the hard limit", func(p *types.Params) { p.MaxComponentSize = 1 << 40 }, "hard limit"},
		{"zero default task timeout", func(p *types.Params) { p.DefaultTaskTimeout = 0 }, "default_task_timeout"},
		{"negative unbonding time", func(p *types.Params) { p.UnbondingTime = -time.Second }, "unbonding_time"},
		{"zero max votes per tx", func(p *types.Params) { p.MaxVotesPerTx = 0 }, "max_votes_per_tx"},
		{"zero handler gas", func(p *types.Params) { p.HandlerGasLimit = 0 }, "handler_gas_limit"},
		{"zero jail threshold", func(p *types.Params) { p.JailThreshold = 0 }, "jail_threshold"},
		{"zero max auto tasks per block", func(p *types.Params) { p.MaxAutoTasksPerBlock = 0 }, "max_auto_tasks_per_block"},
		{"zero max snapshot operators", func(p *types.Params) { p.MaxSnapshotOperators = 0 }, "max_snapshot_operators must be positive"},
		{"max snapshot operators at the hard limit", func(p *types.Params) { p.MaxSnapshotOperators = 1<<14 - 1 }, ""},
		{"max snapshot operators over the hard limit", func(p *types.Params) { p.MaxSnapshotOperators = 1 << 14 }, "max_snapshot_operators 16384 exceeds the hard limit 16383"},
		{"zero settlements per block", func(p *types.Params) { p.MaxSettlementsPerBlock = 0 }, "max_settlements_per_block 0 must be in [1, 100000]"},
		{"settlements per block over the hard limit", func(p *types.Params) { p.MaxSettlementsPerBlock = 100_001 }, "max_settlements_per_block 100001 must be in [1, 100000]"},
		{"zero releases per block", func(p *types.Params) { p.MaxReleasesPerBlock = 0 }, "max_releases_per_block 0 must be in"},
		{"zero trigger fires per block", func(p *types.Params) { p.MaxTriggerFiresPerBlock = 0 }, "max_trigger_fires_per_block 0 must be in"},
		{"zero hook tasks per block", func(p *types.Params) { p.MaxHookTasksPerBlock = 0 }, "max_hook_tasks_per_block 0 must be in"},
		{"zero prunes per block", func(p *types.Params) { p.MaxPrunesPerBlock = 0 }, "max_prunes_per_block 0 must be in"},
		{"zero ibc requests per channel", func(p *types.Params) { p.IbcRequestsPerChannelPerBlock = 0 }, "ibc_requests_per_channel_per_block 0 must be in"},
		{"nil handler gas price", func(p *types.Params) { p.HandlerGasPrice = sdkmath.LegacyDec{} }, "handler_gas_price must be set"},
		{"negative handler gas price", func(p *types.Params) { p.HandlerGasPrice = sdkmath.LegacyNewDec(-1) }, "handler_gas_price must be set and not negative"},
		{"free handler gas", func(p *types.Params) { p.HandlerGasPrice = sdkmath.LegacyZeroDec() }, ""},
		{"zero task retention", func(p *types.Params) { p.TaskRetentionBlocks = 0 }, "task_retention_blocks must be positive"},
		{"hook gas below one handler call", func(p *types.Params) { p.MaxHookGasPerBlock = p.HandlerGasLimit - 1 }, "max_hook_gas_per_block 999999 is below handler_gas_limit 1000000"},
		{"zero gzip ratio", func(p *types.Params) { p.MaxGzipRatio = 0 }, "max_gzip_ratio must be positive"},
		{"zero event confirm blocks", func(p *types.Params) { p.EventConfirmBlocks = 0 }, "event_confirm_blocks must be positive"},
		{"zero max commit blocks", func(p *types.Params) { p.MaxCommitBlocks = 0 }, "max_commit_blocks must be positive"},
		{"max commit blocks at max task timeout", func(p *types.Params) { p.MaxCommitBlocks = p.MaxTaskTimeout }, "max_commit_blocks 10000 must be below max_task_timeout 10000"},
		{"event confirm blocks over max task timeout", func(p *types.Params) { p.EventConfirmBlocks = p.MaxTaskTimeout + 1 }, "event_confirm_blocks 10001 exceeds max_task_timeout 10000"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.malleate(&p)
			err := p.Validate()
			if tc.errText == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidParams)
			require.Contains(t, err.Error(), tc.errText)
		})
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate())
	bad := types.DefaultGenesis()
	bad.Params.EpochLength = 0
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis)
}
