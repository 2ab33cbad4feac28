package pipeline_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// crashChildEnv names the data dir a child process of
// TestCommitSaltSurvivesAKilledProcess runs a pipeline on before it kills
// itself.
const crashChildEnv = "AVS_PIPELINE_CRASH_CHILD_DIR"

// killingVoter is the submitter of the child process: it prints the first
// commit it is handed and kills the process with SIGKILL right then, with
// no Close of the store.
type killingVoter struct{}

func (killingVoter) Enqueue(v submitter.Vote) error {
	if len(v.Commitment) > 0 {
		fmt.Printf("\nCOMMITMENT=%x\n", v.Commitment)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal ends the process
	}
	return nil
}

var committed = regexp.MustCompile(`COMMITMENT=([0-9a-f]{64})`)

// A COMMIT_REVEAL task's salt is on disk when its commit reaches the
// submitter: a process killed with SIGKILL at that very moment leaves a
// store whose salt and outcome hash to the commitment handed over (issue
// #20). A restarted pipeline on that store, with the commit on chain and the
// commit phase closed, reveals the recorded outcome with the same salt,
// without running the component again: the reveal matches the commitment,
// so the vote counts.
func TestCommitSaltSurvivesAKilledProcess(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		st, err := store.Open(dir)
		require.NoError(t, err)
		f := openPipelineWith(t, st, killingVoter{})
		save(t, st, watcher.Work{ID: crTask, Height: 6})
		require.NoError(t, f.p.Handle(context.Background(), watcher.Work{ID: crTask}))
		t.Fatal("the commit was not handed over")
	}

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommitSaltSurvivesAKilledProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die of its signal: %s", out)
	status, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, status.Signaled(), "child: %v\n%s", err, out)
	require.Equal(t, syscall.SIGKILL, status.Signal())
	m := committed.FindSubmatch(out)
	require.NotNil(t, m, "the child printed the commitment it handed over:\n%s", out)
	commitment, err := hex.DecodeString(string(m[1]))
	require.NoError(t, err)

	st, err := store.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	salt := saltOf(t, st, crTask)
	e, ok, err := st.Executed("7")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, commitment, types.VoteCommitment(chainID, crTask, operator, e.Result, e.Failure, salt),
		"the salt on disk is the one committed to")

	// The commit landed (the submitter recorded it) and its phase closed at
	// height 12 while the process was down.
	require.NoError(t, st.MarkSubmitted(store.CommitKey(crTask), "AB"))
	voter := &fakeVoter{notify: make(chan submitter.Vote, 4)}
	f := openPipelineWith(t, st, voter)
	task := commitRevealTask()
	task.CommitsClosedHeight = 12
	f.chain.tasks[crTask] = task
	f.chain.setHeight(13)
	start(t, f.p)
	again := receiveVote(t, voter.notify)
	require.Equal(t, commitment, again.Commitment, "the commit queued again is the same (the submitter skips it)")
	reveal := receiveVote(t, voter.notify)
	require.Equal(t, salt, reveal.Salt, "the saved salt, not a new one")
	require.Equal(t, e.Result, reveal.Result)
	require.Equal(t, crDeadline, reveal.Deadline)
	require.Equal(t, commitment, types.VoteCommitment(chainID, crTask, operator, reveal.Result, reveal.Failure, reveal.Salt))
	require.Empty(t, f.runner.ran(), "the component is not run again")
}

// openPipelineWith builds a pipeline on st, voting through voter, whose
// chain holds the COMMIT_REVEAL task 7.
func openPipelineWith(t *testing.T, st pipeline.Store, voter pipeline.Voter) *fixture {
	t.Helper()
	f := &fixture{chain: newFakeChain(), runner: &fakeRunner{}, in: make(chan watcher.Work)}
	f.chain.optedIn = []uint64{3}
	f.chain.services[3] = eventService(3)
	f.chain.tasks[crTask] = commitRevealTask()
	p, err := pipeline.New(pipeline.Deps{
		Chain: f.chain, Runner: f.runner, Store: st, Voter: voter, Work: f.in, ChainID: chainID, Operator: operator,
	}, pipeline.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	f.p = p
	return f
}
