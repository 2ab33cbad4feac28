package submitter

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

var (
	testCommitment = bytes.Repeat([]byte{0xc0}, types.CommitmentSize)
	testSalt       = bytes.Repeat([]byte{0x5a}, types.CommitmentSize)
)

// submitted reports whether the store records key as submitted.
func submitted(t *testing.T, st *store.Store, key string) bool {
	t.Helper()
	ok, err := st.Submitted(key)
	require.NoError(t, err)
	return ok
}

// Commits and reveals go out with votes in the clear in one MsgSubmitResults,
// each its own entry, and each stage is recorded under its own key: the
// commit under store.CommitKey, the reveal under the task's. The metrics
// count the commits and the reveals apart; a reveal is a vote, a commit not.
func TestCommitsAndRevealsShareBatches(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithMetrics(m))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("open")}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Commitment: testCommitment, Deadline: 12}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 3, Result: []byte("r3"), Salt: testSalt}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 4, Failure: types.FAILURE_REASON_TRAP, Salt: testSalt}))
	f.flush(t)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 1, "one transaction")
	require.ElementsMatch(t, []types.TaskResult{
		{TaskId: 1, Result: []byte("open")},
		{TaskId: 2, Commitment: testCommitment},
		{TaskId: 3, Result: []byte("r3"), Salt: testSalt},
		{TaskId: 4, Failure: types.FAILURE_REASON_TRAP, Salt: testSalt},
	}, sent[0].msg.Results)
	for _, k := range []string{"1", store.CommitKey(2), "3", "4"} {
		require.True(t, submitted(t, f.store, k), k)
	}
	require.False(t, submitted(t, f.store, "2"), "task 2's reveal is still to come")

	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, [3]int{3, 1, 2}, [3]int{m.sent, m.commits, m.reveals}, "votes (clear and revealed), commits, reveals")
}

// A commit and its task's reveal are two keys: queuing one does not hide the
// other, and the commit of a task whose reveal is queued is still sent.
func TestCommitAndRevealKeysDiffer(t *testing.T) {
	commit := Vote{TaskID: 5, Commitment: testCommitment}
	reveal := Vote{TaskID: 5, Result: []byte("x"), Salt: testSalt}
	require.Equal(t, store.CommitKey(5), commit.Key())
	require.Equal(t, "5", reveal.Key())
	require.Equal(t, commit.Key(), entryKey(commit.entry()))
	require.Equal(t, reveal.Key(), entryKey(reveal.entry()))
}

// What a refusal of each stage in a landed transaction does (issue #20): a
// commit refused as a duplicate is on chain already; a commit refused for
// any other reason gives up its task (the reveal is recorded with it and
// never sent); a reveal refused for a mismatch, or for no commitment, is
// given up like a refused vote.
func TestCommitRevealRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		vote     Vote
		code     uint32
		rejected int
		// done: the keys recorded submitted; open: the keys not.
		done, open []string
	}{
		{name: "commit already made", vote: Vote{TaskID: 6, Commitment: testCommitment}, code: types.ErrDuplicateVote.ABCICode(),
			done: []string{store.CommitKey(6)}, open: []string{"6"}},
		{name: "commit phase closed", vote: Vote{TaskID: 6, Commitment: testCommitment}, code: types.ErrCommitClosed.ABCICode(), rejected: 1,
			done: []string{store.CommitKey(6), "6"}},
		{name: "reveal mismatch", vote: Vote{TaskID: 6, Result: []byte("x"), Salt: testSalt}, code: types.ErrRevealMismatch.ABCICode(), rejected: 1,
			done: []string{"6"}, open: []string{store.CommitKey(6)}},
		{name: "no commitment", vote: Vote{TaskID: 6, Result: []byte("x"), Salt: testSalt}, code: types.ErrNoCommitment.ABCICode(), rejected: 1,
			done: []string{"6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &countMetrics{}
			f := newFixture(t, nil, WithMetrics(m))
			f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
				return &types.ResultOutcome{TaskId: r.TaskId, Codespace: types.ModuleName, Code: tc.code, Error: "refused"}
			}
			require.NoError(t, f.sub.Enqueue(tc.vote))
			f.flush(t)
			require.Len(t, f.chain.broadcasts(), 1, "not sent again")
			for _, k := range tc.done {
				require.True(t, submitted(t, f.store, k), "%s submitted", k)
			}
			for _, k := range tc.open {
				require.False(t, submitted(t, f.store, k), "%s not submitted", k)
			}
			require.Zero(t, f.sub.later.Len(), "nothing waits to be sent again")
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Equal(t, tc.rejected, m.rejected)
		})
	}
}

// A reveal refused because the commit phase was still open at its block is
// neither dropped nor recorded: it is sent again about a block later, and
// recorded once accepted. synctest's clock: the sleep passes at once.
func TestRevealTooEarlyIsSentAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, nil)
		f.sub.log = slog.New(slog.NewTextHandler(io.Discard, nil))
		early := true
		f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
			if early {
				return &types.ResultOutcome{TaskId: r.TaskId, Codespace: types.ModuleName, Code: types.ErrRevealTooEarly.ABCICode(), Error: "commits open"}
			}
			return nil
		}
		reveal := Vote{TaskID: 8, Result: []byte("x"), Salt: testSalt, Deadline: 30}
		require.NoError(t, f.sub.Enqueue(reveal))
		f.flush(t)
		require.False(t, submitted(t, f.store, "8"), "not given up")
		pending, err := f.store.PendingVotes()
		require.NoError(t, err)
		require.Empty(t, pending)
		require.Equal(t, 1, f.sub.later.Len(), "waits to be sent again")

		f.chain.mu.Lock()
		early = false // the phase has closed
		f.chain.mu.Unlock()
		time.Sleep(revealRetryDelay)
		for _, v := range f.sub.later.Due() {
			f.sub.requeue(v)
		}
		f.flush(t)
		require.True(t, submitted(t, f.store, "8"))
		sent := f.chain.broadcasts()
		require.Len(t, sent, 2)
		require.Equal(t, sent[0].msg.Results, sent[1].msg.Results, "the same reveal")
	})
}

// A commit and a reveal left pending by a killed run are settled with their
// stages: the recovered transaction's entries are matched to the commit's
// and the reveal's keys, and nothing is sent again.
func TestPendingCommitAndRevealAreSettledAfterARestart(t *testing.T) {
	st := store.OpenMemory()
	f := newFixture(t, st)
	f.chain.hold = true
	ctx := context.Background()
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 9, Commitment: testCommitment}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 10, Result: []byte("y"), Salt: testSalt}))
	require.False(t, f.sub.sendBatch(ctx))
	pending, err := st.PendingVotes()
	require.NoError(t, err)
	require.Equal(t, testCommitment, pending[store.CommitKey(9)].Commitment)
	require.Equal(t, testSalt, pending["10"].Salt)
	f.chain.produce() // lands while the process is gone

	sub, err := New(f.chain, st, f.enc.TxConfig, f.kr, keyName, testChainID, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	require.NoError(t, sub.recoverPending())
	require.Len(t, sub.recovering, 1)
	require.ElementsMatch(t, []Vote{{TaskID: 9, Commitment: testCommitment}, {TaskID: 10, Result: []byte("y"), Salt: testSalt}}, sub.recovering[0].votes)
	sub.checkRecovering(ctx)
	require.Empty(t, sub.recovering)
	require.True(t, submitted(t, st, store.CommitKey(9)))
	require.False(t, submitted(t, st, "9"), "task 9's reveal is still to come")
	require.True(t, submitted(t, st, "10"))
	require.Len(t, f.chain.broadcasts(), 1)
}
