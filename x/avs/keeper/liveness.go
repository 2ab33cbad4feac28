package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Liveness is counted per (service, epoch), so that settling a task touches a
// constant number of keys whatever its snapshot's size (security review C-1):
//
//   - a new task adds one to its epoch's open count;
//   - an accepted vote adds one to the voter's answers in the task's epoch
//     (for an event-trigger task, when the task completes: an expired one
//     was never confirmed and counts for nobody);
//   - settling a task moves it from open to settled (if it counts), and when
//     the epoch's open count reaches zero queues a review of the epoch;
//   - a review, in EndBlock within max_settlements_per_block operators per
//     block, reads each snapshot operator's answers: its misses are the
//     epoch's settled tasks it did not answer, and what was not counted yet
//     goes into its liveness window (which may jail it).
//
// A review counts only what changed since the last one of the epoch, so an
// epoch reviewed twice (more tasks came after its open count reached zero)
// is never counted twice. A review of an epoch that has ended with nothing
// open is final: it deletes the epoch's records (and its power snapshot) as
// it counts them.

func epochKey(serviceID, epoch uint64) collections.Pair[uint64, uint64] {
	return collections.Join(serviceID, epoch)
}

func (k Keeper) epochTasks(ctx context.Context, serviceID, epoch uint64) (types.EpochTasks, error) {
	t, err := k.EpochTasks.Get(ctx, epochKey(serviceID, epoch))
	if isNotFound(err) {
		return types.EpochTasks{}, nil
	}
	return t, err
}

// openEpochTasks counts n new tasks as open in their epoch.
func (k Keeper) openEpochTasks(ctx context.Context, serviceID, epoch, n uint64) error {
	t, err := k.epochTasks(ctx, serviceID, epoch)
	if err != nil {
		return err
	}
	t.Open += n
	return k.EpochTasks.Set(ctx, epochKey(serviceID, epoch), t)
}

// countAnswer counts an operator's answer to a task of (service, epoch).
func (k Keeper) countAnswer(ctx context.Context, serviceID, epoch uint64, operator string) error {
	return k.addAnswers(ctx, serviceID, epoch, operator, 1)
}

// addAnswers counts n answers of an operator to tasks of (service, epoch).
func (k Keeper) addAnswers(ctx context.Context, serviceID, epoch uint64, operator string, n uint32) error {
	key := collections.Join3(serviceID, epoch, operator)
	a, err := k.EpochAnswers.Get(ctx, key)
	if err != nil && !isNotFound(err) {
		return err
	}
	a.Answered += uint64(n)
	return k.EpochAnswers.Set(ctx, key, a)
}

// settleEpochTask moves a settled task out of its epoch's open count, into
// the settled count if it counts for liveness, and queues a review of the
// epoch once nothing of it is open.
func (k Keeper) settleEpochTask(ctx context.Context, task types.Task, counts bool) error {
	t, err := k.epochTasks(ctx, task.ServiceId, task.Epoch)
	if err != nil {
		return err
	}
	if t.Open > 0 {
		t.Open--
	}
	if counts {
		t.Settled++
	}
	if err := k.EpochTasks.Set(ctx, epochKey(task.ServiceId, task.Epoch), t); err != nil {
		return err
	}
	if t.Open > 0 {
		return nil
	}
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	return k.LivenessReviews.Set(ctx, collections.Join3(h, task.ServiceId, task.Epoch), 0)
}

// finishEarlierEpoch queues the final review of the service's latest epoch
// before epoch whose tasks are all settled, when the service's first task of
// epoch opens: an epoch whose last task settled before it ended was reviewed
// while it could still get tasks, and its records would otherwise stay. One
// seek, at most one queue entry.
func (k Keeper) finishEarlierEpoch(ctx context.Context, serviceID, epoch uint64) error {
	rng := collections.NewPrefixedPairRange[uint64, uint64](serviceID).EndExclusive(epoch).Descending()
	it, err := k.EpochTasks.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	defer it.Close()
	if !it.Valid() {
		return nil
	}
	kv, err := it.KeyValue()
	if err != nil {
		return err
	}
	if kv.Value.Open > 0 {
		return nil // its last settlement queues the review
	}
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	return k.LivenessReviews.Set(ctx, collections.Join3(h, serviceID, kv.Key.K2()), 0)
}

// ReviewLiveness works through the queued epoch reviews in order, counting at
// most max_settlements_per_block operators; a review cut short goes on from
// where it stopped in the next block.
func (k Keeper) ReviewLiveness(ctx context.Context, params types.Params) error {
	budget := int(params.MaxSettlementsPerBlock)
	type review struct {
		key    collections.Triple[int64, uint64, uint64]
		cursor uint64
	}
	var queue []review
	if err := k.LivenessReviews.Walk(ctx, nil, func(key collections.Triple[int64, uint64, uint64], cursor uint64) (bool, error) {
		queue = append(queue, review{key, cursor})
		return len(queue) >= budget, nil // each review counts at least one operator
	}); err != nil {
		return err
	}
	for _, r := range queue {
		if budget == 0 {
			return nil
		}
		serviceID, epoch := r.key.K2(), r.key.K3()
		snap, err := k.Snapshots.Get(ctx, epochKey(serviceID, epoch))
		if isNotFound(err) {
			if err := k.LivenessReviews.Remove(ctx, r.key); err != nil {
				return err
			}
			continue
		} else if err != nil {
			return err
		}
		t, err := k.epochTasks(ctx, serviceID, epoch)
		if err != nil {
			return err
		}
		// An epoch that has ended with nothing open is final: no task of it
		// can be created or voted on any more, so its records go once counted.
		now, err := k.currentEpoch(ctx, params)
		if err != nil {
			return err
		}
		final := t.Open == 0 && now > epoch
		i := r.cursor
		for ; i < uint64(len(snap.Powers)) && budget > 0; i++ {
			budget--
			if err := k.reviewOperator(ctx, params, serviceID, epoch, t.Settled, snap.Powers[i].Operator, final); err != nil {
				return err
			}
		}
		if i < uint64(len(snap.Powers)) {
			return k.LivenessReviews.Set(ctx, r.key, i)
		}
		if err := k.LivenessReviews.Remove(ctx, r.key); err != nil {
			return err
		}
		if final {
			// ... and its power snapshot: no task of the epoch takes votes.
			if err := k.EpochTasks.Remove(ctx, epochKey(serviceID, epoch)); err != nil {
				return err
			}
			if err := k.Snapshots.Remove(ctx, epochKey(serviceID, epoch)); err != nil {
				return err
			}
		}
	}
	return nil
}

// reviewOperator counts into an operator's liveness window what it has not
// counted yet of a (service, epoch) with settled counting tasks.
func (k Keeper) reviewOperator(ctx context.Context, params types.Params, serviceID, epoch, settled uint64, operator string, final bool) error {
	key := collections.Join3(serviceID, epoch, operator)
	a, err := k.EpochAnswers.Get(ctx, key)
	if err != nil && !isNotFound(err) {
		return err
	}
	var missed uint64
	if settled > a.Answered {
		missed = settled - a.Answered
	}
	// An answer to a task still open lowers missed for now; it only ever
	// grows back once that task settles, so counting the growth is exact.
	tasks := settled - min(a.CountedTasks, settled)
	newMissed := missed - min(a.CountedMissed, missed)
	a.CountedTasks += tasks
	a.CountedMissed += newMissed
	switch {
	case final:
		if err := k.EpochAnswers.Remove(ctx, key); err != nil {
			return err
		}
	case tasks == 0 && newMissed == 0:
		return nil
	default:
		if err := k.EpochAnswers.Set(ctx, key, a); err != nil {
			return err
		}
	}
	if tasks == 0 && newMissed == 0 {
		return nil
	}
	if newMissed > 0 {
		if err := emit(ctx, &types.EventLivenessCounted{Operator: operator, ServiceId: serviceID, Epoch: epoch, Tasks: tasks, Missed: newMissed}); err != nil {
			return err
		}
	}
	return k.countLiveness(ctx, params, serviceID, operator, tasks, newMissed)
}

// operatorLiveness is an operator's liveness in a service (zero if none yet).
func (k Keeper) operatorLiveness(ctx context.Context, serviceID uint64, operator string) (types.OperatorLiveness, error) {
	l, err := k.Liveness.Get(ctx, collections.Join(serviceID, operator))
	if isNotFound(err) {
		return types.OperatorLiveness{}, nil
	}
	return l, err
}

// countLiveness adds tasks of a service, of which missed were missed, to an
// operator's liveness window in that service; missing jail_threshold tasks
// within liveness_window jails it there (and only there: security review
// H-2) until its cooldown. A miss is a task whose deadline passed with no
// vote of the operator at all: a failure vote is an answer.
func (k Keeper) countLiveness(ctx context.Context, params types.Params, serviceID uint64, operator string, tasks, missed uint64) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if has, err := k.Operators.Has(ctx, operator); err != nil || !has {
		return err
	}
	l, err := k.operatorLiveness(ctx, serviceID, operator)
	if err != nil {
		return err
	}
	l.WindowTasks += tasks
	l.Missed += missed
	l.WindowMissed += missed
	if !l.Jailed && l.WindowMissed >= params.JailThreshold {
		l.Jailed = true
		l.JailedUntil = sdkCtx.BlockTime().Add(params.JailCooldown)
		if err := emit(ctx, &types.EventOperatorJailed{Operator: operator, ServiceId: serviceID, Missed: l.WindowMissed, Window: l.WindowTasks, JailedUntil: l.JailedUntil}); err != nil {
			return err
		}
		l.WindowTasks, l.WindowMissed = 0, 0
	}
	if l.WindowTasks >= params.LivenessWindow {
		l.WindowTasks, l.WindowMissed = 0, 0
	}
	return k.Liveness.Set(ctx, collections.Join(serviceID, operator), l)
}

// initLiveness imports the liveness counters.
func (k Keeper) initLiveness(ctx context.Context, gs *types.GenesisState) error {
	for _, e := range gs.EpochTasks {
		if err := k.EpochTasks.Set(ctx, epochKey(e.ServiceId, e.Epoch), e.Tasks); err != nil {
			return err
		}
	}
	for _, e := range gs.EpochAnswers {
		if err := k.EpochAnswers.Set(ctx, collections.Join3(e.ServiceId, e.Epoch, e.Operator), e.Answers); err != nil {
			return err
		}
	}
	for _, r := range gs.LivenessReviews {
		if err := k.LivenessReviews.Set(ctx, collections.Join3(r.Height, r.ServiceId, r.Epoch), r.Cursor); err != nil {
			return err
		}
	}
	for _, e := range gs.OperatorLiveness {
		if err := k.Liveness.Set(ctx, collections.Join(e.ServiceId, e.Operator), e.Liveness); err != nil {
			return err
		}
	}
	return nil
}

// exportLiveness exports the liveness counters, in key order.
func (k Keeper) exportLiveness(ctx context.Context, gs *types.GenesisState) error {
	if err := k.EpochTasks.Walk(ctx, nil, func(key collections.Pair[uint64, uint64], t types.EpochTasks) (bool, error) {
		gs.EpochTasks = append(gs.EpochTasks, types.EpochTasksEntry{ServiceId: key.K1(), Epoch: key.K2(), Tasks: t})
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.EpochAnswers.Walk(ctx, nil, func(key collections.Triple[uint64, uint64, string], a types.EpochAnswers) (bool, error) {
		gs.EpochAnswers = append(gs.EpochAnswers, types.EpochAnswersEntry{ServiceId: key.K1(), Epoch: key.K2(), Operator: key.K3(), Answers: a})
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.LivenessReviews.Walk(ctx, nil, func(key collections.Triple[int64, uint64, uint64], cursor uint64) (bool, error) {
		gs.LivenessReviews = append(gs.LivenessReviews, types.LivenessReview{Height: key.K1(), ServiceId: key.K2(), Epoch: key.K3(), Cursor: cursor})
		return false, nil
	}); err != nil {
		return err
	}
	return k.Liveness.Walk(ctx, nil, func(key collections.Pair[uint64, string], l types.OperatorLiveness) (bool, error) {
		gs.OperatorLiveness = append(gs.OperatorLiveness, types.OperatorLivenessEntry{ServiceId: key.K1(), Operator: key.K2(), Liveness: l})
		return false, nil
	})
}
