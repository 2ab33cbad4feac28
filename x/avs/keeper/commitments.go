package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// pool returns the (operator, service) pool, zero when nothing was committed.
func (k Keeper) pool(ctx context.Context, operator string, serviceID uint64) (types.Pool, error) {
	p, err := k.Pools.Get(ctx, collections.Join(operator, serviceID))
	if isNotFound(err) {
		return types.Pool{Operator: operator, ServiceId: serviceID, Total: sdkmath.ZeroInt(), Shares: sdkmath.ZeroInt(),
			RewardIndex: sdkmath.LegacyZeroDec(), Outstanding: sdkmath.ZeroInt(), PendingShares: sdkmath.ZeroInt()}, nil
	}
	if p.Shares.IsNil() {
		p.Shares = sdkmath.ZeroInt()
	}
	if p.PendingShares.IsNil() {
		p.PendingShares = sdkmath.ZeroInt()
	}
	return p, err
}

func pendingJoinKey(operator string, serviceID, epoch uint64) collections.Triple[string, uint64, uint64] {
	return collections.Join3(operator, serviceID, epoch)
}

// joinPending lets the shares committed to a pool in an epoch before epoch
// join its earning shares (L-2): they earn every reward from now on, and a
// PendingJoin keeps the reward index they start from for their holders. The
// caller saves the pool. Rewards always join first, so the index now is the
// one the bucket's epoch ended at.
func (k Keeper) joinPending(ctx context.Context, p *types.Pool, epoch uint64) (bool, error) {
	if !p.PendingShares.IsPositive() || p.PendingEpoch >= epoch {
		return false, nil
	}
	if p.PendingHolders > 0 {
		j := types.PendingJoin{Operator: p.Operator, ServiceId: p.ServiceId, Epoch: p.PendingEpoch, Generation: p.Generation,
			RewardIndex: p.RewardIndex, Holders: p.PendingHolders}
		if err := k.PendingJoins.Set(ctx, pendingJoinKey(p.Operator, p.ServiceId, p.PendingEpoch), j); err != nil {
			return false, err
		}
	}
	p.PendingShares, p.PendingEpoch, p.PendingHolders = sdkmath.ZeroInt(), 0, 0
	return true, nil
}

func (k Keeper) setPool(ctx context.Context, p types.Pool) error {
	return k.Pools.Set(ctx, collections.Join(p.Operator, p.ServiceId), p)
}

func commitmentKey(operator string, serviceID uint64, committer string) collections.Triple[string, uint64, string] {
	return collections.Join3(operator, serviceID, committer)
}

// setCommitment writes a commitment, or deletes it once it holds nothing.
func (k Keeper) setCommitment(ctx context.Context, c types.Commitment) error {
	key := commitmentKey(c.Operator, c.ServiceId, c.Committer)
	if c.Shares.IsZero() && c.Unclaimed.IsZero() {
		if has, err := k.CommitmentsByPool.Has(ctx, key); err != nil || !has {
			return err
		}
		return k.CommitmentsByPool.Remove(ctx, key)
	}
	return k.CommitmentsByPool.Set(ctx, key, c)
}

// CommitmentValue is what a commitment's shares are worth now, in tokens
// (rounded down).
func (k Keeper) CommitmentValue(ctx context.Context, c types.Commitment) (sdkmath.Int, error) {
	p, err := k.pool(ctx, c.Operator, c.ServiceId)
	if err != nil || c.Generation != p.Generation {
		return sdkmath.ZeroInt(), err
	}
	return tokensOf(c.Shares, p.Total, p.Shares), nil
}

// renewIfWiped starts a pool afresh when a slash left it shares but no
// tokens: those shares are worth nothing. The reward index the generation
// ended at is kept for the rewards its commitments earned (see accrue).
func (k Keeper) renewIfWiped(ctx context.Context, p *types.Pool) error {
	if !p.Total.IsZero() || !p.Shares.IsPositive() {
		return nil
	}
	if err := k.PoolGenerationEnds.Set(ctx, collections.Join3(p.Operator, p.ServiceId, p.Generation), p.RewardIndex); err != nil {
		return err
	}
	p.Generation++
	p.Shares = sdkmath.ZeroInt()
	// shares of this epoch still pending die with their generation
	p.PendingShares, p.PendingEpoch, p.PendingHolders = sdkmath.ZeroInt(), 0, 0
	return nil
}

// commit escrows amount from committer (from pays) behind an operator in a
// service, minting shares of the pool at its rate (rounded down). The new
// shares are pending: they earn rewards from the next epoch (L-2).
func (k Keeper) commit(ctx context.Context, from sdk.AccAddress, committer, operator string, serviceID uint64, amount sdk.Coin) error {
	if _, err := k.getOperator(ctx, operator); err != nil {
		return err
	}
	if _, err := k.getService(ctx, serviceID); err != nil {
		return err
	}
	p, err := k.pool(ctx, operator, serviceID)
	if err != nil {
		return err
	}
	total := p.Total.Add(amount.Amount)
	if !total.IsUint64() || total.Uint64() > MaxOperatorPower {
		return errorsmod.Wrapf(types.ErrStakeTooLarge, "%s would have %s committed in service %d", operator, total, serviceID)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, from, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return err
	}
	epoch, err := k.epochNow(ctx)
	if err != nil {
		return err
	}
	if _, err := k.joinPending(ctx, &p, epoch); err != nil {
		return err
	}
	if err := k.renewIfWiped(ctx, &p); err != nil {
		return err
	}
	c, err := k.CommitmentsByPool.Get(ctx, commitmentKey(operator, serviceID, committer))
	if isNotFound(err) {
		c = types.Commitment{Committer: committer, Operator: operator, ServiceId: serviceID,
			Shares: sdkmath.ZeroInt(), RewardIndex: p.RewardIndex, Unclaimed: sdkmath.ZeroInt(), Generation: p.Generation}
	} else if err != nil {
		return err
	}
	if err := k.accrue(ctx, &c, p, epoch); err != nil {
		return err
	}
	minted := sharesFor(amount.Amount, p.Total, p.Shares)
	c.Shares = c.Shares.Add(minted)
	p.Shares = p.Shares.Add(minted)
	p.Total = total
	if minted.IsPositive() {
		// after accrue and joinPending, any pending shares of c and p are of this epoch
		if !c.PendingShares.IsPositive() {
			p.PendingHolders++
		}
		c.PendingShares, c.PendingEpoch = c.PendingShares.Add(minted), epoch
		p.PendingShares, p.PendingEpoch = p.PendingShares.Add(minted), epoch
	}
	if err := k.setCommitment(ctx, c); err != nil {
		return err
	}
	if err := k.setPool(ctx, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventCommitted{Committer: committer, Operator: operator, ServiceId: serviceID, Amount: amount})
}

// uncommit burns the shares worth amount of a commitment (rounded up) and
// moves amount into an unbonding entry: shares of the unbonding pool of
// (operator, service, this epoch), which later slashes may still cut.
func (k Keeper) uncommit(ctx context.Context, params types.Params, committer, operator string, serviceID uint64, amount sdk.Coin) (types.UnbondingEntry, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if _, err := k.getOperator(ctx, operator); err != nil {
		return types.UnbondingEntry{}, err
	}
	if _, err := k.getService(ctx, serviceID); err != nil {
		return types.UnbondingEntry{}, err
	}
	c, err := k.CommitmentsByPool.Get(ctx, commitmentKey(operator, serviceID, committer))
	if isNotFound(err) {
		return types.UnbondingEntry{}, errorsmod.Wrapf(types.ErrInsufficientStake, "%s has no commitment to %s in service %d", committer, operator, serviceID)
	} else if err != nil {
		return types.UnbondingEntry{}, err
	}
	p, err := k.pool(ctx, operator, serviceID)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
	epoch, err := k.currentEpoch(ctx, params)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
	// refuse before writing anything: settle on a copy first
	settled := c
	if _, err := k.settle(ctx, &settled, p, epoch); err != nil {
		return types.UnbondingEntry{}, err
	}
	burn, paid, err := sharesToUncommit(settled.Shares, p, amount.Amount)
	if err != nil {
		return types.UnbondingEntry{}, errorsmod.Wrapf(err, "uncommit %s", amount)
	}
	if _, err := k.joinPending(ctx, &p, epoch); err != nil {
		return types.UnbondingEntry{}, err
	}
	if err := k.accrue(ctx, &c, p, epoch); err != nil {
		return types.UnbondingEntry{}, err
	}
	c.Shares = c.Shares.Sub(burn)
	p.Shares = p.Shares.Sub(burn)
	p.Total = p.Total.Sub(paid)
	if c.PendingShares.IsPositive() {
		// the shares not yet earning go first
		fromPending := sdkmath.MinInt(burn, c.PendingShares)
		c.PendingShares = c.PendingShares.Sub(fromPending)
		p.PendingShares = p.PendingShares.Sub(fromPending)
		if c.PendingShares.IsZero() {
			c.PendingEpoch = 0
			p.PendingHolders--
		}
	}
	if err := k.setCommitment(ctx, c); err != nil {
		return types.UnbondingEntry{}, err
	}
	if err := k.setPool(ctx, p); err != nil {
		return types.UnbondingEntry{}, err
	}
	id, err := k.UnbondingSeq.Next(ctx)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
	u, err := k.unbondingPool(ctx, operator, serviceID, epoch)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
	if u.Shares.IsZero() || u.Total.IsZero() {
		// new, or slashed to nothing: its shares are worth nothing, and the
		// entries holding them are of an earlier generation
		u.Generation, u.Shares = id, sdkmath.ZeroInt()
	}
	minted := sharesFor(paid, u.Total, u.Shares)
	u.Total = u.Total.Add(paid)
	u.Shares = u.Shares.Add(minted)
	if err := k.setUnbondingPool(ctx, u); err != nil {
		return types.UnbondingEntry{}, err
	}
	entry := types.UnbondingEntry{
		Id: id, Committer: committer, Operator: operator, ServiceId: serviceID,
		Shares: minted, Amount: paid, Epoch: epoch, Generation: u.Generation,
		CreationHeight: sdkCtx.BlockHeight(), CompletionTime: sdkCtx.BlockTime().Add(params.UnbondingTime),
	}
	if err := k.Unbonding.Set(ctx, id, entry); err != nil {
		return types.UnbondingEntry{}, err
	}
	return entry, emit(ctx, &types.EventUncommitted{Committer: committer, Operator: operator, ServiceId: serviceID,
		Amount: sdk.NewCoin(amount.Denom, paid), EntryId: id, CompletionTime: entry.CompletionTime})
}

// sharesToUncommit returns the shares of a commitment holding held shares
// of p to burn for amount, and the tokens they pay. Below the commitment's
// value (rounded down) it pays exactly amount, burning shares rounded up.
// Asking for the value, or for one more when the shares are worth a
// fraction more, takes every share and pays the value: so a commitment
// worth less than one token can always leave, and what rounding leaves
// stays in the pool (the last shares out take it).
func sharesToUncommit(held sdkmath.Int, p types.Pool, amount sdkmath.Int) (burn, paid sdkmath.Int, err error) {
	value := tokensOf(held, p.Total, p.Shares)
	whole := held.GTE(p.Shares) || held.Mul(p.Total).Equal(value.Mul(p.Shares))
	switch {
	case amount.LT(value):
		return sharesToPay(amount, p.Total, p.Shares), amount, nil
	case amount.Equal(value), amount.Equal(value.AddRaw(1)) && !whole && held.IsPositive():
		return held, value, nil
	default:
		return sdkmath.Int{}, sdkmath.Int{}, errorsmod.Wrapf(types.ErrInsufficientStake, "the commitment is worth %s", value)
	}
}

func unbondingPoolKey(operator string, serviceID, epoch uint64) collections.Triple[string, uint64, uint64] {
	return collections.Join3(operator, serviceID, epoch)
}

// unbondingPool returns the unbonding pool of (operator, service, epoch),
// empty when there is none.
func (k Keeper) unbondingPool(ctx context.Context, operator string, serviceID, epoch uint64) (types.UnbondingPool, error) {
	u, err := k.UnbondingPools.Get(ctx, unbondingPoolKey(operator, serviceID, epoch))
	if isNotFound(err) {
		return types.UnbondingPool{Operator: operator, ServiceId: serviceID, Epoch: epoch, Total: sdkmath.ZeroInt(), Shares: sdkmath.ZeroInt()}, nil
	}
	return u, err
}

// setUnbondingPool writes an unbonding pool, or deletes it once no entry
// holds its shares.
func (k Keeper) setUnbondingPool(ctx context.Context, u types.UnbondingPool) error {
	key := unbondingPoolKey(u.Operator, u.ServiceId, u.Epoch)
	if u.Shares.IsZero() {
		return k.UnbondingPools.Remove(ctx, key)
	}
	return k.UnbondingPools.Set(ctx, key, u)
}

// UnbondingValue is what an unbonding entry would be paid now.
func (k Keeper) UnbondingValue(ctx context.Context, e types.UnbondingEntry) (sdkmath.Int, error) {
	u, err := k.unbondingPool(ctx, e.Operator, e.ServiceId, e.Epoch)
	if err != nil || u.Shares.IsZero() || u.Generation != e.Generation {
		return sdkmath.ZeroInt(), err
	}
	return tokensOf(e.Shares, u.Total, u.Shares), nil
}

// MatureUnbonding releases the unbonding entries whose time has come, in
// the order of the time index (completion time, then id), at most
// max_releases_per_block of them: the rest stay in the index and go first
// in the next block. An entry is paid its shares at its unbonding pool's
// rate, rounded down; the last entry out of a pool takes what is left.
func (k Keeper) MatureUnbonding(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	budget := int(params.MaxReleasesPerBlock)
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndInclusive(collections.Join(sdkCtx.BlockTime().UnixNano(), uint64(1<<64-1)))
	var due []uint64
	if err := k.Unbonding.Indexes.ByTime.Walk(ctx, rng, func(_ int64, id uint64) (bool, error) {
		due = append(due, id)
		return len(due) >= budget, nil
	}); err != nil {
		return err
	}
	for _, id := range due {
		e, err := k.Unbonding.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := k.Unbonding.Remove(ctx, id); err != nil {
			return err
		}
		paid, err := k.releaseShares(ctx, e)
		if err != nil {
			return err
		}
		amt := sdk.NewCoin(params.StakeDenom, paid)
		if paid.IsPositive() {
			to, err := k.accAddress("committer", e.Committer)
			if err != nil {
				return err
			}
			if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, to, sdk.NewCoins(amt)); err != nil {
				return err
			}
		}
		if err := emit(ctx, &types.EventUnbondingMatured{EntryId: id, Committer: e.Committer, Amount: amt}); err != nil {
			return err
		}
	}
	return nil
}

// releaseShares takes an entry's shares out of its unbonding pool and
// returns what they were worth. An entry of an earlier generation of the
// pool was slashed to nothing.
func (k Keeper) releaseShares(ctx context.Context, e types.UnbondingEntry) (sdkmath.Int, error) {
	u, err := k.unbondingPool(ctx, e.Operator, e.ServiceId, e.Epoch)
	if err != nil || u.Shares.IsZero() || u.Generation != e.Generation {
		return sdkmath.ZeroInt(), err
	}
	if e.Shares.GT(u.Shares) {
		return sdkmath.ZeroInt(), fmt.Errorf("unbonding entry %d holds %s shares, its pool %s/%d/%d only %s", e.Id, e.Shares, e.Operator, e.ServiceId, e.Epoch, u.Shares)
	}
	paid := tokensOf(e.Shares, u.Total, u.Shares)
	u.Total = u.Total.Sub(paid)
	u.Shares = u.Shares.Sub(e.Shares)
	return paid, k.setUnbondingPool(ctx, u)
}

// committerCommitments returns a committer's commitments.
func (k Keeper) committerCommitments(ctx context.Context, committer string) ([]types.Commitment, error) {
	var out []types.Commitment
	err := k.CommitmentsByPool.Indexes.ByCommitter.Keys.Walk(ctx, collections.NewPrefixedTripleRange[string, string, uint64](committer),
		func(key collections.Triple[string, string, uint64]) (bool, error) {
			c, err := k.CommitmentsByPool.Get(ctx, commitmentKey(key.K2(), key.K3(), key.K1()))
			out = append(out, c)
			return err != nil, err
		})
	return out, err
}
