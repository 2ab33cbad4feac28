package pipeline_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Start owns the warm-up: it returns only once a compile in flight has
// ended, so the executor is never closed under it. (synctest's clock: the
// sleep is the compile's length, not a wait for the test.)
func TestStartWaitsForTheWarmUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		var compiled atomic.Bool
		entered := make(chan struct{})
		f.runner.prepare = func(ctx context.Context) error {
			close(entered)
			<-ctx.Done()
			time.Sleep(time.Second) // a compile does not stop at once
			compiled.Store(true)
			return ctx.Err()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.p.Start(ctx) }()
		<-entered
		cancel()
		require.NoError(t, <-done)
		require.True(t, compiled.Load(), "Start returned while its warm-up was still compiling")
	})
}

// A task the chain could not be read for is retried after a backoff, from
// Start's own loop.
func TestStartRetriesTransientFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		f.chain.tasks[5] = types.Task{Id: 5, ServiceId: 3, Status: types.TASK_STATUS_PENDING, ComponentDigest: digest, CreatedHeight: 6, DeadlineHeight: 56}
		f.chain.taskErrors = 2
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.p.Start(ctx) }()

		f.in <- watcher.Work{ID: 5}
		synctest.Wait()
		require.Empty(t, f.voter.queued(), "the first read failed")
		time.Sleep(500 * time.Millisecond) // first backoff
		synctest.Wait()
		require.Empty(t, f.voter.queued(), "the second read failed")
		time.Sleep(time.Second) // second backoff
		synctest.Wait()
		require.Equal(t, []submitter.Vote{{TaskID: 5, Result: []byte(output), Deadline: 56}}, f.voter.queued())

		cancel()
		require.NoError(t, <-done)
	})
}

func TestStartReplaysSavedWork(t *testing.T) {
	f := newFixture(t)
	task := eventTask(3)
	bz, err := json.Marshal(task)
	require.NoError(t, err)
	require.NoError(t, f.store.Advance(17, map[string][]byte{task.Key(): bz}))
	inbox, err := f.store.Inbox()
	require.NoError(t, err)
	require.Len(t, inbox, 1)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("pipeline did not stop")
		}
	})

	require.Eventually(t, func() bool { return len(f.voter.queued()) == 1 }, 5*time.Second, 10*time.Millisecond,
		"the saved work is run and voted")
	// A queued vote lives in memory only: the work stays saved until the
	// store records the vote submitted.
	inbox, err = f.store.Inbox()
	require.NoError(t, err)
	require.Contains(t, inbox, task.Key(), "work whose vote is only queued is still saved")
	require.NoError(t, f.store.MarkSubmitted(task.Key(), "AB"))
	inbox, err = f.store.Inbox()
	require.NoError(t, err)
	require.Empty(t, inbox, "a submitted vote's work is done")
	vote := f.voter.queued()[0]
	require.Equal(t, task.Event, vote.Event)
	require.Equal(t, []byte(output), vote.Result)
	jobs := f.runner.ran()
	require.Len(t, jobs, 1)
	require.Equal(t, task.Event.Input, jobs[0].Input)
	require.True(t, jobs[0].BlockTime.Equal(blockTime), "the block time survives the store")
}

// Saved work that ends without a vote (here: the service is paused) leaves the
// store's inbox once handled.
func TestStartForgetsWorkWithoutVote(t *testing.T) {
	f := newFixture(t)
	svc := f.chain.services[3]
	svc.Status = types.SERVICE_STATUS_PAUSED
	f.chain.services[3] = svc
	task := eventTask(3)
	bz, err := json.Marshal(task)
	require.NoError(t, err)
	require.NoError(t, f.store.Advance(17, map[string][]byte{task.Key(): bz}))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Start(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	require.Eventually(t, func() bool {
		inbox, err := f.store.Inbox()
		return err == nil && len(inbox) == 0
	}, 5*time.Second, 10*time.Millisecond, "work with no vote to send is done")
	require.Empty(t, f.voter.queued())
	require.Empty(t, f.runner.ran())
}
