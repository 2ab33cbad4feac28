package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

func TestStorePersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	require.NoError(t, err)

	h, err := s.Cursor()
	require.NoError(t, err)
	require.Zero(t, h)
	require.NoError(t, s.SetCursor(42))
	require.NoError(t, s.SetExecuted("7", store.Execution{Result: []byte("16")}))
	require.NoError(t, s.SetExecuted("8", store.Execution{Error: "trap"}))
	require.NoError(t, s.SetPending("7", store.Pending{TxHash: "AB", TimeoutHeight: 50, Result: []byte("16")}))
	require.NoError(t, s.SetPending("9", store.Pending{TxHash: "CD", TimeoutHeight: 51}))
	require.NoError(t, s.MarkSubmitted("9", "CD"))
	require.NoError(t, s.Close())

	s, err = store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	h, err = s.Cursor()
	require.NoError(t, err)
	require.EqualValues(t, 42, h)
	e, ok, err := s.Executed("7")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "16", string(e.Result))
	e, ok, err = s.Executed("8")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "trap", e.Error)
	_, ok, err = s.Executed("10")
	require.NoError(t, err)
	require.False(t, ok)

	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Equal(t, map[string]store.Pending{"7": {TxHash: "AB", TimeoutHeight: 50, Result: []byte("16"), TaskID: 7}}, pending, "a record without task_id takes it from its key")
	done, err := s.Submitted("9")
	require.NoError(t, err)
	require.True(t, done)
	done, err = s.Submitted("7")
	require.NoError(t, err)
	require.False(t, done)
}

// Work recorded with the cursor stays in the inbox across a restart until it
// is done; an event vote's pending record keeps its reference.
func TestStoreInboxAndEventVotes(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	require.NoError(t, err)
	require.NoError(t, s.Advance(10, map[string][]byte{"5": []byte(`{"id":5}`), "event/1/10//0": []byte(`{"event":{}}`)}))
	require.NoError(t, s.Advance(11, nil))
	require.NoError(t, s.Done("5"))
	ref := &types.EventRef{ServiceId: 1, Height: 10, EventIndex: 0, Input: []byte(`{"x":1}`)}
	require.NoError(t, s.SetPending("event/1/10//0", store.Pending{TxHash: "EF", TimeoutHeight: 30, Result: []byte("1"), Event: ref}))
	require.NoError(t, s.Close())

	s, err = store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	h, err := s.Cursor()
	require.NoError(t, err)
	require.EqualValues(t, 11, h)
	inbox, err := s.Inbox()
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{"event/1/10//0": []byte(`{"event":{}}`)}, inbox)
	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Equal(t, ref, pending["event/1/10//0"].Event)
	require.Zero(t, pending["event/1/10//0"].TaskID)

	// Work that led to a vote is done when the vote is recorded submitted.
	require.NoError(t, s.MarkSubmitted("event/1/10//0", "EF"))
	inbox, err = s.Inbox()
	require.NoError(t, err)
	require.Empty(t, inbox)
	pending, err = s.PendingVotes()
	require.NoError(t, err)
	require.Empty(t, pending)
}

// A pending record keeps what a vote needs to be sent again after a restart:
// its handler gas and failure reason (L2), and the height it was signed at,
// from which its inclusion is looked for in blocks (C2).
func TestL2PendingCarriesExtraGas(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	require.NoError(t, err)
	p := store.Pending{TxHash: "AB", TimeoutHeight: 50, TaskID: 7, ExtraGas: 1_000_000, SentHeight: 30}
	f := store.Pending{TxHash: "AB", TimeoutHeight: 50, TaskID: 8, Failure: types.FailureReason(2), SentHeight: 30}
	require.NoError(t, s.SetPendingBatch(map[string]store.Pending{"7": p, "8": f}))
	require.NoError(t, s.Close())

	s, err = store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Equal(t, map[string]store.Pending{"7": p, "8": f}, pending)
}

// The votes of one transaction are recorded pending, cleared and submitted
// together (M7: one synced write each, see TestM7OneSyncedWritePerBatch).
func TestM7BatchRecords(t *testing.T) {
	s := store.OpenMemory()
	require.NoError(t, s.Advance(5, map[string][]byte{"1": []byte("w"), "2": []byte("w"), "3": []byte("w")}))
	require.NoError(t, s.SetPendingBatch(map[string]store.Pending{
		"1": {TxHash: "AA", TimeoutHeight: 25, TaskID: 1},
		"2": {TxHash: "AA", TimeoutHeight: 25, TaskID: 2},
		"3": {TxHash: "AA", TimeoutHeight: 25, TaskID: 3},
	}))
	require.NoError(t, s.ClearPendingBatch([]string{"3"}))
	require.NoError(t, s.MarkSubmittedBatch([]string{"1", "2"}, "AA"))

	pending, err := s.PendingVotes()
	require.NoError(t, err)
	require.Empty(t, pending)
	inbox, err := s.Inbox()
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{"3": []byte("w")}, inbox, "work that led to a vote is done with the vote")
	for k, want := range map[string]bool{"1": true, "2": true, "3": false} {
		got, err := s.Submitted(k)
		require.NoError(t, err)
		require.Equal(t, want, got, k)
	}
}
