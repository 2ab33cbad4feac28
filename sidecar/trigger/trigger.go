// Package trigger matches a block's events against the event triggers of the
// operator's services. Every operator reads the same blocks, so every honest
// operator finds the same matches and builds the same input for each: that is
// what lets the first vote open the task and the others confirm it.
//
// A match is an event of a successful transaction (tx_hash its upper-case hex
// sha256, event_index its position among the transaction's events) or of the
// block itself (FinalizeBlock events: empty tx_hash, index among them). Only
// events after the service's last update (height > updated_height) are
// matched, so the answer does not depend on when a sidecar reads the block.
//
// A service whose query fails does not hold up the others (review H7): the
// block is retried a bounded number of times (WithRetries), then that
// service's events are skipped, logged as an error, until a reload reads the
// service again; the other services' matches are returned.
package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"

	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Chain is what the matcher reads.
type Chain interface {
	OperatorServices(ctx context.Context, operator string) ([]uint64, error)
	Service(ctx context.Context, id uint64) (types.Service, error)
	Block(ctx context.Context, height int64) (*coretypes.ResultBlock, error)
}

// Input is the JSON a component receives for an event: the trigger, where the
// event is, and the event as the block results hold it (attributes in order).
type Input struct {
	Trigger    string `json:"trigger"` // "event"
	ServiceID  uint64 `json:"service_id"`
	Height     int64  `json:"height"`
	TxHash     string `json:"tx_hash"`
	EventIndex uint32 `json:"event_index"`
	Event      Event  `json:"event"`
}

// Event is a chain event.
type Event struct {
	Type       string      `json:"type"`
	Attributes []Attribute `json:"attributes"`
}

// Attribute is one event attribute.
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// serviceChangeEvents make the matcher reload its triggers before matching a
// block that holds one.
var serviceChangeEvents = map[string]bool{}

func init() {
	for _, m := range []proto.Message{
		&types.EventServiceCreated{}, &types.EventServiceUpdated{}, &types.EventServiceTransferred{},
		&types.EventOptedIn{}, &types.EventOptedOut{},
	} {
		serviceChangeEvents[proto.MessageName(m)] = true
	}
}

type watch struct {
	service  uint64
	updated  int64
	triggers []types.EventTrigger
}

// Matcher finds event-trigger matches. It keeps the operator's services with
// event triggers, reloaded every refresh interval and whenever a block holds
// an x/avs event that changes a service or the operator's services.
type Matcher struct {
	chain    Chain
	operator string
	services map[uint64]bool // nil: all of the operator's services
	refresh  time.Duration
	retries  int
	metrics  Metrics
	log      *slog.Logger

	mu       sync.Mutex
	watches  []watch
	loadedAt time.Time
	failing  map[uint64]*failing // services whose query failed at the last load
}

// failing is a service that could not be read.
type failing struct {
	retries int  // blocks retried for it
	gaveUp  bool // its events are skipped until it is read again
	err     error
}

// Option configures a Matcher.
type Option func(*Matcher)

// WithServices restricts matching to these service ids (nil = all).
func WithServices(ids map[uint64]bool) Option { return func(m *Matcher) { m.services = ids } }

// WithRefresh sets how often the triggers are reloaded when no block says
// they changed.
func WithRefresh(d time.Duration) Option { return func(m *Matcher) { m.refresh = d } }

// WithRetries sets how many times a block is retried (Match fails) for a
// service whose query fails before that service's events are skipped
// (default 3). Keep it below the watcher's retries (watcher.WithRetry), or
// the watcher gives up matching the whole block first.
func WithRetries(n int) Option { return func(m *Matcher) { m.retries = n } }

// Metrics is told how many events matched.
type Metrics interface{ EventsMatched(n int) }

// WithMetrics sets the metrics sink (default metrics.Nop()).
func WithMetrics(mt Metrics) Option { return func(m *Matcher) { m.metrics = mt } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(m *Matcher) { m.log = l } }

// New returns a matcher for the operator's services.
func New(chain Chain, operator string, opts ...Option) (*Matcher, error) {
	if chain == nil || operator == "" {
		return nil, errors.New("trigger: chain and operator are required")
	}
	m := &Matcher{
		chain: chain, operator: operator, refresh: 30 * time.Second, retries: 3, metrics: metrics.Nop(), log: slog.Default(),
		failing: map[uint64]*failing{},
	}
	for _, o := range opts {
		o(m)
	}
	if m.refresh <= 0 || m.retries < 0 {
		return nil, fmt.Errorf("trigger: refresh interval %s must be positive and retries %d not negative", m.refresh, m.retries)
	}
	return m, nil
}

// Match implements watcher.Matcher.
func (m *Matcher) Match(ctx context.Context, height int64, res *coretypes.ResultBlockResults) ([]watcher.Work, error) {
	watches, err := m.current(ctx, changesServices(res))
	if err != nil {
		return nil, err
	}
	if len(watches) == 0 {
		return nil, nil
	}
	type hit struct {
		w     watch
		tx    int // -1: a block event
		index int
		event abci.Event
	}
	var hits []hit
	find := func(tx int, events []abci.Event) {
		for i, e := range events {
			for _, w := range watches {
				if height <= w.updated {
					continue
				}
				for _, t := range w.triggers {
					if t.Matches(e) {
						hits = append(hits, hit{w, tx, i, e})
						break
					}
				}
			}
		}
	}
	for i, txr := range res.TxsResults {
		if txr.Code == 0 {
			find(i, txr.Events)
		}
	}
	find(-1, res.FinalizeBlockEvents)
	if len(hits) == 0 {
		return nil, nil
	}
	// The block gives the transactions' hashes and the block time.
	block, err := m.chain.Block(ctx, height)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	if block == nil || block.Block == nil {
		return nil, fmt.Errorf("block %d: the node returned no block", height)
	}
	if len(block.Block.Txs) != len(res.TxsResults) {
		return nil, fmt.Errorf("block %d has %d transactions but %d results", height, len(block.Block.Txs), len(res.TxsResults))
	}
	out := make([]watcher.Work, 0, len(hits))
	for _, h := range hits {
		hash := ""
		if h.tx >= 0 {
			hash = fmt.Sprintf("%X", cmttypes.Tx(block.Block.Txs[h.tx]).Hash())
		}
		input, err := BuildInput(h.w.service, height, hash, uint32(h.index), h.event)
		if err != nil {
			return nil, err
		}
		ref := &types.EventRef{ServiceId: h.w.service, Height: height, TxHash: hash, EventIndex: uint32(h.index), Input: input}
		m.log.Debug("event trigger matched", "service", h.w.service, "height", height, "tx", hash, "event_index", h.index, "type", h.event.Type)
		out = append(out, watcher.Work{ServiceID: h.w.service, Height: height, Event: ref, BlockTime: block.Block.Time})
	}
	m.metrics.EventsMatched(len(out))
	return out, nil
}

// BuildInput is the component input for an event (Input as JSON).
func BuildInput(service uint64, height int64, txHash string, index uint32, e abci.Event) ([]byte, error) {
	in := Input{Trigger: "event", ServiceID: service, Height: height, TxHash: txHash, EventIndex: index,
		Event: Event{Type: e.Type, Attributes: make([]Attribute, 0, len(e.Attributes))}}
	for _, a := range e.Attributes {
		in.Event.Attributes = append(in.Event.Attributes, Attribute{Key: a.Key, Value: a.Value})
	}
	return json.Marshal(in)
}

// current returns the watched services, reloading them when asked to, when
// they are older than the refresh interval, or while a service that failed
// has retries left. It fails while such a service still fails.
func (m *Matcher) current(ctx context.Context, reload bool) ([]watch, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !reload && !m.loadedAt.IsZero() && time.Since(m.loadedAt) < m.refresh && !m.retrying() {
		return m.watches, nil
	}
	ids, err := m.chain.OperatorServices(ctx, m.operator)
	if err != nil {
		return nil, fmt.Errorf("list the operator's services: %w", err)
	}
	var watches []watch
	listed := map[uint64]bool{}
	for _, id := range ids {
		if m.services != nil && !m.services[id] {
			continue
		}
		listed[id] = true
		svc, err := m.chain.Service(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			f := m.failing[id]
			if f == nil {
				f = &failing{}
				m.failing[id] = f
			}
			f.err = err
			continue
		}
		if f := m.failing[id]; f != nil {
			delete(m.failing, id)
			if f.gaveUp {
				m.log.Info("service readable again: matching its event triggers", "service", id)
			}
		}
		if ts := svc.Manifest.EventTriggers(); len(ts) > 0 {
			watches = append(watches, watch{service: id, updated: svc.UpdatedHeight, triggers: ts})
		}
	}
	if len(watches) != len(m.watches) {
		m.log.Info("watching event triggers", "services", len(watches))
	}
	m.watches, m.loadedAt = watches, time.Now()

	var retry []string
	for _, id := range slices.Sorted(maps.Keys(m.failing)) {
		f := m.failing[id]
		switch {
		case !listed[id]:
			delete(m.failing, id) // opted out, or no longer watched
		case f.retries < m.retries:
			f.retries++
			retry = append(retry, fmt.Sprintf("service %d (retry %d of %d): %v", id, f.retries, m.retries, f.err))
		default:
			f.gaveUp = true
			m.log.Error("the operator's service cannot be read: its event triggers are not matched until a reload reads it (every refresh interval, or at a change of the operator's services); the other services are matched",
				"service", id, "retries", m.retries, "refresh", m.refresh, "err", f.err)
		}
	}
	if len(retry) > 0 {
		return nil, fmt.Errorf("event triggers of %s", strings.Join(retry, "; "))
	}
	return watches, nil
}

// retrying reports whether a service that failed has retries left.
func (m *Matcher) retrying() bool {
	for _, f := range m.failing {
		if !f.gaveUp {
			return true
		}
	}
	return false
}

// changesServices reports whether a block holds an x/avs event after which
// the operator's services or their triggers may differ.
func changesServices(res *coretypes.ResultBlockResults) bool {
	has := func(events []abci.Event) bool {
		for _, e := range events {
			if serviceChangeEvents[e.Type] {
				return true
			}
		}
		return false
	}
	for _, txr := range res.TxsResults {
		if txr.Code == 0 && has(txr.Events) {
			return true
		}
	}
	return has(res.FinalizeBlockEvents)
}
