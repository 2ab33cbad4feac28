// Package watcher finds the work to do: it follows new blocks and task
// events over the CometBFT websocket, and reads every block's events with
// block_results from a persisted cursor, so a sidecar that was down misses
// nothing. It sends each created task once per block it appears in, and each
// event an event trigger matches (found by a Matcher); the pipeline drops
// repeats. The work a block holds is saved with the cursor, in one write, so
// that work read but not yet handled survives a restart (the pipeline
// replays it). Saved work waits for the pipeline in a bounded queue, so the
// watcher keeps reading blocks and reporting heights while the pipeline is
// busy. A created task's work carries its EventTaskCreated when the event
// holds the task's input, so that the pipeline runs it without a query; the
// latest height read (Head) lets the pipeline judge deadlines without one.
// Each block read is reported to WithBlocks with the COMMIT_REVEAL tasks
// whose commit phase closed in it, so their reveals go out in the next block.
//
// The watcher never wedges on one block (review H7). A block whose results
// cannot be read, or whose events cannot be matched, is retried with a
// backoff a bounded number of times (WithRetry). A block the node cannot
// serve (below its earliest height, or failing every retry while the latest
// block is served: discard_abci_responses) is then skipped with an error log
// and a BlocksSkipped metric, and the open tasks created in the skipped
// blocks are recovered through Query/Tasks (WithRecovery) and saved with the
// cursor like other work; their event matches are lost. A block that cannot
// be matched keeps its created tasks. A node that serves no block results at
// all is waited for, not skipped past.
//
// A node whose latest height is below the cursor (a chain reset under the
// same data_dir, or a node far behind) is logged as an error once a minute
// and reported to WithBehind (review H3). WithServiceFilter drops the work
// of services the operator does not run (review M7).
package watcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// Source is the chain as the watcher reads it.
type Source interface {
	LatestHeight(ctx context.Context) (int64, error)
	BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error)
	// EarliestHeight is the earliest block the node holds: blocks below it
	// are gone for good.
	EarliestHeight(ctx context.Context) (int64, error)
	Subscribe(ctx context.Context) (<-chan chain.Notification, error)
	NextRPC()
}

// TaskLister finds the tasks created in blocks the watcher had to skip
// (chain.Client implements it).
type TaskLister interface {
	OperatorServices(ctx context.Context, operator string) ([]uint64, error)
	// TasksCreatedSince returns a service's tasks created at fromHeight or
	// later.
	TasksCreatedSince(ctx context.Context, serviceID uint64, fromHeight int64) ([]types.Task, error)
}

// Metrics is told the chain head and the blocks skipped (metrics.Sink
// implements it).
type Metrics interface {
	ChainHead(h int64)
	BlocksSkipped(n int64)
}

// Cursor persists the last block whose events were read, with the work found
// in it.
type Cursor interface {
	Cursor() (int64, error)
	// Advance records height as read and work (encoded tasks by key) as to
	// do, in one write.
	Advance(height int64, work map[string][]byte) error
}

// Matcher finds the events of a block that the operator's event triggers
// match. An error leaves the block to be read again, up to the attempts
// WithRetry allows; then the block is saved without its matches.
type Matcher interface {
	Match(ctx context.Context, height int64, res *coretypes.ResultBlockResults) ([]Work, error)
}

// Work is a unit of work the watcher found: a created task, or an event an
// event trigger matched (Event set, ID 0: the vote names the event).
type Work struct {
	ID        uint64 `json:"id,omitempty"`
	ServiceID uint64 `json:"service_id,omitempty"`
	// Height is the block the task was created in, or the event's (0 for a
	// task announced over the websocket by a node that sent no height).
	Height int64           `json:"height,omitempty"`
	Event  *types.EventRef `json:"event,omitempty"`
	// BlockTime is the time of the event's block (event work only).
	BlockTime time.Time `json:"block_time,omitempty"`
	// Created is the task's EventTaskCreated when it carries the input
	// (input_in_event): the pipeline can then run the task without asking
	// the chain for it. It is kept in memory only: work read back from the
	// store after a restart is looked up again.
	Created *types.EventTaskCreated `json:"-"`
}

// createdWork is the work of a task a block's EventTaskCreated announced.
func createdWork(ev *types.EventTaskCreated, height int64) Work {
	t := Work{ID: ev.TaskId, ServiceID: ev.ServiceId, Height: height}
	if ev.InputInEvent {
		t.Created = ev
	}
	return t
}

// Key names the work in the store (store.WorkKey).
func (t Work) Key() string { return store.WorkKey(t.ID, t.Event) }

// Block is a block the watcher read, as WithBlocks reports it once its
// work is saved: its height, and the COMMIT_REVEAL tasks whose commit phase
// closed in it at quorum (EventCommitsClosed), whose reveals the next block
// accepts. It is a signal, not work: it is not saved, since a restart reads
// the tasks' state from the chain.
type Block struct {
	Height        int64
	CommitsClosed []uint64
}

// ErrCorruptWork is DecodeWork's error: the saved bytes are not work.
var ErrCorruptWork = errors.New("corrupt saved work")

// DecodeWork reads work saved by Advance.
func DecodeWork(bz []byte) (Work, error) {
	var t Work
	if err := json.Unmarshal(bz, &t); err != nil {
		return Work{}, fmt.Errorf("%w: %w", ErrCorruptWork, err)
	}
	if t.ID == 0 && t.Event == nil {
		return Work{}, fmt.Errorf("%w: neither id nor event", ErrCorruptWork)
	}
	return t, nil
}

// Watcher emits created tasks and new heights.
type Watcher struct {
	src        Source
	cursor     Cursor
	tasks      chan<- Work
	heights    chan<- int64
	blocks     chan<- Block
	matcher    Matcher
	catchUp    int64
	poll       time.Duration
	attempts   int
	maxBackoff time.Duration
	lister     TaskLister
	operator   string
	keep       func(serviceID uint64) bool
	behind     func(latest, cursor int64)
	queueCap   int
	metrics    Metrics
	log        *slog.Logger

	// head is the latest height read from the node (0 before the first).
	head atomic.Int64

	// The loop's state, owned by Start's goroutine.
	queue        chan Work // saved work waiting for the pipeline
	fail         failure   // the block being retried
	skipping     bool      // the last unreadable block was skipped: skip the next at once
	probed       int64     // a latest height whose results were read this sweep
	isBehind     bool
	behindLogged time.Time
}

// failure is a block that could not be read or matched, tried again after
// a backoff.
type failure struct {
	height   int64
	attempts int
	backoff  time.Duration
	retryAt  time.Time
}

// behindLogEvery bounds the "node below the cursor" error to one a minute.
const behindLogEvery = time.Minute

// New returns a watcher sending tasks to out.
func New(src Source, cursor Cursor, out chan<- Work, opts ...Option) (*Watcher, error) {
	if src == nil || cursor == nil || out == nil {
		return nil, errors.New("watcher: source, cursor and output channel are required")
	}
	w := &Watcher{
		src: src, cursor: cursor, tasks: out, catchUp: 200, poll: 2 * time.Second,
		attempts: 8, maxBackoff: 30 * time.Second, queueCap: 4096, metrics: metrics.Nop(), log: slog.Default(),
	}
	for _, o := range opts {
		o(w)
	}
	if w.catchUp < 0 || w.poll <= 0 {
		return nil, fmt.Errorf("watcher: catch-up %d and poll interval %s must not be negative", w.catchUp, w.poll)
	}
	if w.attempts < 1 || w.maxBackoff <= 0 || w.queueCap < 1 {
		return nil, fmt.Errorf("watcher: retry attempts %d, longest backoff %s and send queue %d must be positive", w.attempts, w.maxBackoff, w.queueCap)
	}
	if w.lister != nil && w.operator == "" {
		return nil, errors.New("watcher: recovery needs the operator's address")
	}
	return w, nil
}

// Start runs until ctx ends, and returns once the goroutines it owns (the
// websocket subscription, the sender to the pipeline) have ended too.
func (w *Watcher) Start(ctx context.Context) error {
	last, err := w.cursor.Cursor()
	if err != nil {
		return fmt.Errorf("read cursor: %w", err)
	}
	if last == 0 {
		latest, err := w.waitLatest(ctx)
		if err != nil {
			return err
		}
		last = max(0, latest-w.catchUp)
		w.log.Info("no cursor: starting from a recent block", "height", last+1, "latest", latest)
	} else {
		w.log.Info("resuming from cursor", "height", last+1)
	}

	w.queue = make(chan Work, w.queueCap)
	notes := make(chan chain.Notification, 256)
	var wg sync.WaitGroup
	defer wg.Wait() // both end with ctx: Start returns after them
	wg.Go(func() { w.subscribe(ctx, notes) })
	wg.Go(func() { w.forward(ctx) })

	ticker := time.NewTicker(w.poll)
	defer ticker.Stop()
	for {
		latest, err := w.src.LatestHeight(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			w.log.Warn("latest height", "err", err)
		default:
			last = w.step(ctx, last, latest)
		}
		if !w.wait(ctx, notes, ticker.C) {
			return nil
		}
	}
}

// wait sends the tasks the websocket announces until a new block is
// announced or the poll interval ticks; it reports false when ctx ends. A
// task's announcement does not read the latest height again: its block's
// own announcement does, once per block rather than once per task.
func (w *Watcher) wait(ctx context.Context, notes <-chan chain.Notification, tick <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case n := <-notes:
			if n.TaskID == 0 {
				return true
			}
			t := Work{ID: n.TaskID}
			if n.Task != nil {
				t = createdWork(n.Task, n.Height)
				if w.keep != nil && !w.keep(t.ServiceID) {
					continue
				}
			}
			w.enqueue(ctx, t)
		case <-tick:
			return true
		}
	}
}

// Head is the latest height the watcher has read from the node (0 before
// its first read): the pipeline judges deadlines against it instead of
// asking the node for each task. Safe for concurrent use.
func (w *Watcher) Head() int64 { return w.head.Load() }

func (w *Watcher) waitLatest(ctx context.Context) (int64, error) {
	for {
		h, err := w.src.LatestHeight(ctx)
		if err == nil {
			return h, nil
		}
		w.log.Warn("waiting for the chain", "err", err)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(w.poll):
		}
	}
}

// step handles one read of the latest height: it reports a node below the
// cursor, or reads the new blocks unless a failed block waits for its retry.
func (w *Watcher) step(ctx context.Context, last, latest int64) int64 {
	w.metrics.ChainHead(latest)
	w.head.Store(latest)
	if latest < last {
		w.reportBehind(latest, last)
		return last
	}
	if w.isBehind {
		w.isBehind = false
		w.log.Info("the node has passed the cursor again; reading blocks", "latest", latest, "cursor", last)
		if w.behind != nil {
			w.behind(latest, last)
		}
	}
	if time.Now().Before(w.fail.retryAt) {
		return last
	}
	last, err := w.sweep(ctx, last, latest)
	if err != nil && ctx.Err() == nil {
		w.log.Warn("reading blocks", "err", err, "attempt", w.fail.attempts, "retry_in", w.fail.backoff)
	}
	return last
}

// reportBehind tells WithBehind, and the log once a minute, that the node is
// below the cursor.
func (w *Watcher) reportBehind(latest, cursor int64) {
	w.isBehind = true
	if w.behind != nil {
		w.behind(latest, cursor)
	}
	if !w.behindLogged.IsZero() && time.Since(w.behindLogged) < behindLogEvery {
		return
	}
	w.behindLogged = time.Now()
	w.log.Error("the node's latest height is below the cursor: the chain was reset, or the node is far behind; no block is read until it passes the cursor",
		"latest", latest, "cursor", cursor,
		"next", "if the chain was relaunched, stop the sidecar and start it with a new data_dir; if the node is syncing, wait for it or list a synced node in rpc_endpoints")
}

// sweep reads blocks last+1..latest, saves the work in each with the cursor,
// then emits it. A block the node cannot serve is skipped (skip.go).
func (w *Watcher) sweep(ctx context.Context, last, latest int64) (int64, error) {
	w.probed = 0
	var pending *skipped // unreadable blocks not recorded yet
	flush := func() error {
		if pending == nil {
			return nil
		}
		if err := w.skip(ctx, *pending, latest); err != nil {
			return w.retry(pending.from, err)
		}
		last, pending = pending.to, nil
		return nil
	}
	for h := last + 1; h <= latest; h++ {
		res, err := w.src.BlockResults(ctx, h)
		if err != nil {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			to, ok := w.unreadable(ctx, h, latest)
			if !ok {
				if ferr := flush(); ferr != nil {
					return last, ferr
				}
				return last, w.retry(h, fmt.Errorf("block_results %d: %w", h, err))
			}
			if pending == nil {
				pending = &skipped{from: h}
			}
			pending.to, pending.err = to, err
			h = to
			continue
		}
		if err := flush(); err != nil {
			return last, err
		}
		found, closed, err := w.collect(ctx, h, res)
		if err != nil {
			return last, w.retry(h, err)
		}
		if err := w.save(ctx, h, found, closed); err != nil {
			return last, err
		}
		w.fail, w.skipping = failure{}, false
		last = h
	}
	return last, flush()
}

// collect returns the work of a block: its created tasks and its event
// matches, of the services the filter keeps; and the tasks whose commit
// phase closed in it (they are voted by MsgSubmitResults, whose events are
// in the transactions' results).
func (w *Watcher) collect(ctx context.Context, h int64, res *coretypes.ResultBlockResults) ([]Work, []uint64, error) {
	var found []Work
	var closed []uint64
	add := func(t Work) {
		if w.keep == nil || w.keep(t.ServiceID) {
			found = append(found, t)
		}
	}
	for _, txr := range res.TxsResults {
		if txr.Code != 0 {
			continue
		}
		for _, e := range txr.Events {
			if ev, ok := chain.ParseTaskCreated(e); ok {
				add(createdWork(ev, h))
			} else if ev, ok := chain.ParseCommitsClosed(e); ok && w.blocks != nil {
				closed = append(closed, ev.TaskId)
			}
		}
	}
	for _, e := range res.FinalizeBlockEvents {
		if ev, ok := chain.ParseTaskCreated(e); ok {
			add(createdWork(ev, h))
		}
	}
	if w.matcher == nil {
		return found, closed, nil
	}
	matched, err := w.matcher.Match(ctx, h, res)
	if err != nil {
		if ctx.Err() != nil || !w.lastAttempt(h) {
			return nil, nil, fmt.Errorf("matching the events of block %d: %w", h, err)
		}
		w.log.Error("the events of a block could not be matched after every retry: moving past them, the block's event-trigger work is lost (its created tasks are kept)",
			"height", h, "attempts", w.attempts, "err", err)
	}
	for _, t := range matched {
		add(t)
	}
	return found, closed, nil
}

// save records the block as read with its work, reports the height (and the
// block to WithBlocks), then queues the work for the pipeline: work is saved
// before it is sent.
func (w *Watcher) save(ctx context.Context, h int64, found []Work, closed []uint64) error {
	work := make(map[string][]byte, len(found))
	for _, t := range found {
		bz, err := json.Marshal(t)
		if err != nil {
			return err
		}
		work[t.Key()] = bz
	}
	if err := w.cursor.Advance(h, work); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	if w.heights != nil {
		select {
		case w.heights <- h:
		default:
		}
	}
	if w.blocks != nil {
		// Not dropped: a commit phase's close is what makes a reveal go out
		// in the next block. Its reader only queues reveals, never waits on
		// a component run.
		select {
		case w.blocks <- Block{Height: h, CommitsClosed: closed}:
		case <-ctx.Done():
		}
	}
	for _, t := range found {
		w.enqueue(ctx, t)
	}
	return nil
}

// enqueue queues work for the pipeline, waiting while the queue is full.
func (w *Watcher) enqueue(ctx context.Context, t Work) {
	select {
	case w.queue <- t:
	case <-ctx.Done():
	}
}

// forward hands the queued work to the pipeline, in order, until ctx ends.
// Queued work is in the store: what ctx cuts off is replayed on restart.
func (w *Watcher) forward(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-w.queue:
			select {
			case w.tasks <- t:
			case <-ctx.Done():
				return
			}
		}
	}
}

// subscribe keeps a websocket subscription open, moving to the next RPC
// endpoint and backing off when it fails.
func (w *Watcher) subscribe(ctx context.Context, notes chan<- chain.Notification) {
	backoff := time.Second
	for ctx.Err() == nil {
		ch, err := w.src.Subscribe(ctx)
		if err != nil {
			w.log.Warn("websocket subscription failed; polling meanwhile", "err", err, "retry_in", backoff)
			w.src.NextRPC()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		began := time.Now()
		for n := range ch {
			select {
			case notes <- n:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		// A node that accepts and soon drops the connection is not
		// reconnected to in a tight loop: only a subscription that lasted
		// resets the backoff.
		if time.Since(began) >= time.Minute {
			backoff = time.Second
		}
		w.log.Warn("websocket closed; reconnecting (polling meanwhile)", "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
