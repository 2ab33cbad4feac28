package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BeginBlocker fires the cron triggers that came due on block time.
func (k Keeper) BeginBlocker(ctx context.Context) error {
	return k.runCronTriggers(sdk.UnwrapSDKContext(ctx))
}

// EndBlocker opens the block-interval tasks due at this height, settles the
// tasks whose deadline has come, releases matured unbonding entries, prunes
// the tasks past their retention and forgets the block's counts of automatic
// tasks. Each step works through an index within its per-block budget.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.runIntervalTriggers(sdkCtx); err != nil {
		return err
	}
	if err := k.ExpireTasks(sdkCtx); err != nil {
		return err
	}
	if err := k.MatureUnbonding(sdkCtx); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := k.PruneTasks(sdkCtx, params); err != nil {
		return err
	}
	// The per-block counts of automatic tasks never outlive their block.
	if err := k.HookTasksThisBlock.Remove(sdkCtx); err != nil {
		return err
	}
	return k.AutoTasksThisBlock.Clear(sdkCtx, nil)
}
