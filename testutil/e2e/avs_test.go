//go:build e2e

package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/testutil/localnet"
	"github.com/avschain/avschain/x/avs/types"
)

const (
	evComponentStored = "avschain.avs.v1.EventComponentStored"
	evServiceCreated  = "avschain.avs.v1.EventServiceCreated"
	evTaskCreated     = "avschain.avs.v1.EventTaskCreated"
	evTaskCompleted   = "avschain.avs.v1.EventTaskCompleted"
	evVoteRejected    = "avschain.avs.v1.EventVoteRejected"
)

type bankBalance struct {
	Balance struct {
		Amount string `json:"amount"`
	} `json:"balance"`
}

func balance(t *testing.T, node *localnet.Node, addr string) int64 {
	var b bankBalance
	node.Query(&b, "bank", "balance", addr, "uavs")
	n, err := strconv.ParseInt(b.Balance.Amount, 10, 64)
	require.NoError(t, err)
	return n
}

// TestTaskLifecycleThroughCLI runs the x/avs flow on a real node with the real
// CLI: store a component, create a service from a manifest file, register and
// opt in three operators, open a paid task, vote from the three operators' keys
// until quorum, read the result,
// and see bad input refused with the registered error.
func TestTaskLifecycleThroughCLI(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-tasks"})
	dir := t.TempDir()

	wasmPath := filepath.Join(dir, "component.wasm")
	wasm := avstest.Module(true, avstest.WASI)
	require.NoError(t, os.WriteFile(wasmPath, wasm, 0o600))
	res := node.Tx("alice", "avs", "store-component", wasmPath)
	require.Zero(t, res.Code, res.RawLog)
	digest := res.Attribute(evComponentStored, "digest")
	require.Equal(t, types.Digest(wasm), digest)

	var comp struct {
		Component struct {
			CodeSize string `json:"code_size"`
		} `json:"component"`
	}
	node.Query(&comp, "avs", "component", digest)
	require.Equal(t, strconv.Itoa(len(wasm)), comp.Component.CodeSize)

	manifest := fmt.Sprintf(`{
  "name": "square",
  "component_digest": %q,
  "limits": {"time_ms": "2000", "memory_pages": 64, "output_bytes": "1024"},
  "quorum": {"threshold": "1", "weighting": "WEIGHTING_EQUAL", "min_operators": 3},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT"},
  "task_timeout": "30",
  "fee_per_task": {"denom": "uavs", "amount": "300"},
  "admission": "ADMISSION_ALLOWLIST"
}`, digest)
	manifestPath := filepath.Join(dir, "manifest.json")
	require.NoError(t, os.WriteFile(manifestPath, []byte(manifest), 0o600))
	res = node.Tx("alice", "avs", "create-service", manifestPath)
	require.Zero(t, res.Code, res.RawLog)
	serviceID := res.Attribute(evServiceCreated, "service_id")
	require.Equal(t, "1", serviceID)

	ops := []string{"operator1", "operator2", "operator3"}
	for _, op := range ops {
		require.Zero(t, node.Tx(op, "avs", "register-operator", op).Code)
		require.Zero(t, node.Tx("alice", "avs", "update-allowlist", serviceID, "--add", node.KeyAddress(op)).Code)
		require.Zero(t, node.Tx(op, "avs", "opt-in", serviceID).Code)
	}
	var svcOps struct {
		Operators []struct {
			Address string `json:"address"`
		} `json:"operators"`
	}
	node.Query(&svcOps, "avs", "service-operators", serviceID)
	require.Len(t, svcOps.Operators, 3)

	// Bad input is refused with the registered error, and nothing is created:
	// by the simulation the CLI runs first (its text), and, sent with a
	// fixed gas limit so that nothing simulates it, at delivery (its code
	// and codespace: review L5).
	require.Contains(t, node.TxError("bob", "avs", "create-task", serviceID, "4", "--fee", "10uavs"), types.ErrInsufficientFee.Error())
	require.Contains(t, node.TxError("bob", "avs", "create-task", "99", "4", "--fee", "300uavs"), types.ErrServiceNotFound.Error())
	for _, tc := range []struct {
		args []string
		err  *errorsmod.Error
	}{
		{[]string{"create-task", serviceID, "4", "--fee", "10uavs"}, types.ErrInsufficientFee},
		{[]string{"create-task", "99", "4", "--fee", "300uavs"}, types.ErrServiceNotFound},
	} {
		refusal := node.TxErrorWithFees("bob", "400000", node.GasPrices, append([]string{"avs"}, tc.args...)...)
		require.Contains(t, refusal, fmt.Sprintf("(code %d, %s)", tc.err.ABCICode(), tc.err.Codespace()), "%v", tc.args)
	}

	op1 := node.KeyAddress("operator1")
	before := balance(t, node, op1)
	res = node.Tx("bob", "avs", "create-task", serviceID, "4", "--fee", "300uavs")
	require.Zero(t, res.Code, res.RawLog)
	taskID := res.Attribute(evTaskCreated, "task_id")
	require.Equal(t, "1", taskID)

	// One vote is not a quorum; a vote on an unknown task is rejected on its own.
	res = node.Tx("operator1", "avs", "submit-results", taskID, "16", "999", "1")
	require.Zero(t, res.Code, res.RawLog)
	op1Fee := res.FeePaid("uavs")
	require.Positive(t, op1Fee, "every transaction pays the node's minimum gas price")
	require.True(t, res.HasEvent(evVoteRejected), "the unknown task's entry is reported")
	require.False(t, res.HasEvent(evTaskCompleted))

	res = node.Tx("operator2", "avs", "submit-results", taskID, "16")
	require.Zero(t, res.Code, res.RawLog)
	require.False(t, res.HasEvent(evTaskCompleted), "two of three is below a threshold of 1")
	res = node.Tx("operator3", "avs", "submit-results", taskID, "16")
	require.Zero(t, res.Code, res.RawLog)
	require.True(t, res.HasEvent(evTaskCompleted), "the third matching vote makes the quorum")

	var task struct {
		Task struct {
			Status   string `json:"status"`
			Result   string `json:"result"`
			PowerFor string `json:"power_for"`
		} `json:"task"`
	}
	node.Query(&task, "avs", "task", taskID)
	require.Equal(t, "TASK_STATUS_COMPLETED", task.Task.Status)
	result, err := base64.StdEncoding.DecodeString(task.Task.Result)
	require.NoError(t, err)
	require.Equal(t, "16", string(result))
	require.Equal(t, "3", task.Task.PowerFor)

	var votes struct {
		Votes []struct {
			Operator string `json:"operator"`
		} `json:"votes"`
	}
	node.Query(&votes, "avs", "task-votes", taskID)
	require.Len(t, votes.Votes, 3)
	// operator1 earns a third of the 300uavs fee: credited to it in x/avs at
	// the end of the block, paid when it withdraws
	require.Equal(t, "100", operatorRewards(t, node, "operator1"))
	require.Equal(t, before-op1Fee, balance(t, node, op1), "credited, not sent")
	res = node.Tx("operator1", "avs", "withdraw-rewards")
	require.Zero(t, res.Code, res.RawLog)
	require.Equal(t, before+100-op1Fee-res.FeePaid("uavs"), balance(t, node, op1), "the credit withdrawn, less the vote's and the withdrawal's tx fees")

	var tasks struct {
		Tasks []struct {
			ID string `json:"id"`
		} `json:"tasks"`
	}
	node.Query(&tasks, "avs", "tasks", serviceID, "--status", "completed")
	require.Len(t, tasks.Tasks, 1)
}
