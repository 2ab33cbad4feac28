// Package localnet runs a real avsd node for end-to-end tests through
// scripts/localnet.sh, on free loopback ports and in the test's temp dir, and
// drives it through the real avsd CLI.
package localnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	opts      Options
	ports     []int
	script    *exec.Cmd
	output    *bytes.Buffer
	done      chan struct{}
}

// Options change how Start runs the node.
type Options struct {
	ChainID string // default "avs-e2e-1"
	// TxIndex is the node's [tx_index] indexer: "kv" (default) or "null"
	// (no transaction index, as many validators run).
	TxIndex string
	// Binary is the avsd the node runs and the CLI uses (default Binary(t));
	// Node.Bin may be changed before a Restart, as an upgrade does.
	Binary string
}

// Start runs scripts/localnet.sh --reset on free ports with its home in the
// test's temp dir, waits until the chain has made a block, and stops the node
// (by the script's process group) when the test ends, whatever its outcome.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	if opts.ChainID == "" {
		opts.ChainID = "avs-e2e-1"
	}
	if opts.TxIndex == "" {
		opts.TxIndex = "kv"
	}
	if opts.Binary == "" {
		opts.Binary = Binary(t)
	}
	ports := FreePorts(t, 5)
	n := &Node{
		t: t, Bin: opts.Binary, Home: filepath.Join(t.TempDir(), "home"), ChainID: opts.ChainID,
		RPCPort: ports[0], GRPCPort: ports[2], APIPort: ports[3], opts: opts, ports: ports,
	}
	t.Cleanup(n.Stop)
	h := n.run(true, 1)
	n.GasPrices = n.minGasPrices()
	t.Logf("localnet %s ready at height %d (rpc 127.0.0.1:%d, gas prices %q)", n.ChainID, h, n.RPCPort, n.GasPrices)
	return n
}

// run starts scripts/localnet.sh (with --reset for a fresh chain) and waits
// until the chain has made block minHeight.
func (n *Node) run(reset bool, minHeight int64) int64 {
	t := n.t
	t.Helper()
	args := []string{filepath.Join(RepoRoot(), "scripts", "localnet.sh"),
		"--home", n.Home, "--chain-id", n.ChainID, "--binary", n.Bin,
		"--rpc-port", strconv.Itoa(n.ports[0]), "--p2p-port", strconv.Itoa(n.ports[1]),
		"--grpc-port", strconv.Itoa(n.ports[2]), "--api-port", strconv.Itoa(n.ports[3]),
		"--abci-port", strconv.Itoa(n.ports[4]), "--tx-index", n.opts.TxIndex,
	}
	if reset {
		args = append(args, "--reset")
	}
	n.output, n.done = &bytes.Buffer{}, make(chan struct{})
	n.script = exec.Command("bash", args...)
	n.script.Stdout = n.output
	n.script.Stderr = n.output
	// SIGTERM reaches the script if the test process dies without its
	// cleanups (a -timeout panic): its trap then stops avsd.
	n.script.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := n.script.Start(); err != nil {
		t.Fatalf("start localnet.sh: %v", err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.script, n.done)
	return Poll(t, 90*time.Second, fmt.Sprintf("localnet %s: block %d", n.ChainID, minHeight), func() (int64, error) {
		select {
		case <-n.done:
			t.Fatalf("localnet.sh exited before block %d:\n%s\n%s", minHeight, n.output.String(), n.logTail())
		default:
		}
		return n.heightAtLeast(minHeight)
	}, func() string { return n.output.String() + "\n" + n.logTail() })
}

// SetTxIndex sets the [tx_index] indexer ("kv" or "null") the node runs
// with from its next Restart.
func (n *Node) SetTxIndex(kind string) { n.opts.TxIndex = kind }

// Kill kills avsd at once (SIGKILL: a crash), leaving its home as the crash
// left it; the script that ran it then exits. Restart runs it again.
func (n *Node) Kill() {
	n.t.Helper()
	bz, err := os.ReadFile(filepath.Join(n.Home, "avsd.pid"))
	if err != nil {
		n.t.Fatalf("kill avsd: no pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(bz)))
	if err != nil {
		n.t.Fatalf("kill avsd: pid file %q: %v", bz, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.t.Fatalf("localnet.sh did not exit after avsd was killed:\n%s", n.output.String())
	}
}

// Restart runs the node again on its home and ports (after Stop or Kill)
// and waits until it makes a block past the last one it had.
func (n *Node) Restart() {
	n.t.Helper()
	last := int64(0)
	if h, err := n.Height(); err == nil {
		n.t.Fatalf("restart: the node still answers (height %d)", h)
	}
	if bz, err := os.ReadFile(filepath.Join(n.Home, "data", "priv_validator_state.json")); err == nil {
		var st struct {
			Height string `json:"height"`
		}
		if json.Unmarshal(bz, &st) == nil {
			last, _ = strconv.ParseInt(st.Height, 10, 64)
		}
	}
	h := n.run(false, last+1)
	n.t.Logf("localnet %s restarted at height %d", n.ChainID, h)
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

// Stop sends SIGTERM to the script, which stops avsd; anything left in the
// process group after 15s is killed.
func (n *Node) Stop() {
	if n.script == nil || n.script.Process == nil {
		return
	}
	select {
	case <-n.done:
		return // stopped already (Stop or Kill)
	default:
	}
	pgid := n.script.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.t.Logf("localnet did not stop in 15s; killing process group %d", pgid)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-n.done
}

func (n *Node) logTail() string {
	b, err := os.ReadFile(filepath.Join(n.Home, "avsd.log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return "avsd.log (tail):\n" + strings.Join(lines, "\n")
}

// NodeURI is the node's CometBFT RPC address.
func (n *Node) NodeURI() string { return fmt.Sprintf("tcp://127.0.0.1:%d", n.RPCPort) }

// Height asks the node for its latest block height.
func (n *Node) Height() (int64, error) {
	out, err := n.exec(context.Background(), "status", "--node", n.NodeURI())
	if err != nil {
		return 0, err
	}
	var st struct {
		SyncInfo struct {
			LatestBlockHeight string `json:"latest_block_height"`
		} `json:"sync_info"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, fmt.Errorf("decode status: %w: %s", err, out)
	}
	return strconv.ParseInt(st.SyncInfo.LatestBlockHeight, 10, 64)
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
		return out, fmt.Errorf("avsd %s: %v: %s%s", strings.Join(args, " "), err, stderr.String(), out)
	}
	return out, nil
}
