// Package pipeline sits between the watcher and the submitter: for each task
// the watcher sees, it checks the operator should vote, fetches the service
// and (once per digest, checked against it) the component, runs it in the
// executor, records the outcome and queues the vote. An event an event
// trigger matched is run the same way on the event's input and voted with its
// reference. Nothing is executed or voted twice; work the watcher saved and
// the pipeline had not finished is replayed at start.
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
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Chain is what the pipeline reads from the chain.
type Chain interface {
	Task(ctx context.Context, id uint64) (types.Task, error)
	Service(ctx context.Context, id uint64) (types.Service, error)
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
	tasks       <-chan watcher.Task
	chainID     string
	operator    string
	services    map[uint64]bool // nil: every service the task snapshot includes us in
	concurrency int
	handlerGas  uint64
	log         *slog.Logger

	retries *delay.Queue[watcher.Task]

	mu         sync.Mutex
	inflight   map[string]bool
	attempts   map[string]int
	components map[string][]byte
	overrides  map[string][]byte
}

// Option configures a Pipeline.
type Option func(*Pipeline)

// WithServices restricts the pipeline to these service ids (nil = all).
func WithServices(ids map[uint64]bool) Option { return func(p *Pipeline) { p.services = ids } }

// WithComponentOverrides runs local wasm instead of the chain's component of
// a digest (testing a build against live tasks).
func WithComponentOverrides(byDigest map[string][]byte) Option {
	return func(p *Pipeline) {
		for d, wasm := range byDigest {
			p.overrides[d] = wasm
		}
	}
}

// WithHandlerGas sets the chain's handler_gas_limit: a vote on a service with
// a handler contract reserves it, as completing the task runs the handler.
func WithHandlerGas(limit uint64) Option { return func(p *Pipeline) { p.handlerGas = limit } }

// WithConcurrency sets how many components run at once.
func WithConcurrency(n int) Option { return func(p *Pipeline) { p.concurrency = n } }

// WithMetrics sets the metrics sink.
func WithMetrics(m Metrics) Option { return func(p *Pipeline) { p.metrics = m } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(p *Pipeline) { p.log = l } }

// New returns a pipeline reading tasks from in.
func New(chain Chain, runner Runner, st Store, voter Voter, in <-chan watcher.Task, chainID, operator string, opts ...Option) (*Pipeline, error) {
	if chain == nil || runner == nil || st == nil || voter == nil || in == nil {
		return nil, errors.New("pipeline: chain, runner, store, voter and input are required")
	}
	p := &Pipeline{
		chain: chain, runner: runner, store: st, voter: voter, tasks: in, chainID: chainID, operator: operator,
		concurrency: 4, metrics: nopMetrics{}, log: slog.Default(),
		inflight: map[string]bool{}, attempts: map[string]int{}, components: map[string][]byte{}, overrides: map[string][]byte{},
		retries: delay.New[watcher.Task](),
	}
	for _, o := range opts {
		o(p)
	}
	if p.concurrency < 1 {
		return nil, fmt.Errorf("pipeline: concurrency must be at least 1, got %d", p.concurrency)
	}
	return p, nil
}

// maxAttempts bounds the retries of a task the chain could not be read for.
const maxAttempts = 20

// Start handles tasks until ctx ends, at most concurrency at a time. A task
// that fails for a transient reason (the chain could not be read) is retried
// with backoff. Work left unfinished by an earlier run is handled first.
// Start returns once every goroutine it started has ended: the warm-up, the
// workers and the retries (held in a delay queue this loop drains) all stop
// with it (skip-mev/connect oracle/lifecycle.go).
func (p *Pipeline) Start(ctx context.Context) error {
	backlog, err := p.replay()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { p.warm(ctx) })
	sem := make(chan struct{}, p.concurrency)
	for {
		var t watcher.Task
		if len(backlog) > 0 {
			if ctx.Err() != nil {
				return nil
			}
			t, backlog = backlog[0], backlog[1:]
		} else {
			select {
			case <-ctx.Done():
				return nil
			case t = <-p.tasks:
			case <-p.retries.Added():
				continue
			case <-p.retries.Next():
				backlog = p.retries.Due()
				continue
			}
		}
		key := t.Key()
		if !p.claim(key) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			p.release(key)
			return nil
		}
		wg.Go(func() {
			defer func() { <-sem }()
			defer p.release(key)
			voted, err := p.handleWork(ctx, t)
			switch {
			case err == nil && !voted:
				p.done(key)
			case err == nil:
				// The vote is queued in memory only: the work stays saved
				// until the store records the vote submitted.
				p.forget(key)
			case ctx.Err() == nil:
				p.retryLater(t, err)
			}
		})
	}
}

// replay returns the work the watcher saved and no run finished.
func (p *Pipeline) replay() ([]watcher.Task, error) {
	saved, err := p.store.Inbox()
	if err != nil {
		return nil, fmt.Errorf("read the saved work: %w", err)
	}
	if len(saved) == 0 {
		return nil, nil
	}
	p.log.Info("resuming work read before the last stop", "items", len(saved))
	var work []watcher.Task
	for key, bz := range saved {
		t, err := watcher.DecodeTask(bz)
		if err != nil {
			p.log.Warn("dropping saved work", "key", key, "err", err)
			p.done(key)
			continue
		}
		work = append(work, t)
	}
	return work, nil
}

func (p *Pipeline) forget(key string) {
	p.mu.Lock()
	delete(p.attempts, key)
	p.mu.Unlock()
}

// done forgets work that ends without a vote (skipped, failed, given up).
func (p *Pipeline) done(key string) {
	p.forget(key)
	if err := p.store.Done(key); err != nil {
		p.log.Warn("could not mark work done (it will be checked again after a restart)", "key", key, "err", err)
	}
}

// warm fetches and compiles the components of the operator's services at
// start, so their first tasks run at once. Failures only cost that speed-up.
func (p *Pipeline) warm(ctx context.Context) {
	ids, err := p.chain.OperatorServices(ctx, p.operator)
	if err != nil {
		p.log.Warn("could not list the operator's services to precompile their components", "err", err)
		return
	}
	for _, id := range ids {
		if p.services != nil && !p.services[id] {
			continue
		}
		svc, err := p.chain.Service(ctx, id)
		if err != nil {
			continue
		}
		wasm, err := p.component(ctx, svc.Manifest.ComponentDigest)
		if err != nil {
			continue
		}
		start := time.Now()
		if err := p.runner.Prepare(ctx, wasm, svc.Manifest.Limits.MemoryPages); err != nil {
			p.log.Warn("precompiling a component failed", "service", id, "err", err)
			continue
		}
		p.log.Info("component ready", "service", id, "digest", svc.Manifest.ComponentDigest, "took", time.Since(start))
	}
}

// retryLater queues t again after a backoff; Start's loop takes it back.
func (p *Pipeline) retryLater(t watcher.Task, err error) {
	key := t.Key()
	p.mu.Lock()
	p.attempts[key]++
	n := p.attempts[key]
	p.mu.Unlock()
	if n > maxAttempts {
		p.log.Error("giving up on task", "work", key, "attempts", n-1, "err", err)
		p.done(key)
		return
	}
	wait := min(time.Duration(n)*500*time.Millisecond, 5*time.Second)
	p.log.Warn("task not handled; retrying", "work", key, "attempt", n, "in", wait, "err", err)
	p.retries.Add(t, wait)
}

func (p *Pipeline) claim(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight[key] {
		return false
	}
	p.inflight[key] = true
	return true
}

func (p *Pipeline) release(key string) {
	p.mu.Lock()
	delete(p.inflight, key)
	p.mu.Unlock()
}

// HandleWork runs a task, or an event a trigger matched, if it still needs
// this operator's vote. An error is transient (the chain could not be read);
// outcomes of the component itself are recorded, not returned.
func (p *Pipeline) HandleWork(ctx context.Context, t watcher.Task) error {
	_, err := p.handleWork(ctx, t)
	return err
}

// handleWork is HandleWork, also reporting whether a vote was queued.
func (p *Pipeline) handleWork(ctx context.Context, t watcher.Task) (bool, error) {
	if t.Event != nil {
		return p.handleEvent(ctx, t)
	}
	return p.handleTask(ctx, t.ID)
}

// Handle runs one task by id (see HandleWork).
func (p *Pipeline) Handle(ctx context.Context, id uint64) error {
	_, err := p.handleTask(ctx, id)
	return err
}

func (p *Pipeline) handleTask(ctx context.Context, id uint64) (bool, error) {
	key := store.WorkKey(id, nil)
	if settled, voted, err := p.fromStore(key, submitter.Vote{TaskID: id}); err != nil || settled {
		return voted, err
	}
	task, err := p.chain.Task(ctx, id)
	if err != nil {
		return false, fmt.Errorf("query task: %w", err)
	}
	if p.services != nil && !p.services[task.ServiceId] {
		return false, nil
	}
	if task.Status != types.TASK_STATUS_PENDING {
		return false, nil
	}
	if task.Origin.IsEventOrigin() {
		// A task an event-trigger vote opened is answered from this operator's
		// own reading of the event (the watcher's match), never from the input
		// the opener claimed.
		return false, nil
	}
	if in, err := p.optedIn(ctx, task.ServiceId); err != nil || !in {
		return false, err
	}
	svc, err := p.chain.Service(ctx, task.ServiceId)
	if err != nil {
		return false, fmt.Errorf("query service %d: %w", task.ServiceId, err)
	}
	job := executor.Job{
		Digest: task.ComponentDigest, TaskID: task.Id, ServiceID: task.ServiceId, ChainID: p.chainID,
		BlockHeight: task.CreatedHeight, BlockTime: task.CreatedTime, Input: task.Input,
	}
	return p.execute(ctx, key, svc, job, submitter.Vote{TaskID: id})
}

// handleEvent runs the component of the service an event trigger matched on
// the event's input and votes with the event's reference.
func (p *Pipeline) handleEvent(ctx context.Context, t watcher.Task) (bool, error) {
	ref := *t.Event
	key := store.WorkKey(0, &ref)
	vote := submitter.Vote{Event: &ref}
	if settled, voted, err := p.fromStore(key, vote); err != nil || settled {
		return voted, err
	}
	if p.services != nil && !p.services[ref.ServiceId] {
		return false, nil
	}
	if in, err := p.optedIn(ctx, ref.ServiceId); err != nil || !in {
		return false, err
	}
	svc, err := p.chain.Service(ctx, ref.ServiceId)
	if err != nil {
		return false, fmt.Errorf("query service %d: %w", ref.ServiceId, err)
	}
	if svc.Status != types.SERVICE_STATUS_ACTIVE {
		p.log.Info("event matched on a service that is not active: no vote", "service", ref.ServiceId, "work", key)
		return false, nil
	}
	job := executor.Job{
		Digest: svc.Manifest.ComponentDigest, ServiceID: ref.ServiceId, ChainID: p.chainID,
		BlockHeight: ref.Height, BlockTime: t.BlockTime, Input: ref.Input,
	}
	return p.execute(ctx, key, svc, job, vote)
}

// fromStore settles work already executed or voted: settled is true when
// nothing more is to be done here, voted when the stored result's vote was
// queued again (the submitter drops it if it was sent meanwhile).
func (p *Pipeline) fromStore(key string, vote submitter.Vote) (settled, voted bool, err error) {
	if done, err := p.store.Submitted(key); err != nil || done {
		return done, false, err
	}
	prev, ok, err := p.store.Executed(key)
	if err != nil || !ok {
		return false, false, err
	}
	if prev.Error == "" {
		vote.Result, vote.ExtraGas = prev.Result, prev.ExtraGas
		return true, true, p.voter.Enqueue(vote)
	}
	return true, false, nil
}

// execute runs a job with the service's config and limits, records the
// outcome under key and queues the vote; it reports whether it voted.
func (p *Pipeline) execute(ctx context.Context, key string, svc types.Service, job executor.Job, vote submitter.Vote) (bool, error) {
	p.metrics.TaskSeen()
	wasm, err := p.component(ctx, job.Digest)
	if err != nil {
		return false, err
	}
	l := svc.Manifest.Limits
	job.Config = svc.Manifest.ConfigMap()
	job.Limits = executor.Limits{
		Time: time.Duration(l.TimeMs) * time.Millisecond, MemoryPages: l.MemoryPages,
		OutputBytes: l.OutputBytes, HTTPAllowList: l.HttpAllowList,
	}
	res, err := p.runner.Run(ctx, job, wasm)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return false, ctx.Err()
		}
		p.metrics.TaskFailed(reason(err))
		p.log.Warn("component failed: no vote", "work", key, "service", svc.Id, "err", err, "logs", res.Logs)
		return false, p.store.SetExecuted(key, store.Execution{Error: err.Error()})
	}
	p.metrics.TaskExecuted(res.Duration)
	p.log.Info("task executed", "work", key, "service", svc.Id, "result_bytes", len(res.Output), "took", res.Duration)
	vote.Result = res.Output
	if svc.Manifest.HandlerContract != "" {
		vote.ExtraGas = p.handlerGas
	}
	if err := p.store.SetExecuted(key, store.Execution{Result: res.Output, ExtraGas: vote.ExtraGas}); err != nil {
		return false, err
	}
	return true, p.voter.Enqueue(vote)
}

// optedIn reports whether the operator runs the service (the chain refuses
// votes from operators outside the task's snapshot anyway; this saves the run).
func (p *Pipeline) optedIn(ctx context.Context, serviceID uint64) (bool, error) {
	ids, err := p.chain.OperatorServices(ctx, p.operator)
	if err != nil {
		return false, fmt.Errorf("query operator %s: %w", p.operator, err)
	}
	for _, id := range ids {
		if id == serviceID {
			return true, nil
		}
	}
	return false, nil
}

// component returns a component's wasm, fetched once and checked against its digest.
func (p *Pipeline) component(ctx context.Context, digest string) ([]byte, error) {
	if wasm, ok := p.overrides[digest]; ok {
		return wasm, nil
	}
	p.mu.Lock()
	wasm, ok := p.components[digest]
	p.mu.Unlock()
	if ok {
		return wasm, nil
	}
	wasm, err := p.chain.ComponentCode(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("fetch component %s: %w", digest, err)
	}
	if got := types.Digest(wasm); got != digest {
		return nil, fmt.Errorf("component %s: the chain served bytes with digest %s", digest, got)
	}
	p.mu.Lock()
	p.components[digest] = wasm
	p.mu.Unlock()
	return wasm, nil
}

func reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{executor.ErrTimeout, "timeout"}, {executor.ErrOutputTooLarge, "output_too_large"},
		{executor.ErrExit, "exit"}, {executor.ErrTrap, "trap"}, {executor.ErrInstantiate, "instantiate"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

type nopMetrics struct{}

func (nopMetrics) TaskSeen()                  {}
func (nopMetrics) TaskExecuted(time.Duration) {}
func (nopMetrics) TaskFailed(string)          {}
