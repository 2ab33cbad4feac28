package chain

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/jsonpb"
	"github.com/cosmos/gogoproto/proto"
	"github.com/gorilla/websocket"

	"github.com/avschain/avschain/x/avs/types"
)

// EventTaskCreatedType is the ABCI event type of types.EventTaskCreated.
var EventTaskCreatedType = proto.MessageName(&types.EventTaskCreated{})

// EventCommitsClosedType is the ABCI event type of types.EventCommitsClosed:
// a COMMIT_REVEAL task's commit phase closed at quorum, so its reveals are
// accepted from the next block.
var EventCommitsClosedType = proto.MessageName(&types.EventCommitsClosed{})

// Notification is one websocket message: a new block height, or a task
// created in a transaction (TaskID > 0). A task's notification carries its
// EventTaskCreated and the height of its block when the node sent the
// transaction's result (CometBFT does), so the task can be run without a
// query (Task nil and Height 0 otherwise).
type Notification struct {
	Height int64
	TaskID uint64
	Task   *types.EventTaskCreated
}

const (
	queryNewBlock   = "tm.event='NewBlockHeader'"
	notificationCap = 256
)

// Request ids of the two subscriptions (a string id is echoed by CometBFT).
var subscriptionIDs = map[string]rpctypes.JSONRPCStringID{
	queryNewBlock: "avs-sidecar-blocks", QueryTaskCreated: "avs-sidecar-tasks",
}

// QueryTaskCreated selects transactions that opened x/avs tasks.
var QueryTaskCreated = fmt.Sprintf("tm.event='Tx' AND %s.task_id EXISTS", EventTaskCreatedType)

// Subscribe opens a new websocket to the RPC endpoint in use and streams new
// block heights and created task ids until ctx ends, the node closes the
// connection, or the node sends nothing (no event, no pong to the client's
// pings) for the read wait (WithWebsocketKeepalive); the channel is then
// closed. The caller reconnects, after NextRPC if it wants another node.
func (c *Client) Subscribe(ctx context.Context) (<-chan Notification, error) {
	endpoint := c.RPCURL()
	u, header, err := websocketURL(endpoint)
	if err != nil {
		return nil, err
	}
	c.metrics.RPCCall(kindRPC, "subscribe")
	dialer := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: c.callTimeout}
	dialCtx, cancel := context.WithTimeout(ctx, c.callTimeout)
	conn, res, err := dialer.DialContext(dialCtx, u, header)
	cancel()
	if res != nil && res.Body != nil {
		_ = res.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("websocket %s: %w", endpoint, err)
	}
	s := &subscription{conn: conn, writeWait: c.callTimeout, readWait: c.readWait, pingPeriod: c.pingPeriod}
	early, err := s.subscribe(c.callTimeout)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("subscribe on %s: %w", endpoint, err)
	}
	out := make(chan Notification, notificationCap)
	go s.run(ctx, out, early)
	return out, nil
}

// websocketURL turns an RPC endpoint (tcp://, http://, https://, or a bare
// host:port as CometBFT accepts) into its /websocket URL, with the basic
// auth of its user info as a header.
func websocketURL(endpoint string) (string, http.Header, error) {
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "tcp://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("rpc endpoint %q: %w", endpoint, err)
	}
	switch u.Scheme {
	case "tcp", "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", nil, fmt.Errorf("rpc endpoint %q: no websocket over %s (use tcp://, http:// or https://)", endpoint, u.Scheme)
	}
	header := http.Header{}
	if u.User != nil {
		pw, _ := u.User.Password()
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
		u.User = nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	return u.String(), header, nil
}

// subscription is one websocket with the two subscriptions on it. Only run
// reads from it; the pinger writes control frames, which gorilla allows
// concurrently.
type subscription struct {
	conn                            *websocket.Conn
	writeWait, readWait, pingPeriod time.Duration
	closeOnce                       sync.Once
}

// subscribe asks for new blocks and created tasks and waits, bounded by
// wait, for the node to confirm both. Events that arrive meanwhile are
// returned to be sent first.
func (s *subscription) subscribe(wait time.Duration) ([]Notification, error) {
	deadline := time.Now().Add(wait)
	_ = s.conn.SetWriteDeadline(deadline)
	for _, q := range []string{queryNewBlock, QueryTaskCreated} {
		req, err := rpctypes.MapToRequest(subscriptionIDs[q], "subscribe", map[string]any{"query": q})
		if err != nil {
			return nil, err
		}
		if err := s.conn.WriteJSON(req); err != nil {
			return nil, err
		}
	}
	_ = s.conn.SetWriteDeadline(time.Time{})
	_ = s.conn.SetReadDeadline(deadline)
	var early []Notification
	confirmed := map[any]bool{}
	for len(confirmed) < len(subscriptionIDs) {
		notes, id, err := s.next()
		if err != nil {
			return nil, err
		}
		if id != nil {
			confirmed[id] = true
		}
		early = append(early, notes...)
	}
	return early, nil
}

// next reads one message: the notifications it carries, or the id of the
// subscription it confirms.
func (s *subscription) next() ([]Notification, any, error) {
	_, bz, err := s.conn.ReadMessage()
	if err != nil {
		return nil, nil, err
	}
	return decodeMessage(bz)
}

// errMalformedMessage: a websocket message that is not a JSON-RPC response
// holding a CometBFT event.
var errMalformedMessage = errors.New("malformed websocket message")

// decodeMessage reads one websocket message: the notifications it carries,
// or the id of the subscription it confirms; an error is the node's
// *rpctypes.RPCError or errMalformedMessage.
func decodeMessage(bz []byte) ([]Notification, any, error) {
	var res rpctypes.RPCResponse
	if err := json.Unmarshal(bz, &res); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errMalformedMessage, err)
	}
	if res.Error != nil {
		// A refused subscription, or one the node cancelled (a client
		// too slow to read its events).
		return nil, nil, res.Error
	}
	var ev coretypes.ResultEvent
	if err := cmtjson.Unmarshal(res.Result, &ev); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errMalformedMessage, err)
	}
	if ev.Query == "" {
		return nil, res.ID, nil
	}
	var notes []Notification
	if h, ok := ev.Data.(cmttypes.EventDataNewBlockHeader); ok {
		notes = append(notes, Notification{Height: h.Header.Height})
	}
	if tx, ok := ev.Data.(cmttypes.EventDataTx); ok {
		for _, e := range tx.Result.Events {
			if tc, ok := ParseTaskCreated(e); ok {
				notes = append(notes, Notification{Height: tx.Height, TaskID: tc.TaskId, Task: tc})
			}
		}
		if len(notes) > 0 {
			return notes, nil, nil
		}
	}
	for _, v := range ev.Events[EventTaskCreatedType+".task_id"] {
		if id, err := unquoteUint(v); err == nil {
			notes = append(notes, Notification{TaskID: id})
		}
	}
	return notes, nil, nil
}

// run streams the notifications into out until ctx ends or the connection
// does, then closes both.
func (s *subscription) run(ctx context.Context, out chan<- Notification, early []Notification) {
	defer close(out)
	defer s.close()
	stop := context.AfterFunc(ctx, s.close) // unblocks a read
	defer stop()

	alive := func() error { return s.conn.SetReadDeadline(time.Now().Add(s.readWait)) }
	_ = alive()
	s.conn.SetPongHandler(func(string) error { return alive() })
	s.conn.SetPingHandler(func(data string) error {
		_ = alive()
		err := s.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(s.writeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	done := make(chan struct{})
	defer close(done)
	go s.ping(done)

	notes := early
	for {
		for _, n := range notes {
			select {
			case out <- n:
			case <-ctx.Done():
				return
			}
		}
		var err error
		if notes, _, err = s.next(); err != nil {
			return
		}
		_ = alive()
	}
}

// ping pings the node every ping period until done, so that a silent or
// half-open connection ends the read within the read wait.
func (s *subscription) ping(done <-chan struct{}) {
	t := time.NewTicker(s.pingPeriod)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.writeWait)); err != nil {
				return
			}
		}
	}
}

// close says goodbye (bounded) and closes the connection, once.
func (s *subscription) close() {
	s.closeOnce.Do(func() {
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(time.Second))
		_ = s.conn.Close()
	})
}

func unquoteUint(v string) (uint64, error) {
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		s = v
	}
	return strconv.ParseUint(s, 10, 64)
}

// ParseTaskCreated decodes an EventTaskCreated from an ABCI event, ignoring
// attributes the SDK adds (msg_index, mode).
func ParseTaskCreated(e abci.Event) (*types.EventTaskCreated, bool) {
	var ev types.EventTaskCreated
	if !parseTyped(e, EventTaskCreatedType, &ev) {
		return nil, false
	}
	return &ev, true
}

// ParseCommitsClosed decodes an EventCommitsClosed from an ABCI event.
func ParseCommitsClosed(e abci.Event) (*types.EventCommitsClosed, bool) {
	var ev types.EventCommitsClosed
	if !parseTyped(e, EventCommitsClosedType, &ev) {
		return nil, false
	}
	return &ev, true
}

// parseTyped decodes a typed event (sdk.TypedEventToEvent: each field an
// attribute holding its JSON) of type typ into out, ignoring the attributes
// the SDK adds (msg_index, mode) and fields it does not know.
func parseTyped(e abci.Event, typ string, out proto.Message) bool {
	if e.Type != typ {
		return false
	}
	attrs := make(map[string]json.RawMessage, len(e.Attributes))
	for _, a := range e.Attributes {
		if a.Key == "msg_index" || a.Key == "mode" {
			continue
		}
		attrs[a.Key] = json.RawMessage(a.Value)
	}
	bz, err := json.Marshal(attrs)
	if err != nil {
		return false
	}
	u := jsonpb.Unmarshaler{AllowUnknownFields: true}
	return u.Unmarshal(bytes.NewReader(bz), out) == nil
}
