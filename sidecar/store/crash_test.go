package store_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
)

// crashChildEnv names the data dir a child process of
// TestRecordsSurviveAKilledProcess writes to before it kills itself.
const crashChildEnv = "AVS_STORE_CRASH_CHILD_DIR"

// The unsynced records of a run (its attempt, its execution) survive the
// process being killed with SIGKILL right after they are written, with no
// Close: a component that takes the sidecar down leaves its attempt counted
// (reliability review H4), and the result is not lost.
func TestRecordsSurviveAKilledProcess(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		s, err := store.Open(dir)
		require.NoError(t, err)
		n, err := s.StartAttempt("7")
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.NoError(t, s.SetExecuted("7", store.Execution{Result: []byte("49")}))
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGKILL))
		select {} // the signal ends the process
	}

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordsSurviveAKilledProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die of its signal: %s", out)
	status, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, status.Signaled(), "child: %v\n%s", err, out)
	require.Equal(t, syscall.SIGKILL, status.Signal())

	s, err := store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	n, err := s.Attempts("7")
	require.NoError(t, err)
	require.Equal(t, 1, n, "the attempt the killed process started")
	e, found, err := s.Executed("7")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "49", string(e.Result))
}
