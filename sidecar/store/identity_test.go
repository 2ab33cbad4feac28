package store_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
)

// TestH3StoreRefusesAnotherChain: a data dir used on one chain refuses a
// node of another chain id, or of the same chain id and another genesis (a
// relaunched devnet), and keeps every record.
func TestH3StoreRefusesAnotherChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := store.Open(dir)
	require.NoError(t, err)
	first := store.Identity{ChainID: "avs-1", GenesisHash: "aaaa"}
	require.NoError(t, s.BindChain(first))
	require.NoError(t, s.SetCursor(20))
	require.NoError(t, s.MarkSubmitted("7", "tx"))
	require.NoError(t, s.Close())

	for _, tc := range []struct {
		name string
		node store.Identity
		want []string
	}{
		{name: "relaunched chain, same id", node: store.Identity{ChainID: "avs-1", GenesisHash: "bbbb"},
			want: []string{`belongs to chain "avs-1" (genesis aaaa`, `serves chain "avs-1" (genesis bbbb)`}},
		{name: "another chain id", node: store.Identity{ChainID: "avs-2", GenesisHash: "aaaa"},
			want: []string{`serves chain "avs-2"`}},
		{name: "another chain id, genesis unknown", node: store.Identity{ChainID: "avs-2"},
			want: []string{`serves chain "avs-2" (genesis unknown)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(dir)
			require.NoError(t, err)
			defer s.Close()
			require.Error(t, s.CheckChain(tc.node), "CheckChain agrees")
			err = s.BindChain(tc.node)
			var mismatch *store.ChainMismatchError
			require.ErrorAs(t, err, &mismatch)
			for _, w := range append(tc.want, "nothing was deleted", "point data_dir at another directory", "remove the data dir deliberately") {
				require.ErrorContains(t, err, w)
			}
			// Nothing changed.
			id, ok, err := s.Identity()
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, first.ChainID, id.ChainID)
			require.Equal(t, first.GenesisHash, id.GenesisHash)
			cursor, err := s.Cursor()
			require.NoError(t, err)
			require.EqualValues(t, 20, cursor)
			done, err := s.Submitted("7")
			require.NoError(t, err)
			require.True(t, done)
		})
	}

	s, err = store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.CheckChain(first))
	require.NoError(t, s.BindChain(first), "the same chain again")
	require.NoError(t, s.BindChain(store.Identity{ChainID: "avs-1"}), "a node that cannot serve its genesis: checked by chain id")
}

// TestH3StoreBindsOnFirstUseAndFillsAnUnknownGenesis: a new store, and one
// written before identities existed, take the chain they first meet; a
// genesis hash first unknown is recorded once known, and then enforced.
func TestH3StoreBindsOnFirstUseAndFillsAnUnknownGenesis(t *testing.T) {
	s := store.OpenMemory()
	_, ok, err := s.Identity()
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.SetCursor(5), "an old store: records and no identity")

	require.NoError(t, s.BindChain(store.Identity{ChainID: "avs-1"}))
	id, ok, err := s.Identity()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "avs-1", id.ChainID)
	require.Empty(t, id.GenesisHash)
	require.False(t, id.RecordedAt.IsZero())

	require.NoError(t, s.BindChain(store.Identity{ChainID: "avs-1", GenesisHash: "cccc"}))
	id, _, err = s.Identity()
	require.NoError(t, err)
	require.Equal(t, "cccc", id.GenesisHash)
	require.Error(t, s.BindChain(store.Identity{ChainID: "avs-1", GenesisHash: "dddd"}))
}
