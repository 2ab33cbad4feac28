package submitter

import (
	"context"
	"time"
)

// limits are the chain's limits on a vote transaction, read by refreshLimits.
type limits struct {
	maxBytes int    // the transaction byte cap
	maxGas   uint64 // the consensus block.max_gas (0: none)
	readAt   time.Time
	due      bool // read again at the next batch (after ErrTooManyResults)
}

// paramsRetry is how soon limits that could not be read are tried again.
const paramsRetry = 30 * time.Second

// refreshLimits reads the chain's max_votes_per_tx and consensus block limits
// at the first batch, every paramsEvery and at once after the chain refused a
// batch for its number of results (M8). Until a read succeeds the starting
// values hold (WithMaxVotes, WithMaxTxBytes).
func (s *Submitter) refreshLimits(ctx context.Context) {
	if !s.lim.due && !s.lim.readAt.IsZero() && time.Since(s.lim.readAt) < s.paramsEvery {
		return
	}
	s.lim.readAt, s.lim.due = time.Now(), false
	p, err := s.chain.Params(ctx)
	if err != nil {
		s.log.Warn("could not read x/avs params; keeping max_votes_per_tx", "max_votes_per_tx", s.maxVotes, "err", err)
		s.lim.readAt = time.Now().Add(paramsRetry - s.paramsEvery)
	} else if n := int(p.MaxVotesPerTx); n > 0 && n != s.maxVotes {
		s.log.Info("max_votes_per_tx changed", "from", s.maxVotes, "to", n)
		s.maxVotes = n
		if s.split >= n {
			s.split = 0
		}
	}
	maxBytes, maxGas, err := s.chain.ConsensusLimits(ctx)
	if err != nil {
		s.log.Warn("could not read the consensus block limits; keeping them", "max_tx_bytes", s.lim.maxBytes, "max_gas", s.lim.maxGas, "err", err)
		s.lim.readAt = time.Now().Add(paramsRetry - s.paramsEvery)
		return
	}
	s.lim.maxBytes = s.maxTxBytes
	if maxBytes > 0 {
		// A block also holds its header, commit and evidence.
		s.lim.maxBytes = min(s.lim.maxBytes, int(maxBytes/10*9))
	}
	s.lim.maxGas = 0
	if maxGas > 0 {
		s.lim.maxGas = uint64(maxGas)
	}
}
