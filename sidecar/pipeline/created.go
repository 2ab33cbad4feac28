package pipeline

import (
	"context"
	"fmt"

	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Running a task from its EventTaskCreated, without Query/Task: the event
// carries the input, the deadline, the epoch, the revision and the origin;
// whether the operator is in the task's snapshot comes from the epoch's
// snapshot, read once per (service, epoch); the manifest of the revision is
// read once per (service, revision); the deadline is judged against the
// height the watcher last read. The task's status is not in the event: it
// is PENDING while the task's block is the latest, and after that it only
// matters when WithLateVotes skips some ended tasks, which then go through
// Query/Task.

// snapshotsKept is how many epochs of a service the snapshot cache keeps.
const snapshotsKept = 4

// membership is what the pipeline knows of the operator's place in a
// (service, epoch) snapshot.
type membership struct {
	known bool // false: the snapshot was not served (the epoch moved on)
	in    bool
}

// fromEvent builds the task the watcher's work carries and reports decided
// when no query of the task is needed: run tells whether to run it (a vote
// still counts). decided is false when the event lacks what it takes (no
// input, no revision, work replayed from the store), when the snapshot of
// the task's epoch is no longer served, or when the task's status could
// change the answer (see WithLateVotes) and the task may have ended.
func (p *Pipeline) fromEvent(ctx context.Context, w watcher.Work) (task types.Task, svc types.Service, run, decided bool, err error) {
	ev := w.Created
	if ev == nil || !ev.InputInEvent || ev.ServiceRevision == 0 || w.Height <= 0 || ev.TaskId != w.ID {
		return task, svc, false, false, nil
	}
	key := w.Key()
	switch {
	case p.services != nil && !p.services[ev.ServiceId]:
		return task, svc, false, true, nil
	case ev.Origin.IsEventOrigin():
		// As on the query path: answered from this operator's own match.
		return task, svc, false, true, nil
	}
	m, err := p.inSnapshot(ctx, ev.ServiceId, ev.Epoch)
	if err != nil {
		p.log.Debug("the epoch's snapshot could not be read: asking for the task", "work", key, "err", err)
		return task, svc, false, false, nil
	}
	switch {
	case !m.known:
		return task, svc, false, false, nil
	case !m.in:
		p.log.Debug("not in the task's snapshot: no vote", "work", key, "service", ev.ServiceId)
		return task, svc, false, true, nil
	}
	h, herr := p.height(ctx)
	if herr == nil && h > ev.DeadlineHeight {
		p.pastDeadline(key, ev.DeadlineHeight)
		return task, svc, false, true, nil
	}
	// Known from here on: the retries stop at it (H6), pruning goes by it (M12).
	p.noteDeadline(key, ev.DeadlineHeight)
	if svc, err = p.revision(ctx, ev.ServiceId, ev.ServiceRevision); err != nil {
		return task, svc, false, false, fmt.Errorf("query service %d revision %d: %w", ev.ServiceId, ev.ServiceRevision, err)
	}
	if svc.Manifest.VoteMode == types.VOTE_MODE_COMMIT_REVEAL && ev.CommitDeadlineHeight == 0 {
		// An event of a node before commit_deadline_height was in it.
		return task, svc, false, false, nil
	}
	if p.statusMatters(svc) && (herr != nil || h > w.Height) {
		// Votes may have ended the task since its block: its status
		// decides, and only the chain knows it.
		return task, svc, false, false, nil
	}
	task = types.Task{
		Id: ev.TaskId, ServiceId: ev.ServiceId, Input: ev.Input, Origin: ev.Origin,
		CreatedHeight: w.Height, CreatedTime: ev.CreatedTime, DeadlineHeight: ev.DeadlineHeight,
		Status: types.TASK_STATUS_PENDING, Epoch: ev.Epoch, ComponentDigest: ev.ComponentDigest,
		ServiceRevision: ev.ServiceRevision, CommitDeadlineHeight: ev.CommitDeadlineHeight,
	}
	return task, svc, true, true, nil
}

// statusMatters reports whether a task's status can change whether this
// operator votes on it before its deadline (WithLateVotes): whether an ended
// task of svc is skipped.
func (p *Pipeline) statusMatters(svc types.Service) bool {
	for _, s := range []types.TaskStatus{types.TASK_STATUS_COMPLETED, types.TASK_STATUS_FAILED} {
		if !p.lateVote(types.Task{Status: s}, svc) {
			return true
		}
	}
	return false
}

// inSnapshot reports whether the operator is in the service's snapshot of
// epoch, reading the current epoch's snapshot once per (service, epoch).
func (p *Pipeline) inSnapshot(ctx context.Context, service, epoch uint64) (membership, error) {
	return p.snapshots.get([2]uint64{service, epoch}, func() (m membership, keep bool, err error) {
		snap, err := p.chain.CurrentSnapshot(ctx, service)
		if err != nil {
			return m, false, err
		}
		switch {
		case snap.Total > 0 && snap.Epoch == epoch:
			m.known = true
			for _, op := range snap.Powers {
				if op.Operator == p.operator {
					m.in = true
					break
				}
			}
		case snap.Total > 0 && snap.Epoch > epoch:
			// The epoch moved on; its snapshot is no longer served: the
			// rest of its tasks are asked for (m.known false, kept).
		default:
			// The node has not seen the task's epoch (it lags): ask again
			// for the next task.
			return m, false, nil
		}
		return m, true, nil
	})
}

// olderSnapshot tells which kept (service, epoch) snapshot a newly kept one
// drops: the service's epochs snapshotsKept or more before it.
func olderSnapshot(kept, added [2]uint64) bool {
	return kept[0] == added[0] && kept[1]+snapshotsKept <= added[1]
}

// revision returns the service with the manifest of one of its revisions,
// read once per (service, revision): a revision's manifest never changes.
func (p *Pipeline) revision(ctx context.Context, service, revision uint64) (types.Service, error) {
	return p.revisions.get([2]uint64{service, revision}, func() (types.Service, bool, error) {
		svc, err := p.chain.TaskService(ctx, types.Task{ServiceId: service, ServiceRevision: revision})
		if err != nil {
			return types.Service{}, false, err
		}
		return svc, svc.Revision == revision, nil
	})
}
