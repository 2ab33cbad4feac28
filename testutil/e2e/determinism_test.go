//go:build e2e

package e2e

// A real network (issue #17): after a run with the module's features in
// use, the four validators hold one state.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/testutil/localnet"
)

const evOperatorSlashed = "avschain.avs.v1.EventOperatorSlashed"

// TestDeterminismAcrossFourValidators runs four validators of equal stake
// and three sidecars, each with every node as its fail-over list but a
// different node first (operator1: node 1, operator2: node 2, operator3:
// node 3), and uses in one run what the other e2e tests drive one at a time:
//
//   - tasks from transactions: MsgCreateTask (a square, and "x", which the
//     component cannot square: a FAILED task on every operator's failure
//     vote) and MsgCreateTasks (two squares in one message);
//   - tasks of an interval trigger (every 3 blocks, 4 of them), paid by the
//     service's treasury;
//   - an event-trigger task: an avs-requester contract announces 7, the
//     sidecars read the event and open the task, and the service's handler
//     contract (avs-handler) is told of its end;
//   - a task created by a contract (avs-requester is its service's handler
//     and is called back with the result);
//   - slashing: a MEDIAN service with slash_fraction 0.1 whose operator3
//     runs a component answering 150 where the others answer 100: its vote
//     is beyond the spread, the task completes with 100 and operator3's
//     self-commitment there loses a tenth;
//   - commitments: operator3's, and carol's to operator1, of which she then
//     uncommits a part (an unbonding entry); operator1 withdraws its rewards;
//   - IBC: a second chain (one validator) linked by the Go relayer (port avs
//     on both ends, avs-1) asks the four-validator chain for a square over
//     the channel; the task's end is acknowledged to it and its result also
//     pushed to it (the service's ibc_result_channels).
//
// Every service wants all three operators (threshold 1; the MEDIAN one
// waits for all three votes), so once every task has ended no more votes
// come. Then, at a height H every node has passed,
// each node's own x/avs store root (its proof for a store query at H, run
// here) is the others', the app hash it proves to is the chain's for H, each
// node's latest state hash (abci_info) is the chain's app hash for its
// height, and the queries a user makes (avs services, tasks of each service,
// commitments and operator of each account involved) answer byte for byte
// the same on every node at H.
//
// The IBC module's state is in the app hash each node is checked against
// (the relayer's transactions on the four-validator chain included).
//
// Run time: about 2¾ minutes on 2 cores (162 s measured with IBC; 130 s
// and 133 s before it), most of it starting four validators and the second
// chain, the relayer's link, the setup and waiting for the interval
// trigger's last task.
func TestDeterminismAcrossFourValidators(t *testing.T) {
	began := time.Now()
	node0 := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-determinism", Validators: 4})
	nodes := node0.Nodes()
	require.Len(t, nodes, 4)
	alice, bobAddr, carol := node0.KeyAddress("alice"), node0.KeyAddress("bob"), node0.KeyAddress("carol")
	opAddr := map[string]string{}
	for _, op := range operators {
		opAddr[op] = node0.KeyAddress(op)
	}

	// 0. The second chain, and a channel to it on port avs. The relayer signs
	// with the validator key (its account on both chains), which the test
	// uses for nothing else; it relays from step 6 on.
	chainB := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-determinism-b"})
	const path = "determinism"
	rly := newRelayer(t, relayerBinary(t), "validator", node0, chainB)
	rly.link(path, node0.ChainID, chainB.ChainID, "avs", "avs-1")
	channelA, channelB := openChannel(t, node0, "avs"), openChannel(t, chainB, "avs")
	t.Logf("avs/%s on %s <-> avs/%s on %s", channelA, node0.ChainID, channelB, chainB.ChainID)

	// 1. Components and contracts, stored by alice in one transaction.
	var msgs []json.RawMessage
	for _, p := range []string{
		component("square-rust"),
		component("square"), // reads an event trigger's input
		writeWasm(t, "ok", avstest.FixedOutput("ok")),
		writeWasm(t, "price-100", avstest.FixedOutput("100")),
	} {
		msgs = append(msgs, node0.GenerateMsgs("alice", "avs", "store-component", p)...)
	}
	msgs = append(msgs, node0.GenerateMsgs("alice", "wasm", "store", writeWasm(t, "avs_handler", contracts.HandlerWasm()))...)
	msgs = append(msgs, node0.GenerateMsgs("alice", "wasm", "store", writeWasm(t, "avs_requester", contracts.RequesterWasm()))...)
	res := sendAll(t, node0, "alice", 80_000_000, msgs)
	digests := res.Attributes(evComponentStored, "digest")
	require.Len(t, digests, 4)
	square, eventSquare, ok, price := digests[0], digests[1], digests[2], digests[3]
	codes := res.Attributes("store_code", "code_id")
	require.Len(t, codes, 2)

	// 2. The contracts. The requesters name the services they will serve,
	// whose ids step 3 checks: services are numbered from 1.
	const (
		svcSquare, svcTicker, svcEvents, svcMedian, svcRequested, svcRemote = "1", "2", "3", "4", "5", "6"
	)
	msgs = nil
	for _, c := range []struct{ code, label, init string }{
		{codes[0], "avs_handler", `{}`},
		{codes[1], "avs_requester_announcer", fmt.Sprintf(`{"service_id":%q}`, svcEvents)},
		{codes[1], "avs_requester", fmt.Sprintf(`{"service_id":%q}`, svcRequested)},
	} {
		msgs = append(msgs, node0.GenerateMsgs("alice", "wasm", "instantiate", c.code, c.init, "--label", c.label, "--admin", alice)...)
	}
	res = sendAll(t, node0, "alice", 5_000_000, msgs)
	addrs := res.Attributes("instantiate", "_contract_address")
	require.Len(t, addrs, 3)
	handler, announcer, requester := addrs[0], addrs[1], addrs[2]

	// 3. The services, their allow-lists and treasuries: alice, one
	// transaction. The ticker gets its trigger once the sidecars run (5).
	msgs = nil
	for _, m := range []manifest{
		{Name: "square", Digest: square},
		{Name: "ticker", Digest: ok},
		{Name: "announced-square", Digest: eventSquare, HandlerContract: handler,
			Triggers: fmt.Sprintf(`[{"event":{"type":"wasm-avs_announce","attributes":[{"key":"_contract_address","value":%q}]}}]`, announcer)},
		// MEDIAN with three EQUAL operators waits for all three votes; 0.66
		// lets the two within the spread make the quorum
		{Name: "median", Digest: price, Threshold: "0.66", MinOps: 2, Aggregation: "AGGREGATION_MODE_MEDIAN", Spread: "0.01", SlashFraction: "0.1"},
		{Name: "requested-square", Digest: square, HandlerContract: requester},
	} {
		msgs = append(msgs, node0.GenerateMsgs("alice", "avs", "create-service", manifestFile(t, m))...)
	}
	// requested from chain B over channelA, and pushed back to it
	remote := ibcManifestFile(t, manifest{Name: "remote-square", Digest: square}, []string{channelA}, []string{channelA})
	msgs = append(msgs, node0.GenerateMsgs("alice", "avs", "create-service", remote)...)
	services := []string{svcSquare, svcTicker, svcEvents, svcMedian, svcRequested, svcRemote}
	for _, op := range operators {
		allow := node0.GenerateMsgs("alice", "avs", "update-allowlist", svcSquare, "--add", opAddr[op])
		require.Len(t, allow, 1)
		for _, svc := range services {
			msgs = append(msgs, withField(t, allow[0], "service_id", svc))
		}
	}
	for _, svc := range []string{svcTicker, svcEvents, svcRemote} {
		msgs = append(msgs, node0.GenerateMsgs("alice", "avs", "fund-service", svc, "1000000uavs")...)
	}
	res = sendAll(t, node0, "alice", 10_000_000, msgs)
	require.Equal(t, services, res.Attributes(evServiceCreated, "service_id"))

	// 4. The operators, each through the node its sidecar uses first:
	// register, opt in to every service; operator3 commits 1,000,000uavs of
	// its own to the median service (what its slash cuts).
	var hashes []string
	for i, op := range operators {
		n := nodes[i+1]
		msgs = n.GenerateMsgs(op, "avs", "register-operator", op)
		optIn := n.GenerateMsgs(op, "avs", "opt-in", svcSquare)
		require.Len(t, optIn, 1)
		for _, svc := range services {
			msgs = append(msgs, withField(t, optIn[0], "service_id", svc))
		}
		if op == "operator3" {
			msgs = append(msgs, n.GenerateMsgs(op, "avs", "commit", opAddr[op], svcMedian, "1000000uavs")...)
		}
		hashes = append(hashes, n.SendMsgs(op, 3_000_000, msgs))
	}
	for i, hash := range hashes {
		res := nodes[i+1].WaitTx(hash)
		require.Zero(t, res.Code, "%s: %s", operators[i], res.RawLog)
	}

	// 5. The sidecars; operator3's answers 150 on the median service.
	wrong := writeWasm(t, "price-150", avstest.FixedOutput("150"))
	sidecars := make([]*localnet.Sidecar, len(operators))
	for i, op := range operators {
		var order []*localnet.Node // node i+1 first, then the others in turn
		for j := range nodes {
			order = append(order, nodes[(i+1+j)%len(nodes)])
		}
		opts := localnet.SidecarOptions{Endpoints: order}
		if op == "operator3" {
			opts.ComponentOverrides = map[string]string{price: wrong}
		}
		sidecars[i] = node0.StartSidecar(op, opts)
	}
	defer logSidecars(t, sidecars...)
	// The ticker's trigger, from a height after the sidecars' start: its
	// first firing is a few blocks after this update's own (checked), so
	// no tick goes unanswered however long the setup took.
	const tickEvery, tickTasks = 3, 4
	tickStart := height(t, node0) + 10
	tickEnd := tickStart + tickEvery*(tickTasks-1)
	tickRes := node0.Tx("alice", "avs", "update-service", svcTicker, manifestFile(t, manifest{Name: "ticker", Digest: ok,
		Triggers: fmt.Sprintf(`[{"block_interval":{"every":"%d","start":"%d","end":"%d"}}]`, tickEvery, tickStart, tickEnd)}))
	require.Zero(t, tickRes.Code, tickRes.RawLog)
	ready := height(t, node0)
	require.Less(t, ready, tickStart, "the ticker's update was included after its first height: its tasks would go unanswered")

	// 6. Tasks from transactions (bob, through node 1), carol's commitment
	// (through node 2) and bob's request from chain B, at once.
	rly.start(path)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	bob := nodes[1]
	msgs = nil
	msgs = append(msgs, bob.GenerateMsgs("bob", "avs", "create-task", svcSquare, "3", "--fee", "300uavs")...)
	msgs = append(msgs, bob.GenerateMsgs("bob", "avs", "create-task", svcSquare, "x", "--fee", "300uavs")...)
	msgs = append(msgs, bob.GenerateMsgs("bob", "avs", "create-tasks", svcSquare, "4", "5", "--fee", "300uavs")...)
	msgs = append(msgs, bob.GenerateMsgs("bob", "avs", "create-task", svcMedian, "price", "--fee", "300uavs")...)
	msgs = append(msgs, bob.GenerateMsgs("bob", "wasm", "execute", requester, fmt.Sprintf(`{"request":{"input":%q}}`, b64("5")), "--amount", "300uavs")...)
	msgs = append(msgs, bob.GenerateMsgs("bob", "wasm", "execute", announcer, `{"announce":{"data":"7"}}`)...)
	bobTx := bob.SendMsgs("bob", 5_000_000, msgs)
	carolTx := nodes[2].SendMsgs("carol", 1_000_000, nodes[2].GenerateMsgs("carol", "avs", "commit", opAddr["operator1"], svcSquare, "500000uavs"))
	remoteReq := chainB.Tx("bob", "avs", "request-remote-task", channelB, svcRemote, "6", "--timeout", "600s")
	require.Zero(t, remoteReq.Code, remoteReq.RawLog)
	remoteSeq := remoteReq.Attribute("send_packet", "packet_sequence")
	require.Equal(t, "1", remoteSeq)
	res = bob.WaitTx(bobTx)
	require.Zero(t, res.Code, res.RawLog)
	ids := res.Attributes(evTaskCreated, "task_id")
	require.Len(t, ids, 6, "create-task ×2, create-tasks of 2, the median task, the contract's request")
	creators := res.Attributes(evTaskCreated, "creator")
	require.Equal(t, requester, creators[5], "the contract created the last task")
	for _, c := range creators[:5] {
		require.Equal(t, bobAddr, c)
	}
	announced := ""
	for i, e := range res.Events {
		if e.Type == "wasm-avs_announce" {
			announced = fmt.Sprintf("%s/%s/%s/%d", svcEvents, res.Height, res.TxHash, i)
		}
	}
	require.NotEmpty(t, announced, "the announcement's event")
	cres := nodes[2].WaitTx(carolTx)
	require.Zero(t, cres.Code, cres.RawLog)

	// 7. Every task ends.
	want := map[string]int{svcSquare: 4, svcTicker: tickTasks, svcEvents: 1, svcMedian: 1, svcRequested: 1, svcRemote: 1}
	tasks := localnet.Poll(t, 120*time.Second, "every task ends", func() (map[string][]eventTaskView, error) {
		all := map[string][]eventTaskView{}
		for _, svc := range services {
			var out struct {
				Tasks []eventTaskView `json:"tasks"`
			}
			if err := node0.REST("/avschain/avs/v1/services/"+svc+"/tasks", &out); err != nil {
				return nil, err
			}
			if len(out.Tasks) < want[svc] {
				return nil, fmt.Errorf("service %s: %d of %d tasks", svc, len(out.Tasks), want[svc])
			}
			for _, tv := range out.Tasks {
				if tv.Status == "TASK_STATUS_PENDING" {
					return nil, fmt.Errorf("service %s: task %s pending", svc, tv.ID)
				}
			}
			all[svc] = out.Tasks
		}
		return all, nil
	}, func() string { return fmt.Sprintf("height %d", height(t, node0)) })
	for svc, n := range want {
		require.Len(t, tasks[svc], n, "service %s", svc)
	}

	// What each task ended with.
	result := func(v eventTaskView) string { return v.ResultString(t) }
	squares := tasks[svcSquare]
	require.Equal(t, []string{ids[0], ids[1], ids[2], ids[3]}, []string{squares[0].ID, squares[1].ID, squares[2].ID, squares[3].ID})
	for i, in := range []string{"3", "x", "4", "5"} {
		v := squares[i]
		if in == "x" {
			require.Equal(t, "TASK_STATUS_FAILED", v.Status, "square(x)")
			require.Equal(t, "FAILURE_REASON_EXIT", v.Failure)
			continue
		}
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, "square(%s)", in)
		x, err := strconv.Atoi(in)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(x*x), result(v), "square(%s)", in)
	}
	for i, v := range tasks[svcTicker] {
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, "tick %d", i)
		require.Equal(t, "ok", result(v))
		require.Equal(t, strconv.FormatInt(tickStart+int64(tickEvery*i), 10), v.CreatedHeight, "tick %d opened at its height", i)
		require.True(t, v.PaidByTreasury)
	}
	event := tasks[svcEvents][0]
	require.Equal(t, "ORIGIN_KIND_TRIGGER", event.Origin.Kind)
	require.Equal(t, "event:"+announced, event.Origin.Ref)
	require.Equal(t, "TASK_STATUS_COMPLETED", event.Status)
	require.Equal(t, "49", result(event))
	stored := waitHandlerResult(t, node0, handler, event.ID, 30*time.Second)
	require.Equal(t, "completed", stored.Status, "the handler contract was told of the event task's end")

	median := tasks[svcMedian][0]
	require.Equal(t, ids[4], median.ID)
	require.Equal(t, "TASK_STATUS_COMPLETED", median.Status)
	require.Equal(t, "100", result(median))
	require.Equal(t, "2", median.PowerFor, "operator3's 150 is beyond the 1% spread")
	slashes := slashEvents(t, node0, median)
	require.Equal(t, []map[string]string{{
		"operator": opAddr["operator3"], "service_id": svcMedian, "task_id": median.ID,
	}}, slashes.who, "operator3, once")
	require.Equal(t, []string{"100000"}, slashes.amounts, "a tenth of its 1,000,000uavs, burned")

	requested := tasks[svcRequested][0]
	require.Equal(t, ids[5], requested.ID)
	require.Equal(t, "TASK_STATUS_COMPLETED", requested.Status)
	req := queryRequest(t, node0, requester, "1")
	require.Equal(t, "completed", req.Status, "the requester was called back")
	require.Equal(t, "25", string(req.Result))

	// The IBC task: opened by the packet, its end acknowledged to chain B
	// and its result pushed there.
	ibcTask := tasks[svcRemote][0]
	require.Equal(t, "ORIGIN_KIND_IBC", ibcTask.Origin.Kind)
	require.Equal(t, "TASK_STATUS_COMPLETED", ibcTask.Status)
	require.Equal(t, "36", result(ibcTask))
	relayed := func() {
		if !rly.running() {
			t.Fatal("rly start exited")
		}
	}
	answer := waitRemoteResult(t, chainB, channelB, remoteSeq, 2*time.Minute, relayed)
	require.Equal(t, "REMOTE_STATUS_COMPLETED", answer.Status, "chain B's request: %+v", answer)
	require.Equal(t, ibcTask.ID, answer.TaskID)
	require.Equal(t, b64("36"), answer.Result)
	pushed := localnet.Poll(t, 2*time.Minute, "chain B holds the pushed result", func() ([]remoteResultView, error) {
		relayed()
		var out struct {
			RemoteResults []remoteResultView `json:"remote_results"`
		}
		if _, err := chainB.TryQuery(&out, "avs", "remote-results", "--pushed"); err != nil || len(out.RemoteResults) == 0 {
			return nil, fmt.Errorf("no pushed result yet (%v)", err)
		}
		return out.RemoteResults, nil
	})
	require.Len(t, pushed, 1)
	require.Equal(t, channelB, pushed[0].Channel)
	require.Equal(t, ibcTask.ID, pushed[0].TaskID)
	require.Equal(t, b64("36"), pushed[0].Result)
	// The pushed result's acknowledgement comes back to this chain too (its
	// packet commitment is deleted): wait for it, so the state compared
	// below holds the whole exchange.
	localnet.Poll(t, 2*time.Minute, "chain A: the pushed result's packet acknowledged", func() (string, error) {
		relayed()
		var out struct {
			Commitments []json.RawMessage `json:"commitments"`
		}
		if _, err := node0.TryQuery(&out, "ibc", "channel", "packet-commitments", "avs", channelA); err != nil {
			return "", err
		}
		if len(out.Commitments) > 0 {
			return "", fmt.Errorf("%d packet commitments left", len(out.Commitments))
		}
		return "none", nil
	})

	// 8. Rewards and an uncommit, at once: operator1 withdraws what it
	// earned; carol uncommits 200,000 of her 500,000.
	var rewards struct {
		OperatorRewards struct {
			Amount string `json:"amount"`
		} `json:"operator_rewards"`
	}
	node0.Query(&rewards, "avs", "rewards", opAddr["operator1"])
	earned, err := strconv.ParseInt(rewards.OperatorRewards.Amount, 10, 64)
	require.NoError(t, err)
	require.Positive(t, earned)
	before := balance(t, node0, opAddr["operator1"])
	withdrawTx := nodes[1].SendMsgs("operator1", 500_000, nodes[1].GenerateMsgs("operator1", "avs", "withdraw-rewards"))
	uncommitTx := nodes[2].SendMsgs("carol", 1_000_000, nodes[2].GenerateMsgs("carol", "avs", "uncommit", opAddr["operator1"], svcSquare, "200000uavs"))
	wres := nodes[1].WaitTx(withdrawTx)
	require.Zero(t, wres.Code, wres.RawLog)
	ures := nodes[2].WaitTx(uncommitTx)
	require.Zero(t, ures.Code, ures.RawLog)
	require.Equal(t, before+earned-wres.FeePaid("uavs"), balance(t, node0, opAddr["operator1"]), "operator1 received its rewards")
	var unbonding struct {
		Unbonding []json.RawMessage `json:"unbonding"`
	}
	node0.Query(&unbonding, "avs", "unbonding", carol)
	require.Len(t, unbonding.Unbonding, 1, "carol's uncommit is unbonding")

	// 9. One state on every node at a height all of them have passed.
	H := height(t, node0)
	for _, n := range nodes {
		localnet.Poll(t, 30*time.Second, fmt.Sprintf("node %d: block %d", n.Index, H+1), func() (int64, error) { return atLeast(n, H+1) })
	}
	chainHash, err := node0.AppHash(H + 1)
	require.NoError(t, err)
	var roots []string
	for _, n := range nodes {
		root, appHash, err := n.StoreHash("avs", []byte{0}, H) // key 0: the params
		require.NoError(t, err)
		require.Equal(t, chainHash, appHash, "node %d: its state after block %d proves to the chain's app hash", n.Index, H)
		header, err := n.AppHash(H + 1)
		require.NoError(t, err)
		require.Equal(t, chainHash, header, "node %d: header %d", n.Index, H+1)
		roots = append(roots, root)
	}
	require.Equal(t, []string{roots[0], roots[0], roots[0], roots[0]}, roots, "the x/avs store root after block %d on nodes 0-3", H)
	for _, n := range nodes {
		h, own, err := n.LastAppHash()
		require.NoError(t, err)
		for _, m := range nodes {
			localnet.Poll(t, 30*time.Second, fmt.Sprintf("node %d: block %d", m.Index, h+1), func() (int64, error) { return atLeast(m, h+1) })
			hash, err := m.AppHash(h + 1)
			require.NoError(t, err)
			require.Equal(t, own, hash, "node %d's latest state (after block %d) is the chain's, as node %d has it", n.Index, h, m.Index)
		}
	}
	queries := [][]string{{"avs", "services"}}
	for _, svc := range services {
		queries = append(queries, []string{"avs", "tasks", svc})
	}
	for _, addr := range []string{carol, opAddr["operator1"], opAddr["operator2"], opAddr["operator3"]} {
		queries = append(queries, []string{"avs", "commitments", addr})
	}
	for _, op := range operators {
		queries = append(queries, []string{"avs", "operator", opAddr[op]})
	}
	for _, q := range queries {
		var answers []string
		for _, n := range nodes {
			var v json.RawMessage
			out, err := n.TryQuery(&v, append(q, "--height", strconv.FormatInt(H, 10))...)
			require.NoError(t, err, "node %d: %v: %s", n.Index, q, out)
			answers = append(answers, string(out))
		}
		for k := 1; k < len(nodes); k++ {
			require.Equal(t, answers[0], answers[k], "%v at height %d: node %d answers as node 0", q, H, k)
		}
	}

	total := 0
	for _, ts := range tasks {
		total += len(ts)
	}
	t.Logf("%d tasks ended: %d from txs (create-task, create-tasks; 1 FAILED), %d by the interval trigger, %d by an event (handler told), %d MEDIAN (%d slash: operator3, %suavs burned), %d by a contract, %d over IBC from %s (acknowledged and pushed)",
		total, len(tasks[svcSquare]), len(tasks[svcTicker]), len(tasks[svcEvents]), len(tasks[svcMedian]), len(slashes.who), slashes.amounts[0], len(tasks[svcRequested]), len(tasks[svcRemote]), chainB.ChainID)
	t.Logf("operator1 withdrew %duavs; carol committed 500000uavs and uncommitted 200000uavs; %d user queries equal on 4 nodes at height %d; x/avs store root %s, app hash %s at %d (setup done at %d, ticker %d-%d); %s in all",
		earned, len(queries), H, roots[0], chainHash, H, ready, tickStart, tickEnd, time.Since(began).Round(time.Second))
}

// withField returns a copy of a generated message (JSON) with one field
// replaced; the field must be there.
func withField(t *testing.T, msg json.RawMessage, key string, value any) json.RawMessage {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(msg, &m))
	_, has := m[key]
	require.True(t, has, "message %s has no field %q", msg, key)
	m[key] = value
	bz, err := json.Marshal(m)
	require.NoError(t, err)
	return bz
}

// sendAll sends msgs from one key in one transaction through node, waits
// for its inclusion and requires it succeeded.
func sendAll(t *testing.T, node *localnet.Node, from string, gas int, msgs []json.RawMessage) localnet.TxResult {
	t.Helper()
	res := node.WaitTx(node.SendMsgs(from, gas, msgs))
	require.Zero(t, res.Code, res.RawLog)
	return res
}

// slashes are the EventOperatorSlashed of blocks: who was slashed for which
// task, and the amounts burned (uavs).
type slashes struct {
	who     []map[string]string
	amounts []string
}

// slashEvents collects the slash events of the blocks from a task's
// creation to the block after its end.
func slashEvents(t *testing.T, node *localnet.Node, task eventTaskView) slashes {
	t.Helper()
	from, err := strconv.ParseInt(task.CreatedHeight, 10, 64)
	require.NoError(t, err)
	to, err := strconv.ParseInt(task.EndedHeight, 10, 64)
	require.NoError(t, err)
	var out slashes
	for h := from; h <= to+1; h++ {
		events, err := node.BlockEvents(h)
		require.NoError(t, err)
		for _, e := range events {
			if e.Type != evOperatorSlashed {
				continue
			}
			a := localnet.EventAttributes(e)
			var amount struct {
				Denom  string `json:"denom"`
				Amount string `json:"amount"`
			}
			require.NoError(t, json.Unmarshal([]byte(a["amount"]), &amount), "amount %q", a["amount"])
			require.Equal(t, "uavs", amount.Denom)
			out.who = append(out.who, map[string]string{"operator": a["operator"], "service_id": a["service_id"], "task_id": a["task_id"]})
			out.amounts = append(out.amounts, amount.Amount)
		}
	}
	return out
}
