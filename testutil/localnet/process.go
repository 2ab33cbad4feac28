package localnet

// One run of scripts/localnet.sh and the avsd processes it leaves pid files
// for.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// script is one run of scripts/localnet.sh: all of a network's nodes, or
// one node restarted with --only-node.
type script struct {
	cmd    *exec.Cmd
	output *syncBuffer
	done   chan struct{}
	// nodes is how many nodes this run runs; it exits when the last exits.
	nodes int
}

// startScript runs localnet.sh with args in its own process group.
func startScript(t testing.TB, nodes int, args []string) *script {
	t.Helper()
	s := &script{output: &syncBuffer{}, done: make(chan struct{}), nodes: nodes}
	s.cmd = exec.Command("bash", append([]string{filepath.Join(RepoRoot(), "scripts", "localnet.sh")}, args...)...)
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	// SIGTERM reaches the script if the test process dies without its
	// cleanups (a -timeout panic): its trap then stops the nodes.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start localnet.sh: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	return s
}

// exited reports whether the script has exited.
func (s *script) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the script, which stops its nodes; anything left in
// its process group after 15s is killed.
func (s *script) stop(t testing.TB) {
	if s == nil || s.exited() {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Logf("localnet.sh did not stop in 15s; killing process group %d", pgid)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
}

// nodePID reads the pid file the script keeps in a node's home while its
// program (proc: avsd, or wasmd) runs.
func nodePID(home, proc string) (int, error) {
	bz, err := os.ReadFile(filepath.Join(home, proc+".pid"))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(bz)))
	if err != nil {
		return 0, fmt.Errorf("pid file %q: %w", bz, err)
	}
	return pid, nil
}

// avsdRunning reports whether pid is a live (not zombie) avsd running on home.
func avsdRunning(pid int, home string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(home+"\x00")) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// killLeftover kills the avsd of home (its own process group) if its pid file
// names a live one: a node whose script was killed before it could stop it.
func killLeftover(home, proc string) {
	pid, err := nodePID(home, proc)
	if err == nil && avsdRunning(pid, home) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// syncBuffer is a bytes.Buffer that the script's output copier writes while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
