package keeper

import (
	"context"
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Payouts at the end of the block (issue #16). The vote that decides a task
// used to pay each backer's share in its own transaction: a bank send and
// the operator's and pool's reads and writes, ≈ 10k gas per backer, so the
// operator whose vote happened to complete the task paid several times what
// the others did. The deciding vote now only queues the task (UnpaidTasks),
// and EndBlock pays the queued tasks' fees, as x/distribution pays fees in a
// block hook: within max_settlements_per_block a block (what is left is paid
// first in the next block), and in any case before the task is settled at its
// deadline. The fee stays in escrow until then.

// PayDecided pays the fees of the decided tasks queued in UnpaidTasks, in
// task id order, at most max_settlements_per_block of them.
func (k Keeper) PayDecided(ctx context.Context, params types.Params) error {
	var due []uint64
	if err := k.UnpaidTasks.Walk(ctx, nil, func(id uint64) (bool, error) {
		due = append(due, id)
		return len(due) >= int(params.MaxSettlementsPerBlock), nil
	}); err != nil {
		return err
	}
	for _, id := range due {
		task, err := k.Tasks.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("unpaid task %d: %w", id, err)
		}
		if err := k.payDecided(ctx, task); err != nil {
			return err
		}
	}
	return nil
}

// payDecided pays a decided task's fee to its backers (backersOf) and takes
// it off the queue; a task not queued is left alone. A block hook must not
// fail on one task's payout (the chain would halt): if paying fails, nothing
// of it is written, the fee goes back to whoever paid it, as on expiry, and
// EventTaskSkipped says why.
func (k Keeper) payDecided(ctx context.Context, task types.Task) error {
	if has, err := k.UnpaidTasks.Has(ctx, task.Id); err != nil || !has {
		return err
	}
	if err := k.UnpaidTasks.Remove(ctx, task.Id); err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cacheCtx, write := sdkCtx.CacheContext()
	err := k.payBackersOf(cacheCtx, task)
	if err == nil {
		write() // and its events
		return nil
	}
	k.Logger(ctx).Error("paying a decided task's fee failed: refunded", "task", task.Id, "err", err)
	if err := k.payBack(ctx, task, task.Fee); err != nil {
		return fmt.Errorf("refunding task %d after its payout failed: %w", task.Id, err)
	}
	return emit(ctx, &types.EventTaskSkipped{ServiceId: task.ServiceId,
		Reason: fmt.Sprintf("the fee of task %d could not be paid to its backers and was refunded: %s", task.Id, err)})
}

func (k Keeper) payBackersOf(ctx context.Context, task types.Task) error {
	svc, err := k.serviceAsOfTask(ctx, task)
	if err != nil {
		return err
	}
	votes, err := k.votesWhere(ctx, task.Id, func(v types.Vote) bool { return !v.Late })
	if err != nil {
		return err
	}
	backers := backersOf(svc, task, votes)
	if len(backers) == 0 {
		// decide queued it with its backers: a fee with nobody to pay would
		// stay in the module account for good
		return fmt.Errorf("no vote of task %d backs its decision", task.Id)
	}
	return k.payBackers(ctx, task.ServiceId, task.Fee, backers)
}

// backersOf returns the votes that decided a task (votes: its votes that are
// not late), the ones its fee is paid to: on a FAILED task its failure votes,
// on a COMPLETED one the votes for its result (EXACT: the same digest;
// MEDIAN: within the allowed spread of the median, which is the result), in
// both cases among the votes that read the task's input (an event task, M-3).
// These are the votes submitVote and tallyMedian found behind the decision:
// votes cast after it are late.
func backersOf(svc types.Service, task types.Task, votes []types.Vote) []types.Vote {
	median := svc.Manifest.Aggregation.Mode == types.AGGREGATION_MODE_MEDIAN
	var m *sdkmath.LegacyDec
	if median && task.Status == types.TASK_STATUS_COMPLETED {
		v, err := types.ParseNumericResult(task.Result)
		if err != nil {
			return nil // a MEDIAN result is always numeric
		}
		m = &v
	}
	var out []types.Vote
	for _, v := range votes {
		if v.Late || !inputAgrees(task, v) || v.Failure.IsFailure() != (task.Status == types.TASK_STATUS_FAILED) {
			continue
		}
		switch {
		case task.Status == types.TASK_STATUS_FAILED:
		case median:
			x, err := types.ParseNumericResult(v.Result)
			if err != nil || !types.WithinSpread(x, *m, svc.Manifest.Aggregation.AllowedSpread) {
				continue
			}
		case v.Digest != task.ResultDigest:
			continue
		}
		out = append(out, v)
	}
	return out
}
