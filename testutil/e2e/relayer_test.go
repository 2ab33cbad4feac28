//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// rlyBuild builds build/rly once per test process with scripts/build-relayer.sh
// (a no-op when it already holds the pinned version).
var rlyBuild struct {
	once sync.Once
	path string
	err  error
}

// relayerBinary returns the Go relayer at the version pinned in tools/go.mod.
// A failed build fails the test with the script's output: it is never skipped.
func relayerBinary(t *testing.T) string {
	t.Helper()
	rlyBuild.once.Do(func() {
		rlyBuild.path = filepath.Join(localnet.RepoRoot(), "build", "rly")
		cmd := exec.Command("bash", filepath.Join(localnet.RepoRoot(), "scripts", "build-relayer.sh"), rlyBuild.path)
		cmd.Dir = localnet.RepoRoot()
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			rlyBuild.err = fmt.Errorf("scripts/build-relayer.sh: %v\n%s", err, out)
			return
		}
		t.Logf("relayer ready in %s: %s", time.Since(start).Round(time.Second), bytes.TrimSpace(out))
	})
	if rlyBuild.err != nil {
		t.Fatal(rlyBuild.err)
	}
	return rlyBuild.path
}

// relayer is an rly home in the test's temp dir, configured for local chains.
type relayer struct {
	t    *testing.T
	bin  string
	home string
	key  string
	cmd  *exec.Cmd
	done chan struct{}
}

// newRelayer writes an rly config for the nodes (avschain or wasmd), each
// with key restored from the dev mnemonic of the same name; the account
// prefix is the chain's (avs, wasm), read from its keyring.
func newRelayer(t *testing.T, bin, key string, nodes ...*localnet.Node) *relayer {
	t.Helper()
	r := &relayer{t: t, bin: bin, home: filepath.Join(t.TempDir(), "rly"), key: key}
	r.run(time.Minute, "config", "init")
	for _, n := range nodes {
		prefix, _, ok := strings.Cut(n.KeyAddress(key), "1")
		require.True(t, ok, "bech32 address of %s on %s", key, n.ChainID)
		chain := map[string]any{
			"type": "cosmos",
			"value": map[string]any{
				"key": key, "chain-id": n.ChainID, "rpc-addr": fmt.Sprintf("http://127.0.0.1:%d", n.RPCPort),
				"account-prefix": prefix, "keyring-backend": "test", "gas-adjustment": 1.5, "gas-prices": n.GasPrices,
				"debug": false, "timeout": "20s", "output-format": "json", "sign-mode": "direct",
			},
		}
		bz, err := json.Marshal(chain)
		require.NoError(t, err)
		file := filepath.Join(r.home, n.ChainID+".json")
		require.NoError(t, os.WriteFile(file, bz, 0o600))
		r.run(time.Minute, "chains", "add", "--file", file, n.ChainID)
		addr := strings.TrimSpace(r.run(time.Minute, "keys", "restore", n.ChainID, key, localnet.DevMnemonic(t, key)))
		require.Equal(t, n.KeyAddress(key), addr, "rly derives the same address as avsd's keyring")
	}
	return r
}

// run runs `rly ARGS --home HOME` to completion and returns its stdout.
func (r *relayer) run(timeout time.Duration, args ...string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, append(args, "--home", r.home)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("rly %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), lastLines(stderr.String(), 40))
	}
	return stdout.String()
}

// link creates clients, a connection and an unordered channel between port
// on both ends of path, with version.
func (r *relayer) link(path, src, dst, port, version string) {
	r.t.Helper()
	r.linkPorts(path, src, dst, port, port, version)
}

// linkPorts is link between srcPort on chain src and dstPort on chain dst
// (a contract's wasm.<address> and avschain's avs, say).
func (r *relayer) linkPorts(path, src, dst, srcPort, dstPort, version string) {
	r.t.Helper()
	r.run(time.Minute, "paths", "new", src, dst, path)
	r.run(4*time.Minute, "transact", "link", path, "--src-port", srcPort, "--dst-port", dstPort,
		"--version", version, "--order", "unordered")
}

// start runs `rly start PATH` in its own process group until the test ends;
// on a failed test the end of its log is printed.
func (r *relayer) start(path string) {
	r.t.Helper()
	logPath := filepath.Join(r.home, "rly.log")
	f, err := os.Create(logPath)
	require.NoError(r.t, err)
	r.cmd = exec.Command(r.bin, "start", path, "--home", r.home)
	r.cmd.Stdout, r.cmd.Stderr = f, f
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		_ = f.Close()
		r.t.Fatalf("rly start: %v", err)
	}
	r.done = make(chan struct{})
	go func() { _ = r.cmd.Wait(); _ = f.Close(); close(r.done) }()
	r.t.Cleanup(func() {
		r.stop()
		if r.t.Failed() {
			bz, _ := os.ReadFile(logPath)
			r.t.Logf("--- rly log (tail) ---\n%s", lastLines(string(bz), 60))
		}
	})
}

// running reports whether `rly start` is still up.
func (r *relayer) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// stop ends rly's process group: SIGTERM, then SIGKILL after 10s.
func (r *relayer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	pgid := r.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Logf("rly did not stop in 10s; killing process group %d", pgid)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-r.done
}

// openChannel returns the node's first open channel on port.
func openChannel(t *testing.T, node *localnet.Node, port string) string {
	t.Helper()
	var out struct {
		Channels []struct {
			State     string `json:"state"`
			PortID    string `json:"port_id"`
			ChannelID string `json:"channel_id"`
			Version   string `json:"version"`
			Ordering  string `json:"ordering"`
		} `json:"channels"`
	}
	node.Query(&out, "ibc", "channel", "channels")
	for _, c := range out.Channels {
		if c.PortID == port && c.State == "STATE_OPEN" {
			require.Equal(t, "ORDER_UNORDERED", c.Ordering)
			return c.ChannelID
		}
	}
	t.Fatalf("%s: no open channel on port %s: %+v", node.ChainID, port, out.Channels)
	return ""
}

// remoteResultView is `avsd q avs remote-result` as JSON.
type remoteResultView struct {
	Channel    string `json:"channel"`
	Sequence   string `json:"sequence"`
	ServiceID  string `json:"service_id"`
	Status     string `json:"status"`
	TaskID     string `json:"task_id"`
	Result     string `json:"result"`
	PowerFor   string `json:"power_for"`
	PowerTotal string `json:"power_total"`
	Error      string `json:"error"`
}

// waitRemoteResult waits until the request channel/seq has left PENDING on node.
func waitRemoteResult(t *testing.T, node *localnet.Node, channel, seq string, timeout time.Duration, alive func()) remoteResultView {
	t.Helper()
	return localnet.Poll(t, timeout, "remote result "+channel+"/"+seq+": settled", func() (remoteResultView, error) {
		var out struct {
			RemoteResult remoteResultView `json:"remote_result"`
		}
		raw, err := node.TryQuery(&out, "avs", "remote-result", channel, seq)
		if s := out.RemoteResult.Status; err == nil && s != "" && s != "REMOTE_STATUS_PENDING" {
			return out.RemoteResult, nil
		}
		alive()
		if err != nil {
			return out.RemoteResult, err
		}
		return out.RemoteResult, fmt.Errorf("last answer: %s", raw)
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
