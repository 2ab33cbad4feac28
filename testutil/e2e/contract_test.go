//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/localnet"
)

// contractRequest is avs-requester's answer to {"request":{"id":…}}.
type contractRequest struct {
	ID     string  `json:"id"`
	TaskID *string `json:"task_id"`
	Input  []byte  `json:"input"`
	Status string  `json:"status"`
	Result []byte  `json:"result"`
}

func queryRequest(t *testing.T, node *localnet.Node, contract, id string) contractRequest {
	var out struct {
		Data contractRequest `json:"data"`
	}
	node.Query(&out, "wasm", "contract-state", "smart", contract, fmt.Sprintf(`{"request":{"id":%q}}`, id))
	return out.Data
}

// TestContractRequestAnsweredBySidecars: bob asks for square(5) through the
// avs-requester contract, which is the service's handler; three sidecars
// compute it, x/avs completes the task and calls the contract back, and the
// answer, 25, is read from the contract alone.
func TestContractRequestAnsweredBySidecars(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-contract"})
	digest := storeComponent(t, node, component("square"))
	m := manifest{Name: "square", Digest: digest, Threshold: "0.66", MinOps: 2}
	service := createService(t, node, m)
	optIn(t, node, service, operators...)

	contract := instantiate(t, node, "avs_requester", contracts.RequesterWasm(), fmt.Sprintf(`{"service_id":%q}`, service))

	// The contract becomes the service's handler.
	m.HandlerContract = contract
	res := node.Tx("alice", "avs", "update-service", service, manifestFile(t, m))
	require.Zero(t, res.Code, res.RawLog)

	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	input := base64.StdEncoding.EncodeToString([]byte("5"))
	res = node.Tx("bob", "wasm", "execute", contract, fmt.Sprintf(`{"request":{"input":%q}}`, input), "--amount", "300uavs")
	require.Zero(t, res.Code, res.RawLog)
	taskID := res.Attribute(evTaskCreated, "task_id")
	require.NotEmpty(t, taskID)
	require.Equal(t, contract, res.Attribute(evTaskCreated, "creator"), "the contract created the task")
	require.Equal(t, taskID, res.Attribute("wasm", "task_id"), "the contract learned the task id from its reply")

	req := localnet.Poll(t, 60*time.Second, "request 1 (task "+taskID+"): leave pending", func() (contractRequest, error) {
		req := queryRequest(t, node, contract, "1")
		if req.Status == "pending" {
			return req, errors.New("still pending")
		}
		return req, nil
	}, func() string { return fmt.Sprintf("task %s: %+v", taskID, getTask(node, taskID)) })
	require.Equal(t, "completed", req.Status, "task %s: %+v", taskID, getTask(node, taskID))
	require.Equal(t, taskID, *req.TaskID)
	require.Equal(t, []byte("5"), req.Input)
	require.Equal(t, "25", string(req.Result))
	t.Logf("request 1 → task %s → %s, through the contract", taskID, req.Result)

	// The chain agrees, and the contract reads the same through stargate.
	v := getTask(node, taskID)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
	require.Equal(t, "25", v.ResultString(t))
	var viaStargate struct {
		Data struct {
			Task json.RawMessage `json:"task"`
		} `json:"data"`
	}
	node.Query(&viaStargate, "wasm", "contract-state", "smart", contract, fmt.Sprintf(`{"task":{"task_id":%q}}`, taskID))
	require.Contains(t, string(viaStargate.Data.Task), `"status":"TASK_STATUS_COMPLETED"`)
}
