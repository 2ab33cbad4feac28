package types_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
		{"max snapshot operators at the hard limit", func(p *types.Params) { p.MaxSnapshotOperators = 1 << 14 }, ""},
		{"max snapshot operators over the hard limit", func(p *types.Params) { p.MaxSnapshotOperators = 1<<14 + 1 }, "max_snapshot_operators 16385 exceeds the hard limit"},
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
