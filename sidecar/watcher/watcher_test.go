package watcher_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeSource is a chain at a fixed height with scripted block results.
type fakeSource struct {
	t *testing.T

	mu       sync.Mutex
	latest   int64
	earliest int64 // blocks below it are pruned
	failAll  bool  // every BlockResults fails (a node that serves none)
	blocks   map[int64]*coretypes.ResultBlockResults
	failAt   map[int64]bool // BlockResults at this height fails while set
	calls    map[int64]int
	notes    chan chain.Notification
	nextRPC  int
	// latestCalls counts LatestHeight calls.
	latestCalls int
}

func newFakeSource(t *testing.T, latest int64) *fakeSource {
	return &fakeSource{
		t: t, latest: latest, earliest: 1, blocks: map[int64]*coretypes.ResultBlockResults{},
		failAt: map[int64]bool{}, calls: map[int64]int{}, notes: make(chan chain.Notification, 8),
	}
}

func (s *fakeSource) LatestHeight(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latestCalls++
	return s.latest, nil
}

func (s *fakeSource) BlockResults(_ context.Context, h int64) (*coretypes.ResultBlockResults, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[h]++
	if h < 1 || h > s.latest {
		s.t.Errorf("block_results at %d, chain at %d", h, s.latest)
		return nil, errors.New("no such height")
	}
	if h < s.earliest {
		return nil, fmt.Errorf("height %d is not available, lowest height is %d", h, s.earliest)
	}
	if s.failAt[h] || s.failAll {
		return nil, errors.New("rpc unavailable")
	}
	if res, ok := s.blocks[h]; ok {
		return res, nil
	}
	return &coretypes.ResultBlockResults{Height: h}, nil
}

func (s *fakeSource) EarliestHeight(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.earliest, nil
}

// Subscribe hands out one channel that stays open until ctx ends.
func (s *fakeSource) Subscribe(ctx context.Context) (<-chan chain.Notification, error) {
	out := make(chan chain.Notification)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-s.notes:
				select {
				case out <- n:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func (s *fakeSource) NextRPC() {
	s.mu.Lock()
	s.nextRPC++
	s.mu.Unlock()
}

func (s *fakeSource) callsAt(h int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[h]
}

func (s *fakeSource) setFail(h int64, fail bool) {
	s.mu.Lock()
	s.failAt[h] = fail
	s.mu.Unlock()
}

func (s *fakeSource) firstCall() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := int64(-1)
	for h := range s.calls {
		if first < 0 || h < first {
			first = h
		}
	}
	return first
}

func taskCreated(t *testing.T, id, service uint64) abci.Event {
	t.Helper()
	ev, err := sdk.TypedEventToEvent(&types.EventTaskCreated{
		TaskId: id, ServiceId: service, Creator: "avs1creator", ComponentDigest: types.Digest([]byte("c")),
		DeadlineHeight: 100, Fee: sdk.NewCoin("uavs", sdkmath.NewInt(5)), Epoch: 1,
	})
	require.NoError(t, err)
	// The SDK appends these to every event of a message.
	ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: "msg_index", Value: "0"}, abci.EventAttribute{Key: "mode", Value: "EndBlock"})
	return abci.Event(ev)
}

func startWatcher(t *testing.T, src watcher.Source, cur watcher.Cursor, opts ...watcher.Option) (<-chan watcher.Work, context.CancelFunc) {
	t.Helper()
	tasks := make(chan watcher.Work, 64)
	return tasks, startWatcherOn(t, src, cur, tasks, opts...)
}

// startWatcherOn starts a watcher sending its work to tasks.
func startWatcherOn(t *testing.T, src watcher.Source, cur watcher.Cursor, tasks chan watcher.Work, opts ...watcher.Option) context.CancelFunc {
	t.Helper()
	opts = append([]watcher.Option{
		watcher.WithPollInterval(20 * time.Millisecond),
		watcher.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, opts...)
	w, err := watcher.New(src, cur, tasks, opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("watcher did not stop")
		}
	})
	return cancel
}

func cursorOf(t *testing.T, st *store.Store) int64 {
	c, err := st.Cursor()
	require.NoError(t, err)
	return c
}

func receive(t *testing.T, tasks <-chan watcher.Work) watcher.Work {
	t.Helper()
	select {
	case task := <-tasks:
		return task
	case <-time.After(5 * time.Second):
		t.Fatal("no task emitted")
		return watcher.Work{}
	}
}

// markers numbers requireNoTask's markers.
var markers atomic.Uint64

// requireNoTask asserts that the watcher has sent no work it found so far:
// it announces a task of its own over the websocket and requires that
// marker to be the next work out. The watcher sends work in the order it
// finds it (a block's work as the sweep reads it, an announcement between
// sweeps), so work found before the marker would come out first. (Tests
// review L1: this was a 100 ms wait, which passed whatever came later.)
func requireNoTask(t *testing.T, src *fakeSource, tasks <-chan watcher.Work) {
	t.Helper()
	marker := watcher.Work{ID: 1<<62 + markers.Add(1)}
	src.notes <- chain.Notification{TaskID: marker.ID}
	require.Equal(t, marker, receive(t, tasks), "work came out before the marker")
}

func TestCatchUpFromCursor(t *testing.T) {
	src := newFakeSource(t, 10)
	// Block 5: the task in a transaction's events, next to a failed
	// transaction whose events do not count.
	src.blocks[5] = &coretypes.ResultBlockResults{Height: 5, TxsResults: []*abci.ExecTxResult{
		{Code: 0, Events: []abci.Event{{Type: "message", Attributes: []abci.EventAttribute{{Key: "action", Value: "x"}}}, taskCreated(t, 1, 2)}},
		{Code: 5, Events: []abci.Event{taskCreated(t, 99, 2)}},
	}}
	// Block 8: the task in the block's own (EndBlock) events.
	src.blocks[8] = &coretypes.ResultBlockResults{Height: 8, FinalizeBlockEvents: []abci.Event{taskCreated(t, 2, 3)}}
	// Blocks before the cursor are never read.
	src.blocks[2] = &coretypes.ResultBlockResults{Height: 2, FinalizeBlockEvents: []abci.Event{taskCreated(t, 50, 3)}}

	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	heights := make(chan int64, 32)
	tasks, _ := startWatcher(t, src, st, watcher.WithHeights(heights))

	require.Equal(t, watcher.Work{ID: 1, ServiceID: 2, Height: 5}, receive(t, tasks))
	require.Equal(t, watcher.Work{ID: 2, ServiceID: 3, Height: 8}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 10 }, 5*time.Second, 10*time.Millisecond)
	requireNoTask(t, src, tasks)

	for h := int64(1); h <= 10; h++ {
		want := 0
		if h > 3 {
			want = 1
		}
		require.Equal(t, want, src.callsAt(h), "block_results calls at %d", h)
	}
	for want := int64(4); want <= 10; want++ {
		require.Equal(t, want, <-heights)
	}

	// A new block is read on the next poll.
	src.mu.Lock()
	src.latest = 11
	src.blocks[11] = &coretypes.ResultBlockResults{Height: 11, FinalizeBlockEvents: []abci.Event{taskCreated(t, 3, 3)}}
	src.mu.Unlock()
	require.Equal(t, watcher.Work{ID: 3, ServiceID: 3, Height: 11}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 11 }, 5*time.Second, 10*time.Millisecond)

	// A task announced over the websocket is sent at once, without a height.
	src.notes <- chain.Notification{TaskID: 42}
	require.Equal(t, watcher.Work{ID: 42}, receive(t, tasks))
	src.notes <- chain.Notification{Height: 12} // a bare block does not make a task
	requireNoTask(t, src, tasks)
}

func TestFailingBlockResultsHoldsTheCursor(t *testing.T) {
	src := newFakeSource(t, 10)
	src.blocks[5] = &coretypes.ResultBlockResults{Height: 5, FinalizeBlockEvents: []abci.Event{taskCreated(t, 1, 2)}}
	src.blocks[8] = &coretypes.ResultBlockResults{Height: 8, FinalizeBlockEvents: []abci.Event{taskCreated(t, 2, 2)}}
	src.setFail(7, true)

	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	tasks, _ := startWatcher(t, src, st)

	require.Equal(t, uint64(1), receive(t, tasks).ID)
	require.Eventually(t, func() bool { return src.callsAt(7) >= 3 }, 5*time.Second, 10*time.Millisecond, "height 7 is retried")
	require.EqualValues(t, 6, cursorOf(t, st), "the cursor stops before the failing height")
	require.Zero(t, src.callsAt(8), "nothing past the failing height is read")
	requireNoTask(t, src, tasks)

	src.setFail(7, false)
	require.Equal(t, watcher.Work{ID: 2, ServiceID: 2, Height: 8}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 10 }, 5*time.Second, 10*time.Millisecond)
	requireNoTask(t, src, tasks)
	require.Equal(t, 1, src.callsAt(5), "blocks before the failure are not read again")
}

func TestFirstStartCatchesUpFromRecentBlocks(t *testing.T) {
	for _, tc := range []struct {
		latest, catchUp, first int64
	}{
		{latest: 10, catchUp: 4, first: 7},
		{latest: 500, catchUp: 200, first: 301},
		{latest: 10, catchUp: 50, first: 1},
	} {
		src := newFakeSource(t, tc.latest)
		st := store.OpenMemory()
		startWatcher(t, src, st, watcher.WithCatchUp(tc.catchUp))
		require.Eventually(t, func() bool { return cursorOf(t, st) == tc.latest }, 5*time.Second, 10*time.Millisecond, "%+v", tc)
		require.Equal(t, tc.first, src.firstCall(), "%+v", tc)
	}

	// No catch-up: only blocks after the latest are read.
	src := newFakeSource(t, 10)
	st := store.OpenMemory()
	startWatcher(t, src, st, watcher.WithCatchUp(0))
	// Three reads of the latest height: at least one whole sweep has run
	// since the start (a synchronisation point, not a sleep: tests review L1).
	require.Eventually(t, func() bool {
		src.mu.Lock()
		defer src.mu.Unlock()
		return src.latestCalls >= 3
	}, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, -1, src.firstCall(), "no block read")
	src.mu.Lock()
	src.latest = 11
	src.mu.Unlock()
	require.Eventually(t, func() bool { return cursorOf(t, st) == 11 }, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 11, src.firstCall())
}

// TestNewValidatesOptions: each refused option is refused with the error
// that names it (tests review L2: any error passed).
func TestNewValidatesOptions(t *testing.T) {
	src := newFakeSource(t, 1)
	tasks := make(chan watcher.Work)
	for _, tc := range []struct {
		name    string
		src     watcher.Source
		opts    []watcher.Option
		wantErr string
	}{
		{name: "no source", wantErr: "watcher: source, cursor and output channel are required"},
		{name: "negative catch-up", src: src, opts: []watcher.Option{watcher.WithCatchUp(-1)},
			wantErr: "watcher: catch-up -1 and poll interval 2s must not be negative"},
		{name: "zero poll interval", src: src, opts: []watcher.Option{watcher.WithPollInterval(0)},
			wantErr: "watcher: catch-up 200 and poll interval 0s must not be negative"},
		{name: "no attempts", src: src, opts: []watcher.Option{watcher.WithRetry(0, time.Second)},
			wantErr: "watcher: retry attempts 0, longest backoff 1s and send queue 4096 must be positive"},
		{name: "empty send queue", src: src, opts: []watcher.Option{watcher.WithSendQueue(0)},
			wantErr: "watcher: retry attempts 8, longest backoff 30s and send queue 0 must be positive"},
		{name: "recovery without operator", src: src, opts: []watcher.Option{watcher.WithRecovery(&fakeLister{}, "")},
			wantErr: "watcher: recovery needs the operator's address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := watcher.New(tc.src, store.OpenMemory(), tasks, tc.opts...)
			require.EqualError(t, err, tc.wantErr)
		})
	}
	_, err := watcher.New(src, store.OpenMemory(), tasks)
	require.NoError(t, err, "the defaults")
}

// fakeMatcher returns scripted matches per height, or an error while failing.
type fakeMatcher struct {
	mu      sync.Mutex
	matches map[int64][]watcher.Work
	failAt  map[int64]bool
	calls   map[int64]int
}

func newFakeMatcher() *fakeMatcher {
	return &fakeMatcher{matches: map[int64][]watcher.Work{}, failAt: map[int64]bool{}, calls: map[int64]int{}}
}

func (m *fakeMatcher) Match(_ context.Context, h int64, res *coretypes.ResultBlockResults) ([]watcher.Work, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[h]++
	if res == nil || res.Height != h {
		return nil, errors.New("matched the wrong block results")
	}
	if m.failAt[h] {
		return nil, errors.New("node unavailable")
	}
	return m.matches[h], nil
}

func (m *fakeMatcher) setFail(h int64, fail bool) {
	m.mu.Lock()
	m.failAt[h] = fail
	m.mu.Unlock()
}

func (m *fakeMatcher) callsAt(h int64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[h]
}

func eventWork(service uint64, h int64, index uint32) watcher.Work {
	return watcher.Work{
		ServiceID: service, Height: h, BlockTime: time.Date(2025, 6, 1, 12, 0, int(h), 0, time.UTC),
		Event: &types.EventRef{ServiceId: service, Height: h, TxHash: "AB12", EventIndex: index, Input: []byte(`{"trigger":"event"}`)},
	}
}

func inboxTasks(t *testing.T, st *store.Store) map[string]watcher.Work {
	t.Helper()
	inbox, err := st.Inbox()
	require.NoError(t, err)
	out := map[string]watcher.Work{}
	for k, bz := range inbox {
		task, err := watcher.DecodeWork(bz)
		require.NoError(t, err)
		out[k] = task
	}
	return out
}

func TestMatchedEventsAreEmittedAndSaved(t *testing.T) {
	src := newFakeSource(t, 6)
	src.blocks[5] = &coretypes.ResultBlockResults{Height: 5, FinalizeBlockEvents: []abci.Event{taskCreated(t, 1, 2)}}
	m := newFakeMatcher()
	e1, e2 := eventWork(3, 5, 0), eventWork(3, 5, 4)
	m.matches[5] = []watcher.Work{e1, e2}

	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(4))
	tasks, _ := startWatcher(t, src, st, watcher.WithMatcher(m))

	created := watcher.Work{ID: 1, ServiceID: 2, Height: 5}
	require.Equal(t, created, receive(t, tasks))
	require.Equal(t, e1, receive(t, tasks))
	require.Equal(t, e2, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 6 }, 5*time.Second, 10*time.Millisecond)
	requireNoTask(t, src, tasks)
	require.Equal(t, 1, m.callsAt(5))
	require.Equal(t, 1, m.callsAt(6))

	// The work is saved with the cursor (the pipeline marks it done), under
	// each task's key.
	require.Equal(t, "event/3/5/AB12/0", e1.Key())
	require.Equal(t, map[string]watcher.Work{"1": created, e1.Key(): e1, e2.Key(): e2}, inboxTasks(t, st))
	inbox, err := st.Inbox()
	require.NoError(t, err)
	want, err := json.Marshal(e2)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(inbox[e2.Key()]))
}

func TestMatcherErrorHoldsTheCursor(t *testing.T) {
	src := newFakeSource(t, 8)
	src.blocks[7] = &coretypes.ResultBlockResults{Height: 7, FinalizeBlockEvents: []abci.Event{taskCreated(t, 1, 2)}}
	m := newFakeMatcher()
	m.matches[5] = []watcher.Work{eventWork(3, 5, 0)}
	m.matches[7] = []watcher.Work{eventWork(3, 7, 1)}
	m.setFail(7, true)

	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(4))
	tasks, _ := startWatcher(t, src, st, watcher.WithMatcher(m))

	require.Equal(t, eventWork(3, 5, 0), receive(t, tasks))
	require.Eventually(t, func() bool { return m.callsAt(7) >= 3 }, 5*time.Second, 10*time.Millisecond, "height 7 is matched again")
	require.EqualValues(t, 6, cursorOf(t, st), "the cursor stops before the block that could not be matched")
	require.Zero(t, src.callsAt(8), "nothing past the failing height is read")
	requireNoTask(t, src, tasks) // not even the task created in block 7
	require.Equal(t, []string{eventWork(3, 5, 0).Key()}, keys(inboxTasks(t, st)), "nothing of block 7 is saved")

	m.setFail(7, false)
	require.Equal(t, watcher.Work{ID: 1, ServiceID: 2, Height: 7}, receive(t, tasks))
	require.Equal(t, eventWork(3, 7, 1), receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 8 }, 5*time.Second, 10*time.Millisecond)
	requireNoTask(t, src, tasks)
	require.Len(t, inboxTasks(t, st), 3)
	require.Equal(t, 1, m.callsAt(5), "blocks before the failure are not matched again")
}

func keys(m map[string]watcher.Work) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
