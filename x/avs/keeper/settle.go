package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// ExpireTasks settles every task whose deadline is at or below the current
// height: a PENDING one expires (fee refunded, handler told), and for every
// task the operators of its snapshot are counted for liveness (missed or not),
// jailing those that missed too many. It walks the deadline index only, never
// all tasks.
func (k Keeper) ExpireTasks(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	rng := new(collections.Range[collections.Pair[int64, uint64]]).
		EndInclusive(collections.Join(sdkCtx.BlockHeight(), uint64(1<<64-1)))
	var due []collections.Pair[int64, uint64]
	if err := k.TasksByDeadline.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		due = append(due, key)
		return false, nil
	}); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := k.closeAtDeadline(ctx, params, key.K2()); err != nil {
			return err
		}
		if err := k.TasksByDeadline.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

func (k Keeper) closeAtDeadline(ctx context.Context, params types.Params, id uint64) error {
	task, err := k.Tasks.Get(ctx, id)
	if err != nil {
		return err
	}
	if task.Settled {
		return nil
	}
	if task.Status == types.TASK_STATUS_PENDING {
		if err := k.expire(ctx, &task); err != nil {
			return err
		}
	}
	snap, err := k.Snapshots.Get(ctx, collections.Join(task.ServiceId, task.Epoch))
	if err != nil {
		return err
	}
	// An event-trigger task that expired was never confirmed: the event may
	// not exist, and not voting on it is what an honest operator does. It
	// counts for no one's liveness (else one operator could jail its peers
	// with references to events that never happened).
	unconfirmed := task.Status == types.TASK_STATUS_EXPIRED && task.Origin.IsEventOrigin()
	var missed []string
	for _, p := range snap.Powers {
		if unconfirmed {
			break
		}
		voted, err := k.Votes.Has(ctx, collections.Join(task.Id, p.Operator))
		if err != nil {
			return err
		}
		if !voted {
			missed = append(missed, p.Operator)
		}
		if err := k.countLiveness(ctx, params, p.Operator, !voted); err != nil {
			return err
		}
	}
	task.Settled = true
	if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
		return err
	}
	if task.Status == types.TASK_STATUS_EXPIRED {
		if err := emit(ctx, &types.EventTaskExpired{TaskId: task.Id, ServiceId: task.ServiceId, PowerTotal: task.PowerTotal, Missed: missed, Refund: task.Fee}); err != nil {
			return err
		}
		svc, err := k.getService(ctx, task.ServiceId)
		if err != nil {
			return err
		}
		return k.notifyHandler(ctx, svc, task)
	}
	return nil
}

// countLiveness records one task of an operator's liveness window; missing
// jail_threshold tasks within liveness_window jails it until its cooldown.
func (k Keeper) countLiveness(ctx context.Context, params types.Params, operator string, missed bool) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	op, err := k.Operators.Get(ctx, operator)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	op.WindowTasks++
	if missed {
		op.Missed++
		op.WindowMissed++
	}
	if !op.Jailed && op.WindowMissed >= params.JailThreshold {
		op.Jailed = true
		op.JailedUntil = sdkCtx.BlockTime().Add(params.JailCooldown)
		if err := emit(ctx, &types.EventOperatorJailed{Operator: operator, Missed: op.WindowMissed, Window: op.WindowTasks, JailedUntil: op.JailedUntil}); err != nil {
			return err
		}
		op.WindowTasks, op.WindowMissed = 0, 0
	}
	if op.WindowTasks >= params.LivenessWindow {
		op.WindowTasks, op.WindowMissed = 0, 0
	}
	return k.Operators.Set(ctx, operator, op)
}
