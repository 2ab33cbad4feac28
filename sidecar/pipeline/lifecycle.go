package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avschain/avschain/sidecar/watcher"
)

// Start handles tasks until ctx ends, at most concurrency at a time. Work
// that fails for a transient reason (the chain could not be read) is retried
// with a capped backoff until its deadline has passed (H6). Work left
// unfinished by an earlier run is handled first. The records of work past
// its deadline are pruned every WithPruneEvery. Start returns once every
// goroutine it started has ended: the warm-up, the reveals' block loop, the
// workers, the pruning and the retries (held in a delay queue this loop drains) all stop with it
// (skip-mev/connect oracle/lifecycle.go).
func (p *Pipeline) Start(ctx context.Context) error {
	backlog, err := p.replay()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { p.warm(ctx) })
	wg.Go(func() { p.watchBlocks(ctx) })
	var pruneTick <-chan time.Time
	if p.pruneEvery > 0 {
		t := time.NewTicker(p.pruneEvery)
		defer t.Stop()
		pruneTick = t.C
	}
	var pruning atomic.Bool
	sem := make(chan struct{}, p.concurrency)
	for {
		var t watcher.Work
		if len(backlog) > 0 {
			if ctx.Err() != nil {
				return nil
			}
			t, backlog = backlog[0], backlog[1:]
		} else {
			select {
			case <-ctx.Done():
				return nil
			case t = <-p.work:
			case <-p.retries.Added():
				continue
			case <-p.retries.Next():
				backlog = p.retries.Due()
				continue
			case <-pruneTick:
				if pruning.CompareAndSwap(false, true) {
					wg.Go(func() {
						defer pruning.Store(false)
						_, _ = p.prune(ctx)
					})
				}
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
			voted, err := p.handle(ctx, t)
			switch {
			case err == nil && !voted:
				p.done(key)
			case err == nil:
				// The vote is queued in memory only: the work stays saved
				// until the store records the vote submitted.
				p.forget(key)
			case ctx.Err() == nil:
				p.retryLater(ctx, t, err)
			}
		})
	}
}

// replay returns the work the watcher saved and no run finished.
func (p *Pipeline) replay() ([]watcher.Work, error) {
	saved, err := p.store.Inbox()
	if err != nil {
		return nil, fmt.Errorf("read the saved work: %w", err)
	}
	if len(saved) == 0 {
		return nil, nil
	}
	p.log.Info("resuming work read before the last stop", "items", len(saved))
	var work []watcher.Work
	for key, bz := range saved {
		t, err := watcher.DecodeWork(bz)
		if err != nil {
			p.log.Warn("dropping saved work", "key", key, "err", err)
			p.done(key)
			continue
		}
		work = append(work, t)
	}
	return work, nil
}

// forget drops what memory holds about work.
func (p *Pipeline) forget(key string) {
	p.mu.Lock()
	delete(p.attempts, key)
	delete(p.deadlines, key)
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

// retryLater queues t again after a backoff (doubling, capped by
// WithRetryCap); Start's loop takes it back. Work is given up only once its
// deadline is known and has passed: while the node is down the deadline may
// never have been read, and the work waits for the node (H6).
func (p *Pipeline) retryLater(ctx context.Context, t watcher.Work, err error) {
	key := t.Key()
	if d, ok := p.deadline(key); ok && p.expired(ctx, d) {
		p.log.Warn("giving up on work: its deadline passed while it failed", "work", key, "deadline", d, "err", err)
		p.metrics.WorkGivenUp("deadline")
		p.done(key)
		return
	}
	p.mu.Lock()
	p.attempts[key]++
	n := p.attempts[key]
	p.mu.Unlock()
	wait := min(500*time.Millisecond<<min(n-1, 16), p.retryCap)
	p.metrics.WorkRetried()
	// One line at the first failure and every tenth: a node down for an
	// hour must not flood the log.
	if n == 1 || n%10 == 0 {
		p.log.Warn("work not handled; retrying until its deadline", "work", key, "attempt", n, "in", wait, "err", err)
	}
	p.retries.Add(t, wait)
}

// prune forgets the records of work whose deadline passed more than the
// prune margin ago (M12). It returns how many units were forgotten.
func (p *Pipeline) prune(ctx context.Context) (int, error) {
	h, err := p.chain.LatestHeight(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the height to prune below: %w", err)
	}
	n, err := p.store.Prune(h - p.pruneMargin)
	if n > 0 {
		p.metrics.WorkPruned(n)
		p.log.Info("pruned the records of expired work", "units", n, "below_deadline", h-p.pruneMargin)
	}
	if err != nil {
		p.log.Warn("pruning the records of expired work failed (retried at the next prune)", "err", err)
	}
	return n, err
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
