package submitter

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// lateStore counts the store calls made after closed is set.
type lateStore struct {
	Store
	closed atomic.Bool
	late   atomic.Int32
}

func (s *lateStore) touch() {
	if s.closed.Load() {
		s.late.Add(1)
	}
}

func (s *lateStore) Submitted(k string) (bool, error) { s.touch(); return s.Store.Submitted(k) }
func (s *lateStore) SetPending(k string, p store.Pending) error {
	s.touch()
	return s.Store.SetPending(k, p)
}
func (s *lateStore) ClearPending(k string) error { s.touch(); return s.Store.ClearPending(k) }
func (s *lateStore) MarkSubmitted(k, h string) error {
	s.touch()
	return s.Store.MarkSubmitted(k, h)
}

func (s *lateStore) PendingVotes() (map[string]store.Pending, error) {
	s.touch()
	return s.Store.PendingVotes()
}

// rejectMetrics closes rejected at the first refused vote.
type rejectMetrics struct {
	once     sync.Once
	rejected chan struct{}
}

func (*rejectMetrics) VotesSent(int)     {}
func (*rejectMetrics) VotesIncluded(int) {}
func (m *rejectMetrics) VotesRejected(n int) {
	if n > 0 {
		m.once.Do(func() { close(m.rejected) })
	}
}

// An event vote refused by the per-block cap waits to be sent again; when
// Start returns first, nothing touches the store afterwards (run() closes it
// right then). synctest's clock: the sleep moves past the retry delay at once.
func TestNothingRunsAfterStartReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &rejectMetrics{rejected: make(chan struct{})}
		f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
		st := &lateStore{Store: f.store}
		f.sub.store = st
		f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
			return &types.ResultOutcome{Codespace: types.ModuleName, Code: types.ErrAutoTaskLimit.ABCICode(), Error: "cap"}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.sub.Start(ctx) }()
		ref := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 2, Input: []byte("in")}
		require.NoError(t, f.sub.Enqueue(Vote{Event: &ref, Result: []byte("c")}))
		<-m.rejected // refused by the cap: set aside to be sent again

		cancel()
		require.NoError(t, <-done)
		st.closed.Store(true)
		time.Sleep(10 * time.Second)
		require.Zero(t, st.late.Load(), "the store was used after Start returned")
		require.Len(t, f.chain.broadcasts(), 1)
	})
}
