package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
)

// runPrepared runs j on an instance prepared before it (as the executor
// does after a module's first run) and checks that the run took it.
func runPrepared(t *testing.T, e *executor.Executor, j executor.Job, wasm []byte) executor.Result {
	t.Helper()
	require.NoError(t, e.Prepare(context.Background(), wasm, j.Limits.MemoryPages)) // compiled once
	executor.PrepareNext(e, wasm, j.Limits.MemoryPages)
	ready, taken := executor.Prepared(e)
	require.Positive(t, ready, "an instance is prepared")
	res, err := e.Run(context.Background(), j, wasm)
	require.NoError(t, err)
	_, after := executor.Prepared(e)
	require.Equal(t, taken+1, after, "the run took the prepared instance")
	return res
}

// An instance made before its task knows nothing of an earlier task and
// everything of its own: input, environment, block time, randomness.
func TestPreparedInstanceServesItsOwnTask(t *testing.T) {
	e := newExecutor(t)
	square := repoFile(t, goSquare)
	for i, n := range []int{4, 5, 6, 7} {
		res := runPrepared(t, e, job(uint64(i+1), fmt.Sprint(n), limits(goPages)), square)
		require.Equal(t, fmt.Sprint(n*n), string(res.Output))
	}

	probe := buildProbe(t)
	run := func(id uint64, cfg map[string]string, at time.Time) probeOutput {
		l := limits(goPages)
		l.OutputBytes = 4096
		j := job(id, "", l)
		j.Config, j.BlockTime, j.BlockHeight = cfg, at, int64(id)
		var p probeOutput
		res := runPrepared(t, e, j, probe)
		require.NoError(t, json.Unmarshal(res.Output, &p), "%s", res.Output)
		return p
	}
	first := run(7, map[string]string{"FOO": "bar"}, blockTime)
	second := run(8, map[string]string{"OTHER": "x", "AVS_TASK_ID": "forged"}, blockTime.Add(time.Hour))
	require.Equal(t, map[string]string{
		"OTHER":            "x",
		"AVS_TASK_ID":      "8",
		"AVS_SERVICE_ID":   "3",
		"AVS_CHAIN_ID":     "avschain-test",
		"AVS_BLOCK_HEIGHT": "8",
		"AVS_BLOCK_TIME":   "2025-06-01T13:00:00.123456789Z",
	}, second.Env, "the second task's environment only; the AVS_* variables win over the config")
	require.Equal(t, "bar", first.Env["FOO"])
	require.Equal(t, blockTime.Add(time.Hour).Format(time.RFC3339Nano), second.Now)
	require.NotEqual(t, first.Rand, second.Rand)
	again := run(7, map[string]string{"FOO": "bar"}, blockTime)
	require.Equal(t, first, again, "the same task, the same view, on another prepared instance")

	// a small module is not prepared: instantiating it costs less than
	// handing the work over
	e = newExecutor(t)
	small := dirtyMemory(false)
	for i := range 2 {
		res, err := e.Run(context.Background(), job(uint64(10+i), "", limits(8)), small)
		require.NoError(t, err)
		require.Equal(t, "A0", string(res.Output))
	}
	executor.PrepareNext(e, small, 8)
	ready, taken := executor.Prepared(e)
	require.Zero(t, ready)
	require.Zero(t, taken)
}

// A prepared instance's memory is the module's initial memory, though its
// array was dirtied by earlier runs and reused.
func TestPreparedInstanceFreshMemory(t *testing.T) {
	e := newExecutor(t)
	executor.PrepareSmall(e)
	plain, fill := dirtyMemory(false), dirtyMemory(true)
	for i, wasm := range [][]byte{fill, plain, fill, plain, plain} {
		res := runPrepared(t, e, job(uint64(i+1), "", limits(8)), wasm)
		require.Equal(t, "A0", string(res.Output), "run %d", i)
	}
}

// startModule has a start section and no _start: its start function is
// guest code, which must run only for a task.
var startModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
	0x03, 0x02, 0x01, 0x00, // one function of type 0
	0x05, 0x03, 0x01, 0x00, 0x01, // memory: 1 page
	0x08, 0x01, 0x00, // start: function 0
	0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // its body: nothing
}

func TestModuleWithStartSectionNotPrepared(t *testing.T) {
	require.True(t, executor.HasStartSection(startModule))
	noStart := append(append([]byte(nil), startModule[:23]...), startModule[26:]...)
	require.False(t, executor.HasStartSection(noStart))
	require.False(t, executor.HasStartSection(dirtyMemory(false)))
	require.True(t, executor.HasStartSection([]byte{0x00, 0x61}), "unreadable: treated as having one")

	e := newExecutor(t)
	executor.PrepareSmall(e)
	res, err := e.Run(context.Background(), job(1, "", limits(8)), startModule)
	require.NoError(t, err)
	require.Empty(t, res.Output)
	executor.PrepareNext(e, startModule, 8)
	ready, taken := executor.Prepared(e)
	require.Zero(t, ready)
	require.Zero(t, taken)
}
