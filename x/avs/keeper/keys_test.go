package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// TestTaskValueRoundTrip: every task comes back from its compact stored form
// as it went in, whichever of its fields the compaction applies to (and
// those it does not: a creator that is no address, an upper-case digest, a
// free task without a fee denom).
func TestTaskValueRoundTrip(t *testing.T) {
	cdc := moduletestutil.MakeTestEncodingConfig(avs.AppModuleBasic{}).Codec
	c := keeper.NewTaskValue(cdc, bech32)
	digest := types.Digest([]byte("component"))
	zero := sdk.Coin{Denom: denom, Amount: sdkmath.ZeroInt()}
	for name, task := range map[string]types.Task{
		"pending":               {Id: 1, Creator: addr("creator"), ComponentDigest: digest, Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero},
		"completed":             {Id: 2, Creator: addr("creator"), ComponentDigest: digest, Status: types.TASK_STATUS_COMPLETED, Result: []byte("16"), ResultDigest: types.Digest([]byte("16")), Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero},
		"with a deposit":        {Id: 3, Creator: addr("creator"), Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: sdk.NewInt64Coin(denom, 9)},
		"free, no denom":        {Id: 4, Creator: addr("creator"), Fee: sdk.Coin{Amount: sdkmath.ZeroInt()}, HandlerDeposit: sdk.Coin{Amount: sdkmath.ZeroInt()}},
		"creator not bech32":    {Id: 5, Creator: "nobody", ComponentDigest: digest, Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero},
		"upper-case digest":     {Id: 6, Creator: addr("creator"), ComponentDigest: "AB" + digest[2:], Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero},
		"result digest not own": {Id: 7, Status: types.TASK_STATUS_COMPLETED, Result: []byte("16"), ResultDigest: "x", Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero},
	} {
		t.Run(name, func(t *testing.T) {
			bz, err := c.Encode(task)
			require.NoError(t, err)
			got, err := c.Decode(bz)
			require.NoError(t, err)
			require.Equal(t, task, got)
		})
	}
	full, err := c.Encode(types.Task{Id: 1, Creator: addr("creator"), ComponentDigest: digest, Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero})
	require.NoError(t, err)
	plain, err := cdc.Marshal(&types.Task{Id: 1, Creator: addr("creator"), ComponentDigest: digest, Fee: sdk.NewInt64Coin(denom, 5), HandlerDeposit: zero})
	require.NoError(t, err)
	require.Less(t, len(full), len(plain)-50, "raw creator and digest, no zero deposit")
	_, err = c.Decode([]byte{0, 1, 40})
	require.Error(t, err, "a truncated compact task")
}
