package keeper

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// PowerSource tells each operator's voting power in a service right now. A
// task is tallied against a snapshot of it taken once per epoch. Commitments
// (stake weighting) plug in here.
type PowerSource interface {
	OperatorPowers(ctx context.Context, serviceID uint64) ([]types.OperatorPower, error)
}

// MaxOperatorPower bounds one operator's power (its stake in a service, about
// 1.1e15 base units), so that the power of a full snapshot (at most 16383
// operators, max_snapshot_operators' hard limit) at the cap still fits in a
// uint64 sum: 16384 of them would be 2^64.
const MaxOperatorPower = uint64(1) << 50

// powersFor returns the service's power table now: every opted-in, unjailed
// operator with power 1 (EQUAL) or its committed stake (STAKE; operators
// without stake have no power).
func (k Keeper) powersFor(ctx context.Context, svc types.Service) ([]types.OperatorPower, error) {
	if k.wiring.power != nil {
		return k.wiring.power.OperatorPowers(ctx, svc.Id)
	}
	need, err := k.minSelfStake(ctx, svc)
	if err != nil {
		return nil, err
	}
	var out []types.OperatorPower
	rng := collections.NewPrefixedPairRange[uint64, string](svc.Id)
	err = k.OptIns.Walk(ctx, rng, func(key collections.Pair[uint64, string], _ collections.NoValue) (bool, error) {
		p, ok, err := k.operatorPower(ctx, svc, need, key.K2())
		if ok {
			out = append(out, p)
		}
		return err != nil, err
	})
	return out, err
}

// operatorPower returns an opted-in operator's power in a service now, and
// false when it has none: jailed, below the service's minimum
// self-commitment (H-6), or without stake under stake weighting.
// need is the service's minSelfStake.
func (k Keeper) operatorPower(ctx context.Context, svc types.Service, need sdkmath.Int, operator string) (types.OperatorPower, bool, error) {
	op, err := k.Operators.Get(ctx, operator)
	if err != nil {
		return types.OperatorPower{}, false, err
	}
	if l, err := k.operatorLiveness(ctx, svc.Id, operator); err != nil || l.Jailed {
		return types.OperatorPower{}, false, err
	}
	pool, err := k.pool(ctx, op.Address, svc.Id)
	if err != nil {
		return types.OperatorPower{}, false, err
	}
	if need.IsPositive() {
		self, err := k.selfStake(ctx, pool)
		if err != nil || self.LT(need) {
			return types.OperatorPower{}, false, err
		}
	}
	power := uint64(1)
	if svc.Manifest.Quorum.Weighting == types.WEIGHTING_STAKE {
		if !pool.Total.IsPositive() {
			return types.OperatorPower{}, false, nil
		}
		power = min(pool.Total.Uint64(), MaxOperatorPower)
	}
	return types.OperatorPower{Operator: op.Address, Power: power}, true, nil
}

// minSelfStake is what an operator must commit to itself to count in the
// service's snapshots (H-6): see ServiceManifest.MinSelfStakeOr.
func (k Keeper) minSelfStake(ctx context.Context, svc types.Service) (sdkmath.Int, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdkmath.Int{}, err
	}
	return svc.Manifest.MinSelfStakeOr(params.MinOperatorStake), nil
}

// selfStake is what the operator's own commitment in its pool is worth now.
func (k Keeper) selfStake(ctx context.Context, pool types.Pool) (sdkmath.Int, error) {
	c, err := k.CommitmentsByPool.Get(ctx, commitmentKey(pool.Operator, pool.ServiceId, pool.Operator))
	if isNotFound(err) || (err == nil && c.Generation != pool.Generation) {
		return sdkmath.ZeroInt(), nil
	} else if err != nil {
		return sdkmath.Int{}, err
	}
	return tokensOf(c.Shares, pool.Total, pool.Shares), nil
}

// epochOf returns the epoch a height falls in.
func epochOf(base types.EpochBase, height int64, epochLength uint64) uint64 {
	if height < base.Height {
		return base.Epoch
	}
	return base.Epoch + uint64(height-base.Height)/epochLength
}

// currentEpoch is the epoch of the current block.
func (k Keeper) currentEpoch(ctx context.Context, params types.Params) (uint64, error) {
	base, err := k.EpochBase.Get(ctx)
	if err != nil && !isNotFound(err) {
		return 0, err
	}
	return epochOf(base, sdk.UnwrapSDKContext(ctx).BlockHeight(), params.EpochLength), nil
}

// epochNow is currentEpoch with the params read.
func (k Keeper) epochNow(ctx context.Context) (uint64, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	return k.currentEpoch(ctx, params)
}

// snapshot returns the service's power snapshot for an epoch and whether it
// was taken just now (the caller saves it with openSnapshot once the task it
// is for is sure to be created). A stored snapshot without power is taken
// again, so a service whose operators opted in mid-epoch is not stuck until
// the next one.
func (k Keeper) snapshot(ctx context.Context, params types.Params, svc types.Service, epoch uint64) (types.PowerSnapshot, bool, error) {
	serviceID := svc.Id
	snap, err := k.Snapshots.Get(ctx, collections.Join(serviceID, epoch))
	if err == nil && snap.Total > 0 {
		return snap, false, nil
	}
	if err != nil && !isNotFound(err) {
		return types.PowerSnapshot{}, false, err
	}
	powers, err := k.powersFor(ctx, svc)
	if err != nil {
		return types.PowerSnapshot{}, false, err
	}
	powers = topPowers(powers, int(params.MaxSnapshotOperators))
	snap = types.PowerSnapshot{ServiceId: serviceID, Epoch: epoch, Powers: powers}
	for _, p := range powers {
		snap.Total += p.Power
	}
	return snap, true, nil
}

// topPowers keeps at most n operators: the n with the most power, ties broken
// by address, in the order the opt-ins were walked (by address). The cut bounds
// what every deadline and tally of the epoch works over.
func topPowers(powers []types.OperatorPower, n int) []types.OperatorPower {
	if len(powers) <= n {
		return powers
	}
	ranked := slices.Clone(powers)
	slices.SortStableFunc(ranked, func(a, b types.OperatorPower) int {
		if c := cmp.Compare(b.Power, a.Power); c != 0 {
			return c
		}
		return strings.Compare(a.Operator, b.Operator)
	})
	kept := make(map[string]bool, n)
	for _, p := range ranked[:n] {
		kept[p.Operator] = true
	}
	return slices.DeleteFunc(slices.Clone(powers), func(p types.OperatorPower) bool { return !kept[p.Operator] })
}

// openSnapshot saves a service's freshly taken snapshot of an epoch and does
// what the epoch's start brings: it queues the review of the epoch before
// (finishEarlierEpoch) and applies a due slash raise to svc. The epoch's
// first task calls it, or the block that takes the snapshot ahead.
func (k Keeper) openSnapshot(ctx context.Context, snap types.PowerSnapshot, svc *types.Service) error {
	if err := k.Snapshots.Set(ctx, collections.Join(snap.ServiceId, snap.Epoch), snap); err != nil {
		return err
	}
	if err := k.finishEarlierEpoch(ctx, snap.ServiceId, snap.Epoch); err != nil {
		return err
	}
	return k.applyDueSlashRaise(ctx, svc)
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

// TakeNextSnapshots takes, in the last block of an epoch, the next epoch's
// power snapshot of every service that has tasks in this one (issue #16): the
// first task of the next epoch then finds it and costs what any task costs,
// instead of paying ~25k gas for everyone's snapshot. It is what the first
// task would do (save the snapshot, queue the review of the epoch before,
// apply a due slash raise), done where no transaction pays for it, within
// max_settlements_per_block opted-in operators walked; a service past the
// budget, or without tasks in the ending epoch, has its snapshot taken by its
// first task as before. A snapshot that fails (or holds no power) is left to
// the first task too: this never fails the block.
func (k Keeper) TakeNextSnapshots(ctx sdk.Context, params types.Params) error {
	base, err := k.EpochBase.Get(ctx)
	if err != nil && !isNotFound(err) {
		return err
	}
	h := ctx.BlockHeight()
	epoch, next := epochOf(base, h, params.EpochLength), epochOf(base, h+1, params.EpochLength)
	if next == epoch {
		return nil
	}
	budget := int(params.MaxSettlementsPerBlock)
	// EpochTasks holds the epochs not yet reviewed: a few per service that
	// had tasks lately. The walk stops at the budget's worth of entries.
	var services []uint64
	walked := 0
	if err := k.EpochTasks.Walk(ctx, nil, func(key collections.Pair[uint64, uint64], _ types.EpochTasks) (bool, error) {
		walked++
		if key.K2() == epoch {
			services = append(services, key.K1())
		}
		return walked >= 4*budget, nil
	}); err != nil {
		k.Logger(ctx).Error("listing the services to snapshot ahead failed: their first tasks take them", "epoch", next, "err", err)
		return nil
	}
	for _, id := range services {
		// A snapshot walks every opt-in of the service: the budget counts
		// them, and a service with more than is left waits for its first
		// task (the services after it too: the order stays the store's).
		n, err := k.optInsUpTo(ctx, id, budget)
		if err != nil {
			k.Logger(ctx).Error("counting a service's opt-ins failed: its first task takes its snapshot", "service", id, "err", err)
			return nil
		}
		if n > budget {
			return nil
		}
		cache, write := ctx.CacheContext()
		if err := k.takeSnapshotAhead(cache, params, id, next); err != nil {
			k.Logger(ctx).Error("taking a service's next power snapshot failed: its first task takes it", "service", id, "epoch", next, "err", err)
		} else {
			write()
		}
		budget -= max(n, 1)
	}
	return nil
}

// optInsUpTo counts the operators opted in to a service, up to limit+1.
func (k Keeper) optInsUpTo(ctx context.Context, serviceID uint64, limit int) (int, error) {
	n := 0
	err := k.OptIns.Walk(ctx, collections.NewPrefixedPairRange[uint64, string](serviceID), func(collections.Pair[uint64, string], collections.NoValue) (bool, error) {
		n++
		return n > limit, nil
	})
	return n, err
}

// takeSnapshotAhead takes and saves a service's snapshot of epoch, if the
// service is active and has none with power yet.
func (k Keeper) takeSnapshotAhead(ctx context.Context, params types.Params, serviceID, epoch uint64) error {
	svc, err := k.getService(ctx, serviceID)
	if err != nil || svc.Status != types.SERVICE_STATUS_ACTIVE {
		return err
	}
	snap, fresh, err := k.snapshot(ctx, params, svc, epoch)
	if err != nil || !fresh || snap.Total == 0 {
		return err
	}
	return k.openSnapshot(ctx, snap, &svc)
}
