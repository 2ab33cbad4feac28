package chain_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// An EventCommitsClosed as x/avs emits it (a typed event, with the
// attributes the SDK adds) is read back whole; other events are not taken
// for it.
func TestParseCommitsClosed(t *testing.T) {
	want := &types.EventCommitsClosed{TaskId: 9, Height: 41, CommitPower: 30, CommitCount: 3}
	e, err := sdk.TypedEventToEvent(want)
	require.NoError(t, err)
	e.Attributes = append(e.Attributes, abci.EventAttribute{Key: "msg_index", Value: "0"}, abci.EventAttribute{Key: "mode", Value: "EndBlock"})

	got, ok := chain.ParseCommitsClosed(abci.Event(e))
	require.True(t, ok)
	require.Equal(t, want, got)

	created, err := sdk.TypedEventToEvent(&types.EventTaskCreated{TaskId: 9})
	require.NoError(t, err)
	_, ok = chain.ParseCommitsClosed(abci.Event(created))
	require.False(t, ok, "an EventTaskCreated is not an EventCommitsClosed")
	_, ok = chain.ParseTaskCreated(abci.Event(e))
	require.False(t, ok)
}
