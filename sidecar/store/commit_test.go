package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
)

// A COMMIT_REVEAL task's salt and its two stages' records: the commit is
// submitted apart from the reveal (the task's vote), pending records carry
// the commitment and the salt for a restart to send them again, and pruning
// forgets the salt and the commit's mark with the task.
func TestCommitRevealRecords(t *testing.T) {
	s := store.OpenMemory()
	const k = "12"
	salt := []byte("0123456789abcdef0123456789abcdef")
	_, ok, err := s.Salt(k)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.SetSalt(k, salt))
	got, ok, err := s.Salt(k)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, salt, got)

	require.Equal(t, "commit/12", store.CommitKey(12))
	require.NoError(t, s.SetPendingBatch(map[string]store.Pending{
		store.CommitKey(12): {TxHash: "AB", TimeoutHeight: 9, TaskID: 12, Commitment: []byte("c")},
		k:                   {TxHash: "AB", TimeoutHeight: 9, TaskID: 12, Result: []byte("r"), Salt: salt},
	}))
	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Equal(t, []byte("c"), pending["commit/12"].Commitment)
	require.Equal(t, salt, pending[k].Salt)

	require.NoError(t, s.MarkSubmitted(store.CommitKey(12), "AB"))
	done, err := s.Submitted(store.CommitKey(12))
	require.NoError(t, err)
	require.True(t, done)
	done, err = s.Submitted(k)
	require.NoError(t, err)
	require.False(t, done, "the reveal is still to send")

	require.NoError(t, s.SetDeadline(k, 30))
	n, err := s.Prune(31)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, ok, err = s.Salt(k)
	require.NoError(t, err)
	require.False(t, ok, "the salt is pruned with its task")
	done, err = s.Submitted(store.CommitKey(12))
	require.NoError(t, err)
	require.False(t, done, "the commit's mark is pruned with its task")
}
