package pipeline_test

import (
	"context"
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
		f.chain.tasks[5] = types.Task{Id: 5, ServiceId: 3, Status: types.TASK_STATUS_PENDING, ComponentDigest: digest, CreatedHeight: 6}
		f.chain.taskErrors = 2
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.p.Start(ctx) }()

		f.in <- watcher.Task{ID: 5}
		synctest.Wait()
		require.Empty(t, f.voter.queued(), "the first read failed")
		time.Sleep(500 * time.Millisecond) // first backoff
		synctest.Wait()
		require.Empty(t, f.voter.queued(), "the second read failed")
		time.Sleep(time.Second) // second backoff
		synctest.Wait()
		require.Equal(t, []submitter.Vote{{TaskID: 5, Result: []byte(output)}}, f.voter.queued())

		cancel()
		require.NoError(t, <-done)
	})
}
