//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/testutil/localnet"
)

var operators = []string{"operator1", "operator2", "operator3"}

// TestSidecarsSquare: three sidecars run the Go square component for tasks
// created after they start, and all three must agree (threshold 1).
func TestSidecarsSquare(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-square"})
	digest := storeComponent(t, node, component("square"))
	service := createService(t, node, manifest{Name: "square", Digest: digest, Threshold: "1", MinOps: 3})
	optIn(t, node, service, operators...)
	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	inputs := map[string]string{}
	for _, in := range []int{4, 7, 12} {
		inputs[createTask(t, node, service, fmt.Sprint(in))] = fmt.Sprint(in * in)
	}
	for id, want := range inputs {
		v := waitTask(t, node, id, 60*time.Second)
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, "task %s", id)
		require.Equal(t, want, v.ResultString(t), "task %s", id)
		require.Equal(t, "3", v.PowerFor)
		t.Logf("task %s: %s in %d block(s)", id, want, v.Blocks(t))
	}
	for _, s := range sidecars {
		require.EqualValues(t, 3, s.Metric("avs_sidecar_tasks_executed_total"), s.Key)
		require.Eventually(t, func() bool { return s.Metric("avs_sidecar_votes_included_total") == 3 }, 20*time.Second, 200*time.Millisecond, s.Key)
		require.Zero(t, s.Metric("avs_sidecar_votes_rejected_total"), s.Key)
	}
}

// TestWrongComponentOutvoted: operator3 runs a component that always answers
// 17; the two honest operators make the quorum and 16 is accepted.
func TestWrongComponentOutvoted(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-wrong"})
	digest := storeComponent(t, node, component("square-rust"))
	service := createService(t, node, manifest{Name: "square", Digest: digest, Threshold: "0.66", MinOps: 2})
	optIn(t, node, service, operators...)
	wrong := writeWasm(t, "wrong", avstest.FixedOutput("17"))
	sidecars := []*localnet.Sidecar{
		node.StartSidecar("operator1", localnet.SidecarOptions{}),
		node.StartSidecar("operator2", localnet.SidecarOptions{}),
		node.StartSidecar("operator3", localnet.SidecarOptions{ComponentOverrides: map[string]string{digest: wrong}}),
	}
	defer logSidecars(t, sidecars...)

	id := createTask(t, node, service, "4")
	v := waitTask(t, node, id, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
	require.Equal(t, "16", v.ResultString(t))
	require.Equal(t, "2", v.PowerFor)

	votes := waitVotes(t, node, id, 3, 30*time.Second)
	wrongOp := node.KeyAddress("operator3")
	for _, vote := range votes {
		if vote.Operator == wrongOp {
			require.NotEqual(t, v.ResultDigest, vote.Digest, "the wrong component's vote lost")
		} else {
			require.Equal(t, v.ResultDigest, vote.Digest)
		}
	}
	// the 300uavs fee went to the two that agreed, none to the loser (review L4)
	require.Equal(t, "150", operatorRewards(t, node, "operator1"))
	require.Equal(t, "150", operatorRewards(t, node, "operator2"))
	require.Contains(t, []string{"", "0"}, operatorRewards(t, node, "operator3"), "the outvoted operator earned nothing")
}

// operatorRewards is what x/avs holds for an operator to withdraw (its own
// share of the fees, credited at the end of the block that decided a task).
func operatorRewards(t *testing.T, node *localnet.Node, key string) string {
	var rewards struct {
		OperatorRewards struct {
			Amount string `json:"amount"`
		} `json:"operator_rewards"`
	}
	node.Query(&rewards, "avs", "rewards", node.KeyAddress(key))
	return rewards.OperatorRewards.Amount
}

// TestSidecarRestartCatchesUp: operator1's sidecar is killed, tasks are
// created while it is down (threshold 1, so they wait for it), and once
// restarted it catches up from its cursor: every task gets its vote, none twice.
// operator1 runs with catch_up_blocks = 0, so a start without a cursor (a
// wiped store) would begin at the latest block and miss the four tasks: only
// the stored cursor can find them (test review M3).
func TestSidecarRestartCatchesUp(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-restart"})
	digest := storeComponent(t, node, component("square-rust"))
	service := createService(t, node, manifest{Name: "square", Digest: digest, Threshold: "1", MinOps: 3, Timeout: 60})
	optIn(t, node, service, operators...)
	sidecars := []*localnet.Sidecar{
		node.StartSidecar("operator1", localnet.SidecarOptions{Env: []string{"AVS_SIDECAR_CATCH_UP_BLOCKS=0"}}),
		node.StartSidecar("operator2", localnet.SidecarOptions{}),
		node.StartSidecar("operator3", localnet.SidecarOptions{}),
	}
	defer logSidecars(t, sidecars...)

	first := createTask(t, node, service, "3")
	require.Equal(t, "9", waitTask(t, node, first, 60*time.Second).ResultString(t))
	// Kill operator1 only once it has recorded its first vote as included:
	// otherwise the restart settles that vote too and counts it again.
	require.Eventually(t, func() bool { return sidecars[0].Metric("avs_sidecar_votes_included_total") == 1 },
		20*time.Second, 100*time.Millisecond)

	sidecars[0].Kill()
	var ids []string
	for i := 1; i <= 4; i++ {
		ids = append(ids, createTask(t, node, service, fmt.Sprint(i*10)))
	}
	for _, id := range ids {
		waitVotes(t, node, id, 2, 30*time.Second)
		require.Equal(t, "TASK_STATUS_PENDING", getTask(node, id).Status, "task %s waits for operator1", id)
	}

	sidecars[0].Start()
	for i, id := range ids {
		v := waitTask(t, node, id, 60*time.Second)
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
		require.Equal(t, fmt.Sprint((i+1)*10*(i+1)*10), v.ResultString(t))
		votes := taskVotes(node, id)
		require.Len(t, votes, 3, "task %s", id)
		seen := map[string]bool{}
		for _, vote := range votes {
			require.False(t, seen[vote.Operator], "two votes from %s", vote.Operator)
			seen[vote.Operator] = true
		}
	}
	// The first start had no cursor, the restart read its own.
	log := sidecars[0].Log()
	require.Equal(t, 1, strings.Count(log, "no cursor: starting from a recent block"), "the first start")
	require.Equal(t, 1, strings.Count(log, "resuming from cursor"), "the restart")
	// After the restart operator1 sent exactly the four missed votes, and the
	// chain refused none of any sidecar's votes (a duplicate would be refused).
	require.Eventually(t, func() bool { return sidecars[0].Metric("avs_sidecar_votes_included_total") == 4 }, 20*time.Second, 200*time.Millisecond)
	for _, s := range sidecars {
		require.Zero(t, s.Metric("avs_sidecar_votes_rejected_total"), s.Key)
	}

	// Killed while busy (test review M3): twelve tasks in one tx, operator1
	// SIGKILLed as soon as it has sent a vote tx for them, before it is
	// known to be included; after the restart every task has exactly one
	// vote of each operator, and no vote was refused (a second one would be).
	sent := sidecars[0].Metric("avs_sidecar_votes_sent_total")
	res := node.Tx("bob", "avs", "create-tasks", service, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "--fee", "300uavs")
	require.Zero(t, res.Code, res.RawLog)
	var busy []string
	for _, ev := range res.Events {
		if ev.Type != evTaskCreated {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == "task_id" {
				busy = append(busy, strings.Trim(a.Value, `"`))
			}
		}
	}
	require.Len(t, busy, 12)
	require.Eventually(t, func() bool { return sidecars[0].Metric("avs_sidecar_votes_sent_total") > sent }, 30*time.Second, 20*time.Millisecond)
	sentNow, included := sidecars[0].Metric("avs_sidecar_votes_sent_total"), sidecars[0].Metric("avs_sidecar_votes_included_total")
	sidecars[0].Kill()
	t.Logf("operator1 killed with %v votes sent since the tasks and %v included in all", sentNow-sent, included)
	sidecars[0].Start()
	for i, id := range busy {
		v := waitTask(t, node, id, 60*time.Second)
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, "task %s", id)
		require.Equal(t, fmt.Sprint((i+1)*(i+1)), v.ResultString(t))
		votes := waitVotes(t, node, id, 3, 30*time.Second)
		seen := map[string]bool{}
		for _, vote := range votes {
			require.False(t, seen[vote.Operator], "task %s: two votes from %s", id, vote.Operator)
			seen[vote.Operator] = true
		}
	}
	for _, s := range sidecars {
		require.Zero(t, s.Metric("avs_sidecar_votes_rejected_total"), s.Key)
	}
	require.Equal(t, 2, strings.Count(sidecars[0].Log(), "resuming from cursor"), "the second restart read its cursor too")
}

// TestBadComponentsDoNotStopSidecar: a component that loops, one that eats
// memory and one that fetches from a host off its allow-list each fail without
// a vote, and the same sidecar then answers a square task.
func TestBadComponentsDoNotStopSidecar(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"price": 101.5}`))
	}))
	defer srv.Close()

	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-bad"})
	loop := createService(t, node, manifest{Name: "loop", Digest: storeComponent(t, node, writeWasm(t, "loop", avstest.Loop())), TimeMs: 300, Timeout: 8})
	hog := createService(t, node, manifest{Name: "hog", Digest: storeComponent(t, node, writeWasm(t, "hog", avstest.MemoryHog())), Pages: 32, Timeout: 8})
	oracle := createService(t, node, manifest{
		Name: "oracle", Digest: storeComponent(t, node, component("price-oracle")), Timeout: 8,
		AllowHosts: []string{"prices.example.org"}, Config: map[string]string{"PRICE_URL": srv.URL + "/price"},
	})
	square := createService(t, node, manifest{Name: "square", Digest: storeComponent(t, node, component("square-rust"))})
	for _, svc := range []string{loop, hog, oracle, square} {
		optIn(t, node, svc, "operator1")
	}
	sc := node.StartSidecar("operator1", localnet.SidecarOptions{})
	defer logSidecars(t, sc)

	// Each bad component's failure is voted with its reason (H-2): the task
	// ends FAILED on the operator's failure vote instead of expiring unanswered.
	bad := map[string]string{
		createTask(t, node, loop, "x"):  "FAILURE_REASON_TIME",
		createTask(t, node, hog, "x"):   "FAILURE_REASON_MEMORY",
		createTask(t, node, oracle, ""): "FAILURE_REASON_EXIT", // its host is off the allow-list: the component gives up
	}
	for id, reason := range bad {
		v := waitTask(t, node, id, 60*time.Second)
		require.Equal(t, "TASK_STATUS_FAILED", v.Status, "task %s", id)
		require.Equal(t, reason, v.Failure, "task %s", id)
		votes := taskVotes(node, id)
		require.Len(t, votes, 1)
		require.Equal(t, reason, votes[0].Failure, "task %s", id)
		require.Equal(t, "failure", votes[0].Digest)
	}
	// Every failure under its own reason (tests review M2): the three make
	// up the total, so none of them failed for another reason (a fetch
	// error, say, counted as "http" or "other").
	for reason, want := range map[string]float64{
		"timeout": 1, // the loop hit the time limit
		"memory":  1, // the hog grew to the memory limit and trapped
		"exit":    1, // the oracle, refused its host, exited non-zero
		"trap":    0, "instantiate": 0, "http": 0, "output_too_large": 0, "other": 0,
	} {
		require.Equal(t, want, sc.Metric(`avs_sidecar_tasks_failed_total{reason="`+reason+`"}`), "reason %s", reason)
	}
	require.EqualValues(t, 3, sc.Metric("avs_sidecar_tasks_failed_total"), "the loop, the memory hog and the oracle failed")
	require.Zero(t, hits.Load(), "http_fetch never reached a host off the allow-list")

	id := createTask(t, node, square, "9")
	v := waitTask(t, node, id, 60*time.Second)
	require.Equal(t, "81", v.ResultString(t), "the sidecar survived its bad components")
}

// TestH2FailingComponentEndsFailed (security review H-2): square of "x"
// makes the component exit 1 on every operator; each sidecar votes the
// failure, the task ends FAILED with every operator's failure vote, the fee
// pays the operators, and nobody is counted a miss or jailed.
func TestH2FailingComponentEndsFailed(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-failure"})
	digest := storeComponent(t, node, component("square-rust"))
	service := createService(t, node, manifest{Name: "square", Digest: digest, Threshold: "0.66", MinOps: 2, Timeout: 8})
	optIn(t, node, service, operators...)
	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	failing := createTask(t, node, service, "x")
	good := createTask(t, node, service, "5")
	v := waitTask(t, node, failing, 60*time.Second)
	require.Equal(t, "TASK_STATUS_FAILED", v.Status)
	require.Equal(t, "FAILURE_REASON_EXIT", v.Failure)
	require.Empty(t, v.Result)
	votes := waitVotes(t, node, failing, len(operators), 30*time.Second)
	for _, vote := range votes {
		require.Equal(t, "FAILURE_REASON_EXIT", vote.Failure, vote.Operator)
		require.Equal(t, "failure", vote.Digest, vote.Operator)
	}
	require.Equal(t, "25", waitTask(t, node, good, 60*time.Second).ResultString(t), "the service goes on")

	// past the failing task's deadline and its epoch's review: nobody missed it
	deadline, err := strconv.ParseInt(v.DeadlineHeight, 10, 64)
	require.NoError(t, err)
	node.WaitHeight(deadline+2, 60*time.Second)
	for _, op := range operators {
		var out struct {
			Liveness []struct {
				Jailed bool   `json:"jailed"`
				Missed string `json:"missed"`
			} `json:"liveness"`
		}
		node.Query(&out, "avs", "operator", node.KeyAddress(op))
		require.Len(t, out.Liveness, 1, "%s: its liveness in the one service", op)
		for _, l := range out.Liveness {
			require.False(t, l.Jailed, op)
			require.Contains(t, []string{"", "0"}, l.Missed, op)
		}
	}
	for _, s := range sidecars {
		require.EqualValues(t, 1, s.Metric(`avs_sidecar_tasks_failed_total{reason="exit"}`), s.Key)
		require.Zero(t, s.Metric("avs_sidecar_votes_rejected_total"), s.Key)
	}
}

// TestPriceOracleMedian: three sidecars fetch a price from a local HTTP server
// that answers each a little differently; the MEDIAN service accepts the
// power-weighted median because all three lie within 1% of it.
func TestPriceOracleMedian(t *testing.T) {
	prices := []string{"100.4", "99.8", "100"}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := hits.Add(1)
		_, _ = fmt.Fprintf(w, `{"usd": %s}`, prices[(n-1)%int64(len(prices))])
	}))
	defer srv.Close()

	host := "localhost:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-oracle"})
	service := createService(t, node, manifest{
		Name: "oracle", Digest: storeComponent(t, node, component("price-oracle")),
		Threshold: "1", MinOps: 3, Aggregation: "AGGREGATION_MODE_MEDIAN", Spread: "0.01",
		AllowHosts: []string{host},
		Config:     map[string]string{"PRICE_URL": "http://" + host + "/price", "PRICE_FIELD": "usd"},
	})
	optIn(t, node, service, operators...)
	// The price server is on this machine: each operator allows it (H5: a
	// sidecar refuses names resolving to loopback unless told otherwise).
	sidecars := make([]*localnet.Sidecar, 0, len(operators))
	for _, op := range operators {
		sidecars = append(sidecars, node.StartSidecar(op, localnet.SidecarOptions{Env: []string{"AVS_SIDECAR_HTTP_PRIVATE_HOSTS=" + host}}))
	}
	defer logSidecars(t, sidecars...)

	id := createTask(t, node, service, "")
	v := waitTask(t, node, id, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
	require.Equal(t, "100", v.ResultString(t), "the median of 99.8, 100 and 100.4")
	require.Equal(t, "3", v.PowerFor, "every price lies within the 1% spread")
	require.EqualValues(t, 3, hits.Load(), "each operator fetched once")
	votes := taskVotes(node, id)
	digests := map[string]bool{}
	for _, vote := range votes {
		digests[vote.Digest] = true
	}
	require.Len(t, digests, 3, "three different byte results agreed by MEDIAN")
}

// TestStakeWeightedRewards: a STAKE service whose three operators committed
// 1, 2 and 3 million uavs of their own, with carol committing 1 million to
// operator1; in the next epoch (a commitment earns from the epoch after it
// was made, L-2) the sidecars answer a task, operator1 keeps its 10%
// commission and carol withdraws her share of the rest.
func TestStakeWeightedRewards(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-stake"})
	digest := storeComponent(t, node, component("square-rust"))
	service := createService(t, node, manifest{Name: "square", Digest: digest, Threshold: "0.99", Weighting: "WEIGHTING_STAKE"})
	for i, op := range operators {
		require.Zero(t, node.Tx(op, "avs", "register-operator", op, "--commission", "0.1").Code)
		require.Zero(t, node.Tx(op, "avs", "opt-in", service).Code)
		require.Zero(t, node.Tx(op, "avs", "commit", node.KeyAddress(op), service, fmt.Sprintf("%d000000uavs", i+1)).Code)
	}
	op1 := node.KeyAddress("operator1")
	require.Zero(t, node.Tx("carol", "avs", "commit", op1, service, "1000000uavs").Code)

	var power struct {
		Current []struct {
			Operator string `json:"operator"`
			Power    string `json:"power"`
		} `json:"current"`
	}
	node.Query(&power, "avs", "power", service)
	require.Len(t, power.Current, 3)
	for _, p := range power.Current {
		if p.Operator == op1 {
			require.Equal(t, "2000000", p.Power, "operator1: its own million and carol's")
		}
	}

	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	// the commitments earn from the next epoch (epoch_length 100)
	waitNextEpoch(t, node)

	id := createTask(t, node, service, "6")
	v := waitTask(t, node, id, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
	require.Equal(t, "36", v.ResultString(t))
	require.Equal(t, "7000000", v.PowerFor, "all three backed it (threshold 0.99)")

	// By hand: the 300uavs fee splits by power 2:2:3 (operator1, operator2,
	// operator3) into 85, 85 and 128, rounded down; the 2 left go to the first
	// backer by address, operator2 (avs1gjsc… < avs1krhv… < avs1s947…).
	// operator1 keeps its 10% commission of 85, rounded down: 8; the other
	// 77 go to its pool, where carol holds 1,000,000 of 2,000,000 earning
	// shares: 38.5, rounded down: 38.
	var rewards struct {
		Rewards struct {
			Amount string `json:"amount"`
		} `json:"rewards"`
	}
	node.Query(&rewards, "avs", "rewards", node.KeyAddress("carol"))
	pending, err := strconv.ParseInt(rewards.Rewards.Amount, 10, 64)
	require.NoError(t, err)
	require.Equal(t, int64(38), pending, "carol's half of operator1's share after commission")
	before := balance(t, node, node.KeyAddress("carol"))
	res := node.Tx("carol", "avs", "withdraw-rewards")
	require.Zero(t, res.Code, res.RawLog)
	require.Equal(t, before+pending-res.FeePaid("uavs"), balance(t, node, node.KeyAddress("carol")),
		"carol received exactly her pending rewards (less the withdrawal's tx fee)")
	require.Contains(t, node.TxError("carol", "avs", "withdraw-rewards"), "no rewards to withdraw")
}

// TestIntervalTriggerTasksComplete: a service whose block-interval trigger
// opens a task every 3 blocks for 60 blocks (a minute of 1 s blocks), paid by
// its treasury; the sidecar answers each one, with no sender at all.
func TestIntervalTriggerTasksComplete(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-interval"})
	digest := storeComponent(t, node, writeWasm(t, "ok", avstest.FixedOutput("ok")))
	h, err := node.Height()
	require.NoError(t, err)
	// the service, its operator and its treasury must all be in place before
	// the first trigger height: a trigger that fires on an empty treasury is
	// skipped (a busy machine once took more than 10 blocks for the three txs)
	start := h + 20
	service := createService(t, node, manifest{Name: "ticker", Digest: digest, Timeout: 20,
		Triggers: fmt.Sprintf(`[{"block_interval":{"every":"3","start":"%d","end":"%d"}}]`, start, start+60)})
	optIn(t, node, service, "operator1")
	require.Zero(t, node.Tx("alice", "avs", "fund-service", service, "1000000uavs").Code)
	ready, err := node.Height()
	require.NoError(t, err)
	require.Less(t, ready, start, "the setup ran past the first trigger height: its tasks would be skipped")
	sc := node.StartSidecar("operator1", localnet.SidecarOptions{})
	defer logSidecars(t, sc)

	node.WaitHeight(start+60+5, 150*time.Second)
	var tasks struct {
		Tasks []taskView `json:"tasks"`
	}
	require.Eventually(t, func() bool {
		// TryQuery: a poll's condition runs off the test goroutine, where
		// Query's FailNow must not be called (test review L6)
		if _, err := node.TryQuery(&tasks, "avs", "tasks", service); err != nil || len(tasks.Tasks) != 21 {
			return false
		}
		for _, tv := range tasks.Tasks {
			if tv.Status != "TASK_STATUS_COMPLETED" {
				return false
			}
		}
		return true
	}, 60*time.Second, time.Second, "21 interval tasks (heights start, start+3, …, start+60), all completed: %+v", tasks.Tasks)
	for i, tv := range tasks.Tasks {
		require.Equal(t, "ok", tv.ResultString(t))
		require.Equal(t, fmt.Sprint(start+int64(3*i)), tv.CreatedHeight, "task %d opened at its height", i)
	}
}
