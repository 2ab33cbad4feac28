package pipeline

import (
	"log/slog"
	"time"

	"github.com/avschain/avschain/sidecar/watcher"
)

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

// WithHandlerGas sets the chain's handler_gas_limit (default
// DefaultHandlerGas): a vote on a service with a handler contract reserves
// it, as completing the task runs the handler.
func WithHandlerGas(limit uint64) Option { return func(p *Pipeline) { p.handlerGas = limit } }

// WithConcurrency sets how many components run at once.
func WithConcurrency(n int) Option { return func(p *Pipeline) { p.concurrency = n } }

// WithMetrics sets the metrics sink (default metrics.Nop()).
func WithMetrics(m Metrics) Option { return func(p *Pipeline) { p.metrics = m } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(p *Pipeline) { p.log = l } }

// LatePolicy says on which tasks that have already ended (COMPLETED or
// FAILED, deadline not passed) the operator still votes. Such a late vote is
// recorded and counts for liveness (a missing one counts as missed, and
// misses jail), but on a MEDIAN service a late value outside the slashable
// spread of the accepted median is slashed: a value read later (a price
// that moved) is more likely to be out.
type LatePolicy int

const (
	// LateVotesExceptMedian (the default) votes late on every task except a
	// COMPLETED one of a MEDIAN service.
	LateVotesExceptMedian LatePolicy = iota
	// LateVotesAll votes late on every task, MEDIAN ones included (for
	// services whose values do not move between the runs of operators).
	LateVotesAll
	// LateVotesNone votes on PENDING tasks only.
	LateVotesNone
)

// WithLateVotes sets on which ended tasks the operator still votes (default
// LateVotesExceptMedian).
func WithLateVotes(policy LatePolicy) Option { return func(p *Pipeline) { p.late = policy } }

// WithMaxCrashes sets how many runs of one unit of work may start without
// finishing (the process died during them) before the pipeline stops
// running it and votes FAILURE_REASON_MEMORY instead (default
// DefaultMaxCrashes). A component that takes the sidecar down almost always
// does it by eating memory (the kernel's OOM killer), hence the reason.
func WithMaxCrashes(n int) Option { return func(p *Pipeline) { p.maxCrashes = n } }

// WithMemoryBudget bounds the wasm memory of the runs in progress, in 64 KiB
// pages (0, the default: unlimited; DefaultMemoryBudgetPages is 1 GiB). A
// run holds its service's limits.memory_pages from the budget while it runs;
// others wait for it. A service whose memory_pages exceeds the whole budget
// is not run: its failure is voted FAILURE_REASON_MEMORY.
func WithMemoryBudget(pages uint64) Option { return func(p *Pipeline) { p.memoryBudget = pages } }

// WithRunRetries sets how many times a run that failed after a host call
// failed (http_fetch) is run again, backoff doubling from first, before its
// failure is voted (default DefaultRunRetries, from one second). A run that
// exceeded its time limit is run again once (CPU contention on the
// operator's machine is not the component's failure); traps, exits, memory
// and output failures are the component's own and never run again.
func WithRunRetries(n int, first time.Duration) Option {
	return func(p *Pipeline) { p.runRetries, p.runBackoff = n, first }
}

// WithRetryCap caps the backoff between retries of work the chain could not
// be read for (default DefaultRetryCap).
func WithRetryCap(d time.Duration) Option { return func(p *Pipeline) { p.retryCap = d } }

// WithDefaultTaskTimeout sets the chain's default_task_timeout (default
// types.DefaultTaskTimeout), the deadline of event work of a service that
// sets no task_timeout.
func WithDefaultTaskTimeout(blocks uint64) Option {
	return func(p *Pipeline) { p.defaultTimeout = blocks }
}

// WithPruneEvery sets how often the records of work whose deadline passed
// more than margin blocks ago are pruned (defaults DefaultPruneEvery and
// DefaultPruneMargin; every 0: never).
func WithPruneEvery(every time.Duration, margin int64) Option {
	return func(p *Pipeline) { p.pruneEvery, p.pruneMargin = every, margin }
}

// WithComponentCache bounds the bytes of the components kept in memory
// (default DefaultComponentCacheBytes); the least recently used go first.
func WithComponentCache(bytes int64) Option { return func(p *Pipeline) { p.cacheBytes = bytes } }

// WithHead gives the chain's latest height as the watcher last read it
// (watcher.Watcher.Head; 0 while unknown): deadlines are judged against it
// instead of asking the node for each task. Without it, or while it is 0,
// the node is asked.
func WithHead(head func() int64) Option { return func(p *Pipeline) { p.head = head } }

// WithBlocks gives the blocks the watcher reads (watcher.WithBlocks): a
// COMMIT_REVEAL task's reveal is queued right after the block that closed
// its commit phase, or that reached its commit deadline. Without it the
// chain's height is read every second and a reveal waits for its task's
// commit deadline.
func WithBlocks(ch <-chan watcher.Block) Option { return func(p *Pipeline) { p.blocks = ch } }
