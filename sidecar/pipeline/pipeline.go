// Package pipeline sits between the watcher and the submitter: for each task
// the watcher sees, it checks that a vote from this operator still counts,
// fetches the service and (once per digest, checked against it) the
// component, runs it in the executor, records the outcome and queues the
// vote. An event an event trigger matched is run the same way on the event's
// input and voted with its reference. Nothing is executed or voted twice;
// work the watcher saved and the pipeline had not finished is replayed at
// start.
//
// When a vote counts (reliability review H1): a task is run while the
// chain's height is at most its deadline_height, if the task's power
// snapshot holds the operator (Query/Task with the operator: in_snapshot)
// and the chain has no vote from it — whatever the task's status, since the
// chain records late votes up to the deadline and counts liveness on them,
// and whatever the operator's opt-ins are now. A late vote on a completed
// MEDIAN task is skipped by default (LateVotesExceptMedian): outside the
// accepted spread it is slashable. Event work has no task yet: it runs for
// the services the operator is opted in to, for events after the service's
// last update (as the trigger matcher matches them, M2), until the event's
// height plus the service's task timeout (a vote after that would open a
// task no peer confirms).
//
// No query per task (issue #16): a task whose EventTaskCreated carries its
// input is run from the event. Whether the operator is in its snapshot comes
// from the epoch's snapshot, read once per (service, epoch); the manifest of
// its revision is read once per (service, revision); its deadline is judged
// against the height the watcher last read (WithHead); the store says
// whether this operator voted. A task whose event lacks the input, work
// replayed after a restart or recovered from skipped blocks, and a task that
// may have ended when the late-vote policy skips some ended tasks are read
// with Query/Task as above (created.go).
//
// Nothing is lost to a transient error (H6, M3): work the chain could not be
// read for is retried with a capped backoff until its deadline has passed,
// and for as long as the deadline is unknown (the node is down); a run that
// failed after a host call failed is run again a few times before its
// failure is voted; a run cut short by shutdown records nothing. Expired
// work is dropped before it runs (L6).
//
// A poison task cannot take the process down for good (H4): a run is
// counted on disk before it starts, and work whose runs took the process
// down WithMaxCrashes times is voted a memory failure instead of being run
// again; concurrent runs share a memory budget (WithMemoryBudget). Records
// of work past its deadline are pruned (M12), and the component cache is
// bounded by bytes with one download per digest at a time (M6).
//
// A COMMIT_REVEAL task (issue #20) is voted in two stages with no operator
// action: its commit once the outcome is recorded, with a salt saved first,
// and its reveal once the commit phase has closed (reveal.go), which the
// blocks the watcher reads tell: no Query/Task per task either, except for work
// resumed after a restart.
//
// The files follow skip-mev/connect oracle/{oracle,options,lifecycle}.go:
// pipeline.go (the type, New), options.go, lifecycle.go (Start, replay,
// warm-up, retries, pruning), work.go (the task and event paths),
// reveal.go (the commit and the reveal of a COMMIT_REVEAL task),
// created.go (a task run from its event: the snapshot and manifest caches),
// run.go (running a component: crash guard, memory budget, retries),
// deadline.go (heights and deadlines), components.go (the component
// cache) and memo.go (the read-once map under created.go's caches).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/internal/delay"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Chain is what the pipeline reads from the chain.
type Chain interface {
	// TaskFor is a task with the operator's part in it: in its snapshot,
	// voted (chain.Client.TaskFor).
	TaskFor(ctx context.Context, id uint64, operator string) (types.QueryTaskResponse, error)
	Service(ctx context.Context, id uint64) (types.Service, error)
	// TaskService is the task's service with the manifest of the task's
	// revision (its limits and config).
	TaskService(ctx context.Context, task types.Task) (types.Service, error)
	// CurrentSnapshot is the power snapshot of the service's current epoch
	// (the zero snapshot until the epoch's first task takes it).
	CurrentSnapshot(ctx context.Context, serviceID uint64) (types.PowerSnapshot, error)
	ComponentCode(ctx context.Context, digest string) ([]byte, error)
	OperatorServices(ctx context.Context, operator string) ([]uint64, error)
	LatestHeight(ctx context.Context) (int64, error)
}

// Runner runs a component.
type Runner interface {
	Run(ctx context.Context, job executor.Job, wasm []byte) (executor.Result, error)
	Prepare(ctx context.Context, wasm []byte, pages uint32) error
}

// Store remembers executions and submissions by work key (store.WorkKey),
// the work the watcher found and the pipeline has not finished, the runs
// started and not finished (the crash guard), and each unit's deadline (for
// pruning).
type Store interface {
	Executed(key string) (store.Execution, bool, error)
	SetExecuted(key string, e store.Execution) error
	Submitted(key string) (bool, error)
	Inbox() (map[string][]byte, error)
	Done(key string) error
	StartAttempt(key string) (int, error)
	ClearAttempts(key string) error
	SetDeadline(key string, height int64) error
	Deadline(key string) (int64, bool, error)
	Prune(height int64) (int, error)
	// Salt and SetSalt keep a COMMIT_REVEAL task's salt (reveal.go).
	Salt(key string) ([]byte, bool, error)
	SetSalt(key string, salt []byte) error
}

// Voter queues votes.
type Voter interface {
	Enqueue(v submitter.Vote) error
}

// Metrics is told what happens to tasks (metrics.Sink satisfies it).
type Metrics interface {
	TaskSeen()
	TaskExecuted(d time.Duration)
	TaskFailed(reason string)
	// WorkRetried: work is retried after a transient error.
	WorkRetried()
	// WorkGivenUp: work ends without a vote, for reason: "deadline" (it
	// expired first) or "crashes" (it took the process down and its
	// failure could not be voted).
	WorkGivenUp(reason string)
	// WorkPruned: the records of n units of work past their deadline were
	// forgotten.
	WorkPruned(n int)
}

// Pipeline runs tasks.
type Pipeline struct {
	chain       Chain
	runner      Runner
	store       Store
	voter       Voter
	metrics     Metrics
	work        <-chan watcher.Work
	chainID     string
	operator    string
	services    map[uint64]bool // nil: every service the task snapshot includes us in
	concurrency int
	handlerGas  uint64
	log         *slog.Logger

	late           LatePolicy
	maxCrashes     int
	memoryBudget   uint64              // pages; 0: unlimited
	memory         *semaphore.Weighted // nil: unlimited
	runRetries     int
	runBackoff     time.Duration
	retryCap       time.Duration
	defaultTimeout uint64
	pruneEvery     time.Duration
	pruneMargin    int64
	cacheBytes     int64

	retries *delay.Queue[watcher.Work]
	head    func() int64 // nil: ask the node
	blocks  <-chan watcher.Block

	// What tasks run from their events need, read once (created.go).
	snapshots *memo[[2]uint64, membership]    // by (service, epoch)
	revisions *memo[[2]uint64, types.Service] // by (service, revision)

	mu        sync.Mutex
	inflight  map[string]bool
	attempts  map[string]int
	deadlines map[string]int64
	overrides map[string][]byte
	reveals   map[uint64]*pendingReveal // by task id (reveal.go)
	inHand    map[uint64]int64          // COMMIT_REVEAL tasks whose stages this run queued: their deadline (reveal.go)

	components *componentCache
	downloads  singleflight.Group
}

// Defaults of the options.
const (
	// DefaultHandlerGas is the gas a vote reserves for a service's handler
	// contract when the chain's handler_gas_limit is not known.
	DefaultHandlerGas = 1_000_000
	// DefaultMaxCrashes is how many runs of one unit of work may take the
	// process down before its failure is voted instead (WithMaxCrashes).
	DefaultMaxCrashes = 3
	// DefaultMemoryBudgetPages is the suggested WithMemoryBudget: 1 GiB of
	// wasm memory (64 KiB pages) across concurrent runs. New leaves the
	// budget unlimited; the node sets it from its config.
	DefaultMemoryBudgetPages = 16_384
	// DefaultRunRetries is how many times a run that failed after a host
	// call failed is run again before its failure is voted.
	DefaultRunRetries = 3
	// DefaultRetryCap caps the backoff between retries of work the chain
	// could not be read for.
	DefaultRetryCap = 30 * time.Second
	// DefaultPruneEvery is how often records of expired work are pruned.
	DefaultPruneEvery = time.Minute
	// DefaultPruneMargin is how many blocks past its deadline the records
	// of a unit of work are kept (the submitter's transactions time out
	// well within it).
	DefaultPruneMargin = 100
	// DefaultComponentCacheBytes bounds the components kept in memory.
	DefaultComponentCacheBytes = 256 << 20
)

// Deps are what a pipeline cannot run without. Named fields: the chain id
// and the operator are both strings and must not be swapped.
type Deps struct {
	Chain  Chain
	Runner Runner
	Store  Store
	Voter  Voter
	// Work is where the watcher sends the work it finds.
	Work <-chan watcher.Work
	// ChainID is passed to components (AVS_CHAIN_ID).
	ChainID string
	// Operator is the operator's account address: the tasks whose snapshot
	// holds it, and the events of the services it is opted in to, are run.
	Operator string
}

// New returns a pipeline reading work from d.Work.
func New(d Deps, opts ...Option) (*Pipeline, error) {
	if d.Chain == nil || d.Runner == nil || d.Store == nil || d.Voter == nil || d.Work == nil || d.ChainID == "" || d.Operator == "" {
		return nil, errors.New("pipeline: chain, runner, store, voter, work, chain id and operator are required")
	}
	p := &Pipeline{
		chain: d.Chain, runner: d.Runner, store: d.Store, voter: d.Voter, work: d.Work, chainID: d.ChainID, operator: d.Operator,
		concurrency: 4, handlerGas: DefaultHandlerGas, metrics: metrics.Nop(), log: slog.Default(),
		maxCrashes: DefaultMaxCrashes, runRetries: DefaultRunRetries, runBackoff: time.Second, retryCap: DefaultRetryCap,
		defaultTimeout: types.DefaultTaskTimeout, pruneEvery: DefaultPruneEvery, pruneMargin: DefaultPruneMargin,
		cacheBytes: DefaultComponentCacheBytes,
		inflight:   map[string]bool{}, attempts: map[string]int{}, deadlines: map[string]int64{}, overrides: map[string][]byte{},
		reveals:   map[uint64]*pendingReveal{},
		inHand:    map[uint64]int64{},
		retries:   delay.New[watcher.Work](),
		snapshots: newMemo[[2]uint64, membership](olderSnapshot), revisions: newMemo[[2]uint64, types.Service](nil),
	}
	for _, o := range opts {
		o(p)
	}
	if p.concurrency < 1 {
		return nil, fmt.Errorf("pipeline: concurrency must be at least 1, got %d", p.concurrency)
	}
	if p.maxCrashes < 1 {
		return nil, fmt.Errorf("pipeline: max crashes must be at least 1, got %d", p.maxCrashes)
	}
	if p.runRetries < 0 || p.pruneMargin < 0 || p.pruneEvery < 0 || p.retryCap <= 0 {
		return nil, errors.New("pipeline: run retries, prune margin and prune interval cannot be negative, the retry cap must be positive")
	}
	if p.memoryBudget > 0 {
		p.memory = semaphore.NewWeighted(int64(min(p.memoryBudget, 1<<62)))
	}
	p.components = newComponentCache(p.cacheBytes)
	return p, nil
}
