package pipeline_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

const (
	createdAt = int64(20) // the block the tasks below were created in
	deadline  = int64(70)
)

// created is the work of task id of service 3, created in epoch at height
// createdAt under revision 1, as the watcher hands it over: with its event,
// which carries the input.
func created(id, epoch uint64) watcher.Work {
	return watcher.Work{ID: id, ServiceID: 3, Height: createdAt, Created: &types.EventTaskCreated{
		TaskId: id, ServiceId: 3, ComponentDigest: digest, DeadlineHeight: deadline, Epoch: epoch,
		Input: []byte(`{"task":"from the event"}`), InputInEvent: true, ServiceRevision: 1,
		Origin: types.Origin{Kind: types.ORIGIN_KIND_TX}, CreatedTime: blockTime,
	}}
}

// eventFixture is a fixture whose service 3 is at revision 1, whose
// snapshots of epochs 4 (current) hold the operator, with the watcher's head
// at head (WithHead).
func eventFixture(t *testing.T, head *atomic.Int64, opts ...pipeline.Option) *fixture {
	t.Helper()
	head.Store(createdAt)
	f := newFixture(t, append([]pipeline.Option{pipeline.WithHead(head.Load)}, opts...)...)
	svc := f.chain.services[3]
	svc.Revision = 1
	f.chain.services[3] = svc
	f.chain.snapshots[3] = types.PowerSnapshot{ServiceId: 3, Epoch: 4, Total: 20, Powers: []types.OperatorPower{
		{Operator: "avs1other", Power: 10}, {Operator: operator, Power: 10},
	}}
	return f
}

// Tasks whose events carry their input are run without Query/Task: one
// snapshot read per (service, epoch), one manifest read per (service,
// revision), no height read (the watcher's head), however many tasks and
// however concurrent.
func TestTasksFromEventsNeedNoQueryPerTask(t *testing.T) {
	var head atomic.Int64
	f := eventFixture(t, &head)
	ctx := context.Background()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for id := uint64(1); id <= n; id++ {
		wg.Go(func() { errs <- f.p.Handle(ctx, created(id, 4)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	require.Zero(t, f.chain.called("TaskFor"), "no Query/Task")
	require.Equal(t, 1, f.chain.called("CurrentSnapshot"), "one snapshot read for (service 3, epoch 4)")
	require.Equal(t, 1, f.chain.called("TaskService"), "one manifest read for (service 3, revision 1)")
	require.Zero(t, f.chain.called("LatestHeight"), "deadlines judged against the watcher's head")
	require.Len(t, f.voter.queued(), n)
	jobs := f.runner.ran()
	require.Len(t, jobs, n)
	for _, job := range jobs {
		require.NotZero(t, job.TaskID)
		require.Equal(t, digest, job.Digest)
		require.Equal(t, uint64(3), job.ServiceID)
		require.Equal(t, createdAt, job.BlockHeight, "the task's block")
		require.True(t, job.BlockTime.Equal(blockTime), "the event's created_time")
		require.JSONEq(t, `{"task":"from the event"}`, string(job.Input))
		require.Equal(t, map[string]string{"MODE": "fast"}, job.Config, "revision 1's manifest")
	}
	for _, v := range f.voter.queued() {
		require.Equal(t, deadline, v.Deadline)
		require.Equal(t, []byte(output), v.Result)
	}
	d, ok, err := f.store.Deadline(store.WorkKey(1, nil))
	require.NoError(t, err)
	require.True(t, ok, "the deadline is recorded for the retries and pruning")
	require.Equal(t, deadline, d)

	// The next epoch's snapshot is read once more.
	f.chain.snapshots[3] = types.PowerSnapshot{ServiceId: 3, Epoch: 5, Total: 10, Powers: []types.OperatorPower{{Operator: operator, Power: 10}}}
	require.NoError(t, f.p.Handle(ctx, created(n+1, 5)))
	require.NoError(t, f.p.Handle(ctx, created(n+2, 5)))
	require.Equal(t, 2, f.chain.called("CurrentSnapshot"))
	require.Zero(t, f.chain.called("TaskFor"))
	require.Len(t, f.voter.queued(), n+2)
}

// What the pipeline decides from the event alone, and when it asks for the
// task instead.
func TestTaskFromEvent(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []pipeline.Option
		malleate func(f *fixture, w *watcher.Work, head *atomic.Int64)
		// queried: Query/Task was asked; ran: the component ran and was voted.
		queried, ran bool
	}{
		{name: "from the event", ran: true},
		{
			name: "input not in the event: asked", queried: true, ran: true,
			malleate: func(_ *fixture, w *watcher.Work, _ *atomic.Int64) {
				w.Created.Input, w.Created.InputInEvent = nil, false
			},
		},
		{
			name: "empty input in the event: run as is", ran: true,
			malleate: func(_ *fixture, w *watcher.Work, _ *atomic.Int64) { w.Created.Input = nil },
		},
		{
			name: "replayed from the store (no event): asked", queried: true, ran: true,
			malleate: func(_ *fixture, w *watcher.Work, _ *atomic.Int64) { w.Created = nil },
		},
		{
			name: "not in the epoch's snapshot",
			malleate: func(f *fixture, _ *watcher.Work, _ *atomic.Int64) {
				f.chain.snapshots[3] = types.PowerSnapshot{ServiceId: 3, Epoch: 4, Total: 10, Powers: []types.OperatorPower{{Operator: "avs1other", Power: 10}}}
			},
		},
		{
			name: "the epoch moved on: asked", queried: true, ran: true,
			malleate: func(f *fixture, _ *watcher.Work, _ *atomic.Int64) {
				f.chain.snapshots[3] = types.PowerSnapshot{ServiceId: 3, Epoch: 5, Total: 10, Powers: []types.OperatorPower{{Operator: "avs1other", Power: 10}}}
			},
		},
		{
			name: "the node has no snapshot yet: asked", queried: true, ran: true,
			malleate: func(f *fixture, _ *watcher.Work, _ *atomic.Int64) { delete(f.chain.snapshots, 3) },
		},
		{
			name: "opened by an event-trigger vote: not run",
			malleate: func(_ *fixture, w *watcher.Work, _ *atomic.Int64) {
				w.Created.Origin = types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: "event:3/5//0"}
			},
		},
		{
			name: "service not run (WithServices)", opts: []pipeline.Option{pipeline.WithServices(map[uint64]bool{4: true})},
		},
		{
			name:     "past its deadline at the watcher's head (L6)",
			malleate: func(_ *fixture, _ *watcher.Work, head *atomic.Int64) { head.Store(deadline + 1) },
		},
		{
			name: "later blocks, no late-vote policy at stake: from the event", ran: true,
			malleate: func(_ *fixture, _ *watcher.Work, head *atomic.Int64) { head.Store(createdAt + 3) },
		},
		{
			// H1: a late vote on a COMPLETED MEDIAN task is skipped by
			// default; once blocks passed the status may be that, and only
			// Query/Task tells.
			name: "MEDIAN service, later blocks: asked (the task completed)", queried: true,
			malleate: func(f *fixture, _ *watcher.Work, head *atomic.Int64) {
				median(f)
				f.chain.tasks[1] = types.Task{Id: 1, ServiceId: 3, Status: types.TASK_STATUS_COMPLETED, ComponentDigest: digest,
					ServiceRevision: 1, CreatedHeight: createdAt, DeadlineHeight: deadline}
				head.Store(createdAt + 1)
			},
		},
		{
			name: "MEDIAN service, the task's block the latest: from the event", ran: true,
			malleate: func(f *fixture, _ *watcher.Work, _ *atomic.Int64) { median(f) },
		},
		{
			name: "MEDIAN service, late votes on all: from the event", ran: true,
			opts: []pipeline.Option{pipeline.WithLateVotes(pipeline.LateVotesAll)},
			malleate: func(f *fixture, _ *watcher.Work, head *atomic.Int64) {
				median(f)
				head.Store(createdAt + 5)
			},
		},
		{
			name: "no late votes, later blocks: asked (the task failed)", queried: true,
			opts: []pipeline.Option{pipeline.WithLateVotes(pipeline.LateVotesNone)},
			malleate: func(f *fixture, _ *watcher.Work, head *atomic.Int64) {
				f.chain.tasks[1] = types.Task{Id: 1, ServiceId: 3, Status: types.TASK_STATUS_FAILED, ComponentDigest: digest,
					ServiceRevision: 1, CreatedHeight: createdAt, DeadlineHeight: deadline}
				head.Store(createdAt + 1)
			},
		},
		{
			name: "the vote was sent (the store says so)",
			malleate: func(f *fixture, _ *watcher.Work, _ *atomic.Int64) {
				require.NoError(t, f.store.MarkSubmitted(store.WorkKey(1, nil), "TX"))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var head atomic.Int64
			f := eventFixture(t, &head, tc.opts...)
			f.chain.tasks[1] = types.Task{
				Id: 1, ServiceId: 3, Input: []byte(`{"task":"from the event"}`), Status: types.TASK_STATUS_PENDING,
				Origin: types.Origin{Kind: types.ORIGIN_KIND_TX}, ComponentDigest: digest, ServiceRevision: 1,
				CreatedHeight: createdAt, CreatedTime: blockTime, DeadlineHeight: deadline,
			}
			w := created(1, 4)
			if tc.malleate != nil {
				tc.malleate(f, &w, &head)
			}
			require.NoError(t, f.p.Handle(context.Background(), w))
			require.Equal(t, tc.queried, f.chain.called("TaskFor") > 0, "Query/Task asked")
			if !tc.ran {
				require.Empty(t, f.runner.ran())
				require.Empty(t, f.voter.queued())
				return
			}
			jobs := f.runner.ran()
			require.Len(t, jobs, 1)
			require.Equal(t, uint64(1), jobs[0].TaskID)
			require.Equal(t, w.Created == nil || !w.Created.InputInEvent || len(w.Created.Input) > 0, len(jobs[0].Input) > 0)
			require.Equal(t, []submitter.Vote{{TaskID: 1, Result: []byte(output), Deadline: deadline}}, f.voter.queued())
		})
	}
}

// A COMMIT_REVEAL task is committed to from its event, which carries its
// commit deadline; an event without one (from a node before it was there)
// makes the pipeline ask for the task.
func TestCommitRevealTaskFromEvent(t *testing.T) {
	for _, tc := range []struct {
		name           string
		commitDeadline int64
		queried        bool
	}{
		{name: "commit deadline in the event: no query", commitDeadline: createdAt + 3},
		{name: "no commit deadline in the event: asked", queried: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var head atomic.Int64
			f := eventFixture(t, &head)
			svc := f.chain.services[3]
			svc.Manifest.VoteMode = types.VOTE_MODE_COMMIT_REVEAL
			f.chain.services[3] = svc
			f.chain.tasks[1] = types.Task{
				Id: 1, ServiceId: 3, Input: []byte(`{"task":"from the event"}`), Status: types.TASK_STATUS_PENDING,
				Origin: types.Origin{Kind: types.ORIGIN_KIND_TX}, ComponentDigest: digest, ServiceRevision: 1,
				CreatedHeight: createdAt, CreatedTime: blockTime, DeadlineHeight: deadline, CommitDeadlineHeight: createdAt + 3,
			}
			w := created(1, 4)
			w.Created.CommitDeadlineHeight = tc.commitDeadline
			require.NoError(t, f.p.Handle(context.Background(), w))
			require.Equal(t, tc.queried, f.chain.called("TaskFor") > 0, "Query/Task asked")
			votes := f.voter.queued()
			require.Len(t, votes, 1)
			require.Len(t, votes[0].Commitment, types.CommitmentSize, "a commitment, not a vote in the clear")
			require.Empty(t, votes[0].Result)
		})
	}
}

// COMMIT_REVEAL tasks are committed to and revealed from their events and
// the block stream, without Query/Task, although the watcher hands each
// task over twice (from the websocket and from its block's results) and a
// copy may come after the reveal was queued: a copy finds the task's stages
// in hand and queues nothing, and keeps the work saved (voted) so that a
// restart before the reveal is submitted still reveals (crash_test.go).
func TestCommitRevealTasksFromEventsNeedNoQueryPerTask(t *testing.T) {
	var head atomic.Int64
	f := eventFixture(t, &head)
	svc := f.chain.services[3]
	svc.Manifest.VoteMode, svc.Manifest.CommitBlocks = types.VOTE_MODE_COMMIT_REVEAL, 3
	f.chain.services[3] = svc
	ctx := context.Background()
	const n = 20
	work := func(id uint64) watcher.Work {
		w := created(id, 4)
		w.Created.CommitDeadlineHeight = createdAt + 3
		return w
	}
	copyHandled := func(id uint64, what string) {
		t.Helper()
		voted, err := f.p.HandleVoted(ctx, work(id))
		require.NoError(t, err)
		require.True(t, voted, "%s of task %d: reported voted, so the work stays saved until the reveal is submitted", what, id)
	}
	var closed []uint64
	for id := uint64(1); id <= n; id++ {
		copyHandled(id, "the websocket's copy")
		copyHandled(id, "the block's copy")
		closed = append(closed, id)
	}
	require.Zero(t, f.chain.called("TaskFor"), "no Query/Task for the commits")
	require.Len(t, f.voter.queued(), n, "one commit per task")

	head.Store(createdAt + 1)
	f.p.Block(watcher.Block{Height: createdAt + 1, CommitsClosed: closed})
	votes := f.voter.queued()
	require.Len(t, votes, 2*n, "one reveal per task")
	for id := uint64(1); id <= n; id++ {
		copyHandled(id, "a copy read after the reveal was queued")
	}
	f.p.Block(watcher.Block{Height: createdAt + 2})
	f.p.Block(watcher.Block{Height: createdAt + 3})

	require.Zero(t, f.chain.called("TaskFor"), "no Query/Task")
	require.Equal(t, votes, f.voter.queued(), "nothing queued again")
	for i, v := range votes {
		if i < n {
			require.Len(t, v.Commitment, types.CommitmentSize, "vote %d: a commit", i)
			require.Equal(t, createdAt+3, v.Deadline)
			continue
		}
		require.Equal(t, saltOf(t, f.store, v.TaskID), v.Salt, "vote %d: a reveal", i)
		require.Equal(t, []byte(output), v.Result)
		require.Equal(t, deadline, v.Deadline)
	}
	require.Len(t, f.runner.ran(), n, "each task run once")

	f.p.Block(watcher.Block{Height: deadline})
	require.Equal(t, n, f.p.StagesInHand(), "kept while a copy could still resume the work")
	f.p.Block(watcher.Block{Height: deadline + 1})
	require.Zero(t, f.p.StagesInHand(), "forgotten past the tasks' deadline: a copy is dropped as expired")
}
