package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// fundService adds amount, paid by from, to a service's treasury.
// A trigger that left the schedule because the treasury could not pay comes
// back at its next due point.
func (k Keeper) fundService(ctx context.Context, from sdk.AccAddress, funder string, serviceID uint64, amount sdk.Coin) error {
	svc, err := k.getService(ctx, serviceID)
	if err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, from, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return err
	}
	t, err := k.treasury(ctx, serviceID)
	if err != nil {
		return err
	}
	t = t.Add(amount.Amount)
	if err := k.Treasuries.Set(ctx, serviceID, t); err != nil {
		return err
	}
	if err := k.scheduleTriggers(ctx, svc); err != nil {
		return err
	}
	return emit(ctx, &types.EventServiceFunded{ServiceId: serviceID, Funder: funder, Amount: amount,
		Treasury: sdk.NewCoin(amount.Denom, t)})
}

func (k Keeper) treasury(ctx context.Context, serviceID uint64) (sdkmath.Int, error) {
	t, err := k.Treasuries.Get(ctx, serviceID)
	if isNotFound(err) {
		return sdkmath.ZeroInt(), nil
	}
	return t, err
}
