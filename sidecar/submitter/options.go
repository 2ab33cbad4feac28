package submitter

import (
	"fmt"
	"log/slog"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Option configures a Submitter.
type Option func(*Submitter) error

// WithGas sets the gas price (e.g. "0.025uavs") and simulation adjustment.
func WithGas(prices string, adjustment float64) Option {
	return func(s *Submitter) error {
		p, err := sdk.ParseDecCoins(prices)
		if err != nil {
			return fmt.Errorf("gas prices %q: %w", prices, err)
		}
		s.gasPrice, s.gasAdj = p, adjustment
		return nil
	}
}

// WithVoteGasReserve sets the gas added, for at most ReservedVotes votes of a
// transaction, on top of the simulated amount. A vote simulated before
// another operator's lands may be the one that completes its task at
// delivery, which costs far more (the result, the fee payouts): without
// headroom such a transaction runs out of gas and costs a block.
func WithVoteGasReserve(gas uint64) Option {
	return func(s *Submitter) error { s.reserve = gas; return nil }
}

// WithBatchDelay sets how long to wait after a block for more votes.
func WithBatchDelay(d time.Duration) Option {
	return func(s *Submitter) error { s.delay = d; return nil }
}

// WithMaxVotes caps the votes per transaction until the chain's
// max_votes_per_tx is read (at the first batch, then every few minutes).
func WithMaxVotes(n int) Option {
	return func(s *Submitter) error { s.maxVotes = n; return nil }
}

// WithMaxInFlight sets how many vote transactions may wait for inclusion at
// once (default DefaultMaxInFlight), signed with consecutive sequences; 1
// sends the next transaction only once the previous one is settled.
func WithMaxInFlight(n int) Option {
	return func(s *Submitter) error { s.maxInFlight = n; return nil }
}

// WithMaxTxBytes caps a vote transaction's encoded size (default
// DefaultMaxTxBytes). Keep it below the node's mempool max_tx_bytes; the
// consensus block.max_bytes is read from the chain and lowers it further.
func WithMaxTxBytes(n int) Option {
	return func(s *Submitter) error { s.maxTxBytes = n; return nil }
}

// WithAuthzOperator makes the keyring key a vote key: it signs, for
// operator, an authz MsgExec of MsgSubmitResults, and the operator pays the
// fee through a feegrant allowance to the vote key (none is needed while
// gas_prices is zero). The operator grants both once (its key stays cold):
//
//	avsd tx authz grant <vote-key> generic --msg-type /avschain.avs.v1.MsgSubmitResults --from <operator>
//	avsd tx feegrant grant <operator> <vote-key> --allowed-messages /cosmos.authz.v1beta1.MsgExec --from <operator>
func WithAuthzOperator(operator sdk.AccAddress) Option {
	return func(s *Submitter) error {
		if len(operator) == 0 {
			return fmt.Errorf("authz operator: empty address")
		}
		s.address = operator
		return nil
	}
}

// WithHeights gives the submitter the new-block signal it batches on.
func WithHeights(ch <-chan int64) Option {
	return func(s *Submitter) error { s.heights = ch; return nil }
}

// WithMetrics reports votes, refusals, the queue and the transactions in
// flight (default metrics.Nop()).
func WithMetrics(m Metrics) Option {
	return func(s *Submitter) error { s.metrics = m; return nil }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(s *Submitter) error { s.log = l; return nil }
}
