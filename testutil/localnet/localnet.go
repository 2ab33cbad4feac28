// Package localnet runs a real avsd chain for end-to-end tests through
// scripts/localnet.sh, one validator or several, on free loopback ports and
// in the test's temp dir, and drives it through the real avsd CLI.
package localnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Node is one running validator started by scripts/localnet.sh.
type Node struct {
	t        testing.TB
	Bin      string
	Home     string
	ChainID  string
	RPCPort  int
	GRPCPort int
	APIPort  int
	// GasPrices is the node's minimum-gas-prices (app.toml; `avsd init`
	// writes 0.01uavs): every transaction Tx sends, the sidecars' votes and
	// the relayer's packets pay it (docs/VALIDATORS.md).
	GasPrices string
	// Index is the node's number in its network: 0 for the first validator,
	// whose home holds the keyring with the dev keys (every node's Tx signs
	// with it), K for the one in <node 0's home>/nodeK.
	Index  int
	opts   Options
	ports  []int // rpc, p2p, grpc, api, abci
	net    *network
	script *script // the run of localnet.sh that runs this node now
}

// network is the nodes of one chain and every run of localnet.sh that
// ran them.
type network struct {
	nodes   []*Node
	scripts []*script
}

// Options change how Start runs the chain.
type Options struct {
	ChainID string // default "avs-e2e-1"
	// TxIndex is the node's [tx_index] indexer: "kv" (default) or "null"
	// (no transaction index, as many validators run).
	TxIndex string
	// Binary is the avsd the nodes run and the CLI uses (default Binary(t));
	// Node.Bin may be changed before a Restart, as an upgrade does.
	Binary string
	// Validators is how many validators the chain has, with equal stake
	// (default 1). Start returns the first; Nodes returns all of them.
	Validators int
	// SnapshotInterval, if positive, makes every node take a state-sync
	// snapshot every that many blocks (JoinByStateSync joins from them).
	SnapshotInterval int
	// Wasmd runs a plain CosmWasm chain instead of avschain (localnet.sh
	// --wasmd): wasmd at the version go.mod pins (default binary
	// WasmdBinary(t)), denom stake, the same dev keys. StartWasmd sets it.
	Wasmd bool
}

// StartWasmd runs a one-validator wasmd chain, "another chain" for the
// IBC-client tests, as Start runs avschain (default chain id "wasmd-e2e-1").
func StartWasmd(t testing.TB, opts Options) *Node {
	t.Helper()
	opts.Wasmd = true
	if opts.ChainID == "" {
		opts.ChainID = "wasmd-e2e-1"
	}
	if opts.Binary == "" {
		opts.Binary = WasmdBinary(t)
	}
	return Start(t, opts)
}

// proc is the name of the node's program: its home's proc.pid and proc.log.
func (n *Node) proc() string {
	if n.opts.Wasmd {
		return "wasmd"
	}
	return "avsd"
}

// Start runs scripts/localnet.sh --reset on free ports (five a node) with
// its home in the test's temp dir, waits until the chain has made a block
// (with several validators: until every node is at height 3), and stops
// every node (by the script's process group, and by each node's pid file)
// when the test ends, whatever its outcome. It returns node 0.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	if opts.ChainID == "" {
		opts.ChainID = "avs-e2e-1"
	}
	if opts.TxIndex == "" {
		opts.TxIndex = "kv"
	}
	if opts.Validators < 1 {
		opts.Validators = 1
	}
	if opts.Binary == "" {
		opts.Binary = Binary(t)
	}
	ports := FreePorts(t, 5*opts.Validators)
	home := filepath.Join(t.TempDir(), "home")
	nw := &network{}
	bin := opts.Binary
	for k := 0; k < opts.Validators; k++ {
		p := ports[5*k : 5*k+5]
		nodeHome := home
		if k > 0 {
			nodeHome = filepath.Join(home, fmt.Sprintf("node%d", k))
		}
		nw.nodes = append(nw.nodes, &Node{
			t: t, Bin: bin, Home: nodeHome, ChainID: opts.ChainID,
			RPCPort: p[0], GRPCPort: p[2], APIPort: p[3], Index: k, opts: opts, ports: p, net: nw,
		})
	}
	t.Cleanup(nw.stop)
	first := nw.nodes[0]
	minHeight := int64(1)
	if len(nw.nodes) > 1 {
		minHeight = 3 // every validator has signed
	}
	h := nw.run(first.networkArgs(true), nw.nodes, minHeight)
	for _, n := range nw.nodes {
		n.GasPrices = n.minGasPrices()
	}
	t.Logf("localnet %s ready at height %d with %d validator(s) (node 0 rpc 127.0.0.1:%d, gas prices %q)",
		first.ChainID, h, len(nw.nodes), first.RPCPort, first.GasPrices)
	return first
}

// Nodes returns every validator of n's chain, node 0 first.
func (n *Node) Nodes() []*Node { return n.net.nodes }

// keyHome is the home whose keyring holds the dev and validator keys: node 0's.
func (n *Node) keyHome() string { return n.net.nodes[0].Home }

// networkArgs are localnet.sh's arguments for all the nodes of the chain.
func (n *Node) networkArgs(reset bool) []string {
	nodes := n.net.nodes
	list := func(i int) string {
		ports := make([]string, len(nodes))
		for k, node := range nodes {
			ports[k] = strconv.Itoa(node.ports[i])
		}
		return strings.Join(ports, ",")
	}
	args := []string{"--home", nodes[0].Home, "--chain-id", n.ChainID, "--binary", n.Bin,
		"--rpc-port", list(0), "--p2p-port", list(1), "--grpc-port", list(2), "--api-port", list(3),
		"--abci-port", list(4), "--tx-index", n.opts.TxIndex, "--validators", strconv.Itoa(len(nodes)),
	}
	if reset {
		args = append(args, "--reset")
	}
	if n.opts.SnapshotInterval > 0 {
		args = append(args, "--snapshot-interval", strconv.Itoa(n.opts.SnapshotInterval))
	}
	if n.opts.Wasmd {
		args = append(args, "--wasmd")
	}
	return args
}

// run starts localnet.sh with args for nodes and waits until each of them
// has block minHeight.
func (nw *network) run(args []string, nodes []*Node, minHeight int64) int64 {
	t := nodes[0].t
	t.Helper()
	s := startScript(t, len(nodes), args)
	nw.scripts = append(nw.scripts, s)
	for _, n := range nodes {
		n.script = s
	}
	var h int64
	for _, n := range nodes {
		h = Poll(t, 90*time.Second, fmt.Sprintf("localnet %s node %d: block %d", n.ChainID, n.Index, minHeight), func() (int64, error) {
			if s.exited() {
				t.Fatalf("localnet.sh exited before block %d:\n%s\n%s", minHeight, s.output.String(), n.logTail())
			}
			return n.heightAtLeast(minHeight)
		}, func() string { return s.output.String() + "\n" + n.logTail() })
	}
	return h
}

// stop stops every run of localnet.sh, newest first, then kills any node a
// killed script left running.
func (nw *network) stop() {
	for i := len(nw.scripts) - 1; i >= 0; i-- {
		nw.scripts[i].stop(nw.nodes[0].t)
	}
	for _, n := range nw.nodes {
		killLeftover(n.Home, n.proc())
	}
}

// SetTxIndex sets the [tx_index] indexer ("kv" or "null") the node runs
// with from its next Restart.
func (n *Node) SetTxIndex(kind string) { n.opts.TxIndex = kind }

// Kill kills this node's avsd at once (SIGKILL: a crash) and no other
// process, leaving its home as the crash left it. A script that ran only
// this node then exits; the other validators of a network keep running.
// Restart runs it again.
func (n *Node) Kill() {
	n.t.Helper()
	pid, err := nodePID(n.Home, n.proc())
	if err != nil {
		n.t.Fatalf("kill avsd of node %d: %v", n.Index, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	n.waitExit(pid)
}

// waitExit waits until the node's avsd (pid) is gone, and the script too
// when it ran only this node.
func (n *Node) waitExit(pid int) {
	n.t.Helper()
	if n.script.nodes == 1 {
		select {
		case <-n.script.done:
		case <-time.After(15 * time.Second):
			n.t.Fatalf("localnet.sh did not exit after avsd of node %d exited:\n%s", n.Index, n.script.output.String())
		}
		return
	}
	Poll(n.t, 15*time.Second, fmt.Sprintf("node %d: avsd (pid %d) exits", n.Index, pid), func() (struct{}, error) {
		if avsdRunning(pid, n.Home) {
			return struct{}{}, errors.New("still running")
		}
		return struct{}{}, nil
	})
}

// Restart runs the node again on its home and ports (after Stop or Kill)
// and waits until it has a block past the last one it signed: one node of a
// network rejoins the others (localnet.sh --only-node) and catches up by
// block sync.
func (n *Node) Restart() {
	n.t.Helper()
	last := int64(0)
	if h, err := n.Height(); err == nil {
		n.t.Fatalf("restart: node %d still answers (height %d)", n.Index, h)
	}
	if bz, err := os.ReadFile(filepath.Join(n.Home, "data", "priv_validator_state.json")); err == nil {
		var st struct {
			Height string `json:"height"`
		}
		if json.Unmarshal(bz, &st) == nil {
			last, _ = strconv.ParseInt(st.Height, 10, 64)
		}
	}
	args := n.networkArgs(false)
	if len(n.net.nodes) > 1 {
		args = []string{"--home", n.net.nodes[0].Home, "--binary", n.Bin, "--tx-index", n.opts.TxIndex,
			"--only-node", strconv.Itoa(n.Index)}
	}
	h := n.net.run(args, []*Node{n}, last+1)
	n.t.Logf("localnet %s node %d restarted at height %d", n.ChainID, n.Index, h)
}

// minGasPrices reads minimum-gas-prices from the node's app.toml; a node
// that asks for none (or an avsd too old to write one) fails the test, as the
// devnet must run with the defaults of a public network (L-11).
func (n *Node) minGasPrices() string {
	n.t.Helper()
	path := filepath.Join(n.Home, "config", "app.toml")
	bz, err := os.ReadFile(path)
	if err != nil {
		n.t.Fatalf("read the node's app.toml: %v", err)
	}
	m := regexp.MustCompile(`(?m)^minimum-gas-prices = "([^"]*)"`).FindSubmatch(bz)
	if m == nil || !regexp.MustCompile(`[1-9]`).Match(m[1]) {
		n.t.Fatalf("%s: no non-zero minimum-gas-prices (rebuild avsd: make build)", path)
	}
	return string(m[1])
}

// Stop stops the node cleanly (SIGTERM; SIGKILL after 15s): the script
// that ran only this node, or this node's avsd among the network's.
func (n *Node) Stop() {
	if n.script == nil || n.script.exited() {
		return
	}
	if n.script.nodes == 1 {
		n.script.stop(n.t)
		return
	}
	pid, err := nodePID(n.Home, n.proc())
	if err != nil || !avsdRunning(pid, n.Home) {
		return // stopped already
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for avsdRunning(pid, n.Home) && time.Now().Before(deadline) {
		time.Sleep(PollInterval)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	n.waitExit(pid)
}

func (n *Node) logTail() string {
	b, err := os.ReadFile(filepath.Join(n.Home, n.proc()+".log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return n.proc() + ".log (tail):\n" + strings.Join(lines, "\n")
}

// NodeURI is the node's CometBFT RPC address.
func (n *Node) NodeURI() string { return fmt.Sprintf("tcp://127.0.0.1:%d", n.RPCPort) }

// Height asks the node for its latest block height (CometBFT RPC /status).
func (n *Node) Height() (int64, error) {
	var st struct {
		SyncInfo struct {
			LatestBlockHeight string `json:"latest_block_height"`
		} `json:"sync_info"`
	}
	if err := n.rpc("/status", &st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.SyncInfo.LatestBlockHeight, 10, 64)
}

// AppHash returns the app hash in the header of block height (CometBFT RPC
// /commit, hex): the hash of the state after block height-1. Every node
// that has the block returns the same header; LastAppHash is what the
// node's own state hashes to.
func (n *Node) AppHash(height int64) (string, error) {
	h, err := n.header(height)
	return h.AppHash, err
}

// BlockTime returns the time in the header of block height.
func (n *Node) BlockTime(height int64) (time.Time, error) {
	h, err := n.header(height)
	return h.Time, err
}

type header struct {
	AppHash string    `json:"app_hash"`
	Time    time.Time `json:"time"`
}

func (n *Node) header(height int64) (header, error) {
	var c struct {
		SignedHeader struct {
			Header header `json:"header"`
		} `json:"signed_header"`
	}
	if err := n.rpc(fmt.Sprintf("/commit?height=%d", height), &c); err != nil {
		return header{}, err
	}
	if c.SignedHeader.Header.AppHash == "" {
		return header{}, fmt.Errorf("node %d: no header at height %d", n.Index, height)
	}
	return c.SignedHeader.Header, nil
}

// LastAppHash returns the height of the last block the node's application
// committed and the hash of its state after it (CometBFT RPC /abci_info),
// hex like AppHash: it must equal the chain's AppHash(height+1).
func (n *Node) LastAppHash() (int64, string, error) {
	var info struct {
		Response struct {
			LastBlockHeight  string `json:"last_block_height"`
			LastBlockAppHash []byte `json:"last_block_app_hash"`
		} `json:"response"`
	}
	if err := n.rpc("/abci_info", &info); err != nil {
		return 0, "", err
	}
	h, err := strconv.ParseInt(info.Response.LastBlockHeight, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("node %d: abci_info height: %w", n.Index, err)
	}
	return h, strings.ToUpper(hex.EncodeToString(info.Response.LastBlockAppHash)), nil
}

// ConsensusState is where a node's consensus stands: the height it is
// trying to commit, its round and step, and the voting power whose prevotes
// it holds for that round out of the validator set's. A chain whose
// prevotes stay at or below 2/3 of the power cannot commit the height.
type ConsensusState struct {
	Height, Round int64
	Step          int
	PrevotePower  int64
	TotalPower    int64
}

// ConsensusState reads the node's consensus state (CometBFT RPC
// /consensus_state).
func (n *Node) ConsensusState() (ConsensusState, error) {
	var out struct {
		RoundState struct {
			HRS   string `json:"height/round/step"`
			Votes []struct {
				Round    int64  `json:"round"`
				Prevotes string `json:"prevotes_bit_array"` // "BA{4:x_x_} 200/400 = 0.50"
			} `json:"height_vote_set"`
		} `json:"round_state"`
	}
	var cs ConsensusState
	if err := n.rpc("/consensus_state", &out); err != nil {
		return cs, err
	}
	if _, err := fmt.Sscanf(out.RoundState.HRS, "%d/%d/%d", &cs.Height, &cs.Round, &cs.Step); err != nil {
		return cs, fmt.Errorf("node %d: consensus state %q: %w", n.Index, out.RoundState.HRS, err)
	}
	for _, v := range out.RoundState.Votes {
		if v.Round != cs.Round {
			continue
		}
		_, tally, ok := strings.Cut(v.Prevotes, "} ")
		if !ok {
			return cs, fmt.Errorf("node %d: prevotes %q", n.Index, v.Prevotes)
		}
		if _, err := fmt.Sscanf(tally, "%d/%d", &cs.PrevotePower, &cs.TotalPower); err != nil {
			return cs, fmt.Errorf("node %d: prevotes %q: %w", n.Index, v.Prevotes, err)
		}
	}
	return cs, nil
}

// rpcClient bounds each RPC call: a killed node must not hang a poll.
var rpcClient = &http.Client{Timeout: 5 * time.Second}

// rpc GETs path from the node's CometBFT RPC and decodes the JSON-RPC
// result into v.
func (n *Node) rpc(path string, v any) error {
	resp, err := rpcClient.Get(fmt.Sprintf("http://127.0.0.1:%d%s", n.RPCPort, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("node %d %s: %w", n.Index, path, err)
	}
	if len(out.Error) > 0 && string(out.Error) != "null" {
		return fmt.Errorf("node %d %s: %s", n.Index, path, out.Error)
	}
	return json.Unmarshal(out.Result, v)
}

// WaitHeight blocks until the chain reaches height h.
func (n *Node) WaitHeight(h int64, timeout time.Duration) {
	n.t.Helper()
	Poll(n.t, timeout, fmt.Sprintf("localnet %s: height %d", n.ChainID, h), func() (int64, error) {
		return n.heightAtLeast(h)
	})
}

// heightAtLeast returns the chain's height, or an error while it is below h.
func (n *Node) heightAtLeast(h int64) (int64, error) {
	cur, err := n.Height()
	if err != nil {
		return cur, err
	}
	if cur < h {
		return cur, fmt.Errorf("at height %d", cur)
	}
	return cur, nil
}

func (n *Node) exec(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.Bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s%s", n.proc(), strings.Join(args, " "), err, stderr.String(), out)
	}
	return out, nil
}
