package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

func TestHandleEventRunsTheServiceComponentOnce(t *testing.T) {
	f := newFixture(t)
	task := eventTask(3)
	ctx := context.Background()

	require.NoError(t, f.p.Handle(ctx, task))
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
	require.NoError(t, f.p.Handle(ctx, task))
	require.Len(t, f.runner.ran(), 1)
	votes = f.voter.queued()
	require.Len(t, votes, 2)
	require.Equal(t, votes[0], votes[1])

	// Once the vote is on chain, nothing more is done.
	require.NoError(t, f.store.MarkSubmitted(store.WorkKey(0, task.Event), "TX"))
	require.NoError(t, f.p.Handle(ctx, task))
	require.Len(t, f.runner.ran(), 1)
	require.Len(t, f.voter.queued(), 2)

	// Another event of the same service is its own work.
	other := eventTask(3)
	other.Event.EventIndex = 3
	require.NoError(t, f.p.Handle(ctx, other))
	require.Len(t, f.runner.ran(), 2)
	require.Len(t, f.voter.queued(), 3)
}

func TestHandleEventOriginTaskRunsNothing(t *testing.T) {
	f := newFixture(t)
	f.chain.tasks[9] = types.Task{
		Id: 9, ServiceId: 3, Input: []byte(`{"claimed":"input"}`), Status: types.TASK_STATUS_PENDING,
		Origin:          types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: "event:1/5//0"},
		ComponentDigest: digest, CreatedHeight: 6, DeadlineHeight: 56,
	}
	require.True(t, f.chain.tasks[9].Origin.IsEventOrigin())
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 9}))
	require.Empty(t, f.runner.ran())
	require.Empty(t, f.voter.queued())

	// The same task opened by an interval trigger is run.
	f.chain.tasks[10] = types.Task{
		Id: 10, ServiceId: 3, Status: types.TASK_STATUS_PENDING,
		Origin:          types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: "interval:3/6"},
		ComponentDigest: digest, CreatedHeight: 6, DeadlineHeight: 56,
	}
	require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: 10}))
	require.Len(t, f.runner.ran(), 1)
	require.Equal(t, []submitter.Vote{{TaskID: 10, Result: []byte(output), Deadline: 56}}, f.voter.queued())
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
			require.NoError(t, f.p.Handle(context.Background(), eventTask(3)))
			require.Empty(t, f.runner.ran())
			require.Empty(t, f.voter.queued())
		})
	}
}

// A vote on a service with a handler contract reserves the handler's gas,
// also when it is queued again from the stored result after a restart.
func TestHandlerGasSurvivesTheStore(t *testing.T) {
	f := newFixture(t, pipeline.WithHandlerGas(500_000))
	svc := f.chain.services[3]
	svc.Manifest.HandlerContract = "avs1handler"
	f.chain.services[3] = svc
	ctx := context.Background()
	require.NoError(t, f.p.Handle(ctx, eventTask(3)))
	require.NoError(t, f.p.Handle(ctx, eventTask(3)))
	votes := f.voter.queued()
	require.Len(t, votes, 2)
	require.Len(t, f.runner.ran(), 1)
	require.EqualValues(t, 500_000, votes[0].ExtraGas)
	require.EqualValues(t, 500_000, votes[1].ExtraGas, "the stored result keeps its extra gas")
}

// A component that fails is an answer (security review H-2): the operator
// votes the failure with its reason, also again from the store after a
// restart, and never runs the component twice. An error that is not the
// component's (the executor closed) is no vote and is not recorded either:
// the work is retried (reliability review M3; it used to be recorded, which
// made it a permanent miss).
func TestH2ComponentFailureIsVoted(t *testing.T) {
	f := newFixture(t)
	f.runner.err = fmt.Errorf("%w: exit code 1", executor.ErrExit)
	ctx := context.Background()
	require.NoError(t, f.p.Handle(ctx, eventTask(3)))
	require.NoError(t, f.p.Handle(ctx, eventTask(3)))
	votes := f.voter.queued()
	require.Len(t, votes, 2)
	require.Len(t, f.runner.ran(), 1)
	for _, v := range votes {
		require.Equal(t, types.FAILURE_REASON_EXIT, v.Failure)
		require.Empty(t, v.Result)
		require.NotNil(t, v.Event)
	}

	g := newFixture(t)
	g.runner.err = errors.New("executor is closed")
	require.EqualError(t, g.p.Handle(ctx, eventTask(3)), "run the component: executor is closed") // tests review L2: any error passed
	require.Empty(t, g.voter.queued())
	_, recorded, err := g.store.Executed(store.WorkKey(0, eventTask(3).Event))
	require.NoError(t, err)
	require.False(t, recorded)
}
