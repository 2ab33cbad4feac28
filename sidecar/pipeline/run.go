package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/x/avs/types"
)

// execute runs a job with the service's config and limits, records the
// outcome under key and queues the vote — the result, or the failure with
// its reason when the component failed; on a COMMIT_REVEAL task
// (commitDeadline set) the commit, the reveal to follow (reveal.go). It
// reports whether it voted. An error is transient: nothing was recorded,
// the work is to be retried.
func (p *Pipeline) execute(ctx context.Context, key string, svc types.Service, job executor.Job, vote submitter.Vote, commitDeadline int64) (bool, error) {
	p.metrics.TaskSeen()
	if svc.Manifest.HandlerContract != "" {
		vote.ExtraGas = p.handlerGas // the handler is told of a failure too
	}
	l := svc.Manifest.Limits
	pages := uint64(l.MemoryPages)
	if p.memoryBudget > 0 && pages > p.memoryBudget {
		p.log.Warn("the service's memory limit exceeds the whole memory budget: voting a memory failure without running it; raise the sidecar's memory budget (memory_budget_pages in its config, pages of 64 KiB) to run it",
			"work", key, "service", svc.Id, "memory_pages", pages, "budget_pages", p.memoryBudget)
		p.metrics.TaskFailed("memory")
		return p.voteFailure(ctx, key, vote, commitDeadline, types.FAILURE_REASON_MEMORY,
			fmt.Sprintf("memory_pages %d exceed the operator's memory budget of %d pages", pages, p.memoryBudget))
	}
	wasm, err := p.component(ctx, job.Digest)
	if err != nil {
		return false, err
	}
	job.Config = svc.Manifest.ConfigMap()
	job.Limits = executor.Limits{
		Time: time.Duration(l.TimeMs) * time.Millisecond, MemoryPages: l.MemoryPages,
		OutputBytes: l.OutputBytes, HTTPAllowList: l.HttpAllowList,
	}

	// The crash guard (H4): the run is counted on disk before it starts and
	// the count cleared once it returns, so a count left over is a run the
	// process did not survive.
	n, err := p.store.StartAttempt(key)
	if err != nil {
		return false, fmt.Errorf("record the run's start: %w", err)
	}
	if n > p.maxCrashes {
		return p.quarantine(ctx, key, svc, vote, commitDeadline, n-1)
	}
	res, err := p.run(ctx, key, job, wasm, pages)
	if cerr := p.store.ClearAttempts(key); cerr != nil {
		p.log.Warn("could not clear the run count (a restart counts the run as a crash)", "work", key, "err", cerr)
	}
	if ctx.Err() != nil {
		// Shutdown cut the run short: whatever it returned, it is no answer.
		return false, ctx.Err()
	}
	if err != nil {
		failure, ok := executor.FailureReason(err)
		if !ok {
			// Not the component's doing (the executor closed, a compile
			// error): nothing recorded, the work is retried until its
			// deadline (M3).
			return false, fmt.Errorf("run the component: %w", err)
		}
		// An honest failure is an answer, not a miss (security review H-2):
		// the operators' quorum of failures ends the task FAILED.
		p.metrics.TaskFailed(reason(err))
		p.log.Warn("component failed: voting the failure", "work", key, "service", svc.Id, "reason", failure.Short(), "err", err, "logs", res.Logs)
		return p.voteFailure(ctx, key, vote, commitDeadline, failure, err.Error())
	}
	p.metrics.TaskExecuted(res.Duration)
	p.log.Debug("task executed", "work", key, "service", svc.Id, "result_bytes", len(res.Output), "took", res.Duration)
	vote.Result = res.Output
	return p.record(ctx, key, vote, commitDeadline, store.Execution{Result: res.Output})
}

// record saves the outcome of a run and queues its vote (queueVote). On a
// COMMIT_REVEAL task whose commit phase is over before the outcome (a slow
// run), nothing is queued: the chain would refuse the commit, so the task is
// lost for this operator.
func (p *Pipeline) record(ctx context.Context, key string, vote submitter.Vote, commitDeadline int64, e store.Execution) (bool, error) {
	e.ExtraGas, e.CommitDeadline = vote.ExtraGas, commitDeadline
	if err := p.store.SetExecuted(key, e); err != nil {
		return false, err
	}
	if commitDeadline != 0 && p.commitPhaseOver(ctx, commitDeadline) {
		p.log.Info("the commit phase ended before the component's outcome: no vote on this COMMIT_REVEAL task", "work", key,
			"commit_deadline", commitDeadline)
		p.metrics.WorkGivenUp("commit_closed")
		return false, nil
	}
	return true, p.queueVote(key, vote, commitDeadline)
}

// quarantine votes a memory failure for work whose runs took the process
// down (H4): a component that kills the sidecar is, in practice, one that
// eats the machine's memory.
func (p *Pipeline) quarantine(ctx context.Context, key string, svc types.Service, vote submitter.Vote, commitDeadline int64, crashes int) (bool, error) {
	p.log.Error("the component's runs took the process down: voting a memory failure instead of running it again",
		"work", key, "service", svc.Id, "crashes", crashes, "max", p.maxCrashes)
	p.metrics.TaskFailed("memory")
	voted, err := p.voteFailure(ctx, key, vote, commitDeadline, types.FAILURE_REASON_MEMORY,
		fmt.Sprintf("the process died during %d runs of the component", crashes))
	if err != nil {
		p.log.Error("could not vote the failure of work that crashes the process: giving it up", "work", key, "err", err)
		p.metrics.WorkGivenUp("crashes")
		return false, nil
	}
	if cerr := p.store.ClearAttempts(key); cerr != nil {
		p.log.Warn("could not clear the run count", "work", key, "err", cerr)
	}
	return voted, nil
}

// voteFailure records a failure and queues its vote.
func (p *Pipeline) voteFailure(ctx context.Context, key string, vote submitter.Vote, commitDeadline int64, failure types.FailureReason, why string) (bool, error) {
	vote.Failure = failure
	return p.record(ctx, key, vote, commitDeadline, store.Execution{Error: why, Failure: failure})
}

// run runs the job, holding its memory from the budget, and runs it again
// after a failure that may pass (M3): see WithRunRetries. It stops retrying
// when the work's deadline has passed.
func (p *Pipeline) run(ctx context.Context, key string, job executor.Job, wasm []byte, pages uint64) (executor.Result, error) {
	for try := 0; ; try++ {
		res, err := p.runOnce(ctx, job, wasm, pages)
		if err == nil || ctx.Err() != nil || !p.rerun(err, try) {
			return res, err
		}
		if d, ok := p.deadline(key); ok && p.expired(ctx, d) {
			return res, err
		}
		wait := p.runBackoff << min(try, 10)
		p.log.Info("run failed for a reason that may pass: running it again", "work", key, "try", try+1, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (p *Pipeline) runOnce(ctx context.Context, job executor.Job, wasm []byte, pages uint64) (executor.Result, error) {
	if p.memory != nil {
		if err := p.memory.Acquire(ctx, int64(pages)); err != nil {
			return executor.Result{}, err
		}
		defer p.memory.Release(int64(pages))
	}
	return p.runner.Run(ctx, job, wasm)
}

// transient is implemented by an error the executor knows may pass (a
// chain_query failure, say): such a run is retried as an http_fetch one.
type transient interface{ Transient() bool }

// rerun reports whether a run that failed with err on try (from 0) is run
// again. A host-call failure may pass (the server, the network, the node):
// up to runRetries more runs. A timeout may be CPU contention on this
// machine rather than the component: one more run, since voting TIME while
// peers vote a result costs this operator the task. Trap, exit, memory and
// output failures are deterministic.
func (p *Pipeline) rerun(err error, try int) bool {
	var t transient
	switch {
	case errors.Is(err, executor.ErrMemory), errors.Is(err, executor.ErrOutputTooLarge):
		return false
	case errors.Is(err, executor.ErrHTTP), errors.As(err, &t) && t.Transient():
		return try < p.runRetries
	case errors.Is(err, executor.ErrTimeout):
		return try < min(p.runRetries, 1)
	}
	return false
}
