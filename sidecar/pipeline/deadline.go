package pipeline

import (
	"context"

	"github.com/avschain/avschain/x/avs/types"
)

// noteDeadline remembers the last height at which a vote on the work
// counts: in memory for the retries (H6), in the store for pruning (M12).
func (p *Pipeline) noteDeadline(key string, height int64) {
	p.mu.Lock()
	p.deadlines[key] = height
	p.mu.Unlock()
	if err := p.store.SetDeadline(key, height); err != nil {
		p.log.Warn("could not record the work's deadline (its records will not be pruned)", "work", key, "err", err)
	}
}

// deadline returns the work's deadline if it was ever read.
func (p *Pipeline) deadline(key string) (int64, bool) {
	p.mu.Lock()
	d, ok := p.deadlines[key]
	p.mu.Unlock()
	if ok {
		return d, true
	}
	d, ok, err := p.store.Deadline(key)
	if err != nil {
		return 0, false
	}
	return d, ok
}

// height is the chain's latest height: the one the watcher read last
// (WithHead), so that judging a deadline costs no call per task, or the
// node's answer while no head is known.
func (p *Pipeline) height(ctx context.Context) (int64, error) {
	if p.head != nil {
		if h := p.head(); h > 0 {
			return h, nil
		}
	}
	return p.chain.LatestHeight(ctx)
}

// expired reports whether the chain is past the height: a vote on work with
// this deadline no longer counts. When the height cannot be read the work is
// not expired (the vote is tried; the chain refuses it if it is late).
func (p *Pipeline) expired(ctx context.Context, deadline int64) bool {
	h, err := p.height(ctx)
	return err == nil && h > deadline
}

// skipExpired drops work whose deadline has passed (L6), reporting it.
func (p *Pipeline) skipExpired(ctx context.Context, key string, deadline int64) bool {
	if !p.expired(ctx, deadline) {
		return false
	}
	p.pastDeadline(key, deadline)
	return true
}

// pastDeadline reports work dropped because its deadline has passed.
func (p *Pipeline) pastDeadline(key string, deadline int64) {
	p.log.Info("work past its deadline: not run", "work", key, "deadline", deadline)
	p.metrics.WorkGivenUp("deadline")
}

// lateVote reports whether the operator votes on a task in this status
// (WithLateVotes): always on a PENDING one, never on an EXPIRED one.
func (p *Pipeline) lateVote(task types.Task, svc types.Service) bool {
	switch task.Status {
	case types.TASK_STATUS_PENDING:
		return true
	case types.TASK_STATUS_COMPLETED:
		switch p.late {
		case LateVotesAll:
			return true
		case LateVotesExceptMedian:
			return svc.Manifest.Aggregation.Mode != types.AGGREGATION_MODE_MEDIAN
		}
		return false
	case types.TASK_STATUS_FAILED:
		return p.late != LateVotesNone
	}
	return false
}
