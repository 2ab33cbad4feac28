package keeper

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// forgetCronClock drops the cron clock of a service whose manifest no
// longer has cron triggers: the clock is kept only for those that have.
func (k Keeper) forgetCronClock(ctx context.Context, svc types.Service) error {
	if svc.Manifest.HasCronTriggers() {
		return nil
	}
	return k.CronEvaluatedAt.Remove(ctx, svc.Id)
}

func (k Keeper) scheduledServices(ctx context.Context) ([]types.Service, error) {
	var out []types.Service
	err := k.Services.Indexes.Scheduled.Keys.Walk(ctx, nil, func(id uint64) (bool, error) {
		svc, err := k.Services.Get(ctx, id)
		if err != nil {
			return true, err
		}
		out = append(out, svc)
		return false, nil
	})
	return out, err
}

// useAutoTask counts one more automatic task of a service in this block, or
// refuses it with ErrAutoTaskLimit: max_auto_tasks_per_block counts every
// kind of trigger together. Callers count in the store the task was created
// in, so that a refusal discards the task.
func (k Keeper) useAutoTask(ctx context.Context, serviceID uint64, max uint32) error {
	n, err := k.AutoTasksThisBlock.Get(ctx, serviceID)
	if err != nil && !isNotFound(err) {
		return err
	}
	if n >= uint64(max) {
		return errorsmod.Wrapf(types.ErrAutoTaskLimit, "service %d opened %d automatic tasks in this block (max_auto_tasks_per_block)", serviceID, n)
	}
	return k.AutoTasksThisBlock.Set(ctx, serviceID, n+1)
}

// fireTrigger opens a treasury-paid task for a trigger in its own cached
// store. A task that cannot be created (paused service, empty treasury, the
// per-block cap) is skipped with EventTaskSkipped: block hooks never fail for it.
func (k Keeper) fireTrigger(ctx context.Context, svc types.Service, max uint32, input any, ref string) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	bz, err := json.Marshal(input)
	if err != nil {
		return err
	}
	cacheCtx, write := sdkCtx.CacheContext()
	_, created, err := k.CreateTaskFromTreasury(cacheCtx, svc.Id, bz, types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: ref})
	if err == nil && created {
		err = k.useAutoTask(cacheCtx, svc.Id, max)
	}
	if err != nil {
		return emit(ctx, &types.EventTaskSkipped{ServiceId: svc.Id, Reason: fmt.Sprintf("%s: %s", ref, err)})
	}
	write() // events included: EventTaskCreated or EventTaskSkipped (treasury)
	return nil
}

// runCronTriggers fires the cron triggers that came due since the previous block
// (at most once per trigger per block, however many ticks were missed).
func (k Keeper) runCronTriggers(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	svcs, err := k.scheduledServices(ctx)
	if err != nil {
		return err
	}
	now := sdkCtx.BlockTime()
	for _, svc := range svcs {
		if !svc.Manifest.HasCronTriggers() {
			continue // interval triggers only: no clock to keep
		}
		lastNs, err := k.CronEvaluatedAt.Get(ctx, svc.Id)
		if err != nil && !isNotFound(err) {
			return err
		}
		first := isNotFound(err)
		if err := k.CronEvaluatedAt.Set(ctx, svc.Id, now.UnixNano()); err != nil {
			return err
		}
		if first {
			continue // evaluation starts with the first block the trigger is seen in
		}
		last := time.Unix(0, lastNs).UTC()
		for i, t := range svc.Manifest.Triggers {
			c, ok := t.Kind.(*types.Trigger_Cron)
			if !ok || !types.CronDue(c.Cron.Schedule, last, now) {
				continue
			}
			input := map[string]string{"trigger": "cron", "schedule": c.Cron.Schedule, "time": now.Format(time.RFC3339)}
			if err := k.fireTrigger(ctx, svc, params.MaxAutoTasksPerBlock, input, fmt.Sprintf("cron/%d", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// runIntervalTriggers fires the block-interval triggers due at this height.
func (k Keeper) runIntervalTriggers(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	svcs, err := k.scheduledServices(ctx)
	if err != nil {
		return err
	}
	h := sdkCtx.BlockHeight()
	for _, svc := range svcs {
		for i, t := range svc.Manifest.Triggers {
			b, ok := t.Kind.(*types.Trigger_BlockInterval)
			if !ok || !b.BlockInterval.IntervalDue(h) {
				continue
			}
			input := map[string]any{"trigger": "block_interval", "height": h}
			if err := k.fireTrigger(ctx, svc, params.MaxAutoTasksPerBlock, input, fmt.Sprintf("block_interval/%d", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// eventTask returns the task of an event-trigger vote, opening it (paid by the
// treasury) on the event's first vote. The chain cannot see past events: a task
// opened for an event the other operators do not confirm gets no quorum and
// expires.
func (k Keeper) eventTask(ctx context.Context, ref types.EventRef) (uint64, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	svc, err := k.getService(ctx, ref.ServiceId)
	if err != nil {
		return 0, err
	}
	hasEventTrigger := false
	for _, t := range svc.Manifest.Triggers {
		_, ok := t.Kind.(*types.Trigger_Event)
		hasEventTrigger = hasEventTrigger || ok
	}
	if !hasEventTrigger {
		return 0, errorsmod.Wrapf(types.ErrInvalidEventRef, "service %d has no event trigger", ref.ServiceId)
	}
	if ref.Height <= 0 || ref.Height >= sdkCtx.BlockHeight() {
		return 0, errorsmod.Wrapf(types.ErrInvalidEventRef, "event height %d is not a past block (now %d)", ref.Height, sdkCtx.BlockHeight())
	}
	key := ref.Key()
	if id, err := k.Tasks.Indexes.ByEvent.Refs.Get(ctx, key); err == nil {
		return id, nil
	} else if !isNotFound(err) {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	// ctx is the vote's own cached store: a refusal below discards the task.
	task, created, err := k.CreateTaskFromTreasury(ctx, ref.ServiceId, ref.Input, types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: types.EventRefPrefix + key})
	if err != nil {
		return 0, err
	}
	if !created {
		return 0, errorsmod.Wrapf(types.ErrTreasuryEmpty, "service %d", ref.ServiceId)
	}
	if err := k.useAutoTask(ctx, ref.ServiceId, params.MaxAutoTasksPerBlock); err != nil {
		return 0, err
	}
	return task.Id, nil // the task's ByEvent index entry came with it
}

// eventTaskKey returns the ByEvent key of a task an event trigger opened.
func eventTaskKey(t types.Task) (string, bool) {
	if t.Origin.Kind != types.ORIGIN_KIND_TRIGGER || !strings.HasPrefix(t.Origin.Ref, types.EventRefPrefix) {
		return "", false
	}
	return strings.TrimPrefix(t.Origin.Ref, types.EventRefPrefix), true
}
