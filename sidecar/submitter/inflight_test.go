package submitter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

// inFlightFixture is a submitter of two votes a transaction, at most four
// transactions in flight, on a chain whose blocks come when the test says.
func inFlightFixture(t *testing.T, opts ...Option) (*fixture, *countMetrics) {
	t.Helper()
	m := &countMetrics{}
	f := newFixture(t, nil, append([]Option{WithMaxVotes(2), WithMaxInFlight(4), WithMetrics(m)}, opts...)...)
	f.chain.params.MaxVotesPerTx = 2
	f.chain.hold = true
	return f, m
}

func (f *fixture) enqueue(t *testing.T, ids ...uint64) {
	t.Helper()
	for _, id := range ids {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
}

// sequences lists the sequences of the transactions broadcast, from the i-th.
func (f *fixture) sequences(from int) []uint64 {
	var seqs []uint64
	for _, tx := range f.chain.broadcasts()[from:] {
		seqs = append(seqs, tx.sequence)
	}
	return seqs
}

// voteCounts returns how many broadcast transactions carried each task.
func (f *fixture) voteCounts() map[uint64]int {
	n := map[uint64]int{}
	for _, tx := range f.chain.broadcasts() {
		for _, r := range tx.msg.Results {
			n[r.TaskId]++
		}
	}
	return n
}

// Up to WithMaxInFlight transactions go out before the first is included,
// with consecutive sequences, each simulated on the mempool's state; the
// next waits for a slot; each is confirmed on its own.
func TestInFlightConsecutiveSequences(t *testing.T) {
	f, m := inFlightFixture(t)
	ctx := context.Background()
	f.enqueue(t, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

	for f.sub.sendBatch(ctx) {
	}
	require.Equal(t, []uint64{5, 6, 7, 8}, f.sequences(0), "four in flight, consecutive sequences")
	f.chain.mu.Lock()
	require.Empty(t, f.chain.included, "none included yet")
	require.Len(t, f.chain.mempool, 4)
	f.chain.mu.Unlock()
	require.Equal(t, 2, f.queueLen(), "the fifth waits for a slot")
	require.False(t, f.sub.sendBatch(ctx), "the window is full while nothing lands")
	require.Len(t, f.chain.broadcasts(), 4)

	f.chain.produce()
	require.False(t, f.sub.sendBatch(ctx), "the window is settled, the fifth is sent")
	require.Equal(t, []uint64{5, 6, 7, 8, 9}, f.sequences(0))
	f.waitSubmitted(t, 1, 2, 3, 4, 5, 6, 7, 8)
	f.chain.produce()
	f.flush(t)
	f.waitSubmitted(t, 9, 10)

	f.chain.mu.Lock()
	require.Zero(t, f.chain.duplicates)
	require.EqualValues(t, 10, f.chain.seq)
	f.chain.mu.Unlock()
	require.Equal(t, 1, f.chain.accounts(), "the sequence is tracked, not read per transaction")
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, [3]int{10, 10, 0}, [3]int{m.sent, m.included, m.rejected})
	require.Contains(t, m.inFlight, 4)
	require.Zero(t, m.inFlight[len(m.inFlight)-1])
	require.Empty(t, m.refused)
}

// A node whose simulation runs on a state without the transactions in
// flight (the SDK checks the sequence in simulation too) measures the gas at
// the sequence it expects; the transaction is still signed with the next one.
func TestInFlightSimulationBehindTheMempool(t *testing.T) {
	f, m := inFlightFixture(t)
	f.chain.simLags = true
	ctx := context.Background()
	f.enqueue(t, 1, 2, 3, 4)
	for f.sub.sendBatch(ctx) {
	}
	require.Equal(t, []uint64{5, 6}, f.sequences(0))
	f.chain.mu.Lock()
	var simulated []uint64
	for _, tx := range f.chain.simulated {
		simulated = append(simulated, tx.sequence)
	}
	f.chain.mu.Unlock()
	require.Equal(t, []uint64{5, 6, 5}, simulated, "simulated again at the committed sequence")
	f.chain.produce()
	f.flush(t)
	f.waitSubmitted(t, 1, 2, 3, 4)
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Empty(t, m.refused)
}

// The node's mempool loses transactions in flight (a restart, a recheck):
// CheckTx names the sequence it expects, new votes take it at once, and the
// lost transactions' votes wait for their timeout height, since they may
// still land from another node's mempool. Then they are sent again. No vote
// is in two transactions that can both land, none is counted twice.
func TestInFlightMismatchResyncs(t *testing.T) {
	for name, landsAfterAll := range map[string]bool{"lost": false, "lands from another mempool": true} {
		t.Run(name, func(t *testing.T) {
			f, m := inFlightFixture(t)
			ctx := context.Background()
			f.enqueue(t, 1, 2, 3, 4, 5, 6)
			for f.sub.sendBatch(ctx) {
			}
			require.Equal(t, []uint64{5, 6, 7}, f.sequences(0))

			f.chain.mu.Lock()
			lost := append([]memTx(nil), f.chain.mempool[1:]...)
			f.chain.mu.Unlock()
			f.chain.evict(1) // sequences 6 and 7 are gone: the mempool expects 6
			f.enqueue(t, 7)
			for f.sub.sendBatch(ctx) {
			}
			require.Equal(t, []uint64{5, 6, 7, 8, 6}, f.sequences(0), "refused at 8, sent again at 6")
			require.Equal(t, []types.TaskResult{{TaskId: 7, Result: []byte("x")}}, f.chain.broadcasts()[4].msg.Results)
			require.Equal(t, 2, f.sub.activeFlights(), "the lost ones no longer fill the window")

			if landsAfterAll {
				// Another node proposes the lost transaction at 6 first: the
				// new one at 6 fails at delivery and its vote goes again.
				f.chain.mu.Lock()
				f.chain.mempool = append([]memTx{f.chain.mempool[0], lost[0]}, f.chain.mempool[1:]...)
				f.chain.mu.Unlock()
			}
			f.chain.produce()
			f.sub.settle(ctx)
			f.waitSubmitted(t, 1, 2)
			if landsAfterAll {
				f.waitSubmitted(t, 3, 4)
				require.False(t, f.sub.sendBatch(ctx), "vote 7 goes again at 7")
				require.Equal(t, []uint64{7}, f.sequences(5))
				f.chain.produce()
				f.sub.settle(ctx)
				f.waitSubmitted(t, 7)
			} else {
				f.waitSubmitted(t, 7)
			}
			for _, id := range []uint64{5, 6} {
				ok, err := f.store.Submitted(itoa(id))
				require.NoError(t, err)
				require.False(t, ok)
			}
			n := len(f.chain.broadcasts())
			require.False(t, f.sub.sendBatch(ctx), "the lost votes wait for their timeout height")
			require.Len(t, f.chain.broadcasts(), n)

			f.chain.mu.Lock()
			f.chain.height += 2 * f.sub.timeout
			f.chain.mu.Unlock()
			f.sub.settle(ctx) // past the timeout height: lost, queued again
			for f.sub.sendBatch(ctx) {
			}
			f.chain.produce()
			f.flush(t)
			f.waitSubmitted(t, 1, 2, 3, 4, 5, 6, 7)

			counts := f.voteCounts()
			f.chain.mu.Lock()
			require.Zero(t, f.chain.duplicates, "no vote counted twice")
			f.chain.mu.Unlock()
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Equal(t, [2]int{7, 0}, [2]int{m.included, m.rejected})
			require.Positive(t, m.refused["sdk/32"])
			if landsAfterAll {
				require.Equal(t, map[uint64]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 3}, counts)
			} else {
				require.Equal(t, map[uint64]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2}, counts)
			}
		})
	}
}

func itoa(id uint64) string { return Vote{TaskID: id}.Key() }

// Votes go out deadline-first, first come first among equal deadlines; a
// vote whose deadline is not known is not held back.
func TestDeadlineFirst(t *testing.T) {
	f := newFixture(t, nil)
	for _, v := range []Vote{
		{TaskID: 1, Deadline: 50}, {TaskID: 2, Deadline: 30}, {TaskID: 3}, {TaskID: 4, Deadline: 30},
		{TaskID: 5, Deadline: 40}, {TaskID: 6, Deadline: 20},
	} {
		v.Result = []byte("x")
		require.NoError(t, f.sub.Enqueue(v))
	}
	f.flush(t)
	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	var order []uint64
	for _, r := range sent[0].msg.Results {
		order = append(order, r.TaskId)
	}
	require.Equal(t, []uint64{3, 6, 2, 4, 5, 1}, order)

	// A vote with an earlier deadline than those at the front, queued while
	// a batch is cut, still leaves the queue exactly as sent.
	f.sub.maxVotes = 2
	for _, v := range []Vote{{TaskID: 11, Deadline: 90}, {TaskID: 12, Deadline: 91}, {TaskID: 13, Deadline: 92}} {
		v.Result = []byte("x")
		require.NoError(t, f.sub.Enqueue(v))
	}
	used, batch := f.sub.nextBatch()
	require.Len(t, batch, 2)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 14, Deadline: 10, Result: []byte("x")}))
	f.sub.dequeue(used, batch)
	f.sub.mu.Lock()
	var left []uint64
	for _, q := range f.sub.queue {
		left = append(left, q.TaskID)
	}
	f.sub.mu.Unlock()
	require.Equal(t, []uint64{14, 13}, left)
}
