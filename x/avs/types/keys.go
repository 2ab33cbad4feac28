package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the x/avs module name, also its store key and IBC port base.
	ModuleName = "avs"
	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Never renumber one: they are the on-disk layout.
var (
	ParamsKey               = collections.NewPrefix(0)
	ComponentsKey           = collections.NewPrefix(1)
	ComponentCodeKey        = collections.NewPrefix(2)
	ServicesKey             = collections.NewPrefix(3)
	ServiceSeqKey           = collections.NewPrefix(4)
	OperatorsKey            = collections.NewPrefix(5)
	OptInsKey               = collections.NewPrefix(6)
	OperatorServicesKey     = collections.NewPrefix(7)
	AllowlistKey            = collections.NewPrefix(8)
	TasksKey                = collections.NewPrefix(9)
	TaskSeqKey              = collections.NewPrefix(10)
	TasksByDeadlineKey      = collections.NewPrefix(11)
	TasksByServiceStatusKey = collections.NewPrefix(12)
	VotesKey                = collections.NewPrefix(13)
	TalliesKey              = collections.NewPrefix(14)
	SnapshotsKey            = collections.NewPrefix(15)
	TasksByServiceKey       = collections.NewPrefix(16)
	CommitmentsKey          = collections.NewPrefix(17)
	CommitmentsByCommitter  = collections.NewPrefix(18)
	PoolsKey                = collections.NewPrefix(19)
	UnbondingKey            = collections.NewPrefix(20)
	UnbondingSeqKey         = collections.NewPrefix(21)
	UnbondingByTimeKey      = collections.NewPrefix(22)
	UnbondingByPoolKey      = collections.NewPrefix(23)
	TreasuriesKey           = collections.NewPrefix(24)
	IBCPacketsKey           = collections.NewPrefix(25)
	RemoteResultsKey        = collections.NewPrefix(26)
	// ScheduledServicesKey and CronEvaluatedAtKey are retired (the trigger
	// schedule below replaced them): never reuse them.
	ScheduledServicesKey    = collections.NewPrefix(27)
	CronEvaluatedAtKey      = collections.NewPrefix(28)
	EventTasksKey           = collections.NewPrefix(29)
	AutoTasksThisBlockKey   = collections.NewPrefix(30)
	UnbondingByCommitterKey = collections.NewPrefix(31)
	CommitmentsByServiceKey = collections.NewPrefix(32)
	UnbondingPoolsKey       = collections.NewPrefix(37)
	PoolGenerationEndsKey   = collections.NewPrefix(38)
	HookTasksThisBlockKey   = collections.NewPrefix(45)
	// Liveness counters (C-1): prefixes 46-48.
	EpochTasksKey      = collections.NewPrefix(46)
	EpochAnswersKey    = collections.NewPrefix(47)
	LivenessReviewsKey = collections.NewPrefix(48)
	// PushedResultsKey keeps the results other chains pushed apart from this
	// chain's requests in RemoteResultsKey (M-2).
	PushedResultsKey = collections.NewPrefix(49)
	// EpochBaseKey anchors epoch numbers across epoch_length changes (L-8).
	EpochBaseKey = collections.NewPrefix(50)
	// LivenessKey holds each operator's liveness and jail per service (H-2).
	LivenessKey = collections.NewPrefix(52)
	// ServiceRevisionsKey keeps every revision of every service's manifest (H-3).
	ServiceRevisionsKey = collections.NewPrefix(51)
	// PendingJoinsKey keeps the reward index the shares committed in an
	// epoch began to earn at (L-2).
	PendingJoinsKey = collections.NewPrefix(54)
	// UnpaidTasksKey holds the tasks decided in this block whose fee is paid
	// to their backers at its end (issue #16: the deciding vote does not pay
	// for every backer's payout).
	UnpaidTasksKey = collections.NewPrefix(53)
	// OperatorRewardsKey holds what each operator earned and may withdraw
	// (issue #16: credited, not sent, per task).
	OperatorRewardsKey = collections.NewPrefix(55)
	// Pruning (L-9): prefixes 41-43.
	PruneQueueKey          = collections.NewPrefix(41)
	PrunedTasksKey         = collections.NewPrefix(42)
	PrunedTasksByExpiryKey = collections.NewPrefix(43)
	// TriggersByHeightKey, TriggersByTimeKey and TriggerDueKey are the trigger
	// schedule, derived state rebuilt at genesis.
	TriggersByHeightKey     = collections.NewPrefix(33)
	TriggersByTimeKey       = collections.NewPrefix(34)
	TriggerDueKey           = collections.NewPrefix(35)
	IBCRequestsThisBlockKey = collections.NewPrefix(36)
	// EventTasksThisBlockKey and EventOpenersThisBlockKey count the event
	// tasks opened in this block, per service and per (service, operator),
	// apart from the other automatic tasks (M-3). Cleared every EndBlock.
	EventTasksThisBlockKey   = collections.NewPrefix(56)
	EventOpenersThisBlockKey = collections.NewPrefix(57)
	// VoteCommitsKey holds the commitments of COMMIT_REVEAL tasks (issue #20).
	VoteCommitsKey = collections.NewPrefix(58)
)
