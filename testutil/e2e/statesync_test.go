//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// TestStateSyncNodeServesTheSameState: four validators take a snapshot every
// 10 blocks; after x/avs state (a service, completed and settled tasks with
// their votes, a commitment) and a stored contract exist, a fifth node joins
// by state sync from two of them (docs/VALIDATORS.md, Joining by state sync).
// It has no block below the snapshot it restored, its x/avs queries (services,
// tasks, a task's votes, commitments, params) answer as a validator's do, and
// it serves the contract's code, which only wasmd's snapshot extension
// carries. About 90 s.
func TestStateSyncNodeServesTheSameState(t *testing.T) {
	const interval = 10
	node := localnet.Start(t, localnet.Options{ChainID: "avs-statesync-1", Validators: 4, SnapshotInterval: interval})
	nodes := node.Nodes()
	trust, err := node.Height()
	require.NoError(t, err)

	digest := storeComponent(t, node, component("square"))
	svc := createService(t, node, manifest{Name: "square", Digest: digest, Timeout: 15})
	optIn(t, node, svc, "operator1", "operator2")
	res := node.Tx("bob", "avs", "create-tasks", svc, "3", "4", "--fee", "300uavs")
	require.Zero(t, res.Code, res.RawLog)
	tasks := res.Attributes(evTaskCreated, "task_id")
	require.Len(t, tasks, 2)
	for _, op := range []string{"operator1", "operator2"} {
		res := node.Tx(op, "avs", "submit-results", tasks[0], "9", tasks[1], "16")
		require.Zero(t, res.Code, res.RawLog)
	}
	res = node.Tx("carol", "avs", "commit", node.KeyAddress("operator1"), svc, "2000000uavs")
	require.Zero(t, res.Code, res.RawLog)
	contract := filepath.Join(localnet.RepoRoot(), "contracts", "avs-handler", "avs_handler.wasm")
	res = node.Tx("alice", "wasm", "store", contract)
	require.Zero(t, res.Code, res.RawLog)
	codeID := res.Attribute("store_code", "code_id")
	require.NotEmpty(t, codeID)
	for _, id := range tasks {
		require.Equal(t, "TASK_STATUS_COMPLETED", waitTask(t, node, id, 30*time.Second).Status)
	}
	waitSettled(t, node, tasks...) // so that nothing of the state moves any more
	// two more snapshots, the state above in both
	made, err := node.Height()
	require.NoError(t, err)
	node.WaitHeight(made+2*interval+1, 60*time.Second)

	joined := localnet.JoinByStateSync(t, trust, nodes[1], nodes[2])
	sync := joined.SyncInfo()
	t.Logf("state-sync node at height %d, earliest block %d (validators made the state by %d)", sync.LatestBlockHeight, sync.EarliestBlockHeight, made)
	require.Greater(t, sync.EarliestBlockHeight, made, "restored from a snapshot taken after the state was made, not replayed from genesis")

	for _, q := range [][]string{
		{"avs", "services"},
		{"avs", "tasks", svc},
		{"avs", "task", tasks[0]},
		{"avs", "task-votes", tasks[1]},
		{"avs", "commitments", node.KeyAddress("carol")},
		{"avs", "params"},
		{"wasm", "code-info", codeID},
	} {
		var want, got any
		node.Query(&want, q...)
		joined.Query(&got, q...)
		require.Equal(t, want, got, "avsd q %v", q)
	}
	// the code itself comes from the wasm directory, restored by wasmd's snapshot extension
	out := filepath.Join(t.TempDir(), "code.wasm")
	// `q wasm code` writes the file and prints no JSON: its error counts only
	// when no file came
	_, err = joined.TryQuery(&struct{}{}, "wasm", "code", codeID, out)
	if _, statErr := os.Stat(out); statErr != nil {
		require.NoError(t, err, "download the contract's code from the state-sync node")
	}
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	want, err := os.ReadFile(contract)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the state-sync node serves the contract's code as stored")
}
