package pipeline_test

import (
	"context"
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

// fakeChain serves tasks, services and the components.
type fakeChain struct {
	mu       sync.Mutex
	tasks    map[uint64]types.Task
	services map[uint64]types.Service
	// revisions are the manifests of past service revisions (revision_test.go)
	revisions map[[2]uint64]types.ServiceManifest
	optedIn   []uint64
	// taskErrors is how many TaskFor reads fail before they succeed.
	taskErrors int
	// notInSnapshot and voted answer TaskFor for the operator (by task id;
	// by default the operator is in every task's snapshot and has not voted).
	notInSnapshot map[uint64]bool
	voted         map[uint64]bool
	// height is the chain's latest height.
	height int64
	// fail, when set, is asked before each call (by method name) and the
	// call fails with the error it returns.
	fail func(method string) error
	// components are served by digest (the fixture's one by default).
	components map[string][]byte
	// fetches counts ComponentCode calls.
	fetches int
	// fetch, when set, runs in ComponentCode before it answers.
	fetch func()
	// snapshots are the current epoch's snapshots, by service.
	snapshots map[uint64]types.PowerSnapshot
	// calls counts the calls by method name.
	calls map[string]int
}

func newFakeChain() *fakeChain {
	return &fakeChain{
		tasks: map[uint64]types.Task{}, services: map[uint64]types.Service{}, height: 10,
		notInSnapshot: map[uint64]bool{}, voted: map[uint64]bool{}, components: map[string][]byte{digest: component},
		snapshots: map[uint64]types.PowerSnapshot{}, calls: map[string]int{},
	}
}

// failed counts the call and asks c.fail; the caller holds c.mu.
func (c *fakeChain) failed(method string) error {
	c.calls[method]++
	if c.fail == nil {
		return nil
	}
	return c.fail(method)
}

func (c *fakeChain) TaskFor(_ context.Context, id uint64, op string) (types.QueryTaskResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.failed("TaskFor"); err != nil {
		return types.QueryTaskResponse{}, err
	}
	if c.taskErrors > 0 {
		c.taskErrors--
		return types.QueryTaskResponse{}, errors.New("node unreachable")
	}
	t, ok := c.tasks[id]
	if !ok {
		return types.QueryTaskResponse{}, fmt.Errorf("no task %d", id)
	}
	res := types.QueryTaskResponse{Task: t}
	if op == operator {
		res.InSnapshot, res.Voted = !c.notInSnapshot[id], c.voted[id]
		if res.InSnapshot {
			res.OperatorPower = 10
		}
	}
	return res, nil
}

// called returns how many times method was called.
func (c *fakeChain) called(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

func (c *fakeChain) CurrentSnapshot(_ context.Context, service uint64) (types.PowerSnapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.failed("CurrentSnapshot"); err != nil {
		return types.PowerSnapshot{}, err
	}
	return c.snapshots[service], nil
}

func (c *fakeChain) LatestHeight(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.failed("LatestHeight"); err != nil {
		return 0, err
	}
	return c.height, nil
}

func (c *fakeChain) setHeight(h int64) {
	c.mu.Lock()
	c.height = h
	c.mu.Unlock()
}

func (c *fakeChain) Service(_ context.Context, id uint64) (types.Service, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.failed("Service"); err != nil {
		return types.Service{}, err
	}
	s, ok := c.services[id]
	if !ok {
		return types.Service{}, fmt.Errorf("no service %d", id)
	}
	return s, nil
}

func (c *fakeChain) ComponentCode(_ context.Context, d string) ([]byte, error) {
	c.mu.Lock()
	c.fetches++
	fetch := c.fetch
	wasm, ok := c.components[d]
	c.mu.Unlock()
	if fetch != nil {
		fetch()
	}
	if !ok {
		return nil, fmt.Errorf("no component %s", d)
	}
	return wasm, nil
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
	// err, when set, is what every run ends in.
	err error
	// run, when set, is what run n (from 0) does.
	run func(ctx context.Context, n int) (executor.Result, error)
}

func (r *fakeRunner) Run(ctx context.Context, job executor.Job, wasm []byte) (executor.Result, error) {
	r.mu.Lock()
	n := len(r.jobs)
	r.jobs = append(r.jobs, job)
	r.wasm = append(r.wasm, wasm)
	run := r.run
	r.mu.Unlock()
	if run != nil {
		return run(ctx, n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return executor.Result{Duration: time.Millisecond}, r.err
	}
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
	// notify, when set, gets each vote queued (after it is recorded).
	notify chan submitter.Vote
}

func (v *fakeVoter) Enqueue(vote submitter.Vote) error {
	v.mu.Lock()
	v.votes = append(v.votes, vote)
	notify := v.notify
	v.mu.Unlock()
	if notify != nil {
		notify <- vote
	}
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
	in     chan watcher.Work
	p      *pipeline.Pipeline
}

func newFixture(t *testing.T, opts ...pipeline.Option) *fixture {
	t.Helper()
	f := &fixture{chain: newFakeChain(), runner: &fakeRunner{}, voter: &fakeVoter{}, store: store.OpenMemory(), in: make(chan watcher.Work)}
	f.chain.optedIn = []uint64{3}
	f.chain.services[3] = eventService(3)
	opts = append([]pipeline.Option{pipeline.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	p, err := pipeline.New(pipeline.Deps{
		Chain: f.chain, Runner: f.runner, Store: f.store, Voter: f.voter, Work: f.in, ChainID: chainID, Operator: operator,
	}, opts...)
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

func eventTask(service uint64) watcher.Work {
	ref := &types.EventRef{
		ServiceId: service, Height: 17, TxHash: "AB12", EventIndex: 2,
		Input: []byte(`{"trigger":"event","event":{"type":"wasm-announce"}}`),
	}
	return watcher.Work{ServiceID: service, Height: 17, Event: ref, BlockTime: blockTime}
}
