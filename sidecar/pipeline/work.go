package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// handle runs a task, or an event a trigger matched, if it still needs this
// operator's vote, and reports whether a vote was queued. An error is
// transient (the chain could not be read); outcomes of the component itself
// are recorded, not returned.
func (p *Pipeline) handle(ctx context.Context, w watcher.Work) (bool, error) {
	if w.Event != nil {
		return p.handleEvent(ctx, w)
	}
	return p.handleTask(ctx, w.ID)
}

// handleTask runs the task with this id (work the watcher found by task id).
func (p *Pipeline) handleTask(ctx context.Context, id uint64) (bool, error) {
	key := store.WorkKey(id, nil)
	if handled, requeued, err := p.resumeSaved(key, submitter.Vote{TaskID: id}); err != nil || handled {
		return requeued, err
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
	svc, err := p.chain.TaskService(ctx, task)
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
func (p *Pipeline) handleEvent(ctx context.Context, t watcher.Work) (bool, error) {
	ref := *t.Event
	key := store.WorkKey(0, &ref)
	vote := submitter.Vote{Event: &ref}
	if handled, requeued, err := p.resumeSaved(key, vote); err != nil || handled {
		return requeued, err
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

// resumeSaved picks up work this operator already did, from the store:
// handled is true when nothing more is to be done (the vote was sent, or the
// work was run before), requeued when the saved result's vote was queued again
// (the submitter drops it if it was sent meanwhile).
func (p *Pipeline) resumeSaved(key string, vote submitter.Vote) (handled, requeued bool, err error) {
	if done, err := p.store.Submitted(key); err != nil || done {
		return done, false, err
	}
	prev, ok, err := p.store.Executed(key)
	if err != nil || !ok {
		return false, false, err
	}
	if prev.Error == "" || prev.Failure.IsFailure() {
		vote.Result, vote.Failure, vote.ExtraGas = prev.Result, prev.Failure, prev.ExtraGas
		return true, true, p.voter.Enqueue(vote)
	}
	return true, false, nil
}

// execute runs a job with the service's config and limits, records the
// outcome under key and queues the vote — the result, or the failure with
// its reason when the component failed; it reports whether it voted.
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
	if svc.Manifest.HandlerContract != "" {
		vote.ExtraGas = p.handlerGas // the handler is told of a failure too
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return false, ctx.Err()
		}
		p.metrics.TaskFailed(reason(err))
		failure, ok := executor.FailureReason(err)
		if !ok {
			p.log.Warn("run failed, not the component's doing: no vote", "work", key, "service", svc.Id, "err", err)
			return false, p.store.SetExecuted(key, store.Execution{Error: err.Error()})
		}
		// An honest failure is an answer, not a miss (security review H-2):
		// the operators' quorum of failures ends the task FAILED.
		p.log.Warn("component failed: voting the failure", "work", key, "service", svc.Id, "reason", failure.Short(), "err", err, "logs", res.Logs)
		vote.Failure = failure
		if err := p.store.SetExecuted(key, store.Execution{Error: err.Error(), Failure: failure, ExtraGas: vote.ExtraGas}); err != nil {
			return false, err
		}
		return true, p.voter.Enqueue(vote)
	}
	p.metrics.TaskExecuted(res.Duration)
	p.log.Info("task executed", "work", key, "service", svc.Id, "result_bytes", len(res.Output), "took", res.Duration)
	vote.Result = res.Output
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
		{executor.ErrMemory, "memory"}, {executor.ErrHTTP, "http"},
		{executor.ErrTimeout, "timeout"}, {executor.ErrOutputTooLarge, "output_too_large"},
		{executor.ErrExit, "exit"}, {executor.ErrTrap, "trap"}, {executor.ErrInstantiate, "instantiate"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}
