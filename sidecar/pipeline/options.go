package pipeline

import "log/slog"

// Option configures a Pipeline.
type Option func(*Pipeline)

// WithServices restricts the pipeline to these service ids (nil = all).
func WithServices(ids map[uint64]bool) Option { return func(p *Pipeline) { p.services = ids } }

// WithComponentOverrides runs local wasm instead of the chain's component of
// a digest (testing a build against live tasks).
func WithComponentOverrides(byDigest map[string][]byte) Option {
	return func(p *Pipeline) {
		for d, wasm := range byDigest {
			p.overrides[d] = wasm
		}
	}
}

// WithHandlerGas sets the chain's handler_gas_limit (default
// DefaultHandlerGas): a vote on a service with a handler contract reserves
// it, as completing the task runs the handler.
func WithHandlerGas(limit uint64) Option { return func(p *Pipeline) { p.handlerGas = limit } }

// WithConcurrency sets how many components run at once.
func WithConcurrency(n int) Option { return func(p *Pipeline) { p.concurrency = n } }

// WithMetrics sets the metrics sink (default metrics.Nop()).
func WithMetrics(m Metrics) Option { return func(p *Pipeline) { p.metrics = m } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(p *Pipeline) { p.log = l } }

type LatePolicy int

const (
	LateVotesExceptMedian LatePolicy = iota
	LateVotesAll
	LateVotesNone
)

func WithLateVotes(LatePolicy) Option { return func(*Pipeline) {} }
