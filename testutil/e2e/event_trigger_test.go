//go:build e2e

package e2e

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/localnet"
)

// announce has bob call avs-requester's announce and returns the event
// reference the sidecars must vote with: "service/height/tx_hash/index".
func announce(t *testing.T, node *localnet.Node, contract, service, data string) string {
	res := node.Tx("bob", "wasm", "execute", contract, fmt.Sprintf(`{"announce":{"data":%q}}`, data))
	require.Zero(t, res.Code, res.RawLog)
	for i, e := range res.Events {
		if e.Type == "wasm-avs_announce" {
			return fmt.Sprintf("%s/%s/%s/%d", service, res.Height, res.TxHash, i)
		}
	}
	t.Fatalf("announce emitted no wasm-avs_announce event: %+v", res.Events)
	return ""
}

type eventTaskView struct {
	taskView
	Origin struct {
		Kind string `json:"kind"`
		Ref  string `json:"ref"`
	} `json:"origin"`
	PaidByTreasury bool `json:"paid_by_treasury"`
}

// waitEventTask waits for the service's task opened for an event reference.
func waitEventTask(t *testing.T, node *localnet.Node, service, ref string, timeout time.Duration) eventTaskView {
	t.Helper()
	return localnet.Poll(t, timeout, "a task for event "+ref, func() (eventTaskView, error) {
		var out struct {
			Tasks []eventTaskView `json:"tasks"`
		}
		node.Query(&out, "avs", "tasks", service)
		for _, tv := range out.Tasks {
			if tv.Origin.Ref == "event:"+ref {
				return tv, nil
			}
		}
		return eventTaskView{}, fmt.Errorf("none among the service's tasks: %+v", out.Tasks)
	})
}

// handlerResult is avs-handler's answer to {"result":{"task_id":…}}.
type handlerResult struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
	Result string `json:"result"`
}

func waitHandlerResult(t *testing.T, node *localnet.Node, handler, taskID string, timeout time.Duration) handlerResult {
	t.Helper()
	return localnet.Poll(t, timeout, "handler "+handler+": a result for task "+taskID, func() (handlerResult, error) {
		var out struct {
			Data handlerResult `json:"data"`
		}
		_, err := node.TryQuery(&out, "wasm", "contract-state", "smart", handler, fmt.Sprintf(`{"result":{"task_id":%q}}`, taskID))
		return out.Data, err
	})
}

// TestEventTriggerAnsweredBySidecars: a service watches the wasm-avs_announce
// events of one avs-requester contract. Bob announces 7 through it; three
// sidecars see the event, run square on it and vote with its reference; the
// first vote opens the treasury-paid task, quorum completes it with 49, and
// the service's handler contract (avs-handler) stores the result. The same
// event from another contract opens nothing. A sidecar that was down while
// an announcement was made reads it after its restart and votes on it.
func TestEventTriggerAnsweredBySidecars(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-events"})
	handler := instantiate(t, node, "avs_handler", contracts.HandlerWasm(), `{}`)
	digest := storeComponent(t, node, component("square"))
	m := manifest{Name: "announced-square", Digest: digest, Threshold: "0.66", MinOps: 2, HandlerContract: handler}
	service := createService(t, node, m)
	emitter := instantiate(t, node, "avs_requester", contracts.RequesterWasm(), fmt.Sprintf(`{"service_id":%q}`, service))
	other := instantiate(t, node, "avs_requester_other", contracts.RequesterWasm(), fmt.Sprintf(`{"service_id":%q}`, service))

	m.Triggers = fmt.Sprintf(`[{"event":{"type":"wasm-avs_announce","attributes":[{"key":"_contract_address","value":%q}]}}]`, emitter)
	res := node.Tx("alice", "avs", "update-service", service, manifestFile(t, m))
	require.Zero(t, res.Code, res.RawLog)
	optIn(t, node, service, operators...)
	require.Zero(t, node.Tx("alice", "avs", "fund-service", service, "1000000uavs").Code)

	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	ignored := announce(t, node, other, service, "5")
	ref := announce(t, node, emitter, service, "7")
	task := waitEventTask(t, node, service, ref, 60*time.Second)
	require.Equal(t, "ORIGIN_KIND_TRIGGER", task.Origin.Kind)
	require.True(t, task.PaidByTreasury)
	done := waitTask(t, node, task.ID, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", done.Status)
	require.Equal(t, "49", done.ResultString(t))
	votes := waitVotes(t, node, task.ID, 2, 30*time.Second)
	t.Logf("event %s → task %s → 49 with %d votes", ref, task.ID, len(votes))
	for _, sc := range sidecars {
		require.Eventually(t, func() bool { return sc.Metric("avs_sidecar_events_matched_total") == 1 }, 30*time.Second, 300*time.Millisecond,
			"%s matched the one watched event (and not the other contract's)", sc.Key)
	}

	stored := waitHandlerResult(t, node, handler, task.ID, 30*time.Second)
	require.Equal(t, "completed", stored.Status)
	got, err := base64.StdEncoding.DecodeString(stored.Result)
	require.NoError(t, err)
	require.Equal(t, "49", string(got), "the handler contract got the result")

	var all struct {
		Tasks []eventTaskView `json:"tasks"`
	}
	node.Query(&all, "avs", "tasks", service)
	for _, tv := range all.Tasks {
		require.NotEqual(t, "event:"+ignored, tv.Origin.Ref, "the other contract's event opened a task")
	}
	require.Len(t, all.Tasks, 1, "only the watched contract's event opened a task (the other's block was read first)")

	// Restart: operator3's sidecar is down while 8 is announced; the other two
	// complete the task, and operator3 votes on it once back (before the deadline).
	sidecars[2].Stop()
	ref2 := announce(t, node, emitter, service, "8")
	task2 := waitEventTask(t, node, service, ref2, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", waitTask(t, node, task2.ID, 60*time.Second).Status)
	require.Equal(t, "64", getTask(node, task2.ID).ResultString(t))
	sidecars[2].Start()
	votes2 := waitVotes(t, node, task2.ID, 3, 60*time.Second)
	voted := false
	for _, v := range votes2 {
		voted = voted || v.Operator == node.KeyAddress("operator3")
	}
	require.True(t, voted, "the restarted sidecar voted on the event it missed: %+v", votes2)
	require.Equal(t, "completed", waitHandlerResult(t, node, handler, task2.ID, 30*time.Second).Status)
}
