package watcher

import (
	"log/slog"
	"time"
)

// Option configures a Watcher.
type Option func(*Watcher)

// WithCatchUp sets how far back a first start (no cursor) looks for tasks.
func WithCatchUp(blocks int64) Option { return func(w *Watcher) { w.catchUp = blocks } }

// WithPollInterval sets how often the watcher polls when the websocket is quiet.
func WithPollInterval(d time.Duration) Option { return func(w *Watcher) { w.poll = d } }

// WithHeights makes the watcher send each new height it has read to ch, as
// soon as the block's work is saved (before the pipeline takes it), so a
// busy pipeline does not look like a stalled chain. A height ch has no room
// for is dropped.
func WithHeights(ch chan<- int64) Option { return func(w *Watcher) { w.heights = ch } }

// WithBlocks makes the watcher send each block it has read to ch once the
// block's work is saved: its height and the COMMIT_REVEAL tasks whose commit
// phase closed in it, so that their reveals go out in the next block (the
// pipeline's reveal loop). Unlike WithHeights it waits for room in ch: its
// reader must keep up (it only queues reveals).
func WithBlocks(ch chan<- Block) Option { return func(w *Watcher) { w.blocks = ch } }

// WithMatcher makes the watcher look for the events of event triggers.
func WithMatcher(m Matcher) Option { return func(w *Watcher) { w.matcher = m } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(w *Watcher) { w.log = l } }

// WithMetrics sets the metrics sink (default metrics.Nop()).
func WithMetrics(m Metrics) Option { return func(w *Watcher) { w.metrics = m } }

// WithRetry sets how many times a block whose results cannot be read, or
// whose events cannot be matched, is tried before the watcher moves past it
// (default 8), and the longest wait between tries (default 30s; the first
// wait is the poll interval, doubling). A block the node cannot serve is
// then skipped and its tasks recovered (WithRecovery); a block that cannot
// be matched keeps its created tasks and loses its event matches.
func WithRetry(attempts int, maxBackoff time.Duration) Option {
	return func(w *Watcher) { w.attempts, w.maxBackoff = attempts, maxBackoff }
}

// WithRecovery lets the watcher find the tasks created in blocks it skipped:
// the open tasks (not expired, deadline not passed) of each service the
// operator is opted in to, listed by l. Without it a skipped block's tasks
// are lost (logged as an error).
func WithRecovery(l TaskLister, operator string) Option {
	return func(w *Watcher) { w.lister, w.operator = l, operator }
}

// WithServiceFilter keeps only the work of the services for which keep
// returns true (nil, the default, keeps all): the rest is neither saved nor
// sent. keep must be permissive. A task is voted by the operators of its
// power snapshot (H1), so it must accept every service the operator is opted
// in to or was opted in to recently (within a task's timeout): a service
// wrongly refused loses its tasks for good, one wrongly kept costs a query.
// keep is called from the watcher's goroutine while the caller may refresh
// what it reads, so it must be safe for that. A task announced over the
// websocket is filtered when the announcement carries its event (CometBFT
// sends it); one announced by its id alone is not (it is not saved).
func WithServiceFilter(keep func(serviceID uint64) bool) Option {
	return func(w *Watcher) { w.keep = keep }
}

// WithBehind reports a node whose latest height is below the cursor: a
// chain reset under the same data_dir, or a node far behind. f is called
// with both heights after each read of the latest height while it is below
// the cursor, and once more (latest >= cursor) when the node has passed the
// cursor again, so a status page can show the state and clear it. f runs on
// the watcher's goroutine and must not block.
func WithBehind(f func(latest, cursor int64)) Option { return func(w *Watcher) { w.behind = f } }

// WithSendQueue sets how much saved work may wait for the pipeline in
// memory (default 4096). The watcher keeps reading blocks, and reporting
// heights, while the queue has room; when it is full the pipeline is far
// behind and the watcher waits for it.
func WithSendQueue(n int) Option { return func(w *Watcher) { w.queueCap = n } }
