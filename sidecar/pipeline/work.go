package pipeline

import (
	"context"
	"errors"
	"fmt"

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
	return p.handleTask(ctx, w)
}

// handleTask runs the task of work the watcher found by task id if a vote
// from this operator still counts on it (see the package doc): from the
// task's event when it carries what that takes (created.go), else from
// Query/Task.
func (p *Pipeline) handleTask(ctx context.Context, w watcher.Work) (bool, error) {
	id := w.ID
	key := store.WorkKey(id, nil)
	if handled, requeued, err := p.resumeSaved(ctx, key, submitter.Vote{TaskID: id}); err != nil || handled {
		return requeued, err
	}
	task, svc, run, decided, err := p.fromEvent(ctx, w)
	if err == nil && !decided {
		task, svc, run, err = p.fromQuery(ctx, key, id)
	}
	if err != nil || !run {
		return false, err
	}
	job := executor.Job{
		Digest: task.ComponentDigest, TaskID: task.Id, ServiceID: task.ServiceId, ChainID: p.chainID,
		BlockHeight: task.CreatedHeight, BlockTime: task.CreatedTime, Input: task.Input,
	}
	return p.execute(ctx, key, svc, job, submitter.Vote{TaskID: id, Deadline: task.DeadlineHeight}, task.CommitDeadlineHeight)
}

// fromQuery reads the task with Query/Task and reports whether to run it.
func (p *Pipeline) fromQuery(ctx context.Context, key string, id uint64) (task types.Task, svc types.Service, run bool, err error) {
	res, err := p.chain.TaskFor(ctx, id, p.operator)
	if err != nil {
		return task, svc, false, fmt.Errorf("query task %d: %w", id, err)
	}
	task = res.Task
	if p.services != nil && !p.services[task.ServiceId] {
		return task, svc, false, nil
	}
	switch {
	case task.Origin.IsEventOrigin():
		// A task an event-trigger vote opened is answered from this operator's
		// own reading of the event (the watcher's match), never from the input
		// the opener claimed.
		return task, svc, false, nil
	case !res.InSnapshot:
		// The chain refuses a vote from outside the task's snapshot, whatever
		// the opt-ins are now.
		p.log.Debug("not in the task's snapshot: no vote", "work", key, "service", task.ServiceId)
		return task, svc, false, nil
	case res.Voted:
		return task, svc, false, nil
	case task.Status == types.TASK_STATUS_EXPIRED || p.skipExpired(ctx, key, task.DeadlineHeight):
		return task, svc, false, nil
	}
	// Known from here on: the retries stop at it (H6), pruning goes by it (M12).
	p.noteDeadline(key, task.DeadlineHeight)
	if task.ServiceRevision > 0 {
		svc, err = p.revision(ctx, task.ServiceId, task.ServiceRevision)
	} else {
		svc, err = p.chain.TaskService(ctx, task)
	}
	if err != nil {
		return task, svc, false, fmt.Errorf("query service %d: %w", task.ServiceId, err)
	}
	if !p.lateVote(task, svc) {
		p.log.Debug("task ended before this operator voted: no late vote (see WithLateVotes)",
			"work", key, "service", task.ServiceId, "status", task.Status.String())
		return task, svc, false, nil
	}
	return task, svc, true, nil
}

// handleEvent runs the component of the service an event trigger matched on
// the event's input and votes with the event's reference.
func (p *Pipeline) handleEvent(ctx context.Context, t watcher.Work) (bool, error) {
	ref := *t.Event
	key := store.WorkKey(0, &ref)
	vote := submitter.Vote{Event: &ref}
	if handled, requeued, err := p.resumeSaved(ctx, key, vote); err != nil || handled {
		return requeued, err
	}
	if p.services != nil && !p.services[ref.ServiceId] {
		return false, nil
	}
	// No task exists yet, so no snapshot to ask: the opt-ins decide.
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
	if ref.Height <= svc.UpdatedHeight {
		// The service changed after the event: peers do not match it (the
		// trigger package matches events above updated_height only), so a
		// vote run with the new code would stand alone.
		p.log.Info("event before the service's last update: no vote", "service", ref.ServiceId, "work", key,
			"event_height", ref.Height, "updated_height", svc.UpdatedHeight)
		return false, nil
	}
	// The event task's deadline, estimated: peers vote right after the
	// event, and the task they open ends a task timeout after that.
	deadline := ref.Height + int64(svc.Manifest.TimeoutOr(p.defaultTimeout))
	if p.skipExpired(ctx, key, deadline) {
		return false, nil
	}
	p.noteDeadline(key, deadline)
	vote.Deadline = deadline
	job := executor.Job{
		Digest: svc.Manifest.ComponentDigest, ServiceID: ref.ServiceId, ChainID: p.chainID,
		BlockHeight: ref.Height, BlockTime: t.BlockTime, Input: ref.Input,
	}
	return p.execute(ctx, key, svc, job, vote, 0) // an event task is OPEN
}

// resumeSaved picks up work this operator already did, from the store:
// handled is true when nothing more is to be done (the vote was sent, the
// work was run before, or its deadline has passed), requeued when the saved
// result's vote was queued again (the submitter drops it if it was sent
// meanwhile): on a COMMIT_REVEAL task, its commit and its reveal.
func (p *Pipeline) resumeSaved(ctx context.Context, key string, vote submitter.Vote) (handled, requeued bool, err error) {
	if done, err := p.store.Submitted(key); err != nil || done {
		return done, false, err
	}
	prev, ok, err := p.store.Executed(key)
	if err != nil || !ok {
		return false, false, err
	}
	d, known := p.deadline(key)
	if known && p.skipExpired(ctx, key, d) {
		return true, false, nil
	}
	vote.Deadline = d
	if prev.Error == "" || prev.Failure.IsFailure() {
		vote.Result, vote.Failure, vote.ExtraGas = prev.Result, prev.Failure, prev.ExtraGas
		if prev.CommitDeadline != 0 {
			return true, true, p.resumeCommitReveal(ctx, key, vote, prev.CommitDeadline)
		}
		return true, true, p.voter.Enqueue(vote)
	}
	// A record of an error that was not the component's, from a version
	// that recorded those: run again.
	return false, false, nil
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
