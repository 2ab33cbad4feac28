package watcher_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// carrying is an EventTaskCreated that carries its task's input.
func carrying(id, service uint64) *types.EventTaskCreated {
	return &types.EventTaskCreated{
		TaskId: id, ServiceId: service, ComponentDigest: types.Digest([]byte("c")), DeadlineHeight: 100, Epoch: 4,
		Input: []byte(`{"n":7}`), InputInEvent: true, ServiceRevision: 2, Origin: types.Origin{Kind: types.ORIGIN_KIND_TX},
		CreatedTime: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), Fee: sdk.NewInt64Coin("uavs", 5),
	}
}

func abciEvent(t *testing.T, ev *types.EventTaskCreated) abci.Event {
	t.Helper()
	e, err := sdk.TypedEventToEvent(ev)
	require.NoError(t, err)
	e.Attributes = append(e.Attributes, abci.EventAttribute{Key: "msg_index", Value: "0"})
	return abci.Event(e)
}

// A created task's work carries its event when the event holds the input
// (in memory: the saved copy is looked up again after a restart); an event
// without the input leaves the pipeline to query the task.
func TestCreatedTaskWorkCarriesItsEvent(t *testing.T) {
	src := newFakeSource(t, 5)
	withInput := carrying(1, 2)
	withoutInput := carrying(2, 2)
	withoutInput.Input, withoutInput.InputInEvent = nil, false
	src.blocks[5] = &coretypes.ResultBlockResults{Height: 5, TxsResults: []*abci.ExecTxResult{
		{Code: 0, Events: []abci.Event{abciEvent(t, withInput), abciEvent(t, withoutInput)}},
	}}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(4))
	tasks, _ := startWatcher(t, src, st)

	got := receive(t, tasks)
	require.Equal(t, uint64(1), got.ID)
	require.Equal(t, int64(5), got.Height, "the block the task was created in")
	require.NotNil(t, got.Created)
	require.Equal(t, withInput.Input, got.Created.Input)
	require.Equal(t, withInput.DeadlineHeight, got.Created.DeadlineHeight)
	require.Equal(t, withInput.Epoch, got.Created.Epoch)
	require.Equal(t, withInput.ServiceRevision, got.Created.ServiceRevision)
	require.Equal(t, withInput.Origin, got.Created.Origin)
	require.Equal(t, withInput.ComponentDigest, got.Created.ComponentDigest)
	require.True(t, withInput.CreatedTime.Equal(got.Created.CreatedTime))

	require.Equal(t, watcher.Work{ID: 2, ServiceID: 2, Height: 5}, receive(t, tasks), "no input in the event: nothing carried")

	require.Eventually(t, func() bool { return cursorOf(t, st) == 5 }, 5*time.Second, 10*time.Millisecond)
	saved := inboxTasks(t, st)
	require.Equal(t, watcher.Work{ID: 1, ServiceID: 2, Height: 5}, saved["1"], "the event is not saved with the work")
}

// Tasks announced over the websocket with their event are sent with it and
// filtered by service, and do not make the watcher read the latest height
// again (that is once per block, not once per task). Head reports the
// latest height read.
func TestAnnouncedTasksCarryTheirEvent(t *testing.T) {
	src := newFakeSource(t, 7)
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(7))
	tasks := make(chan watcher.Work, 64)
	w, err := watcher.New(src, st, tasks,
		watcher.WithPollInterval(time.Hour), // no poll: only announcements move the loop
		watcher.WithServiceFilter(func(id uint64) bool { return id == 2 }),
		watcher.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	require.Zero(t, w.Head(), "nothing read yet")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.Eventually(t, func() bool { return w.Head() == 7 }, 5*time.Second, 10*time.Millisecond)

	src.notes <- chain.Notification{Height: 7, TaskID: 30, Task: carrying(30, 9)} // a service not run
	for id := uint64(31); id <= 35; id++ {
		src.notes <- chain.Notification{Height: 7, TaskID: id, Task: carrying(id, 2)}
	}
	for id := uint64(31); id <= 35; id++ {
		got := receive(t, tasks)
		require.Equal(t, id, got.ID, "task 30's service is filtered out")
		require.Equal(t, uint64(2), got.ServiceID)
		require.Equal(t, int64(7), got.Height)
		require.NotNil(t, got.Created)
		require.Equal(t, []byte(`{"n":7}`), got.Created.Input)
	}
	src.mu.Lock()
	calls := src.latestCalls
	src.mu.Unlock()
	require.Equal(t, 1, calls, "announced tasks read no height")

	// A new block is read when it is announced, and Head follows.
	src.mu.Lock()
	src.latest = 8
	src.mu.Unlock()
	src.notes <- chain.Notification{Height: 8}
	require.Eventually(t, func() bool { return w.Head() == 8 }, 5*time.Second, 10*time.Millisecond)
}
