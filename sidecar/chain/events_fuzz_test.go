package chain

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// nodeMessage is a websocket message as CometBFT's JSON-RPC server writes
// it: the subscription's id and a ResultEvent encoded with cmtjson.
func nodeMessage(tb testing.TB, id string, ev *coretypes.ResultEvent) []byte {
	tb.Helper()
	bz, err := json.Marshal(rpctypes.NewRPCSuccessResponse(rpctypes.JSONRPCStringID(id), ev))
	require.NoError(tb, err)
	return bz
}

// taskCreatedTx is the message of a transaction that opened task: its
// EventTaskCreated as the SDK emits a typed event, and the events map the
// node indexes it under.
func taskCreatedTx(tb testing.TB, height int64, task *types.EventTaskCreated) []byte {
	tb.Helper()
	e, err := sdk.TypedEventToEvent(task)
	require.NoError(tb, err)
	e.Attributes = append(e.Attributes, abci.EventAttribute{Key: "msg_index", Value: "0"})
	return nodeMessage(tb, "avs-sidecar-tasks", &coretypes.ResultEvent{
		Query: QueryTaskCreated,
		Data: cmttypes.EventDataTx{TxResult: abci.TxResult{Height: height, Result: abci.ExecTxResult{
			Events: []abci.Event{{Type: "message", Attributes: []abci.EventAttribute{{Key: "action", Value: "/x"}}}, abci.Event(e)},
		}}},
		Events: map[string][]string{EventTaskCreatedType + ".task_id": {strconv.Quote(strconv.FormatUint(task.TaskId, 10))}},
	})
}

// requireWellFormed checks what decodeMessage promises for any message: an
// error is the node's RPCError or errMalformedMessage and comes alone; a
// confirmation carries no notification; a task notification with the
// task's event names that task.
func requireWellFormed(t *testing.T, notes []Notification, id any, err error) {
	t.Helper()
	if err != nil {
		var rpcErr *rpctypes.RPCError
		require.True(t, errors.As(err, &rpcErr) || errors.Is(err, errMalformedMessage), "unexpected error %v", err)
		require.Empty(t, notes)
		require.Nil(t, id)
		return
	}
	if id != nil {
		require.Empty(t, notes, "a confirmation carries no event")
	}
	for _, n := range notes {
		if n.Task != nil {
			require.Equal(t, n.Task.TaskId, n.TaskID)
		}
	}
}

// FuzzDecodeMessage: the websocket's messages come from the node over the
// network. Any bytes decode to notifications, a subscription's
// confirmation, or an error (the node's RPCError or errMalformedMessage),
// never a panic (tests review M6: sidecar/chain's event parsing had no
// fuzz target).
func FuzzDecodeMessage(f *testing.F) {
	task := &types.EventTaskCreated{TaskId: 7, ServiceId: 2, Creator: "avs1creator", DeadlineHeight: 60, Fee: sdk.NewCoin("stake", sdkmath.NewInt(5)),
		Epoch: 1, Input: []byte(`{"x":4}`), InputInEvent: true, ServiceRevision: 1}
	f.Add(taskCreatedTx(f, 41, task))
	f.Add(nodeMessage(f, "avs-sidecar-blocks", &coretypes.ResultEvent{Query: queryNewBlock, Data: cmttypes.EventDataNewBlockHeader{Header: cmttypes.Header{Height: 41}}}))
	f.Add(nodeMessage(f, "avs-sidecar-tasks", &coretypes.ResultEvent{Query: QueryTaskCreated, Data: cmttypes.EventDataTx{},
		Events: map[string][]string{EventTaskCreatedType + ".task_id": {`"7"`, `8`, `"x"`}}}))
	confirm, err := json.Marshal(rpctypes.NewRPCSuccessResponse(rpctypes.JSONRPCStringID("avs-sidecar-blocks"), &coretypes.ResultSubscribe{}))
	require.NoError(f, err)
	f.Add(confirm)
	refused, err := json.Marshal(rpctypes.RPCServerError(rpctypes.JSONRPCStringID("avs-sidecar-tasks"), errors.New("subscription was cancelled")))
	require.NoError(f, err)
	f.Add(refused)
	f.Add([]byte(`{"jsonrpc":"2.0","id":"x","result":{"query":"q","data":{"type":"tendermint/event/Tx","value":{}}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, bz []byte) {
		notes, id, err := decodeMessage(bz)
		requireWellFormed(t, notes, id, err)
	})
}

// FuzzTaskCreatedNotification: a transaction's EventTaskCreated, for any
// task the chain can emit, comes out of the websocket as exactly one
// notification naming that task, with the transaction's height and the
// event as the chain wrote it; a new block header comes out as its height.
func FuzzTaskCreatedNotification(f *testing.F) {
	f.Add(int64(41), uint64(7), uint64(2), "avs1creator", int64(60), uint64(5), []byte(`{"x":4}`), true)
	f.Add(int64(1), uint64(1), uint64(0), "", int64(0), uint64(0), []byte{}, true)
	f.Add(int64(9223372036854775807), uint64(18446744073709551615), uint64(18446744073709551615), "\x00\"\\", int64(-1), uint64(1<<63), []byte{0xff, 0}, false)
	f.Fuzz(func(t *testing.T, height int64, taskID, serviceID uint64, creator string, deadline int64, fee uint64, input []byte, inEvent bool) {
		// The chain numbers tasks and blocks from 1; its strings are UTF-8.
		height, taskID = max(height, 1), max(taskID, 1)
		creator = strings.ToValidUTF8(creator, "?")
		task := &types.EventTaskCreated{TaskId: taskID, ServiceId: serviceID, Creator: creator, DeadlineHeight: deadline,
			Fee: sdk.Coin{Denom: "stake", Amount: sdkmath.NewIntFromUint64(fee)}, Input: input, InputInEvent: inEvent}
		notes, id, err := decodeMessage(taskCreatedTx(t, height, task))
		require.NoError(t, err)
		require.Nil(t, id)
		require.Len(t, notes, 1)
		require.Equal(t, height, notes[0].Height)
		require.Equal(t, taskID, notes[0].TaskID)
		require.NotNil(t, notes[0].Task)
		want, err := task.Marshal()
		require.NoError(t, err)
		got, err := notes[0].Task.Marshal()
		require.NoError(t, err)
		require.Equal(t, want, got, "the event as the chain wrote it (proto bytes)")

		notes, id, err = decodeMessage(nodeMessage(t, "avs-sidecar-blocks", &coretypes.ResultEvent{
			Query: queryNewBlock, Data: cmttypes.EventDataNewBlockHeader{Header: cmttypes.Header{Height: height}},
		}))
		require.NoError(t, err)
		require.Nil(t, id)
		require.Equal(t, []Notification{{Height: height}}, notes)
	})
}
