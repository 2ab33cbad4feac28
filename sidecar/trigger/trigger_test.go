package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/trigger"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

const (
	operator = "avs1operator"
	contract = "avs1contract"
)

var blockTime = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

// fakeChain serves the operator's services and one block, and counts calls.
type fakeChain struct {
	mu        sync.Mutex
	optedIn   []uint64
	services  map[uint64]types.Service
	block     *coretypes.ResultBlock
	opCalls   int
	svcCalls  int
	blockAsks []int64
}

func (c *fakeChain) OperatorServices(_ context.Context, op string) ([]uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opCalls++
	if op != operator {
		return nil, fmt.Errorf("unknown operator %s", op)
	}
	return append([]uint64(nil), c.optedIn...), nil
}

func (c *fakeChain) Service(_ context.Context, id uint64) (types.Service, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.svcCalls++
	s, ok := c.services[id]
	if !ok {
		return types.Service{}, fmt.Errorf("no service %d", id)
	}
	return s, nil
}

func (c *fakeChain) Block(_ context.Context, height int64) (*coretypes.ResultBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blockAsks = append(c.blockAsks, height)
	if c.block == nil {
		return nil, fmt.Errorf("no block %d", height)
	}
	return c.block, nil
}

func (c *fakeChain) counts() (op, blocks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opCalls, len(c.blockAsks)
}

func (c *fakeChain) setOptedIn(ids ...uint64) {
	c.mu.Lock()
	c.optedIn = ids
	c.mu.Unlock()
}

func eventService(id uint64, updated int64, triggers ...types.EventTrigger) types.Service {
	m := types.ServiceManifest{Name: fmt.Sprintf("svc-%d", id)}
	for i := range triggers {
		m.Triggers = append(m.Triggers, types.Trigger{Kind: &types.Trigger_Event{Event: &triggers[i]}})
	}
	return types.Service{Id: id, Manifest: m, UpdatedHeight: updated}
}

func announceTrigger() types.EventTrigger {
	return types.EventTrigger{Type: "wasm-announce", Attributes: []types.EventAttributeFilter{{Key: "_contract_address", Value: contract}}}
}

func announce(from, data, msgIndex string) abci.Event {
	return abci.Event{Type: "wasm-announce", Attributes: []abci.EventAttribute{
		{Key: "_contract_address", Value: from, Index: true},
		{Key: "data", Value: data},
		{Key: "msg_index", Value: msgIndex},
	}}
}

func chainWithBlock(txs ...[]byte) *fakeChain {
	block := &cmttypes.Block{Header: cmttypes.Header{ChainID: "avschain-test", Time: blockTime}}
	for _, tx := range txs {
		block.Txs = append(block.Txs, cmttypes.Tx(tx))
	}
	return &fakeChain{services: map[uint64]types.Service{}, block: &coretypes.ResultBlock{Block: block}}
}

func newMatcher(t *testing.T, c trigger.Chain, opts ...trigger.Option) *trigger.Matcher {
	t.Helper()
	opts = append([]trigger.Option{trigger.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	m, err := trigger.New(c, operator, opts...)
	require.NoError(t, err)
	return m
}

func txHash(bz []byte) string { return fmt.Sprintf("%X", cmttypes.Tx(bz).Hash()) }

func inputOf(t *testing.T, task watcher.Work) trigger.Input {
	t.Helper()
	require.NotNil(t, task.Event)
	var in trigger.Input
	require.NoError(t, json.Unmarshal(task.Event.Input, &in))
	return in
}

func TestMatchWasmEventInTx(t *testing.T) {
	tx0, tx1 := []byte("first transaction"), []byte("second transaction")
	c := chainWithBlock(tx0, tx1)
	c.optedIn = []uint64{3}
	c.services[3] = eventService(3, 1, announceTrigger())
	m := newMatcher(t, c)

	ev := announce(contract, "hello", "0")
	res := &coretypes.ResultBlockResults{Height: 20, TxsResults: []*abci.ExecTxResult{
		{Code: 0, Events: []abci.Event{{Type: "message", Attributes: []abci.EventAttribute{{Key: "action", Value: "send"}}}}},
		{Code: 0, Events: []abci.Event{
			{Type: "message", Attributes: []abci.EventAttribute{{Key: "action", Value: "/cosmwasm.wasm.v1.MsgExecuteContract"}}},
			announce("avs1other", "not ours", "0"), // another contract
			{Type: "wasm", Attributes: []abci.EventAttribute{{Key: "_contract_address", Value: contract}}},
			ev,
		}},
	}}
	got, err := m.Match(context.Background(), 20, res)
	require.NoError(t, err)
	require.Len(t, got, 1)
	task := got[0]
	hash := txHash(tx1)
	require.Len(t, hash, 64)
	require.Equal(t, uint64(0), task.ID)
	require.Equal(t, uint64(3), task.ServiceID)
	require.Equal(t, int64(20), task.Height)
	require.True(t, task.BlockTime.Equal(blockTime), "block time %s", task.BlockTime)
	require.Equal(t, uint64(3), task.Event.ServiceId)
	require.Equal(t, int64(20), task.Event.Height)
	require.Equal(t, hash, task.Event.TxHash, "upper-hex sha256 of tx 1")
	require.NotEqual(t, txHash(tx0), task.Event.TxHash)
	require.Equal(t, uint32(3), task.Event.EventIndex, "index among tx 1's events")
	require.Equal(t, "event/3/20/"+hash+"/3", task.Key())

	require.Equal(t, trigger.Input{
		Trigger: "event", ServiceID: 3, Height: 20, TxHash: hash, EventIndex: 3,
		Event: trigger.Event{Type: "wasm-announce", Attributes: []trigger.Attribute{
			{Key: "_contract_address", Value: contract}, {Key: "data", Value: "hello"}, {Key: "msg_index", Value: "0"},
		}},
	}, inputOf(t, task))
	want, err := trigger.BuildInput(3, 20, hash, 3, ev)
	require.NoError(t, err)
	require.Equal(t, want, task.Event.Input, "the input is BuildInput's")
	_, blocks := c.counts()
	require.Equal(t, 1, blocks)
}

func TestMatchSkipsFailedTxsAndMatchesBlockEvents(t *testing.T) {
	tx0, tx1 := []byte("failed"), []byte("ok")
	c := chainWithBlock(tx0, tx1)
	c.optedIn = []uint64{3}
	c.services[3] = eventService(3, 0, types.EventTrigger{Type: "wasm-announce"}) // any attributes
	m := newMatcher(t, c)

	res := &coretypes.ResultBlockResults{
		Height: 9,
		TxsResults: []*abci.ExecTxResult{
			{Code: 5, Events: []abci.Event{announce(contract, "from a failed tx", "0")}},
			{Code: 0, Events: []abci.Event{{Type: "message"}}},
		},
		FinalizeBlockEvents: []abci.Event{
			{Type: "coin_spent"},
			announce(contract, "end block", "0"),
			{Type: "coin_received"},
			announce(contract, "end block again", "1"),
		},
	}
	got, err := m.Match(context.Background(), 9, res)
	require.NoError(t, err)
	require.Len(t, got, 2, "only the block's own events match")
	for i, wantIndex := range []uint32{1, 3} {
		require.Empty(t, got[i].Event.TxHash)
		require.Equal(t, wantIndex, got[i].Event.EventIndex)
		require.Equal(t, "event/3/9//"+fmt.Sprint(wantIndex), got[i].Key())
		in := inputOf(t, got[i])
		require.Empty(t, in.TxHash)
		require.Equal(t, wantIndex, in.EventIndex)
	}
	require.Equal(t, "end block", inputOf(t, got[0]).Event.Attributes[1].Value)
	require.Equal(t, "end block again", inputOf(t, got[1]).Event.Attributes[1].Value)
}

func TestMatchOnlyAfterServiceUpdate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		height  int64
		matched bool
	}{
		{name: "before the update", height: 9},
		{name: "at the update", height: 10},
		{name: "after the update", height: 11, matched: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := chainWithBlock()
			c.optedIn = []uint64{3}
			c.services[3] = eventService(3, 10, announceTrigger())
			m := newMatcher(t, c)
			res := &coretypes.ResultBlockResults{Height: tc.height, FinalizeBlockEvents: []abci.Event{announce(contract, "x", "0")}}
			got, err := m.Match(context.Background(), tc.height, res)
			require.NoError(t, err)
			_, blocks := c.counts()
			if tc.matched {
				require.Len(t, got, 1)
				require.Equal(t, 1, blocks)
			} else {
				require.Empty(t, got)
				require.Zero(t, blocks, "the block is not fetched when nothing matches")
			}
		})
	}
}

func TestMatchOnlyWatchedServices(t *testing.T) {
	ev := announce(contract, "x", "0")
	for _, tc := range []struct {
		name     string
		malleate func(c *fakeChain) []trigger.Option
		services []uint64 // of the matches, in order
	}{
		{
			name: "a service without event triggers",
			malleate: func(c *fakeChain) []trigger.Option {
				every := types.Trigger{Kind: &types.Trigger_BlockInterval{BlockInterval: &types.BlockIntervalTrigger{Every: 1}}}
				c.services[1] = types.Service{Id: 1, Manifest: types.ServiceManifest{Triggers: []types.Trigger{every}}}
				return nil
			},
		},
		{
			name: "a service excluded by WithServices",
			malleate: func(c *fakeChain) []trigger.Option {
				c.services[1] = eventService(1, 0, announceTrigger())
				return []trigger.Option{trigger.WithServices(map[uint64]bool{2: true})}
			},
		},
		{
			name: "a service the operator has not opted in",
			malleate: func(c *fakeChain) []trigger.Option {
				c.optedIn = nil
				c.services[1] = eventService(1, 0, announceTrigger())
				return nil
			},
		},
		{
			name: "a trigger on another contract",
			malleate: func(c *fakeChain) []trigger.Option {
				c.services[1] = eventService(1, 0, types.EventTrigger{Type: "wasm-announce",
					Attributes: []types.EventAttributeFilter{{Key: "_contract_address", Value: "avs1else"}}})
				return nil
			},
		},
		{
			name: "two services watching the same event",
			malleate: func(c *fakeChain) []trigger.Option {
				c.optedIn = []uint64{1, 2}
				c.services[1] = eventService(1, 0, announceTrigger())
				// Two triggers both matching: one match for the service.
				c.services[2] = eventService(2, 0, types.EventTrigger{Type: "wasm-announce"}, announceTrigger())
				return nil
			},
			services: []uint64{1, 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := chainWithBlock([]byte("tx"))
			c.optedIn = []uint64{1}
			m := newMatcher(t, c, tc.malleate(c)...)
			res := &coretypes.ResultBlockResults{Height: 5, TxsResults: []*abci.ExecTxResult{{Events: []abci.Event{ev}}}}
			got, err := m.Match(context.Background(), 5, res)
			require.NoError(t, err)
			var services []uint64
			for _, task := range got {
				services = append(services, task.ServiceID)
				require.Equal(t, task.ServiceID, task.Event.ServiceId)
			}
			require.Equal(t, tc.services, services)
			_, blocks := c.counts()
			if len(tc.services) == 0 {
				require.Zero(t, blocks, "the block is not fetched when nothing matches")
			} else {
				require.Equal(t, 1, blocks)
			}
		})
	}
}

func TestMatchCachesTriggersUntilServicesChange(t *testing.T) {
	c := chainWithBlock([]byte("the block's one tx"))
	c.optedIn = []uint64{1}
	c.services[1] = eventService(1, 0, types.EventTrigger{Type: "ping"})
	c.services[2] = eventService(2, 0, types.EventTrigger{Type: "ping"})
	m := newMatcher(t, c, trigger.WithRefresh(time.Hour))
	ctx := context.Background()
	ping := abci.Event{Type: "ping"}
	services := func(tasks []watcher.Work) []uint64 {
		var out []uint64
		for _, task := range tasks {
			out = append(out, task.ServiceID)
		}
		return out
	}

	got, err := m.Match(ctx, 1, &coretypes.ResultBlockResults{Height: 1, TxsResults: []*abci.ExecTxResult{{}}, FinalizeBlockEvents: []abci.Event{ping}})
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, services(got))
	op, _ := c.counts()
	require.Equal(t, 1, op)

	// The operator opts in to service 2; a block without x/avs service events
	// is matched against the cached triggers.
	c.setOptedIn(1, 2)
	got, err = m.Match(ctx, 2, &coretypes.ResultBlockResults{Height: 2, TxsResults: []*abci.ExecTxResult{{}}, FinalizeBlockEvents: []abci.Event{ping}})
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, services(got))
	op, _ = c.counts()
	require.Equal(t, 1, op, "the triggers are cached within the refresh interval")

	// An opt-in event in a failed transaction changes nothing.
	optedIn := abci.Event{Type: proto.MessageName(&types.EventOptedIn{})}
	got, err = m.Match(ctx, 3, &coretypes.ResultBlockResults{Height: 3,
		TxsResults:          []*abci.ExecTxResult{{Code: 1, Events: []abci.Event{optedIn}}},
		FinalizeBlockEvents: []abci.Event{ping}})
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, services(got))
	op, _ = c.counts()
	require.Equal(t, 1, op)

	for i, change := range []proto.Message{
		&types.EventOptedIn{}, &types.EventOptedOut{}, &types.EventServiceCreated{},
		&types.EventServiceUpdated{}, &types.EventServiceTransferred{},
	} {
		h := int64(4 + i)
		ev := abci.Event{Type: proto.MessageName(change)}
		got, err = m.Match(ctx, h, &coretypes.ResultBlockResults{Height: h,
			TxsResults:          []*abci.ExecTxResult{{Events: []abci.Event{ev}}},
			FinalizeBlockEvents: []abci.Event{ping}})
		require.NoError(t, err)
		require.Equal(t, []uint64{1, 2}, services(got), "reloaded at once after %s", ev.Type)
		op, _ = c.counts()
		require.Equal(t, 2+i, op, "%s reloads the triggers", ev.Type)
	}

	// A refresh interval that has passed reloads too.
	c2 := chainWithBlock()
	c2.optedIn = []uint64{1}
	c2.services[1] = eventService(1, 0, types.EventTrigger{Type: "ping"})
	m2 := newMatcher(t, c2, trigger.WithRefresh(time.Nanosecond))
	for h := int64(1); h <= 3; h++ {
		_, err := m2.Match(ctx, h, &coretypes.ResultBlockResults{Height: h})
		require.NoError(t, err)
	}
	op, _ = c2.counts()
	require.Equal(t, 3, op)
}

func TestMatchErrors(t *testing.T) {
	ev := announce(contract, "x", "0")
	for _, tc := range []struct {
		name     string
		malleate func(c *fakeChain)
		wantErr  string // tests review L2: any error passed
	}{
		{name: "the block has fewer transactions than the results", malleate: func(c *fakeChain) {
			c.block.Block.Txs = c.block.Block.Txs[:1]
		}, wantErr: "block 5 has 1 transactions but 2 results"},
		{name: "the block has more transactions than the results", malleate: func(c *fakeChain) {
			c.block.Block.Txs = append(c.block.Block.Txs, cmttypes.Tx("extra"))
		}, wantErr: "block 5 has 3 transactions but 2 results"},
		{name: "the block cannot be read", malleate: func(c *fakeChain) { c.block = nil }, wantErr: "block 5: no block 5"},
		{name: "a service cannot be read", malleate: func(c *fakeChain) { c.optedIn = []uint64{1, 7} }, wantErr: "event triggers of service 7 (retry 1 of 3): no service 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := chainWithBlock([]byte("a"), []byte("b"))
			c.optedIn = []uint64{1}
			c.services[1] = eventService(1, 0, announceTrigger())
			tc.malleate(c)
			m := newMatcher(t, c)
			res := &coretypes.ResultBlockResults{Height: 5, TxsResults: []*abci.ExecTxResult{{}, {Events: []abci.Event{ev}}}}
			got, err := m.Match(context.Background(), 5, res)
			require.EqualError(t, err, tc.wantErr)
			require.Empty(t, got)
		})
	}
}

// TestNewValidates: each refusal with its error (tests review L2: any error
// passed).
func TestNewValidates(t *testing.T) {
	_, err := trigger.New(nil, operator)
	require.EqualError(t, err, "trigger: chain and operator are required")
	_, err = trigger.New(&fakeChain{}, "")
	require.EqualError(t, err, "trigger: chain and operator are required")
	_, err = trigger.New(&fakeChain{}, operator, trigger.WithRefresh(0))
	require.EqualError(t, err, "trigger: refresh interval 0s must be positive and retries 3 not negative")
	_, err = trigger.New(&fakeChain{}, operator, trigger.WithRetries(-1))
	require.EqualError(t, err, "trigger: refresh interval 30s must be positive and retries -1 not negative")
	_, err = trigger.New(&fakeChain{}, operator)
	require.NoError(t, err, "the defaults")
}

// breakable is a fakeChain whose Service query fails for the services set
// in broken.
type breakable struct {
	*fakeChain
	broken map[uint64]bool
}

func (b *breakable) Service(ctx context.Context, id uint64) (types.Service, error) {
	b.mu.Lock()
	broken := b.broken[id]
	b.mu.Unlock()
	if broken {
		return types.Service{}, fmt.Errorf("service %d: grpc unavailable", id)
	}
	return b.fakeChain.Service(ctx, id)
}

func (b *breakable) setBroken(id uint64, broken bool) {
	b.mu.Lock()
	b.broken[id] = broken
	b.mu.Unlock()
}

// TestH7FailingServiceDoesNotFailTheBlock: a service whose query fails makes
// the block be retried a bounded number of times; then that service's events
// are skipped (logged) and the other services' matches returned; later
// blocks skip it at once until it can be read again. The old matcher failed
// every block while one service could not be read.
func TestH7FailingServiceDoesNotFailTheBlock(t *testing.T) {
	c := &breakable{fakeChain: chainWithBlock(), broken: map[uint64]bool{7: true}}
	c.optedIn = []uint64{1, 7}
	c.services[1] = eventService(1, 0, types.EventTrigger{Type: "ping"})
	c.services[7] = eventService(7, 0, types.EventTrigger{Type: "ping"})
	m := newMatcher(t, c, trigger.WithRetries(2), trigger.WithRefresh(time.Hour))
	ctx := context.Background()
	block := func(h int64) *coretypes.ResultBlockResults {
		return &coretypes.ResultBlockResults{Height: h, FinalizeBlockEvents: []abci.Event{{Type: "ping"}}}
	}
	services := func(tasks []watcher.Work) []uint64 {
		var out []uint64
		for _, task := range tasks {
			out = append(out, task.ServiceID)
		}
		return out
	}

	for attempt := 1; attempt <= 2; attempt++ {
		got, err := m.Match(ctx, 5, block(5))
		require.ErrorContains(t, err, "service 7", "attempt %d: the block is retried", attempt)
		require.Empty(t, got)
	}
	got, err := m.Match(ctx, 5, block(5))
	require.NoError(t, err, "retries spent: service 7 is skipped")
	require.Equal(t, []uint64{1}, services(got))

	op, _ := c.counts()
	got, err = m.Match(ctx, 6, block(6))
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, services(got), "a later block skips the failing service at once")
	op2, _ := c.counts()
	require.Equal(t, op, op2, "no reload for a service whose retries are spent")

	// Readable again: the next reload (here an opt-in event) watches it.
	c.setBroken(7, false)
	optedIn := abci.Event{Type: proto.MessageName(&types.EventOptedIn{})}
	got, err = m.Match(ctx, 7, &coretypes.ResultBlockResults{Height: 7, FinalizeBlockEvents: []abci.Event{optedIn, {Type: "ping"}}})
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 7}, services(got))

	// A transient failure that ends within the retries loses nothing.
	c.setBroken(7, true)
	_, err = m.Match(ctx, 8, &coretypes.ResultBlockResults{Height: 8, FinalizeBlockEvents: []abci.Event{optedIn, {Type: "ping"}}})
	require.EqualError(t, err, "event triggers of service 7 (retry 1 of 2): service 7: grpc unavailable")
	c.setBroken(7, false)
	got, err = m.Match(ctx, 8, &coretypes.ResultBlockResults{Height: 8, FinalizeBlockEvents: []abci.Event{optedIn, {Type: "ping"}}})
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 7}, services(got))
}
