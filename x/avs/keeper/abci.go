package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// EndBlocker settles the tasks whose deadline has come and releases matured
// unbonding entries.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.ExpireTasks(sdkCtx); err != nil {
		return err
	}
	return k.MatureUnbonding(sdkCtx)
}
