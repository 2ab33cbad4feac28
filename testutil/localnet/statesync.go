package localnet

import (
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

// JoinByStateSync starts a new full node (no validator) of the network that
// from belongs to, the way docs/VALIDATORS.md (Joining by state sync) tells a
// validator to: `avsd init`, the network's genesis, from's nodes as
// persistent peers and as the light client's two RPC servers, trust in the
// block at trustHeight, [statesync] enable. The nodes in from must take
// snapshots (Options.SnapshotInterval). It waits until the node has caught
// up with from[0] and returns it; the node is stopped (its process group)
// when the test ends.
func JoinByStateSync(t testing.TB, trustHeight int64, from ...*Node) *Node {
	t.Helper()
	if len(from) < 2 {
		t.Fatalf("state sync: give two nodes to sync from, got %d", len(from))
	}
	src := from[0]
	ports := FreePorts(t, 5)
	n := &Node{
		t: t, Bin: src.Bin, Home: filepath.Join(t.TempDir(), "statesync"), ChainID: src.ChainID,
		RPCPort: ports[0], GRPCPort: ports[2], APIPort: ports[3], Index: -1, opts: src.opts, ports: ports,
		GasPrices: src.GasPrices,
	}
	run := func(args ...string) string {
		out, err := exec.Command(n.Bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("avsd %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "statesync", "--chain-id", n.ChainID, "--home", n.Home)
	genesis, err := os.ReadFile(filepath.Join(src.Home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.Home, "config", "genesis.json"), genesis, 0o600); err != nil {
		t.Fatal(err)
	}
	var peers, servers []string
	for _, f := range from {
		id := run("comet", "show-node-id", "--home", f.Home)
		peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", id, f.ports[1]))
		servers = append(servers, fmt.Sprintf("http://127.0.0.1:%d", f.RPCPort))
	}
	hash, err := src.BlockHash(trustHeight)
	if err != nil {
		t.Fatalf("state sync: trust hash at %d: %v", trustHeight, err)
	}
	cfg := filepath.Join(n.Home, "config", "config.toml")
	app := filepath.Join(n.Home, "config", "app.toml")
	for _, s := range []struct{ file, section, key, value string }{
		{cfg, "", "proxy_app", fmt.Sprintf("%q", fmt.Sprintf("tcp://127.0.0.1:%d", ports[4]))},
		{cfg, "rpc", "laddr", fmt.Sprintf("%q", fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]))},
		{cfg, "rpc", "pprof_laddr", `""`},
		{cfg, "p2p", "laddr", fmt.Sprintf("%q", fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]))},
		{cfg, "p2p", "persistent_peers", fmt.Sprintf("%q", strings.Join(peers, ","))},
		{cfg, "p2p", "addr_book_strict", "false"},
		{cfg, "p2p", "allow_duplicate_ip", "true"},
		{cfg, "statesync", "enable", "true"},
		{cfg, "statesync", "rpc_servers", fmt.Sprintf("%q", strings.Join(servers, ","))},
		{cfg, "statesync", "trust_height", strconv.FormatInt(trustHeight, 10)},
		{cfg, "statesync", "trust_hash", fmt.Sprintf("%q", hash)},
		{cfg, "statesync", "trust_period", `"168h0m0s"`},
		{cfg, "tx_index", "indexer", fmt.Sprintf("%q", n.opts.TxIndex)},
		{app, "api", "enable", "true"},
		{app, "api", "address", fmt.Sprintf("%q", fmt.Sprintf("tcp://127.0.0.1:%d", ports[3]))},
		{app, "grpc", "address", fmt.Sprintf("%q", fmt.Sprintf("127.0.0.1:%d", ports[2]))},
		{app, "grpc-web", "enable", "false"},
	} {
		if err := setTOML(s.file, s.section, s.key, s.value); err != nil {
			t.Fatal(err)
		}
	}

	log, err := os.Create(filepath.Join(n.Home, "avsd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(n.Bin, "start", "--home", n.Home)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the state-sync node: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = log.Close(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	target, err := src.Height()
	if err != nil {
		t.Fatal(err)
	}
	Poll(t, 4*time.Minute, fmt.Sprintf("state-sync node: caught up to height %d", target), func() (int64, error) {
		select {
		case <-done:
			t.Fatalf("the state-sync node exited:\n%s", n.logTail())
		default:
		}
		st, err := n.syncInfo()
		if err != nil {
			return 0, err
		}
		if st.CatchingUp || st.LatestBlockHeight < target {
			return st.LatestBlockHeight, fmt.Errorf("at height %d, catching up %v", st.LatestBlockHeight, st.CatchingUp)
		}
		return st.LatestBlockHeight, nil
	}, n.stateSyncLog)
	return n
}

// stateSyncLine matches the log lines of state sync.
var stateSyncLine = regexp.MustCompile(`(?i)snapshot|chunk|statesync|state sync|light|verif`)

// stateSyncLog is what the node's log says of state sync (snapshots, chunks,
// the light client), and its last lines: why a join did not finish.
func (n *Node) stateSyncLog() string {
	bz, err := os.ReadFile(filepath.Join(n.Home, "avsd.log"))
	if err != nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(bz), "\n") {
		if stateSyncLine.MatchString(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	return "avsd.log (state sync lines):\n" + strings.Join(lines, "\n") + "\n" + n.logTail()
}

// SyncInfo is the sync_info of a node's /status.
type SyncInfo struct {
	LatestBlockHeight   int64
	EarliestBlockHeight int64
	CatchingUp          bool
}

// syncInfo reads the node's /status.
func (n *Node) syncInfo() (SyncInfo, error) {
	var st struct {
		SyncInfo struct {
			Latest     string `json:"latest_block_height"`
			Earliest   string `json:"earliest_block_height"`
			CatchingUp bool   `json:"catching_up"`
		} `json:"sync_info"`
	}
	if err := n.rpc("/status", &st); err != nil {
		return SyncInfo{}, err
	}
	latest, err := strconv.ParseInt(st.SyncInfo.Latest, 10, 64)
	if err != nil {
		return SyncInfo{}, err
	}
	earliest, err := strconv.ParseInt(st.SyncInfo.Earliest, 10, 64)
	if err != nil {
		return SyncInfo{}, err
	}
	return SyncInfo{LatestBlockHeight: latest, EarliestBlockHeight: earliest, CatchingUp: st.SyncInfo.CatchingUp}, nil
}

// SyncInfo is the node's /status sync_info; a node that joined by state sync
// has no block below the snapshot it restored (EarliestBlockHeight > 1).
func (n *Node) SyncInfo() SyncInfo {
	n.t.Helper()
	st, err := n.syncInfo()
	if err != nil {
		n.t.Fatal(err)
	}
	return st
}

// BlockHash is the hash of the block at height h.
func (n *Node) BlockHash(h int64) (string, error) {
	var out struct {
		BlockID struct {
			Hash string `json:"hash"`
		} `json:"block_id"`
	}
	if err := n.rpc(fmt.Sprintf("/block?height=%d", h), &out); err != nil {
		return "", err
	}
	if out.BlockID.Hash == "" {
		return "", fmt.Errorf("no block at height %d", h)
	}
	return out.BlockID.Hash, nil
}

// setTOML sets key in [section] ("" for the top level) of a TOML file.
func setTOML(file, section, key, value string) error {
	bz, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	lines := strings.Split(string(bz), "\n")
	cur, found := "", false
	keyRe := regexp.MustCompile(`^` + regexp.QuoteMeta(key) + ` *=`)
	for i, line := range lines {
		if strings.HasPrefix(line, "[") {
			cur = strings.Trim(strings.TrimSpace(line), "[]")
			continue
		}
		if cur == section && keyRe.MatchString(line) {
			lines[i] = key + " = " + value
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("%s: no %q in [%s]", file, key, section)
	}
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600)
}
