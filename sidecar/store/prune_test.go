package store_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
)

// TestM12PruneForgetsWorkPastItsDeadline: every record of work whose
// deadline is below the height goes; later work and pending records stay.
func TestM12PruneForgetsWorkPastItsDeadline(t *testing.T) {
	s := store.OpenMemory()
	// A record of each kind for work with deadlines 5, 10 and 20.
	for k, deadline := range map[string]int64{"1": 5, "2": 10, "event/3/4/AB/0": 20} {
		require.NoError(t, s.SetDeadline(k, deadline))
		require.NoError(t, s.SetExecuted(k, store.Execution{Result: []byte("x")}))
		require.NoError(t, s.Advance(4, map[string][]byte{k: []byte("{}")}))
		_, err := s.StartAttempt(k)
		require.NoError(t, err)
		require.NoError(t, s.SetPending(k, store.Pending{TxHash: "AB", TimeoutHeight: 9, TaskID: 99}))
	}
	require.NoError(t, s.MarkSubmitted("1", "AB"))
	require.NoError(t, s.SetPending("1", store.Pending{TxHash: "CD", TimeoutHeight: 9}))
	// A deadline moved later (a confirmed event task) is indexed once.
	require.NoError(t, s.SetDeadline("2", 3))
	require.NoError(t, s.SetDeadline("2", 10))

	n, err := s.Prune(10) // below 10: work 1 only
	require.NoError(t, err)
	require.Equal(t, 1, n)
	requireForgotten(t, s, "1")
	requireKept(t, s, "2", 10)
	requireKept(t, s, "event/3/4/AB/0", 20)
	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Contains(t, pending, "1", "pending records are the submitter's")

	n, err = s.Prune(21)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	requireForgotten(t, s, "2")
	requireForgotten(t, s, "event/3/4/AB/0")
	n, err = s.Prune(100)
	require.NoError(t, err)
	require.Zero(t, n)
}

// More work than one prune batch holds is pruned in one call.
func TestM12PruneManyKeys(t *testing.T) {
	s := store.OpenMemory()
	for i := range 2500 {
		k := fmt.Sprint(i + 1)
		require.NoError(t, s.SetDeadline(k, int64(i%7)+1))
		require.NoError(t, s.SetExecuted(k, store.Execution{Result: []byte("x")}))
	}
	n, err := s.Prune(1_000)
	require.NoError(t, err)
	require.Equal(t, 2500, n)
	requireForgotten(t, s, "2500")
}

func requireForgotten(t *testing.T, s *store.Store, k string) {
	t.Helper()
	_, ok, err := s.Executed(k)
	require.NoError(t, err)
	require.False(t, ok, "executed %s", k)
	sub, err := s.Submitted(k)
	require.NoError(t, err)
	require.False(t, sub, "submitted %s", k)
	n, err := s.Attempts(k)
	require.NoError(t, err)
	require.Zero(t, n, "attempts %s", k)
	inbox, err := s.Inbox()
	require.NoError(t, err)
	require.NotContains(t, inbox, k)
	_, ok, err = s.Deadline(k)
	require.NoError(t, err)
	require.False(t, ok, "deadline %s", k)
}

func requireKept(t *testing.T, s *store.Store, k string, deadline int64) {
	t.Helper()
	_, ok, err := s.Executed(k)
	require.NoError(t, err)
	require.True(t, ok, "executed %s", k)
	inbox, err := s.Inbox()
	require.NoError(t, err)
	require.Contains(t, inbox, k)
	d, ok, err := s.Deadline(k)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, deadline, d)
}
