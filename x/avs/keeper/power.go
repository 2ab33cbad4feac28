package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/types"
)

// PowerSource tells each operator's voting power in a service right now. A
// task is tallied against a snapshot of it taken once per epoch. Commitments
// (stake weighting) plug in here.
type PowerSource interface {
	OperatorPowers(ctx context.Context, serviceID uint64) ([]types.OperatorPower, error)
}

// equalPower gives each opted-in, unjailed operator power 1.
type equalPower struct{ k Keeper }

func (p equalPower) OperatorPowers(ctx context.Context, serviceID uint64) ([]types.OperatorPower, error) {
	var out []types.OperatorPower
	rng := collections.NewPrefixedPairRange[uint64, string](serviceID)
	err := p.k.OptIns.Walk(ctx, rng, func(key collections.Pair[uint64, string]) (bool, error) {
		op, err := p.k.Operators.Get(ctx, key.K2())
		if err != nil {
			return true, err
		}
		if !op.Jailed {
			out = append(out, types.OperatorPower{Operator: op.Address, Power: 1})
		}
		return false, nil
	})
	return out, err
}

// epochOf returns the epoch a height falls in.
func epochOf(height int64, epochLength uint64) uint64 {
	if height < 0 {
		return 0
	}
	return uint64(height) / epochLength
}

// snapshot returns the service's power snapshot for the epoch of the current
// height, taking it on first use. A snapshot without power is taken again, so
// a service whose operators opted in mid-epoch is not stuck until the next one.
func (k Keeper) snapshot(ctx context.Context, serviceID uint64, epoch uint64) (types.PowerSnapshot, error) {
	key := collections.Join(serviceID, epoch)
	snap, err := k.Snapshots.Get(ctx, key)
	if err == nil && snap.Total > 0 {
		return snap, nil
	}
	if err != nil && !isNotFound(err) {
		return types.PowerSnapshot{}, err
	}
	powers, err := k.power.OperatorPowers(ctx, serviceID)
	if err != nil {
		return types.PowerSnapshot{}, err
	}
	snap = types.PowerSnapshot{ServiceId: serviceID, Epoch: epoch, Powers: powers}
	for _, p := range powers {
		snap.Total += p.Power
	}
	if err := k.Snapshots.Set(ctx, key, snap); err != nil {
		return types.PowerSnapshot{}, err
	}
	return snap, nil
}

// powerIn returns an operator's power in a snapshot, and whether it is in it.
func powerIn(snap types.PowerSnapshot, operator string) (uint64, bool) {
	for _, p := range snap.Powers {
		if p.Operator == operator {
			return p.Power, true
		}
	}
	return 0, false
}
