package pipeline_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

const (
	crTask         = uint64(7)
	commitDeadline = int64(15)
	crDeadline     = int64(40)
)

// commitRevealTask is task 7 of service 3 voted by commit and reveal: its
// commit phase ends at height 15, the task at 40 (the chain is at 10).
func commitRevealTask() types.Task {
	t := taskOf(crTask, types.TASK_STATUS_PENDING, crDeadline)
	t.CommitDeadlineHeight = commitDeadline
	return t
}

// saltOf returns the salt the store holds for a task.
func saltOf(t *testing.T, st pipeline.Store, id uint64) []byte {
	t.Helper()
	salt, ok, err := st.Salt(store.WorkKey(id, nil))
	require.NoError(t, err)
	require.True(t, ok, "a salt is saved for task %d", id)
	require.Len(t, salt, types.CommitmentSize)
	return salt
}

// The commit of a COMMIT_REVEAL task hides its outcome (a result, or a
// failure) with a salt saved in the store; its reveal waits for the commit
// phase to close: queued right after the block that closed it at quorum,
// or that reached the commit deadline, and never before; it is given up when
// it could no longer land by the task's deadline.
func TestCommitRevealTaskIsCommittedThenRevealed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		runErr error
		// blocks are the blocks read after the commit is queued; revealAt is
		// the index of the one after which the reveal is queued (-1: never).
		blocks   []watcher.Block
		revealAt int
	}{
		{name: "closed at quorum", blocks: []watcher.Block{
			{Height: 11}, {Height: 12, CommitsClosed: []uint64{99}}, {Height: 12, CommitsClosed: []uint64{crTask}}, {Height: 13},
		}, revealAt: 2},
		{name: "commit deadline reached", blocks: []watcher.Block{{Height: 13}, {Height: 14}, {Height: 15}, {Height: 16}}, revealAt: 2},
		{name: "a failure", runErr: fmt.Errorf("%w: exit code 3", executor.ErrExit),
			blocks: []watcher.Block{{Height: 11, CommitsClosed: []uint64{crTask}}}, revealAt: 0},
		{name: "the task's deadline came first", blocks: []watcher.Block{{Height: 14}, {Height: crDeadline}, {Height: crDeadline + 1}}, revealAt: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newCountingMetrics()
			f := newFixture(t, pipeline.WithMetrics(m))
			f.chain.tasks[crTask] = commitRevealTask()
			f.runner.err = tc.runErr
			require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: crTask}))

			salt := saltOf(t, f.store, crTask)
			e, ok, err := f.store.Executed("7")
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, commitDeadline, e.CommitDeadline, "the vote mode is recorded with the outcome")
			failure, _ := executor.FailureReason(tc.runErr)
			var result []byte
			if tc.runErr == nil {
				result = []byte(output)
			}
			require.Equal(t, []submitter.Vote{{
				TaskID: crTask, Deadline: commitDeadline,
				Commitment: types.VoteCommitment(chainID, crTask, operator, result, failure, salt),
			}}, f.voter.queued(), "the commit, and only the commit")

			reveal := submitter.Vote{TaskID: crTask, Result: result, Failure: failure, Salt: salt, Deadline: crDeadline}
			for i, b := range tc.blocks {
				f.p.Block(b)
				votes := f.voter.queued()
				if tc.revealAt < 0 || i < tc.revealAt {
					require.Len(t, votes, 1, "no reveal after block %d", b.Height)
					continue
				}
				require.Len(t, votes, 2, "one reveal after block %d", b.Height)
				require.Equal(t, reveal, votes[1])
			}
			if tc.revealAt < 0 {
				_, givenUp, _ := m.counts()
				require.Equal(t, 1, givenUp["deadline"])
			}
		})
	}
}

// OPEN tasks are voted in the clear as before: no salt, no commit.
func TestOpenTaskHasNoCommit(t *testing.T) {
	f := newFixture(t)
	f.chain.tasks[crTask] = taskOf(crTask, types.TASK_STATUS_PENDING, crDeadline)
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: crTask}))
	require.Equal(t, []submitter.Vote{{TaskID: crTask, Result: []byte(output), Deadline: crDeadline}}, f.voter.queued())
	_, ok, err := f.store.Salt("7")
	require.NoError(t, err)
	require.False(t, ok)
	f.p.Block(watcher.Block{Height: 20, CommitsClosed: []uint64{crTask}})
	require.Len(t, f.voter.queued(), 1)
}

// A COMMIT_REVEAL task's event does not carry its commit deadline: the task
// is read with Query/Task (the service's manifest says the mode).
func TestCommitRevealTaskFromEventIsAskedFor(t *testing.T) {
	var head atomic.Int64
	f := eventFixture(t, &head)
	svc := f.chain.services[3]
	svc.Manifest.VoteMode, svc.Manifest.CommitBlocks = types.VOTE_MODE_COMMIT_REVEAL, 3
	f.chain.services[3] = svc
	w := created(crTask, 4)
	task := commitRevealTask()
	task.CreatedHeight, task.DeadlineHeight, task.Epoch, task.ServiceRevision, task.Input = createdAt, deadline, 4, 1, w.Created.Input
	task.CommitDeadlineHeight = createdAt + 3
	f.chain.tasks[crTask] = task
	require.NoError(t, f.p.Handle(context.Background(), w))
	require.Equal(t, 1, f.chain.called("TaskFor"))
	votes := f.voter.queued()
	require.Len(t, votes, 1)
	require.Equal(t, createdAt+3, votes[0].Deadline, "the commit, by the commit deadline")
	require.Len(t, votes[0].Commitment, types.CommitmentSize)
}

// An outcome that comes once the commit phase is over is recorded but not
// committed: the chain would refuse the commit, the task is lost.
func TestCommitPhaseOverBeforeTheOutcome(t *testing.T) {
	m := newCountingMetrics()
	f := newFixture(t, pipeline.WithMetrics(m))
	f.chain.tasks[crTask] = commitRevealTask()
	f.chain.setHeight(commitDeadline)
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: crTask}))
	require.Empty(t, f.voter.queued())
	_, givenUp, _ := m.counts()
	require.Equal(t, 1, givenUp["commit_closed"])
	f.p.Block(watcher.Block{Height: commitDeadline + 1})
	require.Empty(t, f.voter.queued(), "no reveal either")
}

// Under Start, a block read with the task's EventCommitsClosed (WithBlocks)
// queues the reveal at once, while component runs may be busy.
func TestStartRevealsOnTheBlockThatClosedTheCommits(t *testing.T) {
	blocks := make(chan watcher.Block)
	f := newFixture(t, pipeline.WithBlocks(blocks))
	f.chain.tasks[crTask] = commitRevealTask()
	f.voter.notify = make(chan submitter.Vote, 4)
	start(t, f.p)
	f.in <- watcher.Work{ID: crTask}
	commit := receiveVote(t, f.voter.notify)
	require.NotEmpty(t, commit.Commitment)

	blocks <- watcher.Block{Height: 11, CommitsClosed: []uint64{crTask}}
	reveal := receiveVote(t, f.voter.notify)
	require.Equal(t, saltOf(t, f.store, crTask), reveal.Salt)
	require.Equal(t, []byte(output), reveal.Result)
	require.Equal(t, types.VoteCommitment(chainID, crTask, operator, reveal.Result, reveal.Failure, reveal.Salt), commit.Commitment)
}

func receiveVote(t *testing.T, ch <-chan submitter.Vote) submitter.Vote {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no vote queued")
		return submitter.Vote{}
	}
}
