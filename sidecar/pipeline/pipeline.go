// Package pipeline sits between the watcher and the submitter: for each task
// the watcher sees, it checks the operator should vote, fetches the service
// and (once per digest, checked against it) the component, runs it in the
// executor, records the outcome and queues the vote. An event an event
// trigger matched is run the same way on the event's input and voted with its
// reference. Nothing is executed or voted twice; work the watcher saved and
// the pipeline had not finished is replayed at start.
//
// The files follow skip-mev/connect oracle/{oracle,options,lifecycle}.go:
// pipeline.go (the type, New), options.go, lifecycle.go (Start, replay,
// warm-up, retries) and work.go (the task and event paths).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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
	Task(ctx context.Context, id uint64) (types.Task, error)
	Service(ctx context.Context, id uint64) (types.Service, error)
	// TaskService is the task's service with the manifest of the task's
	// revision (its limits and config).
	TaskService(ctx context.Context, task types.Task) (types.Service, error)
	ComponentCode(ctx context.Context, digest string) ([]byte, error)
	OperatorServices(ctx context.Context, operator string) ([]uint64, error)
}

// Runner runs a component.
type Runner interface {
	Run(ctx context.Context, job executor.Job, wasm []byte) (executor.Result, error)
	Prepare(ctx context.Context, wasm []byte, pages uint32) error
}

// Store remembers executions and submissions by work key (store.WorkKey),
// and the work the watcher found and the pipeline has not finished.
type Store interface {
	Executed(key string) (store.Execution, bool, error)
	SetExecuted(key string, e store.Execution) error
	Submitted(key string) (bool, error)
	Inbox() (map[string][]byte, error)
	Done(key string) error
}

// Voter queues votes.
type Voter interface {
	Enqueue(v submitter.Vote) error
}

// Metrics is told what happens to tasks.
type Metrics interface {
	TaskSeen()
	TaskExecuted(d time.Duration)
	TaskFailed(reason string)
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

	retries *delay.Queue[watcher.Work]

	mu         sync.Mutex
	inflight   map[string]bool
	attempts   map[string]int
	components map[string][]byte
	overrides  map[string][]byte
}

// DefaultHandlerGas is the gas a vote reserves for a service's handler
// contract when the chain's handler_gas_limit is not known.
const DefaultHandlerGas = 1_000_000

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
	// Operator is the operator's account address, whose opt-ins decide
	// which services run.
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
		inflight: map[string]bool{}, attempts: map[string]int{}, components: map[string][]byte{}, overrides: map[string][]byte{},
		retries: delay.New[watcher.Work](),
	}
	for _, o := range opts {
		o(p)
	}
	if p.concurrency < 1 {
		return nil, fmt.Errorf("pipeline: concurrency must be at least 1, got %d", p.concurrency)
	}
	return p, nil
}
