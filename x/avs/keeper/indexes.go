package keeper

import (
	"context"
	"errors"
	"reflect"
	"sync"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"
	"cosmossdk.io/collections/indexes"
	storetypes "cosmossdk.io/core/store"

	"github.com/avschain/avschain/x/avs/types"
)

// The secondary indexes of x/avs's maps, kept by collections.IndexedMap on
// every Set and Remove (skip-mev/connect x/oracle/keeper/keeper.go). Each
// reuses the prefix of the KeySet it replaced, with the same key bytes:
// indexes.Multi stores Pair(reference, primary key), the shape those KeySets
// had. TestIndexKeyBytes pins them.

// TaskIndexes index every task.
type TaskIndexes struct {
	// ByService holds (service, task).
	ByService *indexes.Multi[uint64, uint64, types.Task]
	// ByServiceStatus holds ((service, status), task).
	ByServiceStatus *indexes.Multi[collections.Pair[uint64, int32], uint64, types.Task]
	// ByEvent holds "service/height/tx_hash/event_index" -> task for the
	// tasks event triggers opened.
	ByEvent EventIndex
}

// IndexesList implements collections.Indexes.
func (i TaskIndexes) IndexesList() []collections.Index[uint64, types.Task] {
	return []collections.Index[uint64, types.Task]{oneRead[uint64, types.Task]{
		stableMulti[uint64, uint64, types.Task]{i.ByService, taskService},
		stableMulti[collections.Pair[uint64, int32], uint64, types.Task]{i.ByServiceStatus, taskServiceStatus},
		i.ByEvent,
	}}
}

func taskService(_ uint64, t types.Task) (uint64, error) { return t.ServiceId, nil }

func taskServiceStatus(_ uint64, t types.Task) (collections.Pair[uint64, int32], error) {
	return collections.Join(t.ServiceId, int32(t.Status)), nil
}

func newTaskIndexes(sb *collections.SchemaBuilder) TaskIndexes {
	return TaskIndexes{
		ByService: indexes.NewMulti(sb, types.TasksByServiceKey, "tasks_by_service",
			collections.Uint64Key, collections.Uint64Key, taskService),
		ByServiceStatus: indexes.NewMulti(sb, types.TasksByServiceStatusKey, "tasks_by_service_status",
			collections.PairKeyCodec(collections.Uint64Key, collections.Int32Key), collections.Uint64Key, taskServiceStatus),
		ByEvent: EventIndex{Refs: collections.NewMap(sb, types.EventTasksKey, "event_tasks", collections.StringKey, collections.Uint64Value)},
	}
}

// UnbondingIndexes index every unbonding entry.
type UnbondingIndexes struct {
	// ByTime holds (completion time in unix ns, entry): what matures when.
	ByTime *indexes.Multi[int64, uint64, types.UnbondingEntry]
	// ByPool holds ((operator, service), entry): what a slash may cut.
	ByPool *indexes.Multi[collections.Pair[string, uint64], uint64, types.UnbondingEntry]
	// ByCommitter holds (committer, entry): what a committer is owed.
	ByCommitter *indexes.Multi[string, uint64, types.UnbondingEntry]
}

// IndexesList implements collections.Indexes.
func (i UnbondingIndexes) IndexesList() []collections.Index[uint64, types.UnbondingEntry] {
	return []collections.Index[uint64, types.UnbondingEntry]{oneRead[uint64, types.UnbondingEntry]{
		stableMulti[int64, uint64, types.UnbondingEntry]{i.ByTime, unbondingTime},
		stableMulti[collections.Pair[string, uint64], uint64, types.UnbondingEntry]{i.ByPool, unbondingPool},
		stableMulti[string, uint64, types.UnbondingEntry]{i.ByCommitter, unbondingCommitter},
	}}
}

func unbondingTime(_ uint64, e types.UnbondingEntry) (int64, error) {
	return e.CompletionTime.UnixNano(), nil
}

func unbondingPool(_ uint64, e types.UnbondingEntry) (collections.Pair[string, uint64], error) {
	return collections.Join(e.Operator, e.ServiceId), nil
}

func unbondingCommitter(_ uint64, e types.UnbondingEntry) (string, error) { return e.Committer, nil }

func newUnbondingIndexes(sb *collections.SchemaBuilder) UnbondingIndexes {
	return UnbondingIndexes{
		ByTime: indexes.NewMulti(sb, types.UnbondingByTimeKey, "unbonding_by_time",
			collections.Int64Key, collections.Uint64Key,
			unbondingTime),
		ByPool: indexes.NewMulti(sb, types.UnbondingByPoolKey, "unbonding_by_pool",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key), collections.Uint64Key,
			unbondingPool),
		ByCommitter: indexes.NewMulti(sb, types.UnbondingByCommitterKey, "unbonding_by_committer",
			collections.StringKey, collections.Uint64Key,
			unbondingCommitter),
	}
}

// CommitmentIndexes index every commitment, whose primary key is (operator,
// service, committer).
type CommitmentIndexes struct {
	// ByCommitter holds (committer, operator, service).
	ByCommitter CommitterIndex
	// ByService holds (service, (operator, service, committer)).
	ByService *indexes.Multi[uint64, collections.Triple[string, uint64, string], types.Commitment]
}

// IndexesList implements collections.Indexes.
func (i CommitmentIndexes) IndexesList() []collections.Index[collections.Triple[string, uint64, string], types.Commitment] {
	return []collections.Index[collections.Triple[string, uint64, string], types.Commitment]{
		i.ByCommitter,
		stableMulti[uint64, collections.Triple[string, uint64, string], types.Commitment]{i.ByService, commitmentService},
	}
}

func commitmentService(pk collections.Triple[string, uint64, string], _ types.Commitment) (uint64, error) {
	return pk.K2(), nil
}

func newCommitmentIndexes(sb *collections.SchemaBuilder) CommitmentIndexes {
	return CommitmentIndexes{
		ByCommitter: CommitterIndex{Keys: collections.NewKeySet(sb, types.CommitmentsByCommitter, "commitments_by_committer",
			collections.TripleKeyCodec(collections.StringKey, collections.StringKey, collections.Uint64Key))},
		ByService: indexes.NewMulti(sb, types.CommitmentsByServiceKey, "commitments_by_service",
			collections.Uint64Key, collections.TripleKeyCodec(collections.StringKey, collections.Uint64Key, collections.StringKey),
			commitmentService),
	}
}

// CommitterIndex holds (committer, operator, service) for the commitment
// keyed (operator, service, committer): the primary key rotated, as
// indexes.ReversePair does for a pair. indexes.Multi would store the whole
// primary key after the committer and so change the bytes this index has
// always had.
type CommitterIndex struct {
	Keys collections.KeySet[collections.Triple[string, string, uint64]]
}

func committerKey(pk collections.Triple[string, uint64, string]) collections.Triple[string, string, uint64] {
	return collections.Join3(pk.K3(), pk.K1(), pk.K2())
}

// Reference implements collections.Index: the entry depends on the primary
// key only, so there is no old entry to move.
func (i CommitterIndex) Reference(ctx context.Context, pk collections.Triple[string, uint64, string], _ types.Commitment, _ func() (types.Commitment, error)) error {
	return i.Keys.Set(ctx, committerKey(pk))
}

// Unreference implements collections.Index.
func (i CommitterIndex) Unreference(ctx context.Context, pk collections.Triple[string, uint64, string], _ func() (types.Commitment, error)) error {
	return i.Keys.Remove(ctx, committerKey(pk))
}

// EventIndex maps the event an event trigger opened a task for to the task.
// It is partial (other tasks have no event) and unique, which indexes.Unique
// cannot express: Unique needs a key for every task. The key comes from the
// task's origin, which never changes, so an entry is written once.
type EventIndex struct {
	Refs collections.Map[string, uint64]
}

// Reference implements collections.Index.
func (i EventIndex) Reference(ctx context.Context, id uint64, t types.Task, lazyOldValue func() (types.Task, error)) error {
	key, ok := eventTaskKey(t)
	if !ok {
		return nil
	}
	if _, err := lazyOldValue(); err == nil {
		return nil // written with the task
	} else if !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	return i.Refs.Set(ctx, key, id)
}

// Unreference implements collections.Index.
func (i EventIndex) Unreference(ctx context.Context, _ uint64, lazyOldValue func() (types.Task, error)) error {
	t, err := lazyOldValue()
	if err != nil {
		return err
	}
	if key, ok := eventTaskKey(t); ok {
		return i.Refs.Remove(ctx, key)
	}
	return nil
}

// OptInIndexes index the (service, operator) opt-ins.
type OptInIndexes struct {
	// ByOperator holds (operator, service).
	ByOperator *indexes.ReversePair[uint64, string, collections.NoValue]
}

// IndexesList implements collections.Indexes.
func (i OptInIndexes) IndexesList() []collections.Index[collections.Pair[uint64, string], collections.NoValue] {
	return []collections.Index[collections.Pair[uint64, string], collections.NoValue]{i.ByOperator}
}

func newOptInIndexes(sb *collections.SchemaBuilder) OptInIndexes {
	return OptInIndexes{
		ByOperator: indexes.NewReversePair[collections.NoValue](sb, types.OperatorServicesKey, "operator_services",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey)),
	}
}

// stableMulti is an indexes.Multi that leaves its entry alone when a Set
// does not change the entry's reference (a task's service, an unbonding
// entry's pool): Multi removes and rewrites it on every Set, which a task's
// several writes would pay for in gas. ref is the function the Multi was
// built with.
type stableMulti[R, P, V any] struct {
	multi *indexes.Multi[R, P, V]
	ref   func(P, V) (R, error)
}

// Reference implements collections.Index.
func (s stableMulti[R, P, V]) Reference(ctx context.Context, pk P, value V, lazyOldValue func() (V, error)) error {
	old, err := lazyOldValue()
	if err == nil {
		before, errBefore := s.ref(pk, old)
		after, errAfter := s.ref(pk, value)
		if errBefore == nil && errAfter == nil && reflect.DeepEqual(before, after) {
			return nil
		}
	}
	return s.multi.Reference(ctx, pk, value, func() (V, error) { return old, err })
}

// Unreference implements collections.Index.
func (s stableMulti[R, P, V]) Unreference(ctx context.Context, pk P, lazyOldValue func() (V, error)) error {
	return s.multi.Unreference(ctx, pk, lazyOldValue)
}

// oneRead is several indexes of one map as a single collections.Index that
// reads the old value once for all of them: IndexedMap reads it once per
// index.
type oneRead[PK, V any] []collections.Index[PK, V]

// Reference implements collections.Index.
func (o oneRead[PK, V]) Reference(ctx context.Context, pk PK, value V, lazyOldValue func() (V, error)) error {
	old := sync.OnceValues(lazyOldValue)
	for _, i := range o {
		if err := i.Reference(ctx, pk, value, old); err != nil {
			return err
		}
	}
	return nil
}

// Unreference implements collections.Index.
func (o oneRead[PK, V]) Unreference(ctx context.Context, pk PK, lazyOldValue func() (V, error)) error {
	old := sync.OnceValues(lazyOldValue)
	for _, i := range o {
		if err := i.Unreference(ctx, pk, old); err != nil {
			return err
		}
	}
	return nil
}

// indexView is a read-only view of an index's keys, for paging them with
// query.CollectionPaginate: indexes.Multi has no raw iterator. It shares the
// index's prefix and key codec and is registered in no schema; only the index
// writes these keys.
func indexView[K any](ss storetypes.KVStoreService, prefix collections.Prefix, kc collcodec.KeyCodec[K]) collections.KeySet[K] {
	return collections.NewKeySet(collections.NewSchemaBuilder(ss), prefix, "index_view", kc)
}
