//go:build e2e

package e2e

// The sidecar in production (issue #15): real avsd and avs-sidecar
// processes killed, cut off and pointed at the wrong chain.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/testutil/localnet"
)

// createTasks creates one task per input in one transaction from bob and
// returns their ids: the message is generated once and its input replaced.
func createTasks(t *testing.T, node *localnet.Node, service string, inputs []string) []string {
	t.Helper()
	tmpl := node.GenerateMsgs("bob", "avs", "create-task", service, "0", "--fee", "300uavs")
	require.Len(t, tmpl, 1)
	msgs := make([]json.RawMessage, len(inputs))
	for i, in := range inputs {
		var m map[string]any
		require.NoError(t, json.Unmarshal(tmpl[0], &m))
		m["input"] = base64.StdEncoding.EncodeToString([]byte(in))
		bz, err := json.Marshal(m)
		require.NoError(t, err)
		msgs[i] = bz
	}
	res := node.WaitTx(node.SendMsgs("bob", 200_000*len(inputs), msgs))
	require.Zero(t, res.Code, res.RawLog)
	ids := res.Attributes(evTaskCreated, "task_id")
	require.Len(t, ids, len(inputs))
	return ids
}

// restTask is a task as the REST API shows it.
type restTask struct {
	Task taskView `json:"task"`
}

type restVotes struct {
	Votes []voteView `json:"votes"`
}

// waitAllVoted waits until every task is COMPLETED with a vote from every
// operator, and returns the number of late votes.
func waitAllVoted(t *testing.T, node *localnet.Node, ids []string, ops []string, timeout time.Duration) int {
	t.Helper()
	want := len(ops)
	late, next := 0, 0
	localnet.Poll(t, timeout, fmt.Sprintf("%d tasks completed with %d votes each", len(ids), want), func() (int, error) {
		for ; next < len(ids); next++ {
			id := ids[next]
			var task restTask
			if err := node.REST("/avschain/avs/v1/tasks/"+id, &task); err != nil {
				return next, err
			}
			switch task.Task.Status {
			case "TASK_STATUS_COMPLETED":
			case "TASK_STATUS_PENDING":
				return next, fmt.Errorf("task %s is pending", id)
			default:
				t.Fatalf("task %s ended %s (%s)", id, task.Task.Status, task.Task.Failure)
			}
			var votes restVotes
			if err := node.REST("/avschain/avs/v1/tasks/"+id+"/votes", &votes); err != nil {
				return next, err
			}
			voters := map[string]bool{}
			for _, v := range votes.Votes {
				voters[v.Operator] = true
			}
			if len(voters) < want {
				return next, fmt.Errorf("task %s has votes from %d of %d operators", id, len(voters), want)
			}
			for _, v := range votes.Votes {
				if v.Late {
					late++
				}
			}
		}
		return next, nil
	})
	return late
}

// voteRejections counts, over every block up to the latest, the votes x/avs
// refused, by code.
func voteRejections(t *testing.T, node *localnet.Node) map[string]int {
	t.Helper()
	latest, err := node.Height()
	require.NoError(t, err)
	out := map[string]int{}
	for h := int64(1); h <= latest; h++ {
		events, err := node.BlockEvents(h)
		require.NoError(t, err)
		for _, e := range events {
			if e.Type == evVoteRejected {
				out[localnet.EventAttributes(e)["code"]]++
			}
		}
	}
	return out
}

// requireNotJailed checks no operator is jailed on the service.
func requireNotJailed(t *testing.T, node *localnet.Node, service string, ops ...string) {
	t.Helper()
	for _, op := range ops {
		var res struct {
			ServiceIDs []string `json:"service_ids"`
			Liveness   []struct {
				WindowMissed string `json:"window_missed"`
				Jailed       bool   `json:"jailed"`
			} `json:"liveness"`
		}
		require.NoError(t, node.REST("/avschain/avs/v1/operators/"+node.KeyAddress(op), &res))
		for i, id := range res.ServiceIDs {
			if id == service && i < len(res.Liveness) {
				require.False(t, res.Liveness[i].Jailed, "%s jailed on service %s", op, service)
				require.Contains(t, []string{"", "0"}, res.Liveness[i].WindowMissed, "%s missed votes on service %s", op, service)
			}
		}
	}
}

// TestChaosSidecarsKilledAndNodeRestarted: three sidecars vote on 300 tasks
// created 10 at a time while, after each batch, one of them chosen at random
// is killed with SIGKILL at a random instant and started again (30 kills);
// then the node itself is killed and restarted. Every task completes with a
// vote from every operator (late votes count), x/avs refused no vote as a
// duplicate, and no operator is jailed.
func TestChaosSidecarsKilledAndNodeRestarted(t *testing.T) {
	const rounds, perRound = 30, 10
	seed := uint64(time.Now().UnixNano())
	t.Logf("chaos seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-chaos"})
	service := createService(t, node, manifest{
		Name: "square", Digest: storeComponent(t, node, component("square-rust")), Threshold: "0.51", Timeout: 300,
	})
	optIn(t, node, service, operators...)
	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	var ids []string
	kills := map[string]int{}
	for r := 0; r < rounds; r++ {
		inputs := make([]string, perRound)
		for i := range inputs {
			inputs[i] = strconv.Itoa(r*perRound + i + 1)
		}
		ids = append(ids, createTasks(t, node, service, inputs)...)
		victim := sidecars[rng.IntN(len(sidecars))]
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond) // a random instant in its work
		victim.Kill()
		kills[victim.Key]++
		victim.Start()
	}
	t.Logf("%d tasks created, %d sidecar kills %v; killing the node", len(ids), rounds, kills)
	node.Kill()
	node.Restart()

	late := waitAllVoted(t, node, ids, operators, 5*time.Minute)
	rejected := voteRejections(t, node)
	t.Logf("chaos: %d tasks, %d sidecar kills, 1 node kill; %d votes, %d of them late; votes refused by code %v",
		len(ids), rounds, len(ids)*len(operators), late, rejected)
	require.Zero(t, rejected["21"], "votes refused as duplicates (ErrDuplicateVote)")
	requireNotJailed(t, node, service, operators...)
}

// TestC2NoTxIndex: a node with no transaction index ([tx_index] indexer =
// "null", as many validators run) cannot answer /tx; the sidecar learns that
// its votes landed from the blocks and sends each once.
func TestC2NoTxIndex(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-noindex"})
	service := createService(t, node, manifest{Name: "square", Digest: storeComponent(t, node, component("square-rust")), Threshold: "1"})
	optIn(t, node, service, "operator1")
	node.Stop()
	node.SetTxIndex("null")
	node.Restart()

	sc := node.StartSidecar("operator1", localnet.SidecarOptions{})
	defer logSidecars(t, sc)
	const n = 5
	cmds := make([][]string, n)
	for i := range cmds {
		cmds[i] = []string{"avs", "create-task", service, strconv.Itoa(i + 1), "--fee", "300uavs"}
	}
	node.SendBatch("bob", 200_000*n, cmds...) // no index: wait on the tasks instead
	var listed struct {
		Tasks []taskView `json:"tasks"`
	}
	localnet.Poll(t, 90*time.Second, fmt.Sprintf("%d tasks completed", n), func() (int, error) {
		if err := node.REST("/avschain/avs/v1/services/"+service+"/tasks?status=2", &listed); err != nil {
			return 0, err
		}
		if len(listed.Tasks) < n {
			return len(listed.Tasks), fmt.Errorf("%d of %d completed", len(listed.Tasks), n)
		}
		return n, nil
	})
	var results []string
	for _, task := range listed.Tasks {
		results = append(results, task.ResultString(t))
	}
	require.ElementsMatch(t, []string{"1", "4", "9", "16", "25"}, results)
	require.Eventually(t, func() bool { return sc.Metric("avs_sidecar_votes_included_total") == n }, 30*time.Second, 200*time.Millisecond,
		"the sidecar saw each of its %d votes land", n)
	require.EqualValues(t, n, sc.Metric("avs_sidecar_votes_sent_total"), "each vote sent once")
	require.Zero(t, voteRejections(t, node)["21"], "no vote sent twice")
}

// TestH2HungFirstRPCEndpoint: the first RPC endpoint accepts connections
// and never answers; the sidecar moves on to the second and votes.
func TestH2HungFirstRPCEndpoint(t *testing.T) {
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	held := make(chan net.Conn, 1024)
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never answered
		}
	}()
	defer func() {
		_ = hung.Close()
		for len(held) > 0 {
			_ = (<-held).Close()
		}
	}()

	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-hung"})
	service := createService(t, node, manifest{Name: "square", Digest: storeComponent(t, node, component("square-rust")), Threshold: "1"})
	optIn(t, node, service, "operator1")
	sc := node.StartSidecar("operator1", localnet.SidecarOptions{
		InitFlags: []string{"--rpc", "tcp://" + hung.Addr().String() + "," + node.NodeURI()},
	})
	defer logSidecars(t, sc)

	id := createTask(t, node, service, "7")
	v := waitTask(t, node, id, 90*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
	require.Equal(t, "49", v.ResultString(t))
	require.Positive(t, sc.Metric("avs_sidecar_fail_overs_total"), "the hung endpoint was left")
}

// TestH3ChainResetUnderReusedDataDir: a devnet is reset (same chain id, new
// genesis) while an operator keeps its sidecar's data dir. The sidecar
// refuses to start against the new chain, says why and what to do, and
// deletes nothing; with a fresh data dir it votes on the new chain.
func TestH3ChainResetUnderReusedDataDir(t *testing.T) {
	old := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-reset"})
	service := createService(t, old, manifest{Name: "square", Digest: storeComponent(t, old, component("square-rust")), Threshold: "1"})
	optIn(t, old, service, "operator1")
	sc := old.StartSidecar("operator1", localnet.SidecarOptions{})
	defer logSidecars(t, sc)
	require.Equal(t, "TASK_STATUS_COMPLETED", waitTask(t, old, createTask(t, old, service, "3"), 60*time.Second).Status)
	// the chain may show the task complete before the sidecar has read the
	// block that includes its vote and recorded it
	require.Eventually(t, func() bool { return sc.Metric("avs_sidecar_votes_included_total") >= 1 },
		30*time.Second, 200*time.Millisecond, "the sidecar records its vote as included")
	sc.Stop()
	old.Stop()

	fresh := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-reset"})
	dataDir := filepath.Join(sc.Home, "data")
	before := storeRecords(t, dataDir)
	out, err := exec.Command(sc.Bin, "start", "--home", sc.Home,
		"--rpc", fresh.NodeURI(), "--grpc", fmt.Sprintf("127.0.0.1:%d", fresh.GRPCPort), "--keyring-dir", fresh.Home).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the sidecar must refuse the reset chain:\n%s", out)
	require.Contains(t, string(out), "genesis", "the error names what differs:\n%s", out)
	require.Contains(t, string(out), "data_dir", "the error says what to do:\n%s", out)
	require.Contains(t, string(out), "nothing was deleted", "and that nothing was lost:\n%s", out)
	require.NotContains(t, string(out), "Usage:")
	require.Equal(t, before, storeRecords(t, dataDir), "the data dir's records are as they were")

	// Pointed at a fresh data dir, it votes on the new chain.
	service2 := createService(t, fresh, manifest{Name: "square", Digest: storeComponent(t, fresh, component("square-rust")), Threshold: "1"})
	optIn(t, fresh, service2, "operator1")
	sc2 := fresh.StartSidecar("operator1", localnet.SidecarOptions{})
	defer logSidecars(t, sc2)
	require.Equal(t, "16", waitTask(t, fresh, createTask(t, fresh, service2, "4"), 60*time.Second).ResultString(t))
}

// storeRecords reads what a sidecar's data dir remembers: its cursor and
// which of the first tasks it voted on.
func storeRecords(t *testing.T, dataDir string) string {
	t.Helper()
	st, err := store.Open(filepath.Join(dataDir, "store"))
	require.NoError(t, err)
	defer st.Close()
	cursor, err := st.Cursor()
	require.NoError(t, err)
	require.Positive(t, cursor)
	var voted []string
	for id := uint64(1); id <= 5; id++ {
		ok, err := st.Submitted(store.WorkKey(id, nil))
		require.NoError(t, err)
		if ok {
			voted = append(voted, strconv.FormatUint(id, 10))
		}
	}
	require.NotEmpty(t, voted)
	return fmt.Sprintf("cursor %d, voted %v", cursor, voted)
}

// TestM9VoteKeyThroughAuthzAndFeegrant: the operator key stays cold. With
// the grant commands of docs/OPERATORS.md ("A vote key"), a hot vote key
// signs the sidecar's votes as an authz MsgExec for the operator, and the
// operator's fee grant pays for them: the vote counts as the operator's,
// and the vote key, holding 1uavs, pays nothing.
func TestM9VoteKeyThroughAuthzAndFeegrant(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-votekey"})
	service := createService(t, node, manifest{Name: "square", Digest: storeComponent(t, node, component("square-rust")), Threshold: "1"})
	optIn(t, node, service, "operator1")

	out, err := exec.Command(node.Bin, "keys", "add", "votekey", "--keyring-backend", "test", "--home", node.Home, "--output", "json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	vote := node.KeyAddress("votekey")
	op := node.KeyAddress("operator1")
	const spendLimit = 50_000_000
	for _, args := range [][]string{
		{"authz", "grant", vote, "generic", "--msg-type", "/avschain.avs.v1.MsgSubmitResults"},
		{"feegrant", "grant", op, vote, "--spend-limit", fmt.Sprintf("%duavs", spendLimit), "--allowed-messages", "/cosmos.authz.v1beta1.MsgExec"},
		{"bank", "send", op, vote, "1uavs"},
	} {
		res := node.Tx("operator1", args...)
		require.Zero(t, res.Code, "%v: %s", args, res.RawLog)
	}

	sc := node.StartSidecar("votekey", localnet.SidecarOptions{InitFlags: []string{"--vote-key", "votekey", "--operator-address", op}})
	defer logSidecars(t, sc)
	id := createTask(t, node, service, "6")
	v := waitTask(t, node, id, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status)
	require.Equal(t, "36", v.ResultString(t))
	votes := taskVotes(node, id)
	require.Len(t, votes, 1)
	require.Equal(t, op, votes[0].Operator, "the vote is the operator's")
	require.EqualValues(t, 1, balance(t, node, vote), "the vote key paid no fee")

	var grant struct { // amino JSON: an AllowedMsgAllowance around a BasicAllowance
		Allowance struct {
			Allowance struct {
				Value struct {
					Allowance struct {
						Value struct {
							SpendLimit []struct {
								Amount string `json:"amount"`
							} `json:"spend_limit"`
						} `json:"value"`
					} `json:"allowance"`
				} `json:"value"`
			} `json:"allowance"`
		} `json:"allowance"`
	}
	raw, err := node.TryQuery(&grant, "feegrant", "grant", op, vote)
	require.NoError(t, err)
	limit := grant.Allowance.Allowance.Value.Allowance.Value.SpendLimit
	require.Len(t, limit, 1, "%s", raw)
	left, err := strconv.ParseInt(limit[0].Amount, 10, 64)
	require.NoError(t, err)
	require.Less(t, left, int64(spendLimit), "the operator's fee grant paid the vote")
}
