package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// EndBlocker expires the tasks whose deadline has come.
func (k Keeper) EndBlocker(ctx context.Context) error {
	return k.ExpireTasks(sdk.UnwrapSDKContext(ctx))
}
