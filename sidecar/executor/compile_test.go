package executor_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/testutil/avstest"
)

// A hammer test (wazero RATIONALE.md): while a cold module compiles, runs of
// a module already compiled go on, and the callers waiting for the cold one
// share one compile. The order is pinned with channels: the cold compile is
// held until every warm run has ended.
func TestWarmRunsProceedDuringAColdCompile(t *testing.T) {
	e := newExecutor(t)
	warm, cold := avstest.FixedOutput("warm"), avstest.FixedOutput("cold")
	ctx := context.Background()
	res, err := e.Run(ctx, job(1, "", limits(16)), warm)
	require.NoError(t, err)
	require.Equal(t, "warm", string(res.Output))

	var coldCompiles atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	executor.BeforeCompile(e, func(wasm []byte) {
		if bytes.Equal(wasm, cold) && coldCompiles.Add(1) == 1 {
			close(entered)
			<-release
		}
	})

	const coldRuns, warmRuns = 4, 16
	var coldWG sync.WaitGroup
	coldErrs := make(chan error, coldRuns)
	for i := range coldRuns {
		coldWG.Go(func() {
			res, err := e.Run(ctx, job(uint64(100+i), "", limits(16)), cold)
			if err == nil && string(res.Output) != "cold" {
				err = assertErr("cold output " + string(res.Output))
			}
			coldErrs <- err
		})
	}
	coldDone := make(chan struct{})
	go func() { coldWG.Wait(); close(coldDone) }()
	<-entered

	var warmWG sync.WaitGroup
	warmErrs := make(chan error, warmRuns)
	for i := range warmRuns {
		warmWG.Go(func() {
			res, err := e.Run(ctx, job(uint64(i), "", limits(16)), warm)
			if err == nil && string(res.Output) != "warm" {
				err = assertErr("warm output " + string(res.Output))
			}
			warmErrs <- err
		})
	}
	warmDone := make(chan struct{})
	go func() { warmWG.Wait(); close(warmDone) }()
	select {
	case <-warmDone:
	case <-time.After(time.Minute): // a guard against a hang, not a measurement
		close(release)
		t.Fatal("warm runs waited for the cold compile")
	}
	select {
	case <-coldDone:
		t.Fatal("the cold runs ended while their compile was held")
	default:
	}
	close(warmErrs)
	for err := range warmErrs {
		require.NoError(t, err)
	}

	close(release)
	<-coldDone
	close(coldErrs)
	for err := range coldErrs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, coldCompiles.Load(), "one compile for all the callers of the cold module")
}

type assertErr string

func (e assertErr) Error() string { return string(e) }

// A closed executor compiles nothing more.
func TestPrepareAfterClose(t *testing.T) {
	e, err := executor.New()
	require.NoError(t, err)
	require.NoError(t, e.Close(context.Background()))
	require.ErrorContains(t, e.Prepare(context.Background(), avstest.FixedOutput("x"), 16), "closed")
}
