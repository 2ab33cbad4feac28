package localnet

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sidecar is one running avs-sidecar for an operator key of the node's keyring.
type Sidecar struct {
	t       testing.TB
	Bin     string
	Home    string
	Key     string
	Metrics string // host:port of /metrics
	cmd     *exec.Cmd
	done    chan struct{}
	logFile *os.File
	env     []string
}

// SidecarOptions change a sidecar's config.
type SidecarOptions struct {
	// ComponentOverrides maps a component digest to a local wasm file.
	ComponentOverrides map[string]string
	// InitFlags are more `avs-sidecar init` flags; they override the ones
	// StartSidecar sets (e.g. "--rpc", "tcp://127.0.0.1:1,tcp://…").
	InitFlags []string
	// Env is added to the sidecar's environment (AVS_SIDECAR_* settings).
	Env []string
	// Endpoints are the nodes the sidecar talks to, in fail-over order: its
	// rpc_endpoints and grpc_endpoints, node by node (rpc[i] and grpc[i] are
	// one node). Default: the node StartSidecar is called on.
	Endpoints []*Node
}

// StartSidecar writes a config with `avs-sidecar init` for key and starts the
// sidecar; it is stopped when the test ends.
func (n *Node) StartSidecar(key string, opts SidecarOptions) *Sidecar {
	n.t.Helper()
	port := FreePorts(n.t, 1)[0]
	s := &Sidecar{
		t: n.t, Bin: SidecarBinary(n.t), Home: filepath.Join(n.t.TempDir(), "sidecar-"+key), Key: key,
		Metrics: fmt.Sprintf("127.0.0.1:%d", port),
	}
	endpoints := opts.Endpoints
	if len(endpoints) == 0 {
		endpoints = []*Node{n}
	}
	var rpcs, grpcs []string
	for _, e := range endpoints {
		rpcs = append(rpcs, e.NodeURI())
		grpcs = append(grpcs, fmt.Sprintf("127.0.0.1:%d", e.GRPCPort))
	}
	args := []string{"init", "--home", s.Home, "--chain-id", n.ChainID,
		"--rpc", strings.Join(rpcs, ","), "--grpc", strings.Join(grpcs, ","),
		"--key", key, "--keyring-backend", "test", "--keyring-dir", n.keyHome(), "--metrics-addr", s.Metrics,
		"--gas-prices", n.GasPrices}
	args = append(args, opts.InitFlags...)
	s.env = opts.Env
	if out, err := exec.Command(s.Bin, args...).CombinedOutput(); err != nil {
		n.t.Fatalf("avs-sidecar init: %v\n%s", err, out)
	}
	if len(opts.ComponentOverrides) > 0 {
		var b strings.Builder
		b.WriteString("\n[component_overrides]\n")
		for d, p := range opts.ComponentOverrides {
			fmt.Fprintf(&b, "%q = %q\n", d, p)
		}
		cfgPath := filepath.Join(s.Home, "sidecar.toml")
		bz, err := os.ReadFile(cfgPath)
		if err != nil {
			n.t.Fatal(err)
		}
		bz = bytes.ReplaceAll(bz, []byte("# [component_overrides]\n"), nil)
		if err := os.WriteFile(cfgPath, append(bz, b.String()...), 0o600); err != nil {
			n.t.Fatal(err)
		}
	}
	n.t.Cleanup(s.Stop) // before Start: a start that fails the test still stops the process
	s.Start()
	return s
}

// Start (re)starts the process, appending to its log.
func (s *Sidecar) Start() {
	s.t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Home, "sidecar.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	s.logFile = f
	s.cmd = exec.Command(s.Bin, "start", "--home", s.Home)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = f, f
	// Killed with the test process too, should it die without its
	// cleanups (a -timeout panic).
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start sidecar %s: %v", s.Key, err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	Poll(s.t, 30*time.Second, "sidecar "+s.Key+": /status", func() (struct{}, error) {
		resp, err := http.Get("http://" + s.Metrics + "/status")
		if err == nil {
			_ = resp.Body.Close()
			return struct{}{}, nil
		}
		select {
		case <-s.done:
			s.t.Fatalf("sidecar %s exited at start:\n%s", s.Key, s.Log())
		default:
		}
		return struct{}{}, err
	}, s.Log)
}

// Stop sends SIGTERM and waits; what is left after 10s is killed.
func (s *Sidecar) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the process at once (a crash).
func (s *Sidecar) Kill() { s.signal(syscall.SIGKILL) }

func (s *Sidecar) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, sig)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
		s.logFile = nil
	}
}

// Log returns the sidecar's log so far.
func (s *Sidecar) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Home, "sidecar.log"))
	return string(b)
}

// Metric returns the sum of a Prometheus metric's samples (0 when absent),
// or NaN when the sidecar cannot be scraped: NaN equals nothing, so a poll
// (require.Eventually's condition, which runs off the test's goroutine and
// must not call FailNow) keeps polling, and a direct assertion fails on it.
func (s *Sidecar) Metric(name string) float64 {
	s.t.Helper()
	resp, err := http.Get("http://" + s.Metrics + "/metrics")
	if err != nil {
		s.t.Logf("scrape %s: %v", s.Key, err)
		return math.NaN()
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || strings.HasPrefix(line, "#") {
			continue
		}
		rest := line[len(name):]
		if rest != "" && rest[0] != ' ' && rest[0] != '{' {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
