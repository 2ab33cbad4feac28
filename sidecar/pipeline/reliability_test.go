package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
)

// countingMetrics counts the pipeline's reports of runs and work.
type countingMetrics struct {
	metrics.Sink
	mu       sync.Mutex
	seen     int
	executed int
	failed   map[string]int
	retried  int
	givenUp  map[string]int
	pruned   int
}

func newCountingMetrics() *countingMetrics {
	return &countingMetrics{Sink: metrics.Nop(), failed: map[string]int{}, givenUp: map[string]int{}}
}

func (m *countingMetrics) TaskSeen() {
	m.mu.Lock()
	m.seen++
	m.mu.Unlock()
}

func (m *countingMetrics) TaskExecuted(time.Duration) {
	m.mu.Lock()
	m.executed++
	m.mu.Unlock()
}

func (m *countingMetrics) TaskFailed(reason string) {
	m.mu.Lock()
	m.failed[reason]++
	m.mu.Unlock()
}

// runs returns the tasks seen, executed and failed (by reason).
func (m *countingMetrics) runs() (seen, executed int, failed map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen, m.executed, maps.Clone(m.failed)
}

func (m *countingMetrics) WorkRetried() {
	m.mu.Lock()
	m.retried++
	m.mu.Unlock()
}

func (m *countingMetrics) WorkGivenUp(reason string) {
	m.mu.Lock()
	m.givenUp[reason]++
	m.mu.Unlock()
}

func (m *countingMetrics) WorkPruned(n int) {
	m.mu.Lock()
	m.pruned += n
	m.mu.Unlock()
}

func (m *countingMetrics) counts() (retried int, givenUp map[string]int, pruned int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := map[string]int{}
	for k, v := range m.givenUp {
		g[k] = v
	}
	return m.retried, g, m.pruned
}

// taskOf is a tx-created task of service 3 with the given status and deadline.
func taskOf(id uint64, st types.TaskStatus, deadline int64) types.Task {
	return types.Task{
		Id: id, ServiceId: 3, Status: st, ComponentDigest: digest, CreatedHeight: 6, DeadlineHeight: deadline,
		Origin: types.Origin{Kind: types.ORIGIN_KIND_TX},
	}
}

// save puts work in the store's inbox, as the watcher does.
func save(t *testing.T, s *store.Store, w watcher.Work) {
	t.Helper()
	bz, err := json.Marshal(w)
	require.NoError(t, err)
	require.NoError(t, s.Advance(w.Height, map[string][]byte{w.Key(): bz}))
}

func inboxHas(t *testing.T, s *store.Store, key string) bool {
	t.Helper()
	inbox, err := s.Inbox()
	require.NoError(t, err)
	_, ok := inbox[key]
	return ok
}

// start runs the pipeline until the test ends.
func start(t *testing.T, p *pipeline.Pipeline) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// TestH1VotesWhileTheVoteCounts: eligibility is the task's snapshot and its
// deadline, not its status and not the operator's current opt-ins.
func TestH1VotesWhileTheVoteCounts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		status   types.TaskStatus
		malleate func(f *fixture)
		opts     []pipeline.Option
		voted    bool
	}{
		{name: "completed, in the snapshot, opted out since", status: types.TASK_STATUS_COMPLETED, voted: true,
			malleate: func(f *fixture) { f.chain.optedIn = nil }},
		{name: "failed, deadline not passed", status: types.TASK_STATUS_FAILED, voted: true},
		{name: "pending, opted in now but not in the snapshot", status: types.TASK_STATUS_PENDING,
			malleate: func(f *fixture) { f.chain.notInSnapshot[7] = true }},
		{name: "completed, already voted on chain", status: types.TASK_STATUS_COMPLETED,
			malleate: func(f *fixture) { f.chain.voted[7] = true }},
		{name: "completed MEDIAN service: no late vote by default", status: types.TASK_STATUS_COMPLETED,
			malleate: func(f *fixture) { median(f) }},
		{name: "failed MEDIAN service: late vote", status: types.TASK_STATUS_FAILED, voted: true,
			malleate: func(f *fixture) { median(f) }},
		{name: "completed MEDIAN service, late votes enabled for every service", status: types.TASK_STATUS_COMPLETED, voted: true,
			malleate: func(f *fixture) { median(f) }, opts: []pipeline.Option{pipeline.WithLateVotes(pipeline.LateVotesAll)}},
		{name: "completed, late votes off", status: types.TASK_STATUS_COMPLETED,
			opts: []pipeline.Option{pipeline.WithLateVotes(pipeline.LateVotesNone)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			f.chain.tasks[7] = taskOf(7, tc.status, 40)
			if tc.malleate != nil {
				tc.malleate(f)
			}
			require.NoError(t, f.p.Handle(ctx, watcher.Work{ID: 7}))
			if !tc.voted {
				require.Empty(t, f.runner.ran())
				require.Empty(t, f.voter.queued())
				return
			}
			require.Len(t, f.runner.ran(), 1)
			require.Equal(t, []submitter.Vote{{TaskID: 7, Result: []byte(output), Deadline: 40}}, f.voter.queued())
		})
	}
}

func median(f *fixture) {
	svc := f.chain.services[3]
	svc.Manifest.Aggregation.Mode = types.AGGREGATION_MODE_MEDIAN
	f.chain.services[3] = svc
}

// TestH6SavedWorkOutlivesNodeDowntime: a node down far longer than the old
// 20 attempts (~78 s) costs no work: the task stays in the inbox and is
// voted once the node answers again.
func TestH6SavedWorkOutlivesNodeDowntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newCountingMetrics()
		f := newFixture(t, pipeline.WithMetrics(m))
		f.chain.tasks[5] = taskOf(5, types.TASK_STATUS_PENDING, 1000)
		const downFor = 40
		calls := 0
		f.chain.fail = func(method string) error {
			if method == "TaskFor" {
				if calls++; calls <= downFor {
					return status.Error(codes.Unavailable, "connection refused")
				}
			}
			return nil
		}
		save(t, f.store, watcher.Work{ID: 5, Height: 6})
		start(t, f.p)
		for i := 0; len(f.voter.queued()) == 0; i++ {
			require.Less(t, i, 1000, "the task was never voted")
			require.True(t, inboxHas(t, f.store, "5"), "saved work was dropped while the node was down")
			time.Sleep(10 * time.Second)
			synctest.Wait()
		}
		require.Equal(t, []submitter.Vote{{TaskID: 5, Result: []byte(output), Deadline: 1000}}, f.voter.queued())
		require.True(t, inboxHas(t, f.store, "5"), "a queued vote's work stays saved until submitted")
		retried, givenUp, _ := m.counts()
		require.Equal(t, downFor, retried)
		require.Empty(t, givenUp)
	})
}

// TestH6GivesUpOnlyPastTheDeadline: once the task's deadline is known and
// has passed, retrying stops and the work leaves the inbox.
func TestH6GivesUpOnlyPastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newCountingMetrics()
		f := newFixture(t, pipeline.WithMetrics(m))
		f.chain.tasks[5] = taskOf(5, types.TASK_STATUS_PENDING, 20)
		reads := 0
		f.chain.fail = func(method string) error {
			switch method {
			case "TaskFor":
				if reads++; reads > 1 {
					return status.Error(codes.Unavailable, "connection refused")
				}
			case "Service":
				return status.Error(codes.Unavailable, "connection refused")
			}
			return nil
		}
		save(t, f.store, watcher.Work{ID: 5, Height: 6})
		start(t, f.p)
		time.Sleep(time.Minute)
		synctest.Wait()
		require.True(t, inboxHas(t, f.store, "5"), "the deadline has not passed")
		f.chain.setHeight(21)
		for i := 0; inboxHas(t, f.store, "5"); i++ {
			require.Less(t, i, 100, "the work was never given up")
			time.Sleep(10 * time.Second)
			synctest.Wait()
		}
		require.Empty(t, f.voter.queued())
		_, givenUp, _ := m.counts()
		require.Equal(t, map[string]int{"deadline": 1}, givenUp)
	})
}

// TestM3TransientHostFailureIsRetried: a run that failed after an http_fetch
// failure is run again before a failure is voted; a deterministic failure is
// not.
func TestM3TransientHostFailureIsRetried(t *testing.T) {
	httpErr := fmt.Errorf("%w: exit code 1", executor.ErrHTTP)
	for _, tc := range []struct {
		name    string
		fails   int // runs that fail before one succeeds (-1: all)
		err     error
		runs    int
		failure types.FailureReason
	}{
		{name: "http fails twice then works", fails: 2, err: httpErr, runs: 3},
		{name: "http keeps failing", fails: -1, err: httpErr, runs: 4, failure: types.FAILURE_REASON_HTTP},
		{name: "timeout is run once more", fails: -1, err: executor.ErrTimeout, runs: 2, failure: types.FAILURE_REASON_TIME},
		{name: "exit is final", fails: -1, err: fmt.Errorf("%w: exit code 2", executor.ErrExit), runs: 1, failure: types.FAILURE_REASON_EXIT},
		{name: "trap is final", fails: -1, err: executor.ErrTrap, runs: 1, failure: types.FAILURE_REASON_TRAP},
		{name: "memory is final", fails: -1, err: executor.ErrMemory, runs: 1, failure: types.FAILURE_REASON_MEMORY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t)
				f.runner.run = func(_ context.Context, n int) (executor.Result, error) {
					if tc.fails < 0 || n < tc.fails {
						return executor.Result{}, tc.err
					}
					return executor.Result{Output: []byte(output)}, nil
				}
				f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
				require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
				require.Len(t, f.runner.ran(), tc.runs)
				want := submitter.Vote{TaskID: 7, Failure: tc.failure, Deadline: 40}
				if tc.failure == types.FAILURE_REASON_UNSPECIFIED {
					want.Result = []byte(output)
				}
				require.Equal(t, []submitter.Vote{want}, f.voter.queued())
			})
		})
	}
}

// TestM3CancelledRunIsNotRecorded: a run cut short by shutdown records
// nothing and votes nothing, whatever it returned.
func TestM3CancelledRunIsNotRecorded(t *testing.T) {
	for name, runErr := range map[string]error{
		"success":        nil,
		"component fail": fmt.Errorf("%w: killed", executor.ErrTrap),
		"other":          context.Canceled,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			ctx, cancel := context.WithCancel(context.Background())
			f.runner.run = func(context.Context, int) (executor.Result, error) {
				cancel()
				return executor.Result{Output: []byte(output)}, runErr
			}
			f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
			require.ErrorIs(t, f.p.Handle(ctx, watcher.Work{ID: 7}), context.Canceled) // tests review L2: any error passed
			_, ok, err := f.store.Executed("7")
			require.NoError(t, err)
			require.False(t, ok, "a cancelled run was recorded")
			require.Empty(t, f.voter.queued())
		})
	}
}

// TestM2EventBeforeTheServiceChangedIsNotRun: an event at or below the
// service's updated_height is not matched by peers (trigger package), so it
// is not run with the new code either.
func TestM2EventBeforeTheServiceChangedIsNotRun(t *testing.T) {
	f := newFixture(t)
	svc := f.chain.services[3]
	svc.UpdatedHeight = 17 // the event's height
	f.chain.services[3] = svc
	require.NoError(t, f.p.Handle(context.Background(), eventTask(3)))
	require.Empty(t, f.runner.ran())
	require.Empty(t, f.voter.queued())

	svc.UpdatedHeight = 16
	f.chain.services[3] = svc
	require.NoError(t, f.p.Handle(context.Background(), eventTask(3)))
	require.Len(t, f.runner.ran(), 1)
}

// TestL6ExpiredWorkIsNotRun: work whose deadline has passed (catch-up after
// downtime) is dropped before it takes an executor slot.
func TestL6ExpiredWorkIsNotRun(t *testing.T) {
	f := newFixture(t)
	f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 9) // height is 10
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
	require.Empty(t, f.runner.ran())
	require.Empty(t, f.voter.queued())

	// An event: its deadline is its height + the service's task timeout.
	f.chain.setHeight(17 + 50 + 1)
	require.NoError(t, f.p.Handle(context.Background(), eventTask(3)))
	require.Empty(t, f.runner.ran())
	require.Empty(t, f.voter.queued())

	f.chain.tasks[8] = taskOf(8, types.TASK_STATUS_PENDING, 68) // the deadline height itself still counts
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 8}))
	require.Len(t, f.runner.ran(), 1)
}

// TestH4CrashGuard: the run is counted on disk before it starts and the
// count cleared after; work that took the process down WithMaxCrashes times
// is voted a memory failure without running it again.
func TestH4CrashGuard(t *testing.T) {
	f := newFixture(t)
	f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
	f.runner.run = func(context.Context, int) (executor.Result, error) {
		n, err := f.store.Attempts("7")
		require.NoError(t, err)
		require.Equal(t, 1, n, "the run is counted before it starts")
		return executor.Result{Output: []byte(output)}, nil
	}
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
	n, err := f.store.Attempts("7")
	require.NoError(t, err)
	require.Zero(t, n, "a run that returned is no crash")

	// Three runs of task 8 started and never returned: the process died.
	f.chain.tasks[8] = taskOf(8, types.TASK_STATUS_PENDING, 40)
	for range 3 {
		_, err := f.store.StartAttempt("8")
		require.NoError(t, err)
	}
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 8}))
	require.Len(t, f.runner.ran(), 1, "task 8 is not run again")
	require.Equal(t, submitter.Vote{TaskID: 8, Failure: types.FAILURE_REASON_MEMORY, Deadline: 40}, f.voter.queued()[1])
	exec, ok, err := f.store.Executed("8")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, types.FAILURE_REASON_MEMORY, exec.Failure, "a restart votes the same failure")

	// Below the limit, the work runs again.
	g := newFixture(t, pipeline.WithMaxCrashes(5))
	g.chain.tasks[8] = taskOf(8, types.TASK_STATUS_PENDING, 40)
	for range 3 {
		_, err := g.store.StartAttempt("8")
		require.NoError(t, err)
	}
	require.NoError(t, g.p.Handle(context.Background(), watcher.Work{ID: 8}))
	require.Equal(t, []submitter.Vote{{TaskID: 8, Result: []byte(output), Deadline: 40}}, g.voter.queued())
}

// TestH4MemoryBudget: concurrent runs hold their service's memory pages
// from the budget, and a service over the whole budget is voted a memory
// failure without running.
func TestH4MemoryBudget(t *testing.T) {
	t.Run("a run waits for the memory of another", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFixture(t, pipeline.WithMemoryBudget(48)) // the service needs 32
			release := make(chan struct{})
			f.runner.run = func(context.Context, int) (executor.Result, error) {
				<-release
				return executor.Result{Output: []byte(output)}, nil
			}
			f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
			f.chain.tasks[8] = taskOf(8, types.TASK_STATUS_PENDING, 40)
			errs := make(chan error, 2)
			go func() { errs <- f.p.Handle(context.Background(), watcher.Work{ID: 7}) }()
			go func() { errs <- f.p.Handle(context.Background(), watcher.Work{ID: 8}) }()
			synctest.Wait()
			require.Len(t, f.runner.ran(), 1, "the second run waits: 32+32 pages exceed the budget of 48")
			release <- struct{}{}
			require.NoError(t, <-errs)
			synctest.Wait()
			require.Len(t, f.runner.ran(), 2, "the memory was given back")
			release <- struct{}{}
			require.NoError(t, <-errs)
			require.Len(t, f.voter.queued(), 2)
		})
	})
	t.Run("a service over the whole budget", func(t *testing.T) {
		f := newFixture(t, pipeline.WithMemoryBudget(16))
		f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
		require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
		require.Empty(t, f.runner.ran())
		require.Equal(t, []submitter.Vote{{TaskID: 7, Failure: types.FAILURE_REASON_MEMORY, Deadline: 40}}, f.voter.queued())
	})
}

// TestM12PrunesRecordsOfExpiredWork: the records of work whose deadline
// passed more than the margin ago are pruned, on Start's ticker too.
func TestM12PrunesRecordsOfExpiredWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newCountingMetrics()
		f := newFixture(t, pipeline.WithMetrics(m), pipeline.WithPruneEvery(time.Minute, 10))
		f.chain.tasks[7] = taskOf(7, types.TASK_STATUS_PENDING, 40)
		require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 7}))
		require.NoError(t, f.p.Handle(context.Background(), eventTask(3))) // deadline 17+50
		require.NoError(t, f.store.MarkSubmitted("7", "AB"))
		ev := store.WorkKey(0, eventTask(3).Event)

		f.chain.setHeight(50) // 40+10: not yet below the margin
		n, err := f.p.Prune(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)

		f.chain.setHeight(51)
		start(t, f.p)
		time.Sleep(time.Minute)
		synctest.Wait()
		_, _, pruned := m.counts()
		require.Equal(t, 1, pruned)
		sub, err := f.store.Submitted("7")
		require.NoError(t, err)
		require.False(t, sub)
		_, ok, err := f.store.Executed("7")
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = f.store.Executed(ev)
		require.NoError(t, err)
		require.True(t, ok, "the event's deadline has not passed")

		f.chain.setHeight(17 + 50 + 11)
		time.Sleep(time.Minute)
		synctest.Wait()
		_, _, pruned = m.counts()
		require.Equal(t, 2, pruned)
		_, ok, err = f.store.Executed(ev)
		require.NoError(t, err)
		require.False(t, ok)
	})
}

// TestM12ComponentCacheIsBounded: components are kept up to a number of
// bytes, the least recently used going first.
func TestM12ComponentCacheIsBounded(t *testing.T) {
	other := avstest.FixedOutput(`{"other":1}`)
	otherDigest := types.Digest(other)
	f := newFixture(t, pipeline.WithComponentCache(int64(len(component)+len(other)/2)))
	f.chain.components[otherDigest] = other
	ctx := context.Background()
	fetch := func(d string) {
		t.Helper()
		_, err := f.p.Component(ctx, d)
		require.NoError(t, err)
	}
	fetch(digest)
	fetch(digest)
	require.Equal(t, 1, f.chain.fetches, "cached")
	fetch(otherDigest) // evicts the first
	fetch(otherDigest)
	require.Equal(t, 2, f.chain.fetches)
	fetch(digest)
	require.Equal(t, 3, f.chain.fetches, "evicted, fetched again")
}

// TestM6OneDownloadPerDigest: concurrent runs of one component share its
// download.
func TestM6OneDownloadPerDigest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		gate := make(chan struct{})
		f.chain.fetch = func() { <-gate }
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				_, err := f.p.Component(context.Background(), digest)
				errs <- err
			}()
		}
		synctest.Wait()
		close(gate)
		for range 3 {
			require.NoError(t, <-errs)
		}
		require.Equal(t, 1, f.chain.fetches)
	})
}
