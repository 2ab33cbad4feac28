package chain_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// subscription is a subscribe request the fake node confirmed.
type subscription struct {
	req   rpctypes.RPCRequest
	query string
}

// confirmSubscriptions reads the client's two subscribe requests and
// confirms each, the way CometBFT does (an empty result with the request's
// id; events then carry that id and the query).
func confirmSubscriptions(conn *websocket.Conn) (blocks, tasks subscription, ok bool) {
	var subs []subscription
	for len(subs) < 2 {
		var req rpctypes.RPCRequest
		if err := conn.ReadJSON(&req); err != nil {
			return blocks, tasks, false
		}
		var p struct {
			Query string `json:"query"`
		}
		_ = json.Unmarshal(req.Params, &p)
		subs = append(subs, subscription{req: req, query: p.Query})
		if err := conn.WriteJSON(rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultSubscribe{})); err != nil {
			return blocks, tasks, false
		}
	}
	if subs[0].query == chain.QueryTaskCreated {
		subs[0], subs[1] = subs[1], subs[0]
	}
	return subs[0], subs[1], true
}

func sendBlock(conn *websocket.Conn, s subscription, height int64) error {
	return conn.WriteJSON(rpctypes.NewRPCSuccessResponse(s.req.ID, &coretypes.ResultEvent{
		Query: s.query, Data: cmttypes.EventDataNewBlockHeader{Header: cmttypes.Header{Height: height}},
	}))
}

func sendTask(conn *websocket.Conn, s subscription, id string) error {
	return conn.WriteJSON(rpctypes.NewRPCSuccessResponse(s.req.ID, &coretypes.ResultEvent{
		Query: s.query, Data: cmttypes.EventDataTx{},
		Events: map[string][]string{chain.EventTaskCreatedType + ".task_id": {`"` + id + `"`}},
	}))
}

// receive waits, bounded, for the next notification.
func receive(t *testing.T, ch <-chan chain.Notification) chain.Notification {
	t.Helper()
	select {
	case n, ok := <-ch:
		require.True(t, ok, "the subscription ended early")
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
	}
	return chain.Notification{}
}

// requireEnds drains ch and fails unless it is closed within the bound.
func requireEnds(t *testing.T, ch <-chan chain.Notification, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: the subscription's channel was not closed within 10s", what)
		}
	}
}

// TestL1SubscriptionEndsWhenConnectionDies: when the node drops the
// websocket, the notification channel closes so the watcher reconnects
// (CometBFT's own subscription channels are never closed).
func TestL1SubscriptionEndsWhenConnectionDies(t *testing.T) {
	node := newFakeNode(t, 1)
	node.set(func(f *fakeNode) {
		f.ws = func(conn *websocket.Conn) {
			blocks, tasks, ok := confirmSubscriptions(conn)
			if !ok {
				return
			}
			_ = sendBlock(conn, blocks, 5)
			_ = sendTask(conn, tasks, "7")
			// returning closes the connection
		}
	})
	c, err := chain.Dial("test", []string{node.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := c.Subscribe(ctx)
	require.NoError(t, err)
	require.Equal(t, chain.Notification{Height: 5}, receive(t, ch))
	require.Equal(t, chain.Notification{TaskID: 7}, receive(t, ch))
	requireEnds(t, ch, "connection closed by the node")
}

// TestL1HalfOpenConnectionIsDetected: a node that stops answering (no
// data, no pongs) without closing the connection ends the subscription
// after the read wait, thanks to the client's pings.
func TestL1HalfOpenConnectionIsDetected(t *testing.T) {
	node := newFakeNode(t, 1)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	node.set(func(f *fakeNode) {
		f.ws = func(conn *websocket.Conn) {
			if _, _, ok := confirmSubscriptions(conn); ok {
				<-stop // neither read (so no pong) nor write
			}
		}
	})
	c, err := chain.Dial("test", []string{node.URL}, []string{"127.0.0.1:1"},
		chain.WithWebsocketKeepalive(50*time.Millisecond, 300*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := c.Subscribe(ctx)
	require.NoError(t, err)
	requireEnds(t, ch, "silent node")
}

// TestL1SubscribeAgainAfterAnEnd: a subscription that ended (here by its
// context) does not spoil the endpoint; the next Subscribe on it works (a
// stopped CometBFT client could not be restarted).
func TestL1SubscribeAgainAfterAnEnd(t *testing.T) {
	node := newFakeNode(t, 1)
	node.set(func(f *fakeNode) {
		f.ws = func(conn *websocket.Conn) {
			blocks, _, ok := confirmSubscriptions(conn)
			if !ok {
				return
			}
			_ = sendBlock(conn, blocks, 9)
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}
	})
	c, err := chain.Dial("test", []string{node.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := c.Subscribe(ctx)
		require.NoError(t, err)
		require.Equal(t, chain.Notification{Height: 9}, receive(t, ch))
		cancel()
		requireEnds(t, ch, "cancelled subscription")
	}
}

// TestL5SubscriptionEndsAtShutdownWithoutReader: at shutdown nobody reads
// the notifications any more; the subscription still ends and closes its
// connection instead of blocking forever on a full channel.
func TestL5SubscriptionEndsAtShutdownWithoutReader(t *testing.T) {
	node := newFakeNode(t, 1)
	gone := make(chan struct{})
	node.set(func(f *fakeNode) {
		f.ws = func(conn *websocket.Conn) {
			defer close(gone)
			blocks, _, ok := confirmSubscriptions(conn)
			if !ok {
				return
			}
			for h := int64(1); h <= 600; h++ {
				if sendBlock(conn, blocks, h) != nil {
					return
				}
			}
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}
	})
	c, err := chain.Dial("test", []string{node.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	ctx, cancel := context.WithCancel(context.Background())
	ch, err := c.Subscribe(ctx)
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for len(ch) < cap(ch) {
		require.True(t, time.Now().Before(deadline), "the notification channel never filled")
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription kept its connection open after its context ended")
	}
	requireEnds(t, ch, "cancelled subscription")
}

// A task's notification carries its EventTaskCreated, read from the
// transaction's result, and its block's height: the watcher hands both to
// the pipeline, which runs the task without a query.
func TestTaskNotificationCarriesTheEvent(t *testing.T) {
	created := &types.EventTaskCreated{
		TaskId: 8, ServiceId: 3, ComponentDigest: "ab", DeadlineHeight: 60, Epoch: 2, ServiceRevision: 4,
		Input: []byte(`{"x":1}`), InputInEvent: true, Origin: types.Origin{Kind: types.ORIGIN_KIND_TX},
		CreatedTime: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), Fee: sdk.NewInt64Coin("uavs", 5),
	}
	typed, err := sdk.TypedEventToEvent(created)
	require.NoError(t, err)
	typed.Attributes = append(typed.Attributes, abci.EventAttribute{Key: "msg_index", Value: "0"})
	node := newFakeNode(t, 1)
	node.set(func(f *fakeNode) {
		f.ws = func(conn *websocket.Conn) {
			_, tasks, ok := confirmSubscriptions(conn)
			if !ok {
				return
			}
			_ = conn.WriteJSON(rpctypes.NewRPCSuccessResponse(tasks.req.ID, &coretypes.ResultEvent{
				Query: tasks.query,
				Data: cmttypes.EventDataTx{TxResult: abci.TxResult{Height: 9, Result: abci.ExecTxResult{
					Events: []abci.Event{{Type: "message"}, abci.Event(typed)},
				}}},
				Events: map[string][]string{chain.EventTaskCreatedType + ".task_id": {`"8"`}},
			}))
		}
	})
	c, err := chain.Dial("test", []string{node.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := c.Subscribe(ctx)
	require.NoError(t, err)
	n := receive(t, ch)
	require.Equal(t, uint64(8), n.TaskID)
	require.Equal(t, int64(9), n.Height, "the transaction's block")
	require.NotNil(t, n.Task)
	require.Equal(t, created.Input, n.Task.Input)
	require.True(t, n.Task.InputInEvent)
	require.Equal(t, created.ServiceRevision, n.Task.ServiceRevision)
	require.Equal(t, created.Origin, n.Task.Origin)
	require.True(t, created.CreatedTime.Equal(n.Task.CreatedTime))
	requireEnds(t, ch, "connection closed by the node")
}
