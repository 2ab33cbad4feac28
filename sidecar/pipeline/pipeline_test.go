package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
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

const (
	chainID  = "avschain-test"
	operator = "avs1operator"
	output   = `{"answer":42}`
)

var (
	component = avstest.FixedOutput(output)
	digest    = types.Digest(component)
	blockTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// fakeChain serves tasks, services and the one component.
type fakeChain struct {
	mu       sync.Mutex
	tasks    map[uint64]types.Task
	services map[uint64]types.Service
	optedIn  []uint64
	// taskErrors is how many Task reads fail before they succeed.
	taskErrors int
}

func newFakeChain() *fakeChain {
	return &fakeChain{tasks: map[uint64]types.Task{}, services: map[uint64]types.Service{}}
}

func (c *fakeChain) Task(_ context.Context, id uint64) (types.Task, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.taskErrors > 0 {
		c.taskErrors--
		return types.Task{}, errors.New("node unreachable")
	}
	t, ok := c.tasks[id]
	if !ok {
		return types.Task{}, fmt.Errorf("no task %d", id)
	}
	return t, nil
}

func (c *fakeChain) Service(_ context.Context, id uint64) (types.Service, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.services[id]
	if !ok {
		return types.Service{}, fmt.Errorf("no service %d", id)
	}
	return s, nil
}

func (c *fakeChain) ComponentCode(_ context.Context, d string) ([]byte, error) {
	if d != digest {
		return nil, fmt.Errorf("no component %s", d)
	}
	return component, nil
}

func (c *fakeChain) OperatorServices(_ context.Context, op string) ([]uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op != operator {
		return nil, fmt.Errorf("unknown operator %s", op)
	}
	return append([]uint64(nil), c.optedIn...), nil
}

// fakeRunner records the jobs it runs and returns a fixed output.
type fakeRunner struct {
	mu   sync.Mutex
	jobs []executor.Job
	wasm [][]byte
	// prepare, when set, is what Prepare does.
	prepare func(ctx context.Context) error
}

func (r *fakeRunner) Run(_ context.Context, job executor.Job, wasm []byte) (executor.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, job)
	r.wasm = append(r.wasm, wasm)
	return executor.Result{Output: []byte(output), Duration: time.Millisecond}, nil
}

func (r *fakeRunner) Prepare(ctx context.Context, _ []byte, _ uint32) error {
	if r.prepare != nil {
		return r.prepare(ctx)
	}
	return nil
}

func (r *fakeRunner) ran() []executor.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]executor.Job(nil), r.jobs...)
}

// fakeVoter records the votes queued.
type fakeVoter struct {
	mu    sync.Mutex
	votes []submitter.Vote
}

func (v *fakeVoter) Enqueue(vote submitter.Vote) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.votes = append(v.votes, vote)
	return nil
}

func (v *fakeVoter) queued() []submitter.Vote {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]submitter.Vote(nil), v.votes...)
}

type fixture struct {
	chain  *fakeChain
	runner *fakeRunner
	voter  *fakeVoter
	store  *store.Store
	in     chan watcher.Task
	p      *pipeline.Pipeline
}

func newFixture(t *testing.T, opts ...pipeline.Option) *fixture {
	t.Helper()
	f := &fixture{chain: newFakeChain(), runner: &fakeRunner{}, voter: &fakeVoter{}, store: store.OpenMemory(), in: make(chan watcher.Task)}
	f.chain.optedIn = []uint64{3}
	f.chain.services[3] = eventService(3)
	opts = append([]pipeline.Option{pipeline.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	p, err := pipeline.New(f.chain, f.runner, f.store, f.voter, f.in, chainID, operator, opts...)
	require.NoError(t, err)
	f.p = p
	return f
}

func eventService(id uint64) types.Service {
	trig := types.Trigger{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: "wasm-announce"}}}
	return types.Service{Id: id, Manifest: types.ServiceManifest{
		ComponentDigest: digest,
		Config:          []types.ConfigEntry{{Key: "MODE", Value: "fast"}},
		Limits:          types.Limits{TimeMs: 2000, MemoryPages: 32, OutputBytes: 1024},
		Triggers:        []types.Trigger{trig},
	}}
}

func eventTask(service uint64) watcher.Task {
	ref := &types.EventRef{
		ServiceId: service, Height: 17, TxHash: "AB12", EventIndex: 2,
		Input: []byte(`{"trigger":"event","event":{"type":"wasm-announce"}}`),
	}
	return watcher.Task{ServiceID: service, Height: 17, Event: ref, BlockTime: blockTime}
}

func TestHandleEventRunsTheServiceComponentOnce(t *testing.T) {
	f := newFixture(t)
	task := eventTask(3)
	ctx := context.Background()

	require.NoError(t, f.p.HandleWork(ctx, task))
	jobs := f.runner.ran()
	require.Len(t, jobs, 1)
	job := jobs[0]
	require.Equal(t, digest, job.Digest, "the service's component")
	require.Equal(t, component, f.runner.wasm[0])
	require.Zero(t, job.TaskID, "an event has no task id yet")
	require.Equal(t, uint64(3), job.ServiceID)
	require.Equal(t, chainID, job.ChainID)
	require.Equal(t, int64(17), job.BlockHeight, "the event's height")
	require.True(t, job.BlockTime.Equal(blockTime))
	require.Equal(t, task.Event.Input, job.Input, "the event's input")
	require.Equal(t, map[string]string{"MODE": "fast"}, job.Config)
	require.Equal(t, 2*time.Second, job.Limits.Time)
	require.Equal(t, uint32(32), job.Limits.MemoryPages)

	votes := f.voter.queued()
	require.Len(t, votes, 1)
	require.Zero(t, votes[0].TaskID)
	require.Equal(t, task.Event, votes[0].Event)
	require.Equal(t, []byte(output), votes[0].Result)
	require.Equal(t, store.WorkKey(0, task.Event), votes[0].Key())

	exec, ok, err := f.store.Executed(store.WorkKey(0, task.Event))
	require.NoError(t, err)
	require.True(t, ok, "the execution is recorded under the event's key")
	require.Equal(t, []byte(output), exec.Result)

	// Again: the stored result is queued again; the component does not run.
	require.NoError(t, f.p.HandleWork(ctx, task))
	require.Len(t, f.runner.ran(), 1)
	votes = f.voter.queued()
	require.Len(t, votes, 2)
	require.Equal(t, votes[0], votes[1])

	// Once the vote is on chain, nothing more is done.
	require.NoError(t, f.store.MarkSubmitted(store.WorkKey(0, task.Event), "TX"))
	require.NoError(t, f.p.HandleWork(ctx, task))
	require.Len(t, f.runner.ran(), 1)
	require.Len(t, f.voter.queued(), 2)

	// Another event of the same service is its own work.
	other := eventTask(3)
	other.Event.EventIndex = 3
	require.NoError(t, f.p.HandleWork(ctx, other))
	require.Len(t, f.runner.ran(), 2)
	require.Len(t, f.voter.queued(), 3)
}

func TestHandleEventOriginTaskRunsNothing(t *testing.T) {
	f := newFixture(t)
	f.chain.tasks[9] = types.Task{
		Id: 9, ServiceId: 3, Input: []byte(`{"claimed":"input"}`), Status: types.TASK_STATUS_PENDING,
		Origin:          types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: "event:1/5//0"},
		ComponentDigest: digest, CreatedHeight: 6,
	}
	require.True(t, f.chain.tasks[9].Origin.IsEventOrigin())
	require.NoError(t, f.p.Handle(context.Background(), 9))
	require.NoError(t, f.p.HandleWork(context.Background(), watcher.Task{ID: 9}))
	require.Empty(t, f.runner.ran())
	require.Empty(t, f.voter.queued())

	// The same task opened by an interval trigger is run.
	f.chain.tasks[10] = types.Task{
		Id: 10, ServiceId: 3, Status: types.TASK_STATUS_PENDING,
		Origin:          types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: "interval:3/6"},
		ComponentDigest: digest, CreatedHeight: 6,
	}
	require.NoError(t, f.p.Handle(context.Background(), 10))
	require.Len(t, f.runner.ran(), 1)
	require.Equal(t, []submitter.Vote{{TaskID: 10, Result: []byte(output)}}, f.voter.queued())
}

func TestHandleEventSkipsServicesNotRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		malleate func(f *fixture)
		opts     []pipeline.Option
	}{
		{name: "not opted in", malleate: func(f *fixture) { f.chain.optedIn = []uint64{4} }},
		{name: "paused", malleate: func(f *fixture) {
			svc := f.chain.services[3]
			svc.Status = types.SERVICE_STATUS_PAUSED
			f.chain.services[3] = svc
		}},
		{name: "excluded by WithServices", opts: []pipeline.Option{pipeline.WithServices(map[uint64]bool{4: true})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			if tc.malleate != nil {
				tc.malleate(f)
			}
			require.NoError(t, f.p.HandleWork(context.Background(), eventTask(3)))
			require.Empty(t, f.runner.ran())
			require.Empty(t, f.voter.queued())
		})
	}
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

// A vote on a service with a handler contract reserves the handler's gas,
// also when it is queued again from the stored result after a restart.
func TestHandlerGasSurvivesTheStore(t *testing.T) {
	f := newFixture(t, pipeline.WithHandlerGas(500_000))
	svc := f.chain.services[3]
	svc.Manifest.HandlerContract = "avs1handler"
	f.chain.services[3] = svc
	ctx := context.Background()
	require.NoError(t, f.p.HandleWork(ctx, eventTask(3)))
	require.NoError(t, f.p.HandleWork(ctx, eventTask(3)))
	votes := f.voter.queued()
	require.Len(t, votes, 2)
	require.Len(t, f.runner.ran(), 1)
	require.EqualValues(t, 500_000, votes[0].ExtraGas)
	require.EqualValues(t, 500_000, votes[1].ExtraGas, "the stored result keeps its extra gas")
}
