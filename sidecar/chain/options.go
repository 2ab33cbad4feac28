package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	// DefaultCallTimeout bounds one RPC call or gRPC query.
	DefaultCallTimeout = 10 * time.Second
	// DefaultCodeTimeout bounds one ComponentCode download (up to the
	// chain's largest component).
	DefaultCodeTimeout = 60 * time.Second
	// DefaultSimulateTimeout bounds one transaction simulation.
	DefaultSimulateTimeout = 15 * time.Second
	// DefaultHealthInterval is how often Watch checks the RPC endpoints.
	DefaultHealthInterval = 5 * time.Second
	// DefaultStaleAfter is how old the latest block of the endpoint in use
	// may be before Watch leaves it (several block times).
	DefaultStaleAfter = 30 * time.Second
	// DefaultMaxLag is how many blocks the endpoint in use may lag the best
	// endpoint before Watch leaves it.
	DefaultMaxLag = 5
	// DefaultPingPeriod is how often a websocket subscription pings the node.
	DefaultPingPeriod = 10 * time.Second
	// DefaultReadWait is how long a websocket subscription waits for any
	// message (an event, a pong, a ping) before it ends.
	DefaultReadWait = 30 * time.Second
)

// Metrics is what the client reports (metrics.Nop() and *metrics.Metrics
// satisfy it).
type Metrics interface {
	// ChainHead reports the latest height the endpoint in use knows.
	ChainHead(h int64)
	// FailOver counts a move of the endpoint of kind ("rpc", "grpc") in use,
	// by reason ("error", "timeout", "catching_up", "stale", "lagging").
	FailOver(kind, reason string)
	// Endpoints reports the RPC and gRPC endpoints in use.
	Endpoints(rpc, grpc string)
	// RPCCall counts a request sent to a node (each try on each endpoint),
	// by kind ("rpc", "grpc") and method: the JSON-RPC method ("status",
	// "block_results", …), "subscribe" for a websocket, or the gRPC
	// method's full name without its leading slash.
	RPCCall(kind, method string)
}

// Option configures a Client at Dial.
type Option func(*Client) error

// WithCallTimeout bounds every RPC call and every gRPC query whose context
// has no deadline (default DefaultCallTimeout). A call that times out moves
// the client to the next endpoint.
func WithCallTimeout(d time.Duration) Option {
	return func(c *Client) error { return positive("call timeout", d, &c.callTimeout) }
}

// WithCodeTimeout bounds a ComponentCode download (default
// DefaultCodeTimeout).
func WithCodeTimeout(d time.Duration) Option {
	return func(c *Client) error { return positive("component code timeout", d, &c.codeTimeout) }
}

// WithSimulateTimeout bounds a transaction simulation (default
// DefaultSimulateTimeout).
func WithSimulateTimeout(d time.Duration) Option {
	return func(c *Client) error { return positive("simulate timeout", d, &c.simulateTimeout) }
}

// WithHealthInterval sets how often Watch checks the RPC endpoints (default
// DefaultHealthInterval).
func WithHealthInterval(d time.Duration) Option {
	return func(c *Client) error { return positive("health interval", d, &c.healthEvery) }
}

// WithStaleAfter sets how old the latest block of the endpoint in use may be
// before Watch leaves it (default DefaultStaleAfter). Set it to a few block
// times; a chain that makes no empty blocks needs it longer.
func WithStaleAfter(d time.Duration) Option {
	return func(c *Client) error { return positive("stale after", d, &c.staleAfter) }
}

// WithMaxLag sets how many blocks the endpoint in use may lag the best
// endpoint before Watch leaves it (default DefaultMaxLag).
func WithMaxLag(blocks int64) Option {
	return func(c *Client) error {
		if blocks < 1 {
			return fmt.Errorf("chain: max lag %d must be at least 1 block", blocks)
		}
		c.maxLag = blocks
		return nil
	}
}

// WithWebsocketKeepalive sets how often a subscription pings the node and
// how long it waits for any message before it ends (defaults
// DefaultPingPeriod, DefaultReadWait). readWait must exceed ping.
func WithWebsocketKeepalive(ping, readWait time.Duration) Option {
	return func(c *Client) error {
		if ping <= 0 || readWait <= ping {
			return fmt.Errorf("chain: websocket read wait %s must exceed the ping period %s (> 0)", readWait, ping)
		}
		c.pingPeriod, c.readWait = ping, readWait
		return nil
	}
}

// WithBlockCache sets how many recent heights of block and block_results
// answers are kept (default DefaultBlockCache): the watcher, the submitter
// and the trigger matcher read the same recent blocks, and ask the node once
// for each. A committed block never changes; heights above a latest height
// the node reports (a chain reset) are forgotten.
func WithBlockCache(heights int) Option {
	return func(c *Client) error {
		if heights < 1 {
			return fmt.Errorf("chain: block cache of %d heights must hold at least one", heights)
		}
		c.blockCache = heights
		return nil
	}
}

// WithMetrics reports the chain head, fail-overs, endpoints in use and the
// requests sent to the nodes (default metrics.Nop()).
func WithMetrics(m Metrics) Option {
	return func(c *Client) error {
		if m == nil {
			return errors.New("chain: nil metrics")
		}
		c.metrics = m
		return nil
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("chain: nil logger")
		}
		c.log = l
		return nil
	}
}

func positive(what string, d time.Duration, dst *time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("chain: %s %s must be positive", what, d)
	}
	*dst = d
	return nil
}
