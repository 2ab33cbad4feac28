package keeper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// The trigger schedule. Each interval or cron trigger of an active service
// whose treasury can pay its fee_per_task sits in TriggersByHeight or
// TriggersByTime at its next due point, with that point in TriggerDue.
// EndBlock pops what is due in key order (due point, service, trigger), up to
// max_trigger_fires_per_block for both kinds together, fires it and puts the
// trigger back at its next due point after this block. What the budget leaves
// stays in the index and fires in the next blocks, in order: each due point
// fires once at most, late rather than never. A trigger leaves the schedule
// when its service cannot pay (MsgFundService puts it back), while its
// service is paused, and when its schedule ends.

// triggerKey is a trigger's key in TriggerDue: (service, index in manifest).
type triggerKey = collections.Pair[uint64, uint32]

// dueKey is a trigger's key in TriggersByHeight or TriggersByTime.
type dueKey = collections.Triple[int64, uint64, uint32]

// nextDue returns the first due point of a scheduled trigger at or after a
// block: for an interval trigger the first height ≥ height (this block's
// EndBlock has not run), for a cron trigger the first tick after the block
// time, in unix ns. ok is false for an event trigger and for a schedule
// that has ended.
func nextDue(t types.Trigger, height int64, now time.Time) (due int64, byHeight, ok bool) {
	switch k := t.Kind.(type) {
	case *types.Trigger_BlockInterval:
		h, ok := k.BlockInterval.NextHeight(height)
		return h, true, ok
	case *types.Trigger_Cron:
		ns, ok := types.CronNext(k.Cron.Schedule, now)
		return ns, false, ok
	}
	return 0, false, false
}

// canPayTriggers reports whether a service's triggers belong in the schedule:
// it is active and its treasury holds at least one fee_per_task (a free
// service's triggers never do: they would be work nobody pays for).
func (k Keeper) canPayTriggers(ctx context.Context, svc types.Service) (bool, error) {
	why, err := k.whyNotScheduled(ctx, svc)
	return why == "", err
}

// whyNotScheduled says why a service's triggers stay out of the schedule,
// or returns "" when they belong in it.
func (k Keeper) whyNotScheduled(ctx context.Context, svc types.Service) (string, error) {
	fee := svc.Manifest.FeePerTask
	switch {
	case svc.Status != types.SERVICE_STATUS_ACTIVE:
		return fmt.Sprintf("service %d is %s: its triggers wait outside the schedule until it resumes", svc.Id, svc.Status), nil
	case types.IsFree(fee):
		return fmt.Sprintf("service %d asks no fee_per_task: triggers open only paid tasks", svc.Id), nil
	}
	t, err := k.treasury(ctx, svc.Id)
	if err != nil || t.GTE(fee.Amount) {
		return "", err
	}
	return fmt.Sprintf("treasury %s%s cannot pay fee_per_task %s: the trigger leaves the schedule until MsgFundService refills it",
		t, fee.Denom, fee), nil
}

// scheduleTriggers puts every scheduled trigger of svc that is not in the
// schedule at its next due point, if the service can pay for them. A trigger
// already there keeps its place.
func (k Keeper) scheduleTriggers(ctx context.Context, svc types.Service) error {
	if !svc.Manifest.HasScheduledTriggers() {
		return nil
	}
	if ok, err := k.canPayTriggers(ctx, svc); err != nil || !ok {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for i, t := range svc.Manifest.Triggers {
		key := collections.Join(svc.Id, uint32(i))
		if has, err := k.TriggerDue.Has(ctx, key); err != nil {
			return err
		} else if has {
			continue
		}
		due, byHeight, ok := nextDue(t, sdkCtx.BlockHeight(), sdkCtx.BlockTime())
		if !ok {
			continue
		}
		if err := k.setDue(ctx, key, due, byHeight); err != nil {
			return err
		}
	}
	return nil
}

// unscheduleTriggers takes every trigger of a service out of the schedule.
func (k Keeper) unscheduleTriggers(ctx context.Context, serviceID uint64) error {
	var keys []collections.KeyValue[triggerKey, int64]
	rng := collections.NewPrefixedPairRange[uint64, uint32](serviceID)
	if err := k.TriggerDue.Walk(ctx, rng, func(key triggerKey, due int64) (bool, error) {
		keys = append(keys, collections.KeyValue[triggerKey, int64]{Key: key, Value: due})
		return false, nil
	}); err != nil {
		return err
	}
	for _, kv := range keys {
		if err := k.TriggerDue.Remove(ctx, kv.Key); err != nil {
			return err
		}
		// The manifest may have changed since: the entry is in one of the two.
		due := collections.Join3(kv.Value, kv.Key.K1(), kv.Key.K2())
		if err := k.TriggersByHeight.Remove(ctx, due); err != nil {
			return err
		}
		if err := k.TriggersByTime.Remove(ctx, due); err != nil {
			return err
		}
	}
	return nil
}

// rescheduleTriggers recomputes a service's place in the schedule after its
// manifest changed.
func (k Keeper) rescheduleTriggers(ctx context.Context, svc types.Service) error {
	if err := k.unscheduleTriggers(ctx, svc.Id); err != nil {
		return err
	}
	return k.scheduleTriggers(ctx, svc)
}

func (k Keeper) setDue(ctx context.Context, key triggerKey, due int64, byHeight bool) error {
	if err := k.TriggerDue.Set(ctx, key, due); err != nil {
		return err
	}
	if byHeight {
		return k.TriggersByHeight.Set(ctx, collections.Join3(due, key.K1(), key.K2()))
	}
	return k.TriggersByTime.Set(ctx, collections.Join3(due, key.K1(), key.K2()))
}

// dueTriggers reads up to limit entries of one schedule that are due at
// until (inclusive), in key order.
func dueTriggers(ctx context.Context, set collections.KeySet[dueKey], until int64, limit int) ([]dueKey, error) {
	var out []dueKey
	if limit <= 0 {
		return nil, nil
	}
	err := set.Walk(ctx, collections.NewPrefixUntilTripleRange[int64, uint64, uint32](until), func(key dueKey) (bool, error) {
		out = append(out, key)
		return len(out) >= limit, nil
	})
	return out, err
}

// dueTrigger is one due entry of either schedule.
type dueTrigger struct {
	key      dueKey
	byHeight bool
}

// FireDueTriggers fires the interval and cron triggers due at this block,
// at most max_trigger_fires_per_block of them, taking one of each kind in
// turn so neither starves the other; an unused share goes to the other kind.
// It reads at most twice the budget of index keys, whatever the number of
// triggered services.
func (k Keeper) FireDueTriggers(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	budget := int(params.MaxTriggerFiresPerBlock)
	heights, err := dueTriggers(ctx, k.TriggersByHeight, sdkCtx.BlockHeight(), budget)
	if err != nil {
		return err
	}
	times, err := dueTriggers(ctx, k.TriggersByTime, sdkCtx.BlockTime().UnixNano(), budget)
	if err != nil {
		return err
	}
	var due []dueTrigger
	for i := 0; len(due) < budget && (i < len(heights) || i < len(times)); i++ {
		if i < len(heights) {
			due = append(due, dueTrigger{heights[i], true})
		}
		if i < len(times) && len(due) < budget {
			due = append(due, dueTrigger{times[i], false})
		}
	}
	services := make(map[uint64]*types.Service)
	for _, d := range due {
		svc, ok := services[d.key.K2()]
		if !ok {
			s, err := k.Services.Get(ctx, d.key.K2())
			switch {
			case err == nil:
				svc = &s
			case !isNotFound(err):
				return err
			}
			services[d.key.K2()] = svc
		}
		if err := k.fireDue(ctx, params, svc, d); err != nil {
			return err
		}
	}
	return nil
}

// fireDue takes one due trigger out of the schedule, opens its task if the
// service can pay and the per-service cap allows, and puts it back at its
// next due point unless the service cannot pay. It never fails the block for
// the task: what is refused is an EventTaskSkipped.
func (k Keeper) fireDue(ctx context.Context, params types.Params, svc *types.Service, d dueTrigger) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	serviceID, index, at := d.key.K2(), d.key.K3(), d.key.K1()
	set := k.TriggersByTime
	if d.byHeight {
		set = k.TriggersByHeight
	}
	if err := set.Remove(ctx, d.key); err != nil {
		return err
	}
	key := collections.Join(serviceID, index)
	if err := k.TriggerDue.Remove(ctx, key); err != nil {
		return err
	}
	if svc == nil || int(index) >= len(svc.Manifest.Triggers) {
		return nil // a stale entry: the service or its trigger is gone
	}
	t := svc.Manifest.Triggers[index]
	var ref string
	var input any
	switch k := t.Kind.(type) {
	case *types.Trigger_BlockInterval:
		ref, input = fmt.Sprintf("block_interval/%d", index), map[string]any{"trigger": "block_interval", "height": at}
	case *types.Trigger_Cron:
		ref = fmt.Sprintf("cron/%d", index)
		input = map[string]string{"trigger": "cron", "schedule": k.Cron.Schedule, "time": time.Unix(0, at).UTC().Format(time.RFC3339)}
	default:
		return nil
	}
	skip := func(reason string) error {
		return emit(ctx, &types.EventTaskSkipped{ServiceId: serviceID, Reason: fmt.Sprintf("%s: %s", ref, reason)})
	}
	if why, err := k.whyNotScheduled(ctx, *svc); err != nil {
		return err
	} else if why != "" {
		return skip(why) // out of the schedule until MsgFundService (or a resume) puts it back
	}
	// Put the trigger back at its next due point after this block first: a
	// refusal below skips this due point, not the trigger.
	next, byHeight, ok := nextDue(t, sdkCtx.BlockHeight()+1, sdkCtx.BlockTime())
	if ok {
		if err := k.setDue(ctx, key, next, byHeight); err != nil {
			return err
		}
	}
	// The per-service cap is checked before the task exists: a refused
	// trigger costs no task creation.
	if err := k.autoTaskRoom(ctx, serviceID, params.MaxAutoTasksPerBlock); errors.Is(err, types.ErrAutoTaskLimit) {
		return skip(err.Error())
	} else if err != nil {
		return err
	}
	bz, err := json.Marshal(input)
	if err != nil {
		return err
	}
	cacheCtx, write := sdkCtx.CacheContext()
	_, created, err := k.CreateTaskFromTreasury(cacheCtx, serviceID, bz, types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: ref})
	if err == nil && created {
		err = k.useAutoTask(cacheCtx, serviceID, params.MaxAutoTasksPerBlock)
	}
	if err != nil {
		return skip(err.Error())
	}
	write() // events included: EventTaskCreated, or EventTaskSkipped (treasury)
	return nil
}

// useAutoTask counts one more automatic task of a service in this block, or
// refuses it with ErrAutoTaskLimit: max_auto_tasks_per_block counts the
// interval, cron, handler and IBC-request tasks together (event tasks have
// their own count: eventTask).
// Callers count in the store the task was created in, so that a refusal
// discards the task.
func (k Keeper) useAutoTask(ctx context.Context, serviceID uint64, max uint32) error {
	n, err := k.autoTasks(ctx, serviceID, max)
	if err != nil {
		return err
	}
	return k.AutoTasksThisBlock.Set(ctx, serviceID, n+1)
}

// autoTaskRoom returns ErrAutoTaskLimit when a service has opened
// max_auto_tasks_per_block automatic tasks in this block: callers ask before
// they create a task, so a refusal costs no task creation.
func (k Keeper) autoTaskRoom(ctx context.Context, serviceID uint64, max uint32) error {
	_, err := k.autoTasks(ctx, serviceID, max)
	return err
}

// autoTasks returns the automatic tasks a service opened in this block, or
// ErrAutoTaskLimit when there is no room for one more.
func (k Keeper) autoTasks(ctx context.Context, serviceID uint64, max uint32) (uint64, error) {
	n, err := k.AutoTasksThisBlock.Get(ctx, serviceID)
	if err != nil && !isNotFound(err) {
		return 0, err
	}
	if n >= uint64(max) {
		return n, errorsmod.Wrapf(types.ErrAutoTaskLimit, "service %d opened %d automatic tasks in this block (max_auto_tasks_per_block)", serviceID, n)
	}
	return n, nil
}

// eventTask returns the task of an event-trigger vote, opening it (paid by the
// treasury) on the event's first vote. The chain cannot see past events: a task
// opened for an event no second operator confirms (a vote with the same
// input) expires after event_confirm_blocks, and its fee goes back to the
// treasury. Opening is capped apart from the other automatic tasks, so that
// event votes cannot starve interval and cron triggers: per service,
// max_auto_tasks_per_block event tasks per block, and per operator one event
// task per service per block (security review M-3).
func (k Keeper) eventTask(ctx context.Context, operator string, ref types.EventRef) (uint64, error) {
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
	// Both caps are checked before the task exists: a refusal costs no
	// task creation. ctx is the vote's own cached store: a refusal below
	// discards the task.
	opener := collections.Join(ref.ServiceId, operator)
	if opened, err := k.EventOpenersThisBlock.Has(ctx, opener); err != nil {
		return 0, err
	} else if opened {
		return 0, errorsmod.Wrapf(types.ErrEventOpenLimit, "%s already opened an event task of service %d in this block", operator, ref.ServiceId)
	}
	n, err := k.EventTasksThisBlock.Get(ctx, ref.ServiceId)
	if err != nil && !isNotFound(err) {
		return 0, err
	}
	if n >= uint64(params.MaxAutoTasksPerBlock) {
		return 0, errorsmod.Wrapf(types.ErrAutoTaskLimit, "service %d opened %d event tasks in this block (max_auto_tasks_per_block)", ref.ServiceId, n)
	}
	origin := types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: types.EventRefPrefix + key}
	task, created, err := k.createTreasuryTask(ctx, params, ref.ServiceId, ref.Input, origin, params.EventConfirmBlocks)
	if err != nil {
		return 0, err
	}
	if !created {
		return 0, errorsmod.Wrapf(types.ErrTreasuryEmpty, "service %d: its owner funds it with `avsd tx avs fund-service %d AMOUNT`", ref.ServiceId, ref.ServiceId)
	}
	if err := k.EventTasksThisBlock.Set(ctx, ref.ServiceId, n+1); err != nil {
		return 0, err
	}
	if err := k.EventOpenersThisBlock.Set(ctx, opener); err != nil {
		return 0, err
	}
	return task.Id, nil // the task's ByEvent index entry came with it
}

// confirmEventTask gives an event task its normal deadline once a second
// operator voted with the same input digest as v: until then the task
// waits event_confirm_blocks at most. It reads the task's votes only while
// the task is unconfirmed.
func (k Keeper) confirmEventTask(ctx context.Context, params types.Params, svc types.Service, task *types.Task, v types.Vote) error {
	if !task.Origin.IsEventOrigin() || task.Status != types.TASK_STATUS_PENDING || !unconfirmed(params, svc, *task) {
		return nil
	}
	peers, err := k.votesWhere(ctx, task.Id, func(o types.Vote) bool {
		return !o.Late && o.Operator != v.Operator && o.InputDigest == v.InputDigest
	})
	if err != nil || len(peers) == 0 {
		return err
	}
	if err := k.extendEventDeadline(ctx, params, svc, task); err != nil {
		return err
	}
	return k.Tasks.Set(ctx, task.Id, *task)
}

// unconfirmed reports whether an event task still has its confirmation
// deadline, short of the service's timeout.
func unconfirmed(params types.Params, svc types.Service, task types.Task) bool {
	return task.DeadlineHeight < task.CreatedHeight+int64(svc.Manifest.TimeoutOr(params.DefaultTaskTimeout))
}

// extendEventDeadline moves an event task still at its confirmation deadline
// to the service's timeout (the caller stores the task): a confirmed or
// completed event task leaves its peers the usual time to vote, late or not.
func (k Keeper) extendEventDeadline(ctx context.Context, params types.Params, svc types.Service, task *types.Task) error {
	if !task.Origin.IsEventOrigin() || !unconfirmed(params, svc, *task) {
		return nil
	}
	full := task.CreatedHeight + int64(svc.Manifest.TimeoutOr(params.DefaultTaskTimeout))
	if err := k.TasksByDeadline.Remove(ctx, collections.Join(task.DeadlineHeight, task.Id)); err != nil {
		return err
	}
	task.DeadlineHeight = full
	return k.TasksByDeadline.Set(ctx, collections.Join(full, task.Id))
}

// completeEventTask gives an event task its normal deadline when it
// completes before a second vote confirmed it (one vote met the quorum).
func (k Keeper) completeEventTask(ctx context.Context, svc types.Service, task *types.Task) error {
	if !task.Origin.IsEventOrigin() {
		return nil
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	return k.extendEventDeadline(ctx, params, svc, task)
}

// eventTaskKey returns the ByEvent key of a task an event trigger opened.
func eventTaskKey(t types.Task) (string, bool) {
	if t.Origin.Kind != types.ORIGIN_KIND_TRIGGER || !strings.HasPrefix(t.Origin.Ref, types.EventRefPrefix) {
		return "", false
	}
	return strings.TrimPrefix(t.Origin.Ref, types.EventRefPrefix), true
}
