// Package localnet runs a real avsd node for end-to-end tests through
// scripts/localnet.sh, on free loopback ports and in the test's temp dir, and
// drives it through the real avsd CLI.
package localnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RepoRoot is the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// DevAccountsFile is the dev accounts' data file, NAME MNEMONIC a line, that
// scripts/localnet.sh funds in genesis and restores into the node's keyring.
func DevAccountsFile() string { return filepath.Join(RepoRoot(), "scripts", "dev-accounts.txt") }

// DevMnemonic returns the mnemonic of the dev account name (alice, carol,
// operator1, ...) from DevAccountsFile, to restore the same key elsewhere (a
// relayer's keyring, say).
func DevMnemonic(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(DevAccountsFile())
	if err != nil {
		t.Fatalf("dev accounts: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && fields[0] == name {
			return strings.Join(fields[1:], " ")
		}
	}
	t.Fatalf("no dev account %q in %s", name, DevAccountsFile())
	return ""
}

// binary is one program the tests run: from an environment variable when set
// (make test-e2e sets it; a relative path is taken from the repository root),
// otherwise built once per test process into a temp dir.
type binary struct {
	env, pkg, name string
	once           sync.Once
	path           string
	err            error
}

func (b *binary) get(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(b.env); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(RepoRoot(), p)
		}
		return p
	}
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", b.name+"-e2e-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, b.name)
		cmd := exec.Command("go", "build", "-o", b.path, b.pkg)
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

var (
	avsdBinary    = &binary{env: "AVSD", pkg: "./cmd/avsd", name: "avsd"}
	sidecarBinary = &binary{env: "AVS_SIDECAR", pkg: "./cmd/avs-sidecar", name: "avs-sidecar"}
)

// Binary returns the avsd binary to test ($AVSD, or built once).
func Binary(t testing.TB) string { return avsdBinary.get(t) }

// SidecarBinary returns the avs-sidecar binary to test ($AVS_SIDECAR, or built once).
func SidecarBinary(t testing.TB) string { return sidecarBinary.get(t) }

// FreePorts returns n distinct TCP ports free on 127.0.0.1 right now.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// Node is one running validator started by scripts/localnet.sh.
type Node struct {
	t        testing.TB
	Bin      string
	Home     string
	ChainID  string
	RPCPort  int
	GRPCPort int
	APIPort  int
	script   *exec.Cmd
	output   *bytes.Buffer
	done     chan struct{}
}

// Options change how Start runs the node.
type Options struct {
	ChainID string // default "avs-e2e-1"
}

// Start runs scripts/localnet.sh --reset on free ports with its home in the
// test's temp dir, waits until the chain has made a block, and stops the node
// (by the script's process group) when the test ends, whatever its outcome.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	if opts.ChainID == "" {
		opts.ChainID = "avs-e2e-1"
	}
	ports := FreePorts(t, 5)
	n := &Node{
		t: t, Bin: Binary(t), Home: filepath.Join(t.TempDir(), "home"), ChainID: opts.ChainID,
		RPCPort: ports[0], GRPCPort: ports[2], APIPort: ports[3],
		output: &bytes.Buffer{}, done: make(chan struct{}),
	}
	n.script = exec.Command("bash", filepath.Join(RepoRoot(), "scripts", "localnet.sh"),
		"--reset", "--home", n.Home, "--chain-id", n.ChainID, "--binary", n.Bin,
		"--rpc-port", strconv.Itoa(ports[0]), "--p2p-port", strconv.Itoa(ports[1]),
		"--grpc-port", strconv.Itoa(ports[2]), "--api-port", strconv.Itoa(ports[3]),
		"--abci-port", strconv.Itoa(ports[4]),
	)
	n.script.Stdout = n.output
	n.script.Stderr = n.output
	n.script.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.script.Start(); err != nil {
		t.Fatalf("start localnet.sh: %v", err)
	}
	go func() { _ = n.script.Wait(); close(n.done) }()
	t.Cleanup(n.Stop)

	h := Poll(t, 90*time.Second, "localnet "+n.ChainID+": first block", func() (int64, error) {
		select {
		case <-n.done:
			t.Fatalf("localnet.sh exited before the first block:\n%s\n%s", n.output.String(), n.logTail())
		default:
		}
		return n.heightAtLeast(1)
	}, func() string { return n.output.String() + "\n" + n.logTail() })
	t.Logf("localnet %s ready at height %d (rpc 127.0.0.1:%d)", n.ChainID, h, n.RPCPort)
	return n
}

// Stop sends SIGTERM to the script, which stops avsd; anything left in the
// process group after 15s is killed.
func (n *Node) Stop() {
	if n.script == nil || n.script.Process == nil {
		return
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

// Query runs `avsd query ARGS -o json` against the node and decodes the result into v.
func (n *Node) Query(v any, args ...string) {
	n.t.Helper()
	if out, err := n.TryQuery(v, args...); err != nil {
		n.t.Fatalf("%v: %s", err, out)
	}
}

// TryQuery is Query that returns the error (a not-found, say) instead of failing.
func (n *Node) TryQuery(v any, args ...string) ([]byte, error) {
	args = append(append([]string{"query"}, args...), "--node", n.NodeURI(), "-o", "json")
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return out, fmt.Errorf("decode %q: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// TxResult is what the node reports for an included transaction.
type TxResult struct {
	TxHash string          `json:"txhash"`
	Code   uint32          `json:"code"`
	RawLog string          `json:"raw_log"`
	Height string          `json:"height"`
	Events []abciEventJSON `json:"events"`
}

type abciEventJSON struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// Attribute returns the first value of key in events of type typ. Values of
// typed (proto) events are JSON; a JSON string is returned unquoted.
func (r TxResult) Attribute(typ, key string) string {
	for _, e := range r.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				var s string
				if err := json.Unmarshal([]byte(a.Value), &s); err == nil {
					return s
				}
				return a.Value
			}
		}
	}
	return ""
}

// HasEvent reports whether an event of type typ was emitted.
func (r TxResult) HasEvent(typ string) bool {
	for _, e := range r.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// TxError runs `avsd tx ARGS --from FROM` expecting the CLI to refuse it (in
// simulation or CheckTx) and returns its error output.
func (n *Node) TxError(from string, args ...string) string {
	n.t.Helper()
	args = n.txArgs(from, args)
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		return err.Error()
	}
	var sync TxResult
	if jerr := json.Unmarshal(lastJSONLine(out), &sync); jerr == nil && sync.Code != 0 {
		return sync.RawLog
	}
	n.t.Fatalf("tx %s was accepted, expected a refusal: %s", strings.Join(args, " "), out)
	return ""
}

// txArgs completes `avsd tx ARGS` with the signer, keyring, chain and node.
func (n *Node) txArgs(from string, args []string) []string {
	return append(append([]string{"tx"}, args...),
		"--from", from, "--home", n.Home, "--keyring-backend", "test", "--chain-id", n.ChainID,
		"--node", n.NodeURI(), "--gas", "auto", "--gas-adjustment", "1.5", "-y", "-o", "json")
}

// Tx runs `avsd tx ARGS --from FROM`, waits for inclusion and returns the result.
// It fails the test unless the transaction was accepted by CheckTx; the caller
// checks Code for the DeliverTx outcome.
func (n *Node) Tx(from string, args ...string) TxResult {
	n.t.Helper()
	args = n.txArgs(from, args)
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		n.t.Fatal(err)
	}
	var sync TxResult
	if err := json.Unmarshal(lastJSONLine(out), &sync); err != nil {
		n.t.Fatalf("decode broadcast result: %v: %s", err, out)
	}
	if sync.Code != 0 {
		n.t.Fatalf("tx %s refused by CheckTx (code %d): %s", strings.Join(args, " "), sync.Code, sync.RawLog)
	}
	return Poll(n.t, 30*time.Second, "tx "+sync.TxHash+": inclusion", func() (TxResult, error) {
		var res TxResult
		out, err := n.exec(context.Background(), "query", "tx", sync.TxHash, "--node", n.NodeURI(), "-o", "json")
		if err != nil {
			return res, err
		}
		if err := json.Unmarshal(out, &res); err != nil {
			n.t.Fatalf("decode tx %s: %v", sync.TxHash, err)
		}
		return res, nil
	})
}

// KeyAddress returns the address of a key in the node's test keyring.
func (n *Node) KeyAddress(name string) string {
	n.t.Helper()
	out, err := n.exec(context.Background(), "keys", "show", name, "-a", "--home", n.Home, "--keyring-backend", "test")
	if err != nil {
		n.t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// lastJSONLine skips anything (like "gas estimate: N") printed before the JSON.
func lastJSONLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(bytes.TrimSpace(lines[i]), []byte("{")) {
			return lines[i]
		}
	}
	return out
}
