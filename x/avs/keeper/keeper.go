package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"
	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Keeper owns the x/avs state. All state lives in collections built once here.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService storetypes.KVStoreService
	addressCodec address.Codec
	bank         types.BankKeeper
	// wiring is shared by every copy of the keeper, so that the app may set
	// it after the keeper was copied into its modules.
	wiring *wiring
	// authority is the only address allowed to send MsgUpdateParams: the gov
	// module account unless the app says otherwise.
	authority string

	Schema collections.Schema
	Params collections.Item[types.Params]

	// Components: digest -> metadata; ComponentCode: digest -> the wasm as
	// uploaded, raw or gzip'd (never re-compressed by the chain).
	Components    collections.Map[string, types.Component]
	ComponentCode collections.Map[string, []byte]

	// Services: id -> service.
	Services   collections.Map[uint64, types.Service]
	ServiceSeq collections.Sequence
	// ServiceRevisions: (service, revision) -> the manifest of that revision,
	// the rules of the tasks created under it (H-3). Never pruned.
	ServiceRevisions collections.Map[collections.Pair[uint64, uint64], types.ServiceManifest]

	Operators collections.Map[string, types.Operator]
	// OptIns holds (service, operator); its ByOperator index, (operator, service).
	OptIns    *collections.IndexedMap[collections.Pair[uint64, string], collections.NoValue, OptInIndexes]
	Allowlist collections.KeySet[collections.Pair[uint64, string]]

	// Tasks: id -> task, indexed by service, by (service, status) and, for
	// the tasks event triggers opened, by event.
	Tasks   *collections.IndexedMap[uint64, types.Task, TaskIndexes]
	TaskSeq collections.Sequence
	// TasksByDeadline holds (deadline height, task) of tasks not yet settled:
	// at its deadline a task expires if still pending, and liveness is counted.
	// A KeySet its writers keep: a task leaves it when ExpireTasks reaches its
	// deadline, not when the task changes.
	TasksByDeadline collections.KeySet[collections.Pair[int64, uint64]]

	// Votes: (task, operator) -> vote; Tallies: (task, tallyKey) -> power and
	// count. Both compact (keys.go): the operator as raw address bytes, the
	// digest as raw bytes, and a stored vote without what its key says (read
	// votes through votesWhere or restoreVote).
	Votes   collections.Map[collections.Pair[uint64, string], types.Vote]
	Tallies collections.Map[collections.Pair[uint64, string], types.Tally]
	// VoteCommits: (task, operator) -> the commitment made on a
	// COMMIT_REVEAL task, until its reveal (issue #20).
	VoteCommits collections.Map[collections.Pair[uint64, string], types.VoteCommit]

	// UnpaidTasks holds the decided tasks whose fee is not yet paid to their
	// backers: EndBlock pays them (PayDecided), so that the deciding vote
	// does not pay for every backer's payout.
	UnpaidTasks collections.KeySet[uint64]

	// Snapshots: (service, epoch) -> the operator powers frozen for that epoch.
	Snapshots collections.Map[collections.Pair[uint64, uint64], types.PowerSnapshot]

	// CommitmentsByPool: (operator, service, committer) -> commitment,
	// indexed by committer and by service.
	CommitmentsByPool *collections.IndexedMap[collections.Triple[string, uint64, string], types.Commitment, CommitmentIndexes]
	// Pools: (operator, service) -> tokens, shares, reward index per share,
	// outstanding rewards.
	Pools collections.Map[collections.Pair[string, uint64], types.Pool]
	// PoolGenerationEnds: (operator, service, generation) -> the reward index
	// a pool generation ended at (see Pool.generation).
	PoolGenerationEnds collections.Map[collections.Triple[string, uint64, uint64], sdkmath.LegacyDec]
	// PendingJoins: (operator, service, epoch) -> the reward index the
	// shares committed to the pool in that epoch began to earn at (L-2).
	PendingJoins collections.Map[collections.Triple[string, uint64, uint64], types.PendingJoin]
	// Unbonding: id -> entry, indexed by completion time, by (operator,
	// service) and by committer.
	Unbonding    *collections.IndexedMap[uint64, types.UnbondingEntry, UnbondingIndexes]
	UnbondingSeq collections.Sequence
	// UnbondingPools: (operator, service, epoch the unbonding began) -> the
	// tokens and shares of the entries begun then: what a slash cuts.
	UnbondingPools collections.Map[collections.Triple[string, uint64, uint64], types.UnbondingPool]
	// OperatorRewards: operator -> what it earned and may withdraw
	// (MsgWithdrawRewards): its commission, or a whole share without earning
	// stake. Credited per task, paid on withdrawal.
	OperatorRewards collections.Map[string, sdkmath.Int]
	// Treasuries: service -> balance in the stake denom.
	Treasuries collections.Map[uint64, sdkmath.Int]

	// IBCPackets: task -> the packet that requested it, until acknowledged.
	IBCPackets collections.Map[uint64, channeltypes.Packet]
	// RemoteResults: (channel, sequence) -> a task this chain asked of another.
	RemoteResults collections.Map[collections.Pair[string, uint64], types.RemoteResult]
	// PushedResults: (channel, sequence) -> a result another chain pushed.
	// Apart from RemoteResults: both sides' sequences of one channel share
	// numbers (M-2).
	PushedResults collections.Map[collections.Pair[string, uint64], types.RemoteResult]
	// EpochBase anchors epoch numbers; moved when epoch_length changes.
	EpochBase collections.Item[types.EpochBase]

	// The trigger schedule (derived state, rebuilt by InitGenesis): every
	// interval and cron trigger of an active service whose treasury can pay
	// its fee, at its next due point. TriggerDue: (service, trigger) -> that
	// point; TriggersByHeight holds (next height, service, trigger) for the
	// interval triggers, TriggersByTime (next block time in unix ns, service,
	// trigger) for the cron ones. EndBlock pops what is due, in key order,
	// up to max_trigger_fires_per_block.
	TriggerDue       collections.Map[collections.Pair[uint64, uint32], int64]
	TriggersByHeight collections.KeySet[collections.Triple[int64, uint64, uint32]]
	TriggersByTime   collections.KeySet[collections.Triple[int64, uint64, uint32]]
	// IBCRequestsThisBlock: channel -> task requests received on it in the
	// current block; cleared at the end of every block.
	IBCRequestsThisBlock collections.Map[string, uint64]
	// AutoTasksThisBlock: service -> automatic (trigger) tasks opened in the
	// current block, all kinds together; cleared at the end of every block.
	AutoTasksThisBlock collections.Map[uint64, uint64]
	// HookTasksThisBlock: tasks opened in this block by handler contracts
	// called from block hooks, across all services. Removed at EndBlock.
	HookTasksThisBlock collections.Item[uint64]
	// EventTasksThisBlock: service -> event tasks opened in the current
	// block, capped by max_auto_tasks_per_block apart from the other
	// automatic tasks; EventOpenersThisBlock: (service, operator) that opened
	// one. Both cleared in EndBlock (M-3).
	EventTasksThisBlock   collections.Map[uint64, uint64]
	EventOpenersThisBlock collections.KeySet[collections.Pair[uint64, string]]
	// EpochTasks: (service, epoch) -> its open and settled tasks, for liveness.
	EpochTasks collections.Map[collections.Pair[uint64, uint64], types.EpochTasks]
	// EpochAnswers: (service, epoch, operator) -> its answers and what its
	// liveness window has counted of that epoch.
	EpochAnswers collections.Map[collections.Triple[uint64, uint64, string], types.EpochAnswers]
	// Liveness: (service, operator) -> its liveness window and jail there.
	Liveness collections.Map[collections.Pair[uint64, string], types.OperatorLiveness]
	// LivenessReviews: (height queued, service, epoch) -> the snapshot index
	// the review goes on from. Queued when an epoch's open tasks reach zero.
	LivenessReviews collections.Map[collections.Triple[int64, uint64, uint64], uint64]

	// Pruning (L-9, prune.go). PruneQueue holds (prune height, task) of the
	// settled tasks: at that height EndBlock deletes the task, its votes and
	// tallies. PrunedTasks is the tombstone of a pruned task (task -> height
	// it was pruned at), so that the Task query can say so;
	// PrunedTasksByExpiry holds (expiry height, task) of the tombstones. Both
	// KeySets are kept by prune.go alone.
	PruneQueue          collections.KeySet[collections.Pair[int64, uint64]]
	PrunedTasks         collections.Map[uint64, int64]
	PrunedTasksByExpiry collections.KeySet[collections.Pair[int64, uint64]]

	// Read-only views of index keys, for paging queries (see indexView).
	tasksByService       collections.KeySet[collections.Pair[uint64, uint64]]
	tasksByServiceStatus collections.KeySet[collections.Pair[collections.Pair[uint64, int32], uint64]]
	commitmentsByService collections.KeySet[collections.Pair[uint64, collections.Triple[string, uint64, string]]]
	unbondingByCommitter collections.KeySet[collections.Pair[string, uint64]]
}

// wiring holds the keepers the app can only hand x/avs once they exist (IBC,
// wasm), and the tests' power source. Every field may be nil: x/avs then is
// no IBC application, calls no handler contract, and computes power itself.
type wiring struct {
	ics4      types.ICS4Wrapper
	channels  types.ChannelReader // nil: no IBC wired, channels are not checked
	ports     types.PortKeeper
	scoped    types.ScopedKeeper
	contracts types.ContractKeeper
	power     PowerSource
}

// NewKeeper builds the keeper and its collections schema. It panics when the
// authority is not a valid address, as a miswired app must not start.
func NewKeeper(cdc codec.BinaryCodec, storeService storetypes.KVStoreService, addressCodec address.Codec, bank types.BankKeeper, authority string) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("x/avs: invalid authority address %q: %s", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		bank:         bank,
		wiring:       &wiring{},
		authority:    authority,

		Params:        collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Components:    collections.NewMap(sb, types.ComponentsKey, "components", collections.StringKey, codec.CollValue[types.Component](cdc)),
		ComponentCode: collections.NewMap(sb, types.ComponentCodeKey, "component_code", collections.StringKey, collections.BytesValue),
		Services:      collections.NewMap(sb, types.ServicesKey, "services", collections.Uint64Key, codec.CollValue[types.Service](cdc)),
		ServiceSeq:    collections.NewSequence(sb, types.ServiceSeqKey, "service_seq"),
		ServiceRevisions: collections.NewMap(sb, types.ServiceRevisionsKey, "service_revisions",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.ServiceManifest](cdc)),
		Operators: collections.NewMap(sb, types.OperatorsKey, "operators", collections.StringKey, codec.CollValue[types.Operator](cdc)),
		OptIns: collections.NewIndexedMap(sb, types.OptInsKey, "opt_ins",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), collections.NoValue{}, newOptInIndexes(sb)),
		Allowlist: collections.NewKeySet(sb, types.AllowlistKey, "allowlist", collections.PairKeyCodec(collections.Uint64Key, collections.StringKey)),
		Tasks: collections.NewIndexedMap(sb, types.TasksKey, "tasks", collections.Uint64Key, NewTaskValue(cdc, addressCodec),
			newTaskIndexes(sb)),
		TaskSeq:         collections.NewSequence(sb, types.TaskSeqKey, "task_seq"),
		TasksByDeadline: collections.NewKeySet(sb, types.TasksByDeadlineKey, "tasks_by_deadline", collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		Votes:           collections.NewMap(sb, types.VotesKey, "votes", collections.PairKeyCodec(collections.Uint64Key, newAddressKey(addressCodec)), newVoteValue(cdc)),
		Tallies:         collections.NewMap(sb, types.TalliesKey, "tallies", collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), codec.CollValue[types.Tally](cdc)),
		VoteCommits:     collections.NewMap(sb, types.VoteCommitsKey, "vote_commits", collections.PairKeyCodec(collections.Uint64Key, newAddressKey(addressCodec)), codec.CollValue[types.VoteCommit](cdc)),
		UnpaidTasks:     collections.NewKeySet(sb, types.UnpaidTasksKey, "unpaid_tasks", collections.Uint64Key),
		Snapshots:       collections.NewMap(sb, types.SnapshotsKey, "snapshots", collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.PowerSnapshot](cdc)),
		CommitmentsByPool: collections.NewIndexedMap(sb, types.CommitmentsKey, "commitments",
			collections.TripleKeyCodec(collections.StringKey, collections.Uint64Key, collections.StringKey), codec.CollValue[types.Commitment](cdc),
			newCommitmentIndexes(sb)),
		Pools: collections.NewMap(sb, types.PoolsKey, "pools", collections.PairKeyCodec(collections.StringKey, collections.Uint64Key), codec.CollValue[types.Pool](cdc)),
		PoolGenerationEnds: collections.NewMap(sb, types.PoolGenerationEndsKey, "pool_generation_ends",
			collections.TripleKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint64Key), sdk.LegacyDecValue),
		PendingJoins: collections.NewMap(sb, types.PendingJoinsKey, "pending_joins",
			collections.TripleKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.PendingJoin](cdc)),
		Unbonding: collections.NewIndexedMap(sb, types.UnbondingKey, "unbonding", collections.Uint64Key, codec.CollValue[types.UnbondingEntry](cdc),
			newUnbondingIndexes(sb)),
		UnbondingSeq: collections.NewSequence(sb, types.UnbondingSeqKey, "unbonding_seq"),
		UnbondingPools: collections.NewMap(sb, types.UnbondingPoolsKey, "unbonding_pools",
			collections.TripleKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.UnbondingPool](cdc)),
		Treasuries:      collections.NewMap(sb, types.TreasuriesKey, "treasuries", collections.Uint64Key, sdk.IntValue),
		OperatorRewards: collections.NewMap(sb, types.OperatorRewardsKey, "operator_rewards", newAddressKey(addressCodec), sdk.IntValue),
		TriggerDue: collections.NewMap(sb, types.TriggerDueKey, "trigger_due",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), collections.Int64Value),
		TriggersByHeight: collections.NewKeySet(sb, types.TriggersByHeightKey, "triggers_by_height",
			collections.TripleKeyCodec(collections.Int64Key, collections.Uint64Key, collections.Uint32Key)),
		TriggersByTime: collections.NewKeySet(sb, types.TriggersByTimeKey, "triggers_by_time",
			collections.TripleKeyCodec(collections.Int64Key, collections.Uint64Key, collections.Uint32Key)),
		IBCRequestsThisBlock: collections.NewMap(sb, types.IBCRequestsThisBlockKey, "ibc_requests_this_block",
			collections.StringKey, collections.Uint64Value),
		AutoTasksThisBlock:  collections.NewMap(sb, types.AutoTasksThisBlockKey, "auto_tasks", collections.Uint64Key, collections.Uint64Value),
		HookTasksThisBlock:  collections.NewItem(sb, types.HookTasksThisBlockKey, "hook_tasks", collections.Uint64Value),
		EventTasksThisBlock: collections.NewMap(sb, types.EventTasksThisBlockKey, "event_tasks_this_block", collections.Uint64Key, collections.Uint64Value),
		EventOpenersThisBlock: collections.NewKeySet(sb, types.EventOpenersThisBlockKey, "event_openers_this_block",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey)),
		EpochTasks: collections.NewMap(sb, types.EpochTasksKey, "epoch_tasks",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.EpochTasks](cdc)),
		EpochAnswers: collections.NewMap(sb, types.EpochAnswersKey, "epoch_answers",
			collections.TripleKeyCodec(collections.Uint64Key, collections.Uint64Key, newAddressKey(addressCodec)), codec.CollValue[types.EpochAnswers](cdc)),
		Liveness: collections.NewMap(sb, types.LivenessKey, "liveness",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), codec.CollValue[types.OperatorLiveness](cdc)),
		LivenessReviews: collections.NewMap(sb, types.LivenessReviewsKey, "liveness_reviews",
			collections.TripleKeyCodec(collections.Int64Key, collections.Uint64Key, collections.Uint64Key), collections.Uint64Value),
		IBCPackets: collections.NewMap(sb, types.IBCPacketsKey, "ibc_packets", collections.Uint64Key, codec.CollValue[channeltypes.Packet](cdc)),
		RemoteResults: collections.NewMap(sb, types.RemoteResultsKey, "remote_results",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key), codec.CollValue[types.RemoteResult](cdc)),
		EpochBase: collections.NewItem(sb, types.EpochBaseKey, "epoch_base", codec.CollValue[types.EpochBase](cdc)),
		PushedResults: collections.NewMap(sb, types.PushedResultsKey, "pushed_results",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key), codec.CollValue[types.RemoteResult](cdc)),
		PruneQueue:  collections.NewKeySet(sb, types.PruneQueueKey, "prune_queue", collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		PrunedTasks: collections.NewMap(sb, types.PrunedTasksKey, "pruned_tasks", collections.Uint64Key, collections.Int64Value),
		PrunedTasksByExpiry: collections.NewKeySet(sb, types.PrunedTasksByExpiryKey, "pruned_tasks_by_expiry",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	k.tasksByService = indexView(storeService, types.TasksByServiceKey, k.Tasks.Indexes.ByService.KeyCodec())
	k.tasksByServiceStatus = indexView(storeService, types.TasksByServiceStatusKey, k.Tasks.Indexes.ByServiceStatus.KeyCodec())
	k.commitmentsByService = indexView(storeService, types.CommitmentsByServiceKey, k.CommitmentsByPool.Indexes.ByService.KeyCodec())
	k.unbondingByCommitter = indexView(storeService, types.UnbondingByCommitterKey, k.Unbonding.Indexes.ByCommitter.KeyCodec())
	return k
}

// GetAuthority returns the address allowed to update the module parameters.
func (k Keeper) GetAuthority() string { return k.authority }

// AddressCodec returns the account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// Logger returns the module's logger.
func (k Keeper) Logger(ctx context.Context) log.Logger {
	return sdk.UnwrapSDKContext(ctx).Logger().With("module", "x/"+types.ModuleName)
}

func isNotFound(err error) bool { return errors.Is(err, collections.ErrNotFound) }
