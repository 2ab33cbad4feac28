package node

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/x/avs/types"
)

// IdleChain is what the idle check reads (chain.Client).
type IdleChain interface {
	OperatorInfo(ctx context.Context, addr string) (bool, []uint64, []types.OperatorLiveness, error)
	OperatorStanding(ctx context.Context, serviceID uint64, operator string) (chain.Standing, error)
}

// IdleMetrics is told the operator's idleness (metrics.Sink).
type IdleMetrics interface {
	Idle(i metrics.Idleness)
}

// IdleCheckBlocks is how many blocks apart the idle check runs after the
// first: one Query/Operator and one Query/ServicePower per service each time.
const IdleCheckBlocks = 10

// checkIdle says whether the operator's votes count on at least one of the
// services the sidecar runs (only; nil: all), and if not why, with the
// command that fixes it (newcomer review, "Silent idle": tasks used to be
// skipped without a line). A service counts when the operator is in its
// current epoch's snapshot, or the snapshot is not taken yet and the
// operator has power now (the epoch's first task takes it then).
// epochLength (0: unknown) bounds the wait for the next epoch in the hint.
func checkIdle(ctx context.Context, c IdleChain, operator string, only map[uint64]bool, epochLength uint64) (metrics.Idleness, error) {
	registered, ids, live, err := c.OperatorInfo(ctx, operator)
	if err != nil {
		return metrics.Idleness{}, fmt.Errorf("read operator %s: %w", operator, err)
	}
	if !registered {
		return metrics.Idleness{Reason: metrics.IdleNotRegistered, Hint: fmt.Sprintf(
			"operator %s is not registered: avsd tx avs register-operator <moniker> --commission 0.1 --from <operator key>, then opt in to a service", operator)}, nil
	}
	var (
		active, jailed, later, powerless []uint64
		from                             uint64
		unjailAt                         time.Time
	)
	for i, id := range ids {
		if only != nil && !only[id] {
			continue
		}
		if i < len(live) && live[i].Jailed {
			jailed = append(jailed, id)
			if until := live[i].JailedUntil; unjailAt.IsZero() || until.Before(unjailAt) {
				unjailAt = until
			}
			continue
		}
		st, err := c.OperatorStanding(ctx, id, operator)
		if err != nil {
			return metrics.Idleness{}, fmt.Errorf("read the power of operator %s in service %d: %w", operator, id, err)
		}
		switch {
		case st.InSnapshot, !st.Taken && st.Power > 0:
			active = append(active, id)
		case st.Power > 0:
			later = append(later, id)
			if from == 0 || st.Epoch+1 < from {
				from = st.Epoch + 1
			}
		default:
			powerless = append(powerless, id)
		}
	}
	switch {
	case len(active) > 0:
		return metrics.Idleness{Reason: metrics.IdleOK, Services: active}, nil
	case len(later) == 0 && len(powerless) == 0 && len(jailed) == 0:
		return metrics.Idleness{Reason: metrics.IdleNotOptedIn, Hint: notOptedInHint(ids, only)}, nil
	case len(later) == 0 && len(powerless) == 0:
		return metrics.Idleness{Reason: metrics.IdleJailed, JailedUntil: unjailAt, Hint: jailedHint(jailed, unjailAt)}, nil
	}
	var hint string
	if len(later) > 0 {
		within := ""
		if epochLength > 0 {
			within = fmt.Sprintf(", at most %d blocks away", epochLength)
		}
		hint = fmt.Sprintf("opted in to services %v after the current epoch's power snapshot was taken: its votes count from epoch %d%s; nothing to do but wait", later, from, within)
	}
	if len(powerless) > 0 {
		hint = join(hint, fmt.Sprintf("no power in services %v: they weigh by stake or ask a minimum self-stake, which the operator's own commitment must reach: "+
			"avsd tx avs commit <operator address> <service-id> <amount> --from <operator key> (avsd q avs power <service-id> shows the powers; the min_operator_stake param and the service's min_self_stake the minimum)", powerless))
	}
	if len(jailed) > 0 {
		hint = join(hint, jailedHint(jailed, unjailAt))
	}
	return metrics.Idleness{Reason: metrics.IdleNoPower, PowerFromEpoch: from, Hint: hint}, nil
}

func notOptedInHint(ids []uint64, only map[uint64]bool) string {
	if len(ids) == 0 {
		return "opted in to no service: avsd tx avs opt-in <service-id> --from <operator key>; its votes count from the epoch after the opt-in"
	}
	var listed []uint64
	for id := range only {
		listed = append(listed, id)
	}
	slices.Sort(listed)
	return fmt.Sprintf("opted in to services %v, none of which the services setting %v lists: add them to services, or opt in to a listed one (avsd tx avs opt-in <service-id> --from <operator key>)", ids, listed)
}

func jailedHint(ids []uint64, until time.Time) string {
	return fmt.Sprintf("jailed on services %v for missing tasks: find why (logs, avs_sidecar_missed_votes), then after %s: avsd tx avs unjail <service-id> --from <operator key>",
		ids, until.UTC().Format(time.RFC3339))
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// idleWatch runs the idle check and tells its result: to the metrics each
// time, to the log at the first result and whenever it changes.
type idleWatch struct {
	chain       IdleChain
	operator    string
	only        map[uint64]bool
	epochLength uint64
	metrics     IdleMetrics
	log         *slog.Logger

	checked  bool
	last     metrics.Idleness
	lastWarn time.Time
}

// check runs the idle check once. A failed read changes nothing (the last
// result stands) and is warned about at most every five minutes.
func (w *idleWatch) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	i, err := checkIdle(ctx, w.chain, w.operator, w.only, w.epochLength)
	if err != nil {
		if ctx.Err() == nil && time.Since(w.lastWarn) >= 5*time.Minute {
			w.lastWarn = time.Now()
			w.log.Warn("could not check whether the operator's votes count; /status state keeps the last result", "err", err)
		}
		return err
	}
	w.metrics.Idle(i)
	if w.checked && i.Reason == w.last.Reason && i.Hint == w.last.Hint && slices.Equal(i.Services, w.last.Services) {
		return nil
	}
	w.checked, w.last = true, i
	if i.Idle() {
		w.log.Warn("idle: the operator's votes count on none of its services", "reason", i.Reason, "fix", i.Hint)
	} else {
		w.log.Info("active: the operator's votes count", "services", i.Services)
	}
	return nil
}

// run checks at start, then every `every` blocks of the heights it is told,
// until ctx ends.
func (w *idleWatch) run(ctx context.Context, heights <-chan int64, every int64) {
	_ = w.check(ctx)
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-heights:
			if last == 0 {
				last = h
			}
			if h-last >= every {
				last = h
				_ = w.check(ctx)
			}
		}
	}
}
