package watcher_test

import (
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Each block read is reported to WithBlocks once its work is saved, with
// the tasks whose commit phase closed in it (EventCommitsClosed in a
// transaction's events), so that their reveals go out in the next block; a
// failed transaction's events do not count. The signal is not saved as work.
func TestBlocksReportClosedCommitPhases(t *testing.T) {
	src := newFakeSource(t, 6)
	closed := func(id uint64) abci.Event {
		e, err := sdk.TypedEventToEvent(&types.EventCommitsClosed{TaskId: id, Height: 5, CommitPower: 20, CommitCount: 2})
		require.NoError(t, err)
		e.Attributes = append(e.Attributes, abci.EventAttribute{Key: "msg_index", Value: "0"})
		return abci.Event(e)
	}
	src.blocks[5] = &coretypes.ResultBlockResults{Height: 5, TxsResults: []*abci.ExecTxResult{
		{Code: 0, Events: []abci.Event{closed(7), taskCreated(t, 9, 2), closed(8)}},
		{Code: 5, Events: []abci.Event{closed(10)}},
	}}
	st := store.OpenMemory()
	require.NoError(t, st.SetCursor(4))
	blocks := make(chan watcher.Block, 4)
	tasks, _ := startWatcher(t, src, st, watcher.WithBlocks(blocks))

	next := func() watcher.Block {
		select {
		case b := <-blocks:
			return b
		case <-time.After(5 * time.Second):
			t.Fatal("no block reported")
			return watcher.Block{}
		}
	}
	require.Equal(t, watcher.Block{Height: 5, CommitsClosed: []uint64{7, 8}}, next())
	require.Equal(t, watcher.Block{Height: 6}, next())
	require.Equal(t, uint64(9), receive(t, tasks).ID, "the block's created task is work as before")
	require.Equal(t, []string{"9"}, keys(inboxTasks(t, st)), "only the created task is saved")
}
