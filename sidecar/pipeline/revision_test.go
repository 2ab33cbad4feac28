package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// TaskService serves the manifest of the task's revision as chain.Client
// does: the current one for the service's revision (or a task without one),
// else the stored past revision.
func (c *fakeChain) TaskService(ctx context.Context, task types.Task) (types.Service, error) {
	c.mu.Lock()
	c.calls["TaskService"]++
	c.mu.Unlock()
	svc, err := c.Service(ctx, task.ServiceId)
	if err != nil || task.ServiceRevision == 0 || task.ServiceRevision == svc.Revision {
		return svc, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.revisions[[2]uint64{task.ServiceId, task.ServiceRevision}]
	if !ok {
		return types.Service{}, fmt.Errorf("no revision %d of service %d", task.ServiceRevision, task.ServiceId)
	}
	svc.Manifest, svc.Revision = m, task.ServiceRevision
	return svc, nil
}

// TestH3TaskRunsWithItsRevision: a task created under revision 1 runs with
// revision 1's config and limits after the owner changed them (revision 2).
func TestH3TaskRunsWithItsRevision(t *testing.T) {
	f := newFixture(t)
	old := f.chain.services[3].Manifest
	svc := f.chain.services[3]
	svc.Revision = 2
	svc.Manifest.Config = []types.ConfigEntry{{Key: "MODE", Value: "slow"}}
	svc.Manifest.Limits = types.Limits{TimeMs: 50, MemoryPages: 1, OutputBytes: 8}
	f.chain.services[3] = svc
	f.chain.revisions = map[[2]uint64]types.ServiceManifest{{3, 1}: old}
	for id, rev := range map[uint64]uint64{11: 1, 12: 2} {
		f.chain.tasks[id] = types.Task{
			Id: id, ServiceId: 3, Status: types.TASK_STATUS_PENDING, ComponentDigest: digest,
			Origin: types.Origin{Kind: types.ORIGIN_KIND_TX}, ServiceRevision: rev, DeadlineHeight: 56,
		}
	}
	ctx := context.Background()

	require.NoError(t, f.p.Handle(ctx, watcher.Work{ID: 11}))
	jobs := f.runner.ran()
	require.Len(t, jobs, 1)
	require.Equal(t, map[string]string{"MODE": "fast"}, jobs[0].Config, "revision 1's config")
	require.Equal(t, 2*time.Second, jobs[0].Limits.Time, "revision 1's limits")
	require.Equal(t, uint32(32), jobs[0].Limits.MemoryPages)

	require.NoError(t, f.p.Handle(ctx, watcher.Work{ID: 12}))
	jobs = f.runner.ran()
	require.Len(t, jobs, 2)
	require.Equal(t, map[string]string{"MODE": "slow"}, jobs[1].Config, "revision 2's config")
	require.Equal(t, 50*time.Millisecond, jobs[1].Limits.Time)
}
