package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/jsonpb"
	"github.com/cosmos/gogoproto/proto"

	"github.com/avschain/avschain/x/avs/types"
)

// EventTaskCreatedType is the ABCI event type of types.EventTaskCreated.
var EventTaskCreatedType = proto.MessageName(&types.EventTaskCreated{})

// Notification is one websocket message: a new block height, or a task
// created in a transaction (TaskID > 0).
type Notification struct {
	Height int64
	TaskID uint64
}

const (
	queryNewBlock   = "tm.event='NewBlockHeader'"
	subscriberName  = "avs-sidecar"
	notificationCap = 256
)

// QueryTaskCreated selects transactions that opened x/avs tasks.
var QueryTaskCreated = fmt.Sprintf("tm.event='Tx' AND %s.task_id EXISTS", EventTaskCreatedType)

// Subscribe opens the websocket of the current RPC endpoint and streams new
// block heights and created task ids until ctx ends or the connection fails
// (the channel is then closed). The caller reconnects, after NextRPC.
func (c *Client) Subscribe(ctx context.Context) (<-chan Notification, error) {
	r := c.RPC()
	if !r.IsRunning() {
		if err := r.Start(); err != nil {
			return nil, fmt.Errorf("websocket %s: %w", c.RPCURL(), err)
		}
	}
	blocks, err := r.Subscribe(ctx, subscriberName, queryNewBlock, notificationCap)
	if err != nil {
		_ = r.Stop()
		return nil, fmt.Errorf("subscribe to new blocks on %s: %w", c.RPCURL(), err)
	}
	tasks, err := r.Subscribe(ctx, subscriberName, QueryTaskCreated, notificationCap)
	if err != nil {
		_ = r.UnsubscribeAll(context.Background(), subscriberName)
		_ = r.Stop()
		return nil, fmt.Errorf("subscribe to task events on %s: %w", c.RPCURL(), err)
	}
	out := make(chan Notification, notificationCap)
	go func() {
		defer close(out)
		defer func() {
			_ = r.UnsubscribeAll(context.Background(), subscriberName)
			_ = r.Stop()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-blocks:
				if !ok {
					return
				}
				if h, ok := ev.Data.(cmttypes.EventDataNewBlockHeader); ok {
					out <- Notification{Height: h.Header.Height}
				}
			case ev, ok := <-tasks:
				if !ok {
					return
				}
				for _, v := range ev.Events[EventTaskCreatedType+".task_id"] {
					if id, err := unquoteUint(v); err == nil {
						out <- Notification{TaskID: id}
					}
				}
			}
		}
	}()
	return out, nil
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
	if e.Type != EventTaskCreatedType {
		return nil, false
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
		return nil, false
	}
	var ev types.EventTaskCreated
	u := jsonpb.Unmarshaler{AllowUnknownFields: true}
	if err := u.Unmarshal(bytes.NewReader(bz), &ev); err != nil {
		return nil, false
	}
	return &ev, true
}
