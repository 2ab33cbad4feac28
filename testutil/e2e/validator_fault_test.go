//go:build e2e

package e2e

// A real network (issue #17): four validators of equal stake; one is
// killed, then a second, and both come back.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// TestValidatorFaultKillRestartAndHalt runs four validators of equal stake
// and three sidecars, each with every node as its fail-over list but a
// different node first (operator1: node 1, operator2: node 2, operator3:
// node 3). Square tasks (threshold 1: every operator must vote) are created
// one a transaction, each after the last was included, through node 0.
//
//  1. All four up: 3 tasks.
//  2. SIGKILL node 1 (operator1's first node): blocks keep coming (6 more
//     tasks, each in a later block), operator1's sidecar fails over, and
//     all 9 tasks complete with a vote from every operator.
//  3. SIGKILL node 2 too: half the stake is down, the chain halts (node 0
//     holds the prevotes of both live validators at the next height, half
//     the power, and no block comes). A task is sent to the mempool during
//     the halt.
//  4. Restart node 1: it catches up by block sync, the chain resumes with
//     three of four, and the task sent during the halt is included.
//  5. Restart node 2: every node reaches the same height, every node's own
//     state hash (abci_info) equals the chain's app hash for its height,
//     and the headers' app hashes agree across the four.
//
// Then every task is COMPLETED with the right square and a vote from each
// operator, no vote was refused as a duplicate, and each operator holds
// exactly 100uavs (a third of the 300uavs fee) per task: nothing lost,
// nothing paid twice. It prints the heights, the gaps and the task counts.
//
// Run time: about 2 minutes on 2 cores (118 s and 130 s measured), most of
// it starting four validators and the setup transactions.
func TestValidatorFaultKillRestartAndHalt(t *testing.T) {
	node0 := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-valfault", Validators: 4})
	nodes := node0.Nodes()
	require.Len(t, nodes, 4)
	requireEqualStake(t, node0, 4)

	service := createService(t, node0, manifest{
		Name: "square", Digest: storeComponent(t, node0, component("square-rust")), Threshold: "1", MinOps: 3,
	})
	optIn(t, node0, service, operators...)
	sidecars := make([]*localnet.Sidecar, len(operators))
	for i, op := range operators {
		var order []*localnet.Node // node i+1 first, then the others in turn
		for j := range nodes {
			order = append(order, nodes[(i+1+j)%len(nodes)])
		}
		sidecars[i] = node0.StartSidecar(op, localnet.SidecarOptions{Endpoints: order})
	}
	defer logSidecars(t, sidecars...)
	feed := newTaskFeed(t, node0, service)

	// 1. All four validators up.
	feed.create(3)

	// 2. One validator down: a quarter of the stake; the chain goes on.
	hKill1 := height(t, node0)
	nodes[1].Kill()
	feed.create(6)
	hAfter := height(t, node0)
	require.GreaterOrEqual(t, hAfter, hKill1+6, "six tasks in six later blocks with node 1 down")
	feed.waitCompleted(90 * time.Second)
	require.Positive(t, sidecars[0].Metric("avs_sidecar_fail_overs_total"), "operator1's sidecar left node 1")
	t.Logf("node 1 killed at height %d; the chain went on to %d; %d tasks completed", hKill1, hAfter, len(feed.ids))

	// 3. A second validator down: half the stake; the chain halts.
	feed.create(1)
	hKill2 := height(t, node0)
	nodes[2].Kill()
	// Halted: both live validators prevoted at the next height, half the
	// power, and without 2/3 consensus waits there (no timeout moves it on).
	cs := localnet.Poll(t, 60*time.Second, "the chain halts", func() (localnet.ConsensusState, error) {
		cs, err := node0.ConsensusState()
		if err != nil {
			return cs, err
		}
		if 2*cs.PrevotePower < cs.TotalPower || 3*cs.PrevotePower > 2*cs.TotalPower {
			return cs, fmt.Errorf("height %d round %d: prevotes of %d/%d of the power", cs.Height, cs.Round, cs.PrevotePower, cs.TotalPower)
		}
		return cs, nil
	})
	halted := cs.Height - 1
	for _, n := range []*localnet.Node{node0, nodes[3]} {
		other, err := n.ConsensusState()
		require.NoError(t, err)
		require.Equal(t, halted+1, other.Height, "node %d is still trying to commit block %d", n.Index, halted+1)
		require.Equal(t, halted, height(t, n), "node %d has no block past %d", n.Index, halted)
	}
	haltedTx := feed.send() // into the mempool of a halted chain
	t.Logf("node 2 killed at height %d; the chain halted at %d (height %d round %d: prevotes %d/%d of the power)",
		hKill2, halted, cs.Height, cs.Round, cs.PrevotePower, cs.TotalPower)

	// 4. Node 1 back: three of four sign again.
	nodes[1].Restart()
	resumed := localnet.Poll(t, 60*time.Second, "the chain resumes", func() (int64, error) {
		return atLeast(node0, halted+2)
	})
	feed.land(haltedTx)
	feed.create(2)
	caught1 := localnet.Poll(t, 60*time.Second, "node 1 catches up past the halt", func() (int64, error) {
		return atLeast(nodes[1], resumed)
	})
	gap := blockGap(t, node0, halted+1)
	t.Logf("node 1 restarted: caught up from height %d to %d by block sync; the chain resumed (height %d); block %d was committed %s after block %d",
		hKill1, caught1, resumed, halted+1, gap.Round(100*time.Millisecond), halted)

	// 5. Node 2 back: all four at one height and one state.
	nodes[2].Restart()
	target := height(t, node0)
	for _, n := range nodes {
		localnet.Poll(t, 60*time.Second, fmt.Sprintf("node %d reaches height %d", n.Index, target), func() (int64, error) {
			return atLeast(n, target)
		})
	}
	for _, n := range nodes {
		h, own, err := n.LastAppHash()
		require.NoError(t, err)
		localnet.Poll(t, 30*time.Second, fmt.Sprintf("block %d", h+1), func() (int64, error) { return atLeast(node0, h+1) })
		var hashes []string
		for _, m := range nodes {
			localnet.Poll(t, 30*time.Second, fmt.Sprintf("node %d: block %d", m.Index, h+1), func() (int64, error) { return atLeast(m, h+1) })
			hash, err := m.AppHash(h + 1)
			require.NoError(t, err)
			hashes = append(hashes, hash)
		}
		require.Equal(t, []string{own, own, own, own}, hashes,
			"node %d's state after block %d is the chain's (header %d on every node)", n.Index, h, h+1)
	}
	require.Positive(t, sidecars[1].Metric("avs_sidecar_fail_overs_total"), "operator2's sidecar left node 2")

	feed.waitCompleted(90 * time.Second)
	rejected := voteRejections(t, node0)
	require.Zero(t, rejected["21"], "votes refused as duplicates (ErrDuplicateVote)")
	for _, op := range operators {
		var r struct {
			OperatorRewards struct {
				Amount string `json:"amount"`
			} `json:"operator_rewards"`
		}
		node0.Query(&r, "avs", "rewards", node0.KeyAddress(op))
		require.Equal(t, strconv.Itoa(100*len(feed.ids)), r.OperatorRewards.Amount, "%s: 100uavs per task, once", op)
	}
	t.Logf("%d tasks, all completed with 3 votes; the four nodes agree up to height %d; votes refused by code %v",
		len(feed.ids), target, rejected)
}

// requireEqualStake checks the chain has n bonded validators of equal tokens.
func requireEqualStake(t *testing.T, node *localnet.Node, n int) {
	t.Helper()
	var out struct {
		Validators []struct {
			Tokens string `json:"tokens"`
			Status string `json:"status"`
		} `json:"validators"`
	}
	node.Query(&out, "staking", "validators")
	require.Len(t, out.Validators, n)
	for _, v := range out.Validators {
		require.Equal(t, "BOND_STATUS_BONDED", v.Status)
		require.Equal(t, out.Validators[0].Tokens, v.Tokens, "equal stake")
	}
}

func height(t *testing.T, n *localnet.Node) int64 {
	t.Helper()
	h, err := n.Height()
	require.NoError(t, err)
	return h
}

// atLeast returns n's height, or an error while it is below h.
func atLeast(n *localnet.Node, h int64) (int64, error) {
	cur, err := n.Height()
	if err != nil {
		return 0, err
	}
	if cur < h {
		return cur, fmt.Errorf("node %d at height %d", n.Index, cur)
	}
	return cur, nil
}

// blockGap is the time between the headers of blocks h and h+1. A header's
// time is the median time of the precommits for the block before it, so
// blockGap(h+1) is how long block h+1 took to commit after block h.
func blockGap(t *testing.T, n *localnet.Node, h int64) time.Duration {
	t.Helper()
	a, err := n.BlockTime(h)
	require.NoError(t, err)
	b, err := n.BlockTime(h + 1)
	require.NoError(t, err)
	return b.Sub(a)
}

// taskFeed creates square tasks from bob through one node, one a
// transaction, and remembers each task's expected result.
type taskFeed struct {
	t     *testing.T
	node  *localnet.Node
	tmpl  json.RawMessage // a MsgCreateTask, its input replaced per task
	input int
	sent  map[string]int // tx hash → input
	ids   []string
	want  map[string]string // task id → its result
}

func newTaskFeed(t *testing.T, node *localnet.Node, service string) *taskFeed {
	tmpl := node.GenerateMsgs("bob", "avs", "create-task", service, "0", "--fee", "300uavs")
	require.Len(t, tmpl, 1)
	return &taskFeed{t: t, node: node, tmpl: tmpl[0], sent: map[string]int{}, want: map[string]string{}}
}

// send broadcasts a transaction creating the next task and returns its hash
// once CheckTx accepted it.
func (f *taskFeed) send() string {
	f.t.Helper()
	f.input++
	var m map[string]any
	require.NoError(f.t, json.Unmarshal(f.tmpl, &m))
	m["input"] = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(f.input)))
	bz, err := json.Marshal(m)
	require.NoError(f.t, err)
	hash := f.node.SendMsgs("bob", 200_000, []json.RawMessage{bz})
	f.sent[hash] = f.input
	return hash
}

// land waits for a sent transaction's inclusion and records its task.
func (f *taskFeed) land(hash string) {
	f.t.Helper()
	res := f.node.WaitTx(hash)
	require.Zero(f.t, res.Code, res.RawLog)
	id := res.Attribute(evTaskCreated, "task_id")
	require.NotEmpty(f.t, id)
	in := f.sent[hash]
	f.ids = append(f.ids, id)
	f.want[id] = strconv.Itoa(in * in)
}

// create creates n tasks, each sent after the last was included.
func (f *taskFeed) create(n int) {
	f.t.Helper()
	for i := 0; i < n; i++ {
		f.land(f.send())
	}
}

// waitCompleted waits until every task so far is COMPLETED with its square
// and a vote from every operator.
func (f *taskFeed) waitCompleted(timeout time.Duration) {
	f.t.Helper()
	require.NotEmpty(f.t, f.ids)
	waitAllVoted(f.t, f.node, f.ids, operators, timeout)
	for _, id := range f.ids {
		var task restTask
		require.NoError(f.t, f.node.REST("/avschain/avs/v1/tasks/"+id, &task))
		require.Equal(f.t, "TASK_STATUS_COMPLETED", task.Task.Status, "task %s", id)
		got, err := base64.StdEncoding.DecodeString(task.Task.Result)
		require.NoError(f.t, err)
		require.Equal(f.t, f.want[id], string(got), "task %s", id)
	}
}
