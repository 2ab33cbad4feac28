package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BeginBlocker does nothing: triggers of both kinds fire in EndBlock, under
// one budget.
func (k Keeper) BeginBlocker(context.Context) error { return nil }

// EndBlocker fires the interval and cron triggers that are due (at most
// max_trigger_fires_per_block), pays the fees of the tasks decided in the
// block (PayDecided), settles the tasks whose deadline has come,
// releases matured unbonding entries, prunes the tasks past their retention,
// takes the next epoch's power snapshots in an epoch's last block
// (TakeNextSnapshots) and forgets the block's counts of automatic tasks and
// IBC requests. Each step works through an index within its per-block budget.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.FireDueTriggers(sdkCtx); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := k.PayDecided(sdkCtx, params); err != nil {
		return err
	}
	if err := k.ExpireTasks(sdkCtx); err != nil {
		return err
	}
	if err := k.MatureUnbonding(sdkCtx); err != nil {
		return err
	}
	if err := k.PruneTasks(sdkCtx, params); err != nil {
		return err
	}
	if err := k.TakeNextSnapshots(sdkCtx, params); err != nil {
		return err
	}
	// The per-block counts of automatic tasks and IBC requests never outlive
	// their block.
	if err := k.HookTasksThisBlock.Remove(sdkCtx); err != nil {
		return err
	}
	if err := k.IBCRequestsThisBlock.Clear(sdkCtx, nil); err != nil {
		return err
	}
	if err := k.EventTasksThisBlock.Clear(sdkCtx, nil); err != nil {
		return err
	}
	if err := k.EventOpenersThisBlock.Clear(sdkCtx, nil); err != nil {
		return err
	}
	return k.AutoTasksThisBlock.Clear(sdkCtx, nil)
}
