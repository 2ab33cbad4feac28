// Package watcher finds the work to do: it follows new blocks and task
// events over the CometBFT websocket, and reads every block's events with
// block_results from a persisted cursor, so a sidecar that was down misses
// nothing. It sends each created task once per block it appears in, and each
// event an event trigger matches (found by a Matcher); the pipeline drops
// repeats. The work a block holds is saved with the cursor, in one write, so
// that work read but not yet handled survives a restart (the pipeline
// replays it).
package watcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// Source is the chain as the watcher reads it.
type Source interface {
	LatestHeight(ctx context.Context) (int64, error)
	BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error)
	Subscribe(ctx context.Context) (<-chan chain.Notification, error)
	NextRPC()
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
// match. An error leaves the block to be read again.
type Matcher interface {
	Match(ctx context.Context, height int64, res *coretypes.ResultBlockResults) ([]Work, error)
}

// Work is a unit of work the watcher found: a created task, or an event an
// event trigger matched (Event set, ID 0: the vote names the event).
type Work struct {
	ID        uint64          `json:"id,omitempty"`
	ServiceID uint64          `json:"service_id,omitempty"`
	Height    int64           `json:"height,omitempty"` // 0 when it came from the websocket before its block was read
	Event     *types.EventRef `json:"event,omitempty"`
	// BlockTime is the time of the event's block (event work only).
	BlockTime time.Time `json:"block_time,omitempty"`
}

// Key names the work in the store (store.WorkKey).
func (t Work) Key() string { return store.WorkKey(t.ID, t.Event) }

// DecodeWork reads work saved by Advance.
func DecodeWork(bz []byte) (Work, error) {
	var t Work
	if err := json.Unmarshal(bz, &t); err != nil {
		return Work{}, fmt.Errorf("corrupt saved work: %w", err)
	}
	if t.ID == 0 && t.Event == nil {
		return Work{}, errors.New("corrupt saved work: neither id nor event")
	}
	return t, nil
}

// Watcher emits created tasks and new heights.
type Watcher struct {
	src     Source
	cursor  Cursor
	tasks   chan<- Work
	heights chan<- int64
	matcher Matcher
	catchUp int64
	poll    time.Duration
	log     *slog.Logger
}

// Option configures a Watcher.
type Option func(*Watcher)

// WithCatchUp sets how far back a first start (no cursor) looks for tasks.
func WithCatchUp(blocks int64) Option { return func(w *Watcher) { w.catchUp = blocks } }

// WithPollInterval sets how often the watcher polls when the websocket is quiet.
func WithPollInterval(d time.Duration) Option { return func(w *Watcher) { w.poll = d } }

// WithHeights makes the watcher send each new height it has read to ch.
func WithHeights(ch chan<- int64) Option { return func(w *Watcher) { w.heights = ch } }

// WithMatcher makes the watcher look for the events of event triggers.
func WithMatcher(m Matcher) Option { return func(w *Watcher) { w.matcher = m } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(w *Watcher) { w.log = l } }

// New returns a watcher sending tasks to out.
func New(src Source, cursor Cursor, out chan<- Work, opts ...Option) (*Watcher, error) {
	if src == nil || cursor == nil || out == nil {
		return nil, errors.New("watcher: source, cursor and output channel are required")
	}
	w := &Watcher{src: src, cursor: cursor, tasks: out, catchUp: 200, poll: 2 * time.Second, log: slog.Default()}
	for _, o := range opts {
		o(w)
	}
	if w.catchUp < 0 || w.poll <= 0 {
		return nil, fmt.Errorf("watcher: catch-up %d and poll interval %s must not be negative", w.catchUp, w.poll)
	}
	return w, nil
}

// Start runs until ctx ends, and returns once the websocket subscription it
// keeps has ended too.
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

	notes := make(chan chain.Notification, 256)
	var wg sync.WaitGroup
	defer wg.Wait() // the subscription ends with ctx: Start returns after it
	wg.Go(func() { w.subscribe(ctx, notes) })

	ticker := time.NewTicker(w.poll)
	defer ticker.Stop()
	for {
		latest, err := w.src.LatestHeight(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("latest height", "err", err)
		} else if last, err = w.sweep(ctx, last, latest); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("reading blocks", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case n := <-notes:
			if n.TaskID != 0 {
				w.send(ctx, Work{ID: n.TaskID})
			}
		case <-ticker.C:
		}
	}
}

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

// sweep reads blocks last+1..latest, saves the work in each with the cursor,
// then emits it.
func (w *Watcher) sweep(ctx context.Context, last, latest int64) (int64, error) {
	for h := last + 1; h <= latest; h++ {
		res, err := w.src.BlockResults(ctx, h)
		if err != nil {
			return last, fmt.Errorf("block_results %d: %w", h, err)
		}
		var found []Work
		for _, txr := range res.TxsResults {
			if txr.Code != 0 {
				continue
			}
			for _, e := range txr.Events {
				if ev, ok := chain.ParseTaskCreated(e); ok {
					found = append(found, Work{ID: ev.TaskId, ServiceID: ev.ServiceId, Height: h})
				}
			}
		}
		for _, e := range res.FinalizeBlockEvents {
			if ev, ok := chain.ParseTaskCreated(e); ok {
				found = append(found, Work{ID: ev.TaskId, ServiceID: ev.ServiceId, Height: h})
			}
		}
		if w.matcher != nil {
			matched, err := w.matcher.Match(ctx, h, res)
			if err != nil {
				return last, fmt.Errorf("matching the events of block %d: %w", h, err)
			}
			found = append(found, matched...)
		}
		work := make(map[string][]byte, len(found))
		for _, t := range found {
			bz, err := json.Marshal(t)
			if err != nil {
				return last, err
			}
			work[t.Key()] = bz
		}
		if err := w.cursor.Advance(h, work); err != nil {
			return last, fmt.Errorf("save cursor: %w", err)
		}
		for _, t := range found {
			w.send(ctx, t)
		}
		last = h
		if w.heights != nil {
			select {
			case w.heights <- h:
			default:
			}
		}
	}
	return last, nil
}

func (w *Watcher) send(ctx context.Context, t Work) {
	select {
	case w.tasks <- t:
	case <-ctx.Done():
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
		backoff = time.Second
		for n := range ch {
			select {
			case notes <- n:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() == nil {
			w.log.Warn("websocket closed; reconnecting")
		}
	}
}
