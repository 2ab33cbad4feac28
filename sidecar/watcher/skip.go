package watcher

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/avschain/avschain/x/avs/types"
)

// skipped is a run of blocks the node cannot serve.
type skipped struct {
	from, to int64
	err      error // the last block_results error
}

// retry records a failed try of block h and when to try again: after the
// poll interval, doubling up to the longest backoff. It returns err.
func (w *Watcher) retry(h int64, err error) error {
	if w.fail.height != h {
		w.fail = failure{height: h}
	}
	w.fail.attempts++
	w.fail.backoff = min(max(w.poll, 2*w.fail.backoff), w.maxBackoff)
	w.fail.retryAt = time.Now().Add(w.fail.backoff)
	return err
}

// lastAttempt reports whether the try of block h now failing is the last one
// WithRetry allows.
func (w *Watcher) lastAttempt(h int64) bool {
	return w.fail.height == h && w.fail.attempts+1 >= w.attempts
}

// unreadable decides, after block_results h failed, whether the node cannot
// serve block h (and blocks up to the one returned): the block is below the
// node's earliest height (pruned, state sync), or it failed every retry, or
// the block before it was skipped, while the node serves the latest block's
// results (discard_abci_responses keeps only those). A node that serves no
// block results at all is failing, not missing blocks: it is waited for.
func (w *Watcher) unreadable(ctx context.Context, h, latest int64) (int64, bool) {
	if earliest, err := w.src.EarliestHeight(ctx); err == nil && earliest > h {
		return min(earliest-1, latest), true
	}
	if !w.skipping && !w.lastAttempt(h) {
		return 0, false
	}
	if !w.servesResults(ctx, h, latest) {
		if !w.skipping {
			w.log.Warn("the node serves no block results, not even the latest block's: waiting for it rather than skipping blocks; check the node or list another in rpc_endpoints",
				"height", h, "latest", latest)
		}
		return 0, false
	}
	w.skipping = true
	return h, true
}

// servesResults reports whether the node serves the results of a block after
// h (the latest), asking once a sweep.
func (w *Watcher) servesResults(ctx context.Context, h, latest int64) bool {
	if latest <= h {
		return false // nothing later to compare with: wait for the next block
	}
	if w.probed == latest {
		return true
	}
	if _, err := w.src.BlockResults(ctx, latest); err != nil {
		return false
	}
	w.probed = latest
	return true
}

// skip moves the cursor past blocks the node cannot serve, saving with it the
// open tasks created in them.
func (w *Watcher) skip(ctx context.Context, s skipped, latest int64) error {
	work, err := w.recover(ctx, s.from, s.to, latest)
	if err != nil {
		return fmt.Errorf("skipping blocks %d-%d: recovering their tasks: %w", s.from, s.to, err)
	}
	// The skipped blocks' closed commit phases are lost too: the reveals
	// wait for their tasks' commit deadlines (the pipeline's fallback).
	if err := w.save(ctx, s.to, work, nil); err != nil {
		return err
	}
	n := s.to - s.from + 1
	w.metrics.BlocksSkipped(n)
	w.log.Error("skipped blocks whose results the node cannot serve: their open tasks were recovered from the chain, their event-trigger matches are lost; to avoid this, read from a node that keeps block results (discard_abci_responses = false, min-retain-blocks above the sidecar's longest downtime)",
		"from", s.from, "to", s.to, "blocks", n, "recovered", len(work), "err", s.err)
	return nil
}

// recover lists the tasks created in blocks from..to that can still be
// voted (not expired, deadline not before latest), of each service the
// operator is opted in to and the filter keeps, oldest first. Tasks of
// every status but expired count: a late vote still counts for liveness.
func (w *Watcher) recover(ctx context.Context, from, to, latest int64) ([]Work, error) {
	if w.lister == nil {
		w.log.Error("no task recovery configured: the tasks created in the skipped blocks will not be voted", "from", from, "to", to)
		return nil, nil
	}
	ids, err := w.lister.OperatorServices(ctx, w.operator)
	if err != nil {
		return nil, fmt.Errorf("the operator's services: %w", err)
	}
	var out []Work
	for _, id := range ids {
		if w.keep != nil && !w.keep(id) {
			continue
		}
		tasks, err := w.lister.TasksCreatedSince(ctx, id, from)
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			if t.CreatedHeight < from || t.CreatedHeight > to || t.Status == types.TASK_STATUS_EXPIRED || t.DeadlineHeight < latest {
				continue
			}
			out = append(out, Work{ID: t.Id, ServiceID: t.ServiceId, Height: t.CreatedHeight})
		}
	}
	slices.SortFunc(out, func(a, b Work) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
