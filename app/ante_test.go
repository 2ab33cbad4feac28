package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/app"
)

// feeTx is a transaction that only tells its fee.
type feeTx struct {
	sdk.FeeTx
	fee sdk.Coins
}

func (t feeTx) GetFee() sdk.Coins { return t.fee }

// A simulation without a fee (what --gas auto sends) is charged the fee
// deduction it skipped; a simulation with a fee, and a real transaction, are
// not (the SDK's fee decorator charges those).
func TestSimulatedFeeGasDecorator(t *testing.T) {
	next := func(ctx sdk.Context, _ sdk.Tx, _ bool) (sdk.Context, error) { return ctx, nil }
	for _, tc := range []struct {
		name     string
		fee      sdk.Coins
		simulate bool
		want     uint64
	}{
		{"simulated without a fee", nil, true, app.SimulatedFeeGas},
		{"simulated with a fee", sdk.NewCoins(sdk.NewInt64Coin("uavs", 5)), true, 0},
		{"delivered", nil, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := sdk.Context{}.WithGasMeter(storetypes.NewGasMeter(1_000_000))
			_, err := app.SimulatedFeeGasDecorator{}.AnteHandle(ctx, feeTx{fee: tc.fee}, tc.simulate, next)
			require.NoError(t, err)
			require.Equal(t, tc.want, ctx.GasMeter().GasConsumed())
		})
	}
}
