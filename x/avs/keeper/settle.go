package keeper

import (
	"context"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// ExpireTasks settles the tasks whose deadline is at or below the current
// height, in deadline order, within the block's budgets: at most
// max_settlements_per_block tasks, and handler calls (a PENDING task expires,
// and its handler is told) within max_hook_gas_per_block. What is left stays
// in the deadline index and is settled first in the next block; a task past
// its deadline refuses votes whether or not it was settled yet. Settling a
// task expires it if PENDING (fee refunded, handler told) and counts it for
// its epoch's liveness, in constant work; the epochs whose tasks are all
// settled are then reviewed (ReviewLiveness). It walks indexes only.
func (k Keeper) ExpireTasks(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	rng := new(collections.Range[collections.Pair[int64, uint64]]).
		EndInclusive(collections.Join(sdkCtx.BlockHeight(), uint64(1<<64-1)))
	var due []collections.Pair[int64, uint64]
	if err := k.TasksByDeadline.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		due = append(due, key)
		return len(due) >= int(params.MaxSettlementsPerBlock), nil
	}); err != nil {
		return err
	}
	hookGas := params.MaxHookGasPerBlock
	for _, key := range due {
		task, err := k.Tasks.Get(ctx, key.K2())
		if err != nil {
			return err
		}
		calls := !task.Settled && task.Status == types.TASK_STATUS_PENDING && task.HandlerContract != "" && !task.HandlerUnpaid && k.wiring.contracts != nil
		if calls && hookGas < params.HandlerGasLimit {
			break // the handler call may not fit in this block's hook gas: next block
		}
		used, err := k.closeAtDeadline(ctx, params, task)
		if err != nil {
			return err
		}
		hookGas -= min(used, hookGas)
		if err := k.TasksByDeadline.Remove(ctx, key); err != nil {
			return err
		}
	}
	return k.ReviewLiveness(ctx, params)
}

// closeAtDeadline settles one task at (or after) its deadline and returns the
// gas its handler call used.
func (k Keeper) closeAtDeadline(ctx context.Context, params types.Params, task types.Task) (uint64, error) {
	if task.Settled {
		return 0, nil
	}
	// a decided task whose fee is still queued (a backlog of payouts over
	// their per-block budget) is paid before it is settled and may be pruned
	if err := k.payDecided(ctx, task); err != nil {
		return 0, err
	}
	if task.Status == types.TASK_STATUS_PENDING {
		if err := k.expire(ctx, &task); err != nil {
			return 0, err
		}
	}
	// An event-trigger task that expired was never confirmed: the event may
	// not exist, and not voting on it is what an honest operator does. It
	// counts for no one's liveness (else one operator could jail its peers
	// with references to events that never happened).
	unconfirmed := task.Status == types.TASK_STATUS_EXPIRED && task.Origin.IsEventOrigin()
	if err := k.settleEpochTask(ctx, task, !unconfirmed); err != nil {
		return 0, err
	}
	task.Settled = true
	deposit := task.HandlerDeposit
	task.HandlerDeposit = sdk.NewCoin(deposit.Denom, sdkmath.ZeroInt())
	if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
		return 0, err
	}
	if err := k.schedulePrune(ctx, params, task); err != nil {
		return 0, err
	}
	if task.Status != types.TASK_STATUS_EXPIRED {
		return 0, k.toTreasury(ctx, task.ServiceId, deposit) // completed: its handler was called (and paid) in the completing tx
	}
	if err := emit(ctx, &types.EventTaskExpired{TaskId: task.Id, ServiceId: task.ServiceId, PowerTotal: task.PowerTotal, Refund: task.Fee}); err != nil {
		return 0, err
	}
	svc, err := k.getService(ctx, task.ServiceId)
	if err != nil {
		return 0, err
	}
	// Nobody's transaction pays for a block hook: the handler call is paid
	// from the task's deposit, and what it dispatches is capped per block.
	if task.HandlerUnpaid {
		if err := emit(ctx, &types.EventHandlerFailed{TaskId: task.Id, Contract: task.HandlerContract,
			Error: "not called: the service treasury could not pay the handler deposit when the task was created (fund the treasury)"}); err != nil {
			return 0, err
		}
		task.HandlerContract = "" // IBC requesters and result channels are still told
	}
	hookCtx := sdk.UnwrapSDKContext(ctx).WithValue(hookCallKey{}, true)
	used, err := k.notifyHandler(hookCtx, svc, task)
	if err != nil {
		return used, err
	}
	return used, k.settleDeposit(ctx, params, task, deposit, used)
}
