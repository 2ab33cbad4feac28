package watcher_test

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// The chain client and the metrics sink are what node.go wires in.
var (
	_ watcher.Source     = (*chain.Client)(nil)
	_ watcher.TaskLister = (*chain.Client)(nil)
	_ watcher.Metrics    = metrics.Nop()
	_ watcher.Metrics    = (*metrics.Metrics)(nil)
)

// fakeMetrics records what the watcher reports.
type fakeMetrics struct {
	mu      sync.Mutex
	head    int64
	skipped int64
}

func (m *fakeMetrics) ChainHead(h int64) {
	m.mu.Lock()
	m.head = h
	m.mu.Unlock()
}

func (m *fakeMetrics) BlocksSkipped(n int64) {
	m.mu.Lock()
	m.skipped += n
	m.mu.Unlock()
}

func (m *fakeMetrics) get() (head, skipped int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head, m.skipped
}

// fakeLister serves the operator's services and their tasks.
type fakeLister struct {
	mu       sync.Mutex
	services []uint64
	tasks    map[uint64][]types.Task // by service, any order
	fail     bool
	since    []int64 // the fromHeight of each TasksCreatedSince
}

func (l *fakeLister) OperatorServices(_ context.Context, op string) ([]uint64, error) {
	if op != "avs1op" {
		return nil, errors.New("wrong operator")
	}
	return l.services, nil
}

func (l *fakeLister) TasksCreatedSince(_ context.Context, service uint64, from int64) ([]types.Task, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.since = append(l.since, from)
	if l.fail {
		return nil, errors.New("grpc unavailable")
	}
	var out []types.Task
	for _, t := range l.tasks[service] {
		if t.CreatedHeight >= from {
			out = append(out, t)
		}
	}
	return out, nil
}

func (l *fakeLister) setFail(fail bool) {
	l.mu.Lock()
	l.fail = fail
	l.mu.Unlock()
}

func (l *fakeLister) sinceCalls() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.since...)
}

// recording keeps the records a logger writes.
type recording struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recording) Enabled(context.Context, slog.Level) bool { return true }
func (r *recording) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
	return nil
}
func (r *recording) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recording) WithGroup(string) slog.Handler      { return r }

// count returns how many records at level hold substr in their message.
func (r *recording) count(level slog.Level, substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec.Level == level && strings.Contains(rec.Message, substr) {
			n++
		}
	}
	return n
}

func receiveN(t *testing.T, tasks <-chan watcher.Work, n int) []watcher.Work {
	t.Helper()
	var out []watcher.Work
	for range n {
		out = append(out, receive(t, tasks))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TestH7UnreadableBlockIsSkippedAndItsTasksRecovered: a block whose results
// the node cannot serve (discard_abci_responses) is tried a bounded number of
// times, then skipped; the open tasks it created are found through
// Query/Tasks and saved and sent like other work; later blocks are read. The
// old watcher retried the block forever.
func TestH7UnreadableBlockIsSkippedAndItsTasksRecovered(t *testing.T) {
	src := newFakeSource(t, 10)
	src.setFail(6, true) // forever
	src.blocks[8] = &coretypes.ResultBlockResults{Height: 8, FinalizeBlockEvents: []abci.Event{taskCreated(t, 20, 2)}}
	lister := &fakeLister{services: []uint64{2, 5}, tasks: map[uint64][]types.Task{
		2: {
			{Id: 15, ServiceId: 2, CreatedHeight: 6, DeadlineHeight: 50, Status: types.TASK_STATUS_PENDING},
			{Id: 14, ServiceId: 2, CreatedHeight: 6, DeadlineHeight: 9, Status: types.TASK_STATUS_PENDING},  // past its deadline
			{Id: 20, ServiceId: 2, CreatedHeight: 8, DeadlineHeight: 90, Status: types.TASK_STATUS_PENDING}, // block 8 is read
			{Id: 13, ServiceId: 2, CreatedHeight: 5, DeadlineHeight: 90, Status: types.TASK_STATUS_PENDING}, // block 5 was read
		},
		5: {
			{Id: 16, ServiceId: 5, CreatedHeight: 6, DeadlineHeight: 100, Status: types.TASK_STATUS_COMPLETED}, // a late vote still counts
			{Id: 17, ServiceId: 5, CreatedHeight: 6, DeadlineHeight: 100, Status: types.TASK_STATUS_EXPIRED},
		},
	}}
	mt := &fakeMetrics{}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	tasks, _ := startWatcher(t, src, st, watcher.WithRetry(3, 40*time.Millisecond), watcher.WithMetrics(mt),
		watcher.WithRecovery(lister, "avs1op"))

	require.Equal(t, []watcher.Work{{ID: 15, ServiceID: 2, Height: 6}, {ID: 16, ServiceID: 5, Height: 6}}, receiveN(t, tasks, 2))
	require.Equal(t, watcher.Work{ID: 20, ServiceID: 2, Height: 8}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 10 }, 5*time.Second, 10*time.Millisecond)
	requireNoTask(t, src, tasks)

	require.Equal(t, 3, src.callsAt(6), "the unreadable block is tried the bounded number of times")
	for h := int64(7); h <= 10; h++ {
		require.GreaterOrEqual(t, src.callsAt(h), 1, "block %d is read", h)
	}
	_, skipped := mt.get()
	require.EqualValues(t, 1, skipped)
	require.Equal(t, []int64{6, 6}, lister.sinceCalls(), "each opted-in service asked once from the skipped height")
	inbox := inboxTasks(t, st)
	require.Len(t, inbox, 3, "the recovered work is saved with the cursor")
	require.Contains(t, inbox, "15")
	require.Contains(t, inbox, "16")
}

// TestH7PrunedBlocksAreSkippedAtOnce: blocks below the node's earliest height
// are gone: they are skipped together at the first failure, without retries.
func TestH7PrunedBlocksAreSkippedAtOnce(t *testing.T) {
	src := newFakeSource(t, 12)
	src.earliest = 8
	src.blocks[9] = &coretypes.ResultBlockResults{Height: 9, FinalizeBlockEvents: []abci.Event{taskCreated(t, 30, 2)}}
	lister := &fakeLister{services: []uint64{2}, tasks: map[uint64][]types.Task{
		2: {{Id: 29, ServiceId: 2, CreatedHeight: 7, DeadlineHeight: 50, Status: types.TASK_STATUS_PENDING}},
	}}
	mt := &fakeMetrics{}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	tasks, _ := startWatcher(t, src, st, watcher.WithRetry(5, time.Second), watcher.WithMetrics(mt),
		watcher.WithRecovery(lister, "avs1op"))

	require.Equal(t, watcher.Work{ID: 29, ServiceID: 2, Height: 7}, receive(t, tasks))
	require.Equal(t, watcher.Work{ID: 30, ServiceID: 2, Height: 9}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 12 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, 1, src.callsAt(4), "one failure shows the block is pruned")
	for h := int64(5); h <= 7; h++ {
		require.Zero(t, src.callsAt(h), "pruned block %d is not asked for", h)
	}
	_, skipped := mt.get()
	require.EqualValues(t, 4, skipped, "blocks 4-7")
	require.Equal(t, []int64{4}, lister.sinceCalls())
}

// TestH7UnreadableRunIsSkippedInOneGo: once a block was skipped, the next
// unreadable ones (a node that discards old results) are skipped without
// the retries, as one range whose tasks are recovered once.
func TestH7UnreadableRunIsSkippedInOneGo(t *testing.T) {
	src := newFakeSource(t, 20)
	for h := int64(4); h <= 15; h++ {
		src.setFail(h, true)
	}
	lister := &fakeLister{services: []uint64{2}, tasks: map[uint64][]types.Task{
		2: {{Id: 7, ServiceId: 2, CreatedHeight: 12, DeadlineHeight: 50, Status: types.TASK_STATUS_PENDING}},
	}}
	mt := &fakeMetrics{}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	tasks, _ := startWatcher(t, src, st, watcher.WithRetry(3, 40*time.Millisecond), watcher.WithMetrics(mt),
		watcher.WithRecovery(lister, "avs1op"))

	require.Equal(t, watcher.Work{ID: 7, ServiceID: 2, Height: 12}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 20 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, 3, src.callsAt(4))
	for h := int64(5); h <= 15; h++ {
		require.Equal(t, 1, src.callsAt(h), "block %d: one try once skipping", h)
	}
	_, skipped := mt.get()
	require.EqualValues(t, 12, skipped)
	require.Equal(t, []int64{4}, lister.sinceCalls(), "one recovery for the run")
}

// TestH7NodeWithoutBlockResultsIsNotSkipped: when the node serves no block
// results at all (not even the latest), the failure is the node's, not the
// block's: the watcher keeps the cursor and waits instead of skipping.
func TestH7NodeWithoutBlockResultsIsNotSkipped(t *testing.T) {
	src := newFakeSource(t, 10)
	src.failAll = true
	mt := &fakeMetrics{}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	tasks, _ := startWatcher(t, src, st, watcher.WithRetry(2, 40*time.Millisecond), watcher.WithMetrics(mt))

	require.Eventually(t, func() bool { return src.callsAt(4) >= 5 }, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 3, cursorOf(t, st))
	_, skipped := mt.get()
	require.Zero(t, skipped)
	requireNoTask(t, src, tasks)

	src.mu.Lock()
	src.failAll = false
	src.mu.Unlock()
	require.Eventually(t, func() bool { return cursorOf(t, st) == 10 }, 5*time.Second, 10*time.Millisecond)
	_, skipped = mt.get()
	require.Zero(t, skipped)
}

// TestH7RecoveryFailureHoldsTheCursor: blocks are skipped only with their
// tasks recovered; while Query/Tasks fails the cursor stays before them.
func TestH7RecoveryFailureHoldsTheCursor(t *testing.T) {
	src := newFakeSource(t, 10)
	src.earliest = 6
	lister := &fakeLister{services: []uint64{2}, fail: true, tasks: map[uint64][]types.Task{
		2: {{Id: 9, ServiceId: 2, CreatedHeight: 5, DeadlineHeight: 50, Status: types.TASK_STATUS_PENDING}},
	}}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	tasks, _ := startWatcher(t, src, st, watcher.WithRetry(2, 40*time.Millisecond), watcher.WithRecovery(lister, "avs1op"))

	require.Eventually(t, func() bool { return len(lister.sinceCalls()) >= 3 }, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 3, cursorOf(t, st), "the cursor stays before the blocks whose tasks are not recovered")
	lister.setFail(false)
	require.Equal(t, watcher.Work{ID: 9, ServiceID: 2, Height: 5}, receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 10 }, 5*time.Second, 10*time.Millisecond)
}

// TestH7MatcherFailureIsBounded: a block whose events cannot be matched is
// retried a bounded number of times, then its created tasks are saved and
// sent without its event matches, and later blocks are read.
func TestH7MatcherFailureIsBounded(t *testing.T) {
	src := newFakeSource(t, 9)
	src.blocks[7] = &coretypes.ResultBlockResults{Height: 7, FinalizeBlockEvents: []abci.Event{taskCreated(t, 1, 2)}}
	m := newFakeMatcher()
	m.matches[8] = []watcher.Work{eventWork(3, 8, 1)}
	m.setFail(7, true) // forever
	mt := &fakeMetrics{}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(6))
	tasks, _ := startWatcher(t, src, st, watcher.WithMatcher(m), watcher.WithRetry(3, 40*time.Millisecond), watcher.WithMetrics(mt))

	require.Equal(t, watcher.Work{ID: 1, ServiceID: 2, Height: 7}, receive(t, tasks))
	require.Equal(t, eventWork(3, 8, 1), receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 9 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, 3, m.callsAt(7))
	_, skipped := mt.get()
	require.Zero(t, skipped, "the block was read: its tasks are not lost")
}

// TestH3CursorAboveTheNodeIsReported: a node whose latest height is below the
// cursor (a reset chain, or a node far behind) is reported to WithBehind on
// every poll and logged as an error at most once a minute; the report clears
// once the node passes the cursor. The old watcher idled silently.
func TestH3CursorAboveTheNodeIsReported(t *testing.T) {
	src := newFakeSource(t, 10)
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(50))
	var (
		mu      sync.Mutex
		reports [][2]int64
	)
	behind := func(latest, cursor int64) {
		mu.Lock()
		reports = append(reports, [2]int64{latest, cursor})
		mu.Unlock()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(reports)
	}
	logs := &recording{}
	mt := &fakeMetrics{}
	startWatcher(t, src, st, watcher.WithBehind(behind), watcher.WithMetrics(mt), watcher.WithLogger(slog.New(logs)))

	require.Eventually(t, func() bool { return count() >= 5 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	require.Equal(t, [2]int64{10, 50}, reports[0])
	mu.Unlock()
	require.Equal(t, 1, logs.count(slog.LevelError, "below the cursor"), "logged once a minute, not every poll")
	head, _ := mt.get()
	require.EqualValues(t, 10, head, "the chain head is reported")
	require.EqualValues(t, -1, src.firstCall(), "no block read")

	src.mu.Lock()
	src.latest = 51
	src.mu.Unlock()
	require.Eventually(t, func() bool { return cursorOf(t, st) == 51 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	last := reports[len(reports)-1]
	mu.Unlock()
	require.Equal(t, [2]int64{51, 50}, last, "the report clears once the node has passed the cursor")
}

// TestM11HeightsFlowWhileThePipelineIsBusy: heights are reported as soon as
// a block's work is saved, even while the pipeline takes no work; the work
// is then sent in order. The old watcher stopped reporting heights (and
// /healthz went red) while a send blocked.
func TestM11HeightsFlowWhileThePipelineIsBusy(t *testing.T) {
	src := newFakeSource(t, 10)
	for h := int64(4); h <= 10; h++ {
		src.blocks[h] = &coretypes.ResultBlockResults{Height: h, FinalizeBlockEvents: []abci.Event{taskCreated(t, uint64(h), 2)}}
	}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(3))
	work := make(chan watcher.Work) // nobody reads yet
	heights := make(chan int64, 32)
	mt := &fakeMetrics{}
	startWatcherOn(t, src, st, work, watcher.WithHeights(heights), watcher.WithMetrics(mt))

	for want := int64(4); want <= 10; want++ {
		select {
		case h := <-heights:
			require.Equal(t, want, h)
		case <-time.After(5 * time.Second):
			t.Fatalf("height %d not reported while the pipeline is busy", want)
		}
	}
	require.EqualValues(t, 10, cursorOf(t, st))
	require.Len(t, inboxTasks(t, st), 7, "the work is saved before it is sent")
	head, _ := mt.get()
	require.EqualValues(t, 10, head)
	for want := uint64(4); want <= 10; want++ {
		require.Equal(t, watcher.Work{ID: want, ServiceID: 2, Height: int64(want)}, receive(t, work))
	}
}

// TestM7ServiceFilter: work of services the filter refuses is neither saved
// nor sent, nor recovered from skipped blocks.
func TestM7ServiceFilter(t *testing.T) {
	src := newFakeSource(t, 8)
	src.blocks[5] = &coretypes.ResultBlockResults{Height: 5, FinalizeBlockEvents: []abci.Event{taskCreated(t, 1, 2), taskCreated(t, 2, 3)}}
	src.setFail(6, true)
	m := newFakeMatcher()
	m.matches[7] = []watcher.Work{eventWork(3, 7, 0), eventWork(2, 7, 1)}
	lister := &fakeLister{services: []uint64{2, 3}, tasks: map[uint64][]types.Task{
		2: {{Id: 4, ServiceId: 2, CreatedHeight: 6, DeadlineHeight: 50}},
		3: {{Id: 5, ServiceId: 3, CreatedHeight: 6, DeadlineHeight: 50}},
	}}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(4))
	runs := func(service uint64) bool { return service == 2 }
	tasks, _ := startWatcher(t, src, st, watcher.WithServiceFilter(runs), watcher.WithMatcher(m),
		watcher.WithRetry(2, 40*time.Millisecond), watcher.WithRecovery(lister, "avs1op"))

	require.Equal(t, watcher.Work{ID: 1, ServiceID: 2, Height: 5}, receive(t, tasks))
	require.Equal(t, watcher.Work{ID: 4, ServiceID: 2, Height: 6}, receive(t, tasks))
	require.Equal(t, eventWork(2, 7, 1), receive(t, tasks))
	require.Eventually(t, func() bool { return cursorOf(t, st) == 8 }, 5*time.Second, 10*time.Millisecond)
	requireNoTask(t, src, tasks)
	require.ElementsMatch(t, []string{"1", "4", eventWork(2, 7, 1).Key()}, keys(inboxTasks(t, st)))
	require.Equal(t, []int64{6}, lister.sinceCalls(), "a filtered-out service is not even asked")
}
