// Package watcher finds the x/avs tasks to run: it follows new blocks and
// task events over the CometBFT websocket, and reads every block's events with
// block_results from a persisted cursor, so a sidecar that was down misses
// nothing. It sends each created task once per block it appears in; the
// pipeline drops repeats.
package watcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/avschain/avschain/sidecar/chain"
)

// Source is the chain as the watcher reads it.
type Source interface {
	LatestHeight(ctx context.Context) (int64, error)
	BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error)
	Subscribe(ctx context.Context) (<-chan chain.Notification, error)
	NextRPC()
}

// Cursor persists the last block whose events were read.
type Cursor interface {
	Cursor() (int64, error)
	SetCursor(height int64) error
}

// Task is a task the watcher saw created.
type Task struct {
	ID        uint64
	ServiceID uint64
	Height    int64 // 0 when it came from the websocket before its block was read
}

// Watcher emits created tasks and new heights.
type Watcher struct {
	src     Source
	cursor  Cursor
	tasks   chan<- Task
	heights chan<- int64
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

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(w *Watcher) { w.log = l } }

// New returns a watcher sending tasks to out.
func New(src Source, cursor Cursor, out chan<- Task, opts ...Option) (*Watcher, error) {
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

// Start runs until ctx ends.
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
	go w.subscribe(ctx, notes)

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
				w.send(ctx, Task{ID: n.TaskID})
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

// sweep reads blocks last+1..latest, emitting their tasks, and advances the cursor.
func (w *Watcher) sweep(ctx context.Context, last, latest int64) (int64, error) {
	for h := last + 1; h <= latest; h++ {
		res, err := w.src.BlockResults(ctx, h)
		if err != nil {
			return last, fmt.Errorf("block_results %d: %w", h, err)
		}
		for _, txr := range res.TxsResults {
			if txr.Code != 0 {
				continue
			}
			for _, e := range txr.Events {
				if ev, ok := chain.ParseTaskCreated(e); ok {
					w.send(ctx, Task{ID: ev.TaskId, ServiceID: ev.ServiceId, Height: h})
				}
			}
		}
		for _, e := range res.FinalizeBlockEvents {
			if ev, ok := chain.ParseTaskCreated(e); ok {
				w.send(ctx, Task{ID: ev.TaskId, ServiceID: ev.ServiceId, Height: h})
			}
		}
		if err := w.cursor.SetCursor(h); err != nil {
			return last, fmt.Errorf("save cursor: %w", err)
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

func (w *Watcher) send(ctx context.Context, t Task) {
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
