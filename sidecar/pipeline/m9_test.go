package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
)

// TestM9FailureIsRecordedWithItsReason (tests review M9): a component that
// fails, as the executor reports each failure, is recorded in the store with
// its error and reason, voted as that failure with no result, and counted
// under its label; nothing is counted executed.
func TestM9FailureIsRecordedWithItsReason(t *testing.T) {
	for _, tc := range []struct {
		err     error
		label   string
		failure types.FailureReason
		runs    int // a timeout is run once more, an http failure up to 3 more times (M3)
	}{
		{err: fmt.Errorf("%w: exit code 1", executor.ErrExit), label: "exit", failure: types.FAILURE_REASON_EXIT, runs: 1},
		{err: fmt.Errorf("%w: wasm error: unreachable", executor.ErrTrap), label: "trap", failure: types.FAILURE_REASON_TRAP, runs: 1},
		{err: fmt.Errorf("%w: bad import", executor.ErrInstantiate), label: "instantiate", failure: types.FAILURE_REASON_TRAP, runs: 1},
		{err: fmt.Errorf("%w: %w: unreachable", executor.ErrMemory, executor.ErrTrap), label: "memory", failure: types.FAILURE_REASON_MEMORY, runs: 1},
		{err: fmt.Errorf("%w (5ms)", executor.ErrTimeout), label: "timeout", failure: types.FAILURE_REASON_TIME, runs: 2},
		{err: fmt.Errorf("%w (8 bytes)", executor.ErrOutputTooLarge), label: "output_too_large", failure: types.FAILURE_REASON_OUTPUT, runs: 1},
		{err: fmt.Errorf("%w: %w: exit code 1", executor.ErrHTTP, executor.ErrExit), label: "http", failure: types.FAILURE_REASON_HTTP, runs: 1 + pipeline.DefaultRunRetries},
	} {
		t.Run(tc.label, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { // the reruns' backoff on synctest's clock
				m := newCountingMetrics()
				f := newFixture(t, pipeline.WithMetrics(m))
				f.runner.err = tc.err
				f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)

				require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
				require.Len(t, f.runner.ran(), tc.runs)
				require.Equal(t, []submitter.Vote{{TaskID: 7, Failure: tc.failure, Deadline: 40}}, f.voter.queued())
				exec, ok, err := f.store.Executed(store.WorkKey(7, nil))
				require.NoError(t, err)
				require.True(t, ok, "the failure is recorded")
				require.Equal(t, store.Execution{Error: tc.err.Error(), Failure: tc.failure}, exec)
				seen, executed, failed := m.runs()
				require.Equal(t, 1, seen)
				require.Zero(t, executed)
				require.Equal(t, map[string]int{tc.label: 1}, failed)
			})
		})
	}
}

// openPipeline builds a pipeline on st with its own fakes.
func openPipeline(t *testing.T, st pipeline.Store) *fixture {
	t.Helper()
	f := &fixture{chain: newFakeChain(), runner: &fakeRunner{}, voter: &fakeVoter{}, in: make(chan watcher.Work)}
	f.chain.optedIn = []uint64{3}
	f.chain.services[3] = eventService(3)
	f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
	p, err := pipeline.New(pipeline.Deps{
		Chain: f.chain, Runner: f.runner, Store: st, Voter: f.voter, Work: f.in, ChainID: chainID, Operator: operator,
	}, pipeline.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	f.p = p
	return f
}

// TestM9SettledAfterStoreReopen (tests review M9 and its crash recovery
// table, "executed, not yet sent"): work run to an outcome, the process gone
// before the vote was sent, the store reopened from disk: the replay votes
// the recorded outcome (a failure with its reason, or the result) and does
// not run the component again.
func TestM9SettledAfterStoreReopen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		runErr error
		want   submitter.Vote
	}{
		{name: "failure", runErr: fmt.Errorf("%w: exit code 3", executor.ErrExit),
			want: submitter.Vote{TaskID: 7, Failure: types.FAILURE_REASON_EXIT, Deadline: 40}},
		{name: "result", want: submitter.Vote{TaskID: 7, Result: []byte(output), Deadline: 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := store.Open(dir)
			require.NoError(t, err)
			first := openPipeline(t, st)
			first.runner.err = tc.runErr
			save(t, st, watcher.Work{ID: 7, Height: 6})
			require.NoError(t, first.p.Handle(context.Background(), watcher.Work{ID: 7}))
			require.Equal(t, []submitter.Vote{tc.want}, first.voter.queued())
			require.Len(t, first.runner.ran(), 1)
			require.NoError(t, st.Close()) // the vote was only queued: gone with the process

			st, err = store.Open(dir)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, st.Close()) })
			second := openPipeline(t, st)
			second.runner.err = fmt.Errorf("%w: a second run would answer differently", executor.ErrTrap)
			start(t, second.p)
			require.Eventually(t, func() bool { return len(second.voter.queued()) == 1 }, 5*time.Second, 10*time.Millisecond,
				"the saved work is replayed")
			require.Equal(t, []submitter.Vote{tc.want}, second.voter.queued(), "the recorded outcome, not a new run's")
			require.Empty(t, second.runner.ran(), "the component is not run again")
			require.True(t, inboxHas(t, st, "7"), "the work stays saved until its vote is submitted")
		})
	}
}

// TestM9WrongDigestBytesAreNotRun (tests review M9): bytes the chain serves
// for a digest that are not that digest's are neither run, nor recorded,
// nor kept: the work fails as transient, and the next fetch of the right
// bytes runs them.
func TestM9WrongDigestBytesAreNotRun(t *testing.T) {
	f := newFixture(t)
	tampered := avstest.FixedOutput("tampered")
	f.chain.components[digest] = tampered
	f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
	ctx := context.Background()

	err := f.p.Handle(ctx, watcher.Work{ID: 7})
	require.ErrorContains(t, err, fmt.Sprintf("component %s: the chain served bytes with digest %s", digest, types.Digest(tampered)))
	require.Empty(t, f.runner.ran())
	require.Empty(t, f.voter.queued())
	_, ok, err := f.store.Executed(store.WorkKey(7, nil))
	require.NoError(t, err)
	require.False(t, ok, "nothing recorded: the work is retried")

	f.chain.mu.Lock()
	f.chain.components[digest] = component
	f.chain.mu.Unlock()
	require.NoError(t, f.p.Handle(ctx, watcher.Work{ID: 7}))
	require.Equal(t, [][]byte{component}, f.runner.wasm, "the wrong bytes were not cached")
	require.Equal(t, 2, f.chain.fetches)
	require.Equal(t, []submitter.Vote{{TaskID: 7, Result: []byte(output), Deadline: 40}}, f.voter.queued())
}

// TestM9JobOfAnOrdinaryTask (tests review M9): a task read with Query/Task
// runs with its own block, time and input, its service's config and limits.
func TestM9JobOfAnOrdinaryTask(t *testing.T) {
	f := newFixture(t)
	task := taskOf(7, types.TASK_STATUS_PENDING, 40)
	task.CreatedHeight, task.CreatedTime, task.Input = 6, blockTime, []byte(`{"n":7}`)
	f.chain.tasks[7] = task

	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
	require.Equal(t, []executor.Job{{
		Digest: digest, TaskID: 7, ServiceID: 3, ChainID: chainID,
		BlockHeight: 6, BlockTime: blockTime, Input: []byte(`{"n":7}`),
		Config: map[string]string{"MODE": "fast"},
		Limits: executor.Limits{Time: 2 * time.Second, MemoryPages: 32, OutputBytes: 1024},
	}}, f.runner.ran())
	require.Equal(t, [][]byte{component}, f.runner.wasm)
	require.Equal(t, []submitter.Vote{{TaskID: 7, Result: []byte(output), Deadline: 40}}, f.voter.queued())
}
