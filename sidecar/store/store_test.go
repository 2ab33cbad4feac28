package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
)

func TestStorePersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	require.NoError(t, err)

	h, err := s.Cursor()
	require.NoError(t, err)
	require.Zero(t, h)
	require.NoError(t, s.SetCursor(42))
	require.NoError(t, s.SetExecuted(7, store.Execution{Result: []byte("16")}))
	require.NoError(t, s.SetExecuted(8, store.Execution{Error: "trap"}))
	require.NoError(t, s.SetPending(7, store.Pending{TxHash: "AB", TimeoutHeight: 50, Result: []byte("16")}))
	require.NoError(t, s.SetPending(9, store.Pending{TxHash: "CD", TimeoutHeight: 51}))
	require.NoError(t, s.MarkSubmitted(9, "CD"))
	require.NoError(t, s.Close())

	s, err = store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	h, err = s.Cursor()
	require.NoError(t, err)
	require.EqualValues(t, 42, h)
	e, ok, err := s.Executed(7)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "16", string(e.Result))
	e, ok, err = s.Executed(8)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "trap", e.Error)
	_, ok, err = s.Executed(10)
	require.NoError(t, err)
	require.False(t, ok)

	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Equal(t, map[uint64]store.Pending{7: {TxHash: "AB", TimeoutHeight: 50, Result: []byte("16")}}, pending)
	done, err := s.Submitted(9)
	require.NoError(t, err)
	require.True(t, done)
	done, err = s.Submitted(7)
	require.NoError(t, err)
	require.False(t, done)
}
