package submitter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// Tests for the rows of the tests review's "Sidecar crash recovery, step by
// step" table that had no unit test. (The rows "SetPending written,
// broadcast never happened, not yet past timeout" and "included, crash
// before MarkSubmitted" are TestL3PendingDoesNotBlockNewVotes and
// TestRestartSettlesPendingVotes.)

// TestCrashBroadcastErrorWithUnknownOutcome: BroadcastSync fails in a way
// that does not say whether the transaction reached the mempool (the
// connection dropped before the answer). The votes are not signed again:
// the transaction is looked for in the blocks. Landed, it is recorded once;
// lost, its votes are sent again once its timeout height has passed.
func TestCrashBroadcastErrorWithUnknownOutcome(t *testing.T) {
	eof := errors.New(`post failed: Post "http://127.0.0.1:26657": EOF`)
	require.Equal(t, landing, classifyErr(stageBroadcast, eof).kind, "an unknown outcome")

	t.Run("it landed", func(t *testing.T) {
		m := &countMetrics{}
		f := newFixture(t, nil, WithBatchDelay(time.Millisecond), WithMetrics(m))
		f.chain.afterInclude = func(n int) error {
			if n == 0 {
				return eof
			}
			return nil
		}
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("x")}))
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("y")}))
		f.start(t)
		f.waitSubmitted(t, 1, 2)
		require.Len(t, f.chain.broadcasts(), 1, "confirmed from the blocks, not signed and sent again")
		f.chain.mu.Lock()
		require.Zero(t, f.chain.duplicates, "no vote counted twice")
		f.chain.mu.Unlock()
		m.mu.Lock()
		defer m.mu.Unlock()
		require.Equal(t, 2, m.included)
	})

	t.Run("it was lost", func(t *testing.T) {
		f := newFixture(t, nil, WithBatchDelay(time.Millisecond))
		f.chain.broadcastErr = func(n int, _ sentTx) error {
			if n == 0 {
				return eof // and it never reached the mempool
			}
			return nil
		}
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("x")}))
		ctx := context.Background()
		require.False(t, f.sub.sendBatch(ctx))
		require.Len(t, f.sub.flights, 1, "waited for, not refused")
		pending, err := f.store.PendingVotes()
		require.NoError(t, err)
		require.Contains(t, pending, "1", "the pending record stays while the transaction may land")
		timeout := f.sub.flights[0].timeout

		f.chain.setHeight(timeout - 1)
		f.sub.settle(ctx)
		require.Len(t, f.sub.flights, 1, "before its timeout height it may still land")
		require.Zero(t, f.queueLen())

		f.chain.setHeight(timeout)
		f.flush(t)
		ok, err := f.store.Submitted("1")
		require.NoError(t, err)
		require.True(t, ok)
		sent := f.chain.broadcasts()
		require.Len(t, sent, 2, "sent again once, after its timeout height")
		require.Equal(t, sent[0].msg.Results, sent[1].msg.Results)
	})
}

// TestCrashOneVoteOfAMultiVoteTx: a transaction of three votes landed while
// the sidecar was down, the chain refusing the middle one. Each vote left
// pending is settled with its own outcome, read from the transaction (the
// submitter used to count any vote of a transaction whose outcomes were not
// exactly one as accepted), and nothing is sent again.
func TestCrashOneVoteOfAMultiVoteTx(t *testing.T) {
	for _, tc := range []struct {
		name               string
		pending            []string // the votes still pending at the restart
		included, rejected int
	}{
		{name: "all three", pending: []string{"10", "11", "12"}, included: 2, rejected: 1},
		{name: "the refused one alone", pending: []string{"11"}, rejected: 1},
		{name: "an accepted one alone", pending: []string{"12"}, included: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.OpenMemory()
			f := newFixture(t, st, WithBatchDelay(time.Millisecond))
			f.chain.hold = true
			f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
				if r.TaskId == 11 {
					return &types.ResultOutcome{TaskId: 11, Codespace: types.ModuleName, Code: types.ErrVotingClosed.ABCICode(), Error: "closed"}
				}
				return nil
			}
			ctx := context.Background()
			for _, id := range []uint64{10, 11, 12} {
				require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte{byte(id)}}))
			}
			require.False(t, f.sub.sendBatch(ctx), "one transaction")
			require.Len(t, f.chain.broadcasts()[0].msg.Results, 3)
			// The process dies; the transaction lands; the store keeps the
			// pending records of tc.pending.
			f.chain.produce()
			var settled []string
			for _, k := range []string{"10", "11", "12"} {
				if !slices.Contains(tc.pending, k) {
					settled = append(settled, k)
				}
			}
			require.NoError(t, st.ClearPendingBatch(settled))
			require.NoError(t, st.MarkSubmittedBatch(settled, "earlier"))

			m := &countMetrics{}
			sub, err := New(f.chain, st, f.enc.TxConfig, f.kr, keyName, testChainID,
				WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithMetrics(m))
			require.NoError(t, err)
			require.NoError(t, sub.recoverPending())
			require.Len(t, sub.recovering, 1)
			sub.checkRecovering(ctx)
			require.Empty(t, sub.recovering)
			sub.mu.Lock()
			require.Empty(t, sub.queue, "nothing to send again")
			sub.mu.Unlock()

			for _, k := range tc.pending {
				ok, err := st.Submitted(k)
				require.NoError(t, err)
				require.True(t, ok, "vote %s settled", k)
			}
			pending, err := st.PendingVotes()
			require.NoError(t, err)
			require.Empty(t, pending)
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Equal(t, [2]int{tc.included, tc.rejected}, [2]int{m.included, m.rejected}, "each vote counted by its own outcome")
			require.Len(t, f.chain.broadcasts(), 1)
		})
	}
}

// TestCrashWholeBatchRefusedAtSimulation: every vote is refused at
// simulation, as for a jailed operator, or for a reason the submitter does
// not know. The batch is not retried as it is forever: it is split down to
// single votes, which are dropped (at once for a refusal of the vote, after
// maxSetAside tries for an unknown one); nothing is broadcast and the queue
// empties.
func TestCrashWholeBatchRefusedAtSimulation(t *testing.T) {
	jailed := fmt.Sprintf("rpc error: code = Unknown desc = failed to execute message; message index: 0: operator avs1x: %s", types.ErrOperatorJailed.Error())
	for _, tc := range []struct {
		name    string
		err     string
		dropped map[string]int
		// sims bounds the simulations: the halvings of four votes (1+2+4
		// at most), each single vote tried up to maxSetAside+1 times.
		sims int
	}{
		{name: "jailed", err: jailed, dropped: map[string]int{fmt.Sprintf("avs/%d", types.ErrOperatorJailed.ABCICode()): 4}, sims: 1 + 2 + 4},
		{name: "unknown", err: "rpc error: code = Unknown desc = something new", dropped: map[string]int{"simulate": 4}, sims: 1 + 2 + 4*(maxSetAside+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &countMetrics{}
			f := newFixture(t, nil, WithBatchDelay(time.Millisecond), WithMetrics(m))
			sims := 0 // guarded by f.chain.mu
			f.chain.simulate = func(sentTx) error {
				sims++
				return errors.New(tc.err)
			}
			for id := uint64(1); id <= 4; id++ {
				require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
			}
			f.start(t)
			f.waitSubmitted(t, 1, 2, 3, 4) // dropped: recorded, not retried
			require.Eventually(t, func() bool { return f.queueLen() == 0 }, 5*time.Second, 10*time.Millisecond)
			require.Empty(t, f.chain.broadcasts())
			f.chain.mu.Lock()
			require.LessOrEqual(t, sims, tc.sims)
			f.chain.mu.Unlock()
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Equal(t, tc.dropped, m.dropped)
		})
	}
}
