package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/avschain/avschain/x/avs/types"
)

// AccountChain is what the account poller reads (chain.Client).
type AccountChain interface {
	Balance(ctx context.Context, addr, denom string) (uint64, error)
	OperatorInfo(ctx context.Context, addr string) (bool, []uint64, []types.OperatorLiveness, error)
	Params(ctx context.Context) (types.Params, error)
}

// AccountMetrics is told the operator account's state (metrics.Sink).
type AccountMetrics interface {
	Account(balance uint64, denom string, jailed []uint64, missed, jailThreshold uint64)
}

// AccountPollInterval is how often the account poller reads the chain.
const AccountPollInterval = 30 * time.Second

// pollAccount reads the operator's balance in denom (it pays the fees, also
// for a vote key through its feegrant), its liveness in every service and
// the jail threshold, and reports them: the services it is jailed on, and
// its missed votes in the window of its worst service.
func pollAccount(ctx context.Context, c AccountChain, operator, denom string, m AccountMetrics) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	bal, err := c.Balance(ctx, operator, denom)
	if err != nil {
		return err
	}
	_, ids, live, err := c.OperatorInfo(ctx, operator)
	if err != nil {
		return err
	}
	p, err := c.Params(ctx)
	if err != nil {
		return err
	}
	jailed := []uint64{}
	var worst uint64
	for i, l := range live {
		if l.Jailed && i < len(ids) {
			jailed = append(jailed, ids[i])
		}
		worst = max(worst, l.WindowMissed)
	}
	m.Account(bal, denom, jailed, worst, p.JailThreshold)
	return nil
}

// runAccountPoller polls every interval until ctx ends, logging a failed
// read at most once per warnEvery.
func runAccountPoller(ctx context.Context, c AccountChain, operator, denom string, every time.Duration, m AccountMetrics, log *slog.Logger) {
	const warnEvery = 5 * time.Minute
	var lastWarn time.Time
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := pollAccount(ctx, c, operator, denom, m); err != nil && ctx.Err() == nil && time.Since(lastWarn) >= warnEvery {
			lastWarn = time.Now()
			log.Warn("could not read the operator's balance and liveness; /healthz and the account metrics keep the last values", "operator", operator, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
