package keeper

import (
	"context"
	"errors"
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Pruning (L-9). A settled task is kept task_retention_blocks after its
// deadline, then EndBlock deletes it with its votes and tallies. What is left
// of it is a tombstone (task -> height pruned at), kept another
// task_retention_blocks so that the Task query can say when the task went.
// Both steps go through a queue ordered by (height, task) and share
// max_prunes_per_block, counted in store entries deleted: a task, each of its
// votes and tallies, a tombstone. What does not fit waits for the next block,
// in order; a task whose votes do not all fit keeps its place at the head of
// the queue and goes on in the next block. After its tombstone expired, a task
// id below the task sequence is known to have been pruned, just no longer
// when.

// pruneHeight is h + blocks, saturating at the largest height.
func pruneHeight(h int64, blocks uint64) int64 {
	if h < 0 {
		h = 0
	}
	if blocks > uint64(math.MaxInt64-h) {
		return math.MaxInt64
	}
	return h + int64(blocks)
}

// schedulePrune queues a settled task for pruning at its deadline plus
// task_retention_blocks. The height is fixed now: a later change of the param
// moves the tasks settled after it only. Scheduling a task twice at the same
// height is one entry; a second entry at another height finds the task gone
// and is dropped.
func (k Keeper) schedulePrune(ctx context.Context, params types.Params, task types.Task) error {
	return k.PruneQueue.Set(ctx, collections.Join(pruneHeight(task.DeadlineHeight, params.TaskRetentionBlocks), task.Id))
}

// PruneTasks works through the prune queue and the tombstones' expiry queue
// together, oldest height first, deleting at most max_prunes_per_block store
// entries (a task, a vote, a tally, a tombstone) due at or below the current
// height: a task entry deletes the task's votes, tallies and then the task,
// and leaves a tombstone; a tombstone entry deletes the tombstone. An entry
// leaves its queue when its work is done, so nothing is done twice, and what
// the budget leaves waits for the next block.
func (k Keeper) PruneTasks(ctx context.Context, params types.Params) error {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	left := int(params.MaxPrunesPerBlock)
	tasks, err := dueKeys(ctx, k.PruneQueue, h, left)
	if err != nil {
		return err
	}
	tombstones, err := dueKeys(ctx, k.PrunedTasksByExpiry, h, left)
	if err != nil {
		return err
	}
	for left > 0 && len(tasks)+len(tombstones) > 0 {
		if len(tasks) == 0 || (len(tombstones) > 0 && before(tombstones[0], tasks[0])) {
			if err := k.expireTombstone(ctx, tombstones[0]); err != nil {
				return err
			}
			tombstones = tombstones[1:]
			left--
			continue
		}
		used, done, err := k.pruneTask(ctx, params, h, tasks[0], left)
		if err != nil {
			return err
		}
		if !done {
			return nil // the budget ran out within this task: it goes on next block
		}
		tasks = tasks[1:]
		left -= used
	}
	return nil
}

// dueKeys returns the first n keys of a (height, task) queue with a height at
// or below h, in order.
func dueKeys(ctx context.Context, q collections.KeySet[collections.Pair[int64, uint64]], h int64, n int) ([]collections.Pair[int64, uint64], error) {
	var due []collections.Pair[int64, uint64]
	if n <= 0 {
		return nil, nil
	}
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndInclusive(collections.Join(h, uint64(math.MaxUint64)))
	err := q.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		due = append(due, key)
		return len(due) == n, nil
	})
	return due, err
}

// before orders (height, task) keys.
func before(a, b collections.Pair[int64, uint64]) bool {
	return a.K1() < b.K1() || (a.K1() == b.K1() && a.K2() < b.K2())
}

// pruneTask works one prune queue entry at height h with left (at least 1)
// entries of budget, and returns how many it used and whether the entry is
// done. It deletes the task's votes, then its tallies, then the task, as far
// as the budget goes: a task not done keeps its entry and what is left of it.
//
// Deleted: the task (its service, status and event index entries with it),
// its votes, its tallies and its deadline index entry if still there. Kept:
//   - a task still owed an IBC acknowledgement (IBCPackets holds its packet)
//     is not pruned: the acknowledgement carries the task's outcome. Its entry
//     moves task_retention_blocks later (one entry of budget).
//   - the event reference of an event-trigger task stays (Refs: event -> the
//     pruned id): without it a vote could name the same past event again and
//     open a second task for it, paid by the treasury, as event heights have
//     no lower bound. A vote on it now finds no task (ErrTaskNotFound).
//   - RemoteResults are keyed by (channel, sequence) and hold other chains'
//     task ids, and snapshots are per (service, epoch): neither belongs to
//     one task of this chain.
func (k Keeper) pruneTask(ctx context.Context, params types.Params, h int64, key collections.Pair[int64, uint64], left int) (int, bool, error) {
	id := key.K2()
	task, err := k.Tasks.Get(ctx, id)
	if isNotFound(err) {
		return 1, true, k.PruneQueue.Remove(ctx, key) // already pruned through another entry
	} else if err != nil {
		return 0, false, err
	}
	if owed, err := k.IBCPackets.Has(ctx, id); err != nil {
		return 0, false, err
	} else if owed {
		if err := k.PruneQueue.Remove(ctx, key); err != nil {
			return 0, false, err
		}
		return 1, true, k.PruneQueue.Set(ctx, collections.Join(pruneHeight(h, params.TaskRetentionBlocks), id))
	}
	votes, more, err := clearPrefix(ctx, k.Votes, id, left)
	if err != nil || more {
		return votes, false, err
	}
	tallies, more, err := clearPrefix(ctx, k.Tallies, id, left-votes)
	used := votes + tallies
	if err != nil || more {
		return used, false, err
	}
	commits, more, err := clearPrefix(ctx, k.VoteCommits, id, left-used) // never revealed
	used += commits
	if err != nil || more || used == left {
		return used, false, err // the task itself waits for the next block
	}
	if err := k.TasksByDeadline.Remove(ctx, collections.Join(task.DeadlineHeight, id)); err != nil {
		return used, false, err
	}
	if err := k.Tasks.Remove(ctx, id); err != nil {
		return used, false, err
	}
	if event, ok := eventTaskKey(task); ok {
		if err := k.Tasks.Indexes.ByEvent.Refs.Set(ctx, event, id); err != nil {
			return used, false, err
		}
	}
	if err := k.PruneQueue.Remove(ctx, key); err != nil {
		return used, false, err
	}
	if err := k.PrunedTasks.Set(ctx, id, h); err != nil {
		return used, false, err
	}
	if err := k.PrunedTasksByExpiry.Set(ctx, collections.Join(pruneHeight(h, params.TaskRetentionBlocks), id)); err != nil {
		return used, false, err
	}
	return used + 1, true, emit(ctx, &types.EventTaskPruned{TaskId: id, Height: h})
}

// clearPrefix deletes up to max entries of a task's votes or tallies, and
// reports how many it deleted and whether more are left. It reads keys only.
func clearPrefix[V any](ctx context.Context, m collections.Map[collections.Pair[uint64, string], V], id uint64, max int) (int, bool, error) {
	iter, err := m.Iterate(ctx, collections.NewPrefixedPairRange[uint64, string](id))
	if err != nil {
		return 0, false, err
	}
	var batch []collections.Pair[uint64, string]
	for ; iter.Valid() && len(batch) <= max; iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return 0, false, errors.Join(err, iter.Close())
		}
		batch = append(batch, key)
	}
	if err := iter.Close(); err != nil {
		return 0, false, err
	}
	more := len(batch) > max
	if more {
		batch = batch[:max]
	}
	for _, key := range batch {
		if err := m.Remove(ctx, key); err != nil {
			return 0, false, err
		}
	}
	return len(batch), more, nil
}

// expireTombstone works one tombstone expiry entry.
func (k Keeper) expireTombstone(ctx context.Context, key collections.Pair[int64, uint64]) error {
	if err := k.PrunedTasksByExpiry.Remove(ctx, key); err != nil {
		return err
	}
	return k.PrunedTasks.Remove(ctx, key.K2())
}

// missingTask explains why there is no task id: pruned at a known height
// (ErrTaskPruned) while its tombstone lasts, pruned longer ago
// (ErrTaskPruned) if the id was issued, else never issued (ErrTaskNotFound).
func (k Keeper) missingTask(ctx context.Context, id uint64) error {
	h, err := k.PrunedTasks.Get(ctx, id)
	if err == nil {
		return errorsmod.Wrapf(types.ErrTaskPruned, "task %d was pruned at height %d", id, h)
	} else if !isNotFound(err) {
		return err
	}
	next, err := k.TaskSeq.Peek(ctx)
	if err != nil {
		return err
	}
	if id > 0 && id < next {
		return errorsmod.Wrapf(types.ErrTaskPruned, "task %d was pruned more than task_retention_blocks ago", id)
	}
	return errorsmod.Wrapf(types.ErrTaskNotFound, "task %d not found", id)
}

// missingTaskStatus is missingTask as the Task query's gRPC answer: NotFound,
// with the message saying whether and when the task was pruned.
func (k Keeper) missingTaskStatus(ctx context.Context, id uint64) error {
	err := k.missingTask(ctx, id)
	if errors.Is(err, types.ErrTaskPruned) || errors.Is(err, types.ErrTaskNotFound) {
		return status.Error(codes.NotFound, err.Error())
	}
	return grpcError(err)
}

// initPruning rebuilds the prune queue from the imported tasks (every settled
// one, at its deadline plus task_retention_blocks), imports the tombstones,
// each expiring task_retention_blocks after it was pruned, and the event
// references of pruned event-trigger tasks.
func (k Keeper) initPruning(ctx context.Context, gs *types.GenesisState) error {
	for _, t := range gs.Tasks {
		if !t.Settled || t.Status == types.TASK_STATUS_PENDING {
			continue
		}
		if err := k.schedulePrune(ctx, gs.Params, t); err != nil {
			return err
		}
	}
	for _, p := range gs.PrunedTasks {
		if err := k.PrunedTasks.Set(ctx, p.TaskId, p.Height); err != nil {
			return err
		}
		if err := k.PrunedTasksByExpiry.Set(ctx, collections.Join(pruneHeight(p.Height, gs.Params.TaskRetentionBlocks), p.TaskId)); err != nil {
			return err
		}
	}
	for _, r := range gs.PrunedEventRefs {
		if err := k.Tasks.Indexes.ByEvent.Refs.Set(ctx, r.Event, r.TaskId); err != nil {
			return err
		}
	}
	return nil
}

// exportPruning sets the genesis state's tombstones, in task order, and the
// event references of pruned tasks, in event order.
func (k Keeper) exportPruning(ctx context.Context, gs *types.GenesisState) error {
	if err := k.PrunedTasks.Walk(ctx, nil, func(id uint64, h int64) (bool, error) {
		gs.PrunedTasks = append(gs.PrunedTasks, types.PrunedTask{TaskId: id, Height: h})
		return false, nil
	}); err != nil {
		return err
	}
	return k.Tasks.Indexes.ByEvent.Refs.Walk(ctx, nil, func(event string, id uint64) (bool, error) {
		live, err := k.Tasks.Has(ctx, id)
		if err == nil && !live {
			gs.PrunedEventRefs = append(gs.PrunedEventRefs, types.PrunedEventRef{Event: event, TaskId: id})
		}
		return false, err
	})
}
