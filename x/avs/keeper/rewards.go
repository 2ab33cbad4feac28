package keeper

import (
	"context"
	"fmt"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// payBackers splits fee among backers by power, rounding down; the remainder
// goes to the first backer in address order, so no token is left behind. Each
// share is paid through reward: the operator's commission, the rest to its
// committers.
func (k Keeper) payBackers(ctx context.Context, serviceID uint64, fee sdk.Coin, backers []types.Vote) error {
	if types.IsFree(fee) || len(backers) == 0 {
		return nil
	}
	sorted := append([]types.Vote(nil), backers...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Operator < sorted[j].Operator })
	var total uint64
	for _, b := range sorted {
		total += b.Power
	}
	shares := make([]sdkmath.Int, len(sorted))
	paid := sdkmath.ZeroInt()
	for i, b := range sorted {
		shares[i] = fee.Amount.Mul(sdkmath.NewIntFromUint64(b.Power)).Quo(sdkmath.NewIntFromUint64(total))
		paid = paid.Add(shares[i])
	}
	shares[0] = shares[0].Add(fee.Amount.Sub(paid))
	epoch, err := k.epochNow(ctx)
	if err != nil {
		return err
	}
	for i, b := range sorted {
		if err := k.reward(ctx, b.Operator, serviceID, epoch, sdk.NewCoin(fee.Denom, shares[i])); err != nil {
			return err
		}
	}
	return nil
}

// accrue moves the rewards a commitment earned since it last accrued into
// its unclaimed balance: its earning shares times the growth of the pool's
// reward index (rewards per share), rounded down, so never more than the pool
// was given. Its pending shares (committed in an epoch before epoch, L-2)
// earn from the index their epoch's shares joined at, and then earn like the
// others. A commitment of an earlier generation of the pool accrues up to
// the index its generation ended at, and its shares, worth nothing, are
// dropped. The pool must have joined its pending shares for epoch
// (joinPending); the caller saves the commitment.
func (k Keeper) accrue(ctx context.Context, c *types.Commitment, p types.Pool, epoch uint64) error {
	used, err := k.settle(ctx, c, p, epoch)
	if err != nil || used == nil {
		return err
	}
	key := pendingJoinKey(used.Operator, used.ServiceId, used.Epoch)
	if used.Holders <= 1 {
		return k.PendingJoins.Remove(ctx, key)
	}
	used.Holders--
	return k.PendingJoins.Set(ctx, key, *used)
}

// settle is accrue without writes: it returns the PendingJoin whose
// holders the commitment's pending shares have left, if any.
func (k Keeper) settle(ctx context.Context, c *types.Commitment, p types.Pool, epoch uint64) (*types.PendingJoin, error) {
	if c.RewardIndex.IsNil() {
		c.RewardIndex = sdkmath.LegacyZeroDec()
	}
	if c.Unclaimed.IsNil() {
		c.Unclaimed = sdkmath.ZeroInt()
	}
	if c.PendingShares.IsNil() {
		c.PendingShares = sdkmath.ZeroInt()
	}
	end := p.RewardIndex
	if c.Generation != p.Generation {
		var err error
		if end, err = k.PoolGenerationEnds.Get(ctx, collections.Join3(c.Operator, c.ServiceId, c.Generation)); err != nil {
			return nil, errorsmod.Wrapf(err, "end of generation %d of pool %s/%d", c.Generation, c.Operator, c.ServiceId)
		}
	}
	var (
		used *types.PendingJoin
		join *sdkmath.LegacyDec // where the pending shares began to earn; nil: not (yet)
	)
	if c.PendingShares.IsPositive() {
		if c.Generation == p.Generation && p.PendingShares.IsPositive() && p.PendingEpoch == c.PendingEpoch {
			if epoch > c.PendingEpoch { // its epoch is over: the bucket joins at the next write
				join = &p.RewardIndex
			}
		} else {
			j, err := k.PendingJoins.Get(ctx, pendingJoinKey(c.Operator, c.ServiceId, c.PendingEpoch))
			switch {
			case err == nil && j.Generation == c.Generation:
				join, used = &j.RewardIndex, &j
			case err != nil && !isNotFound(err):
				return nil, err
			case c.Generation == p.Generation:
				return nil, fmt.Errorf("commitment of %s to %s/%d: pending shares of epoch %d have no join", c.Committer, c.Operator, c.ServiceId, c.PendingEpoch)
			}
			// else: the pool was slashed to nothing before its epoch ended,
			// and those shares never earned
		}
	}
	earning := c.Shares.Sub(c.PendingShares)
	if d := end.Sub(c.RewardIndex); d.IsPositive() {
		c.Unclaimed = c.Unclaimed.Add(d.MulInt(earning).TruncateInt())
	}
	if join != nil {
		if d := end.Sub(*join); d.IsPositive() {
			c.Unclaimed = c.Unclaimed.Add(d.MulInt(c.PendingShares).TruncateInt())
		}
		c.PendingShares, c.PendingEpoch = sdkmath.ZeroInt(), 0
	}
	c.RewardIndex = end
	if c.Generation != p.Generation {
		// no shares left: it starts the current generation at its index
		c.Shares, c.PendingShares, c.PendingEpoch = sdkmath.ZeroInt(), sdkmath.ZeroInt(), 0
		c.Generation, c.RewardIndex = p.Generation, p.RewardIndex
	}
	return used, nil
}

// pendingRewards is what a commitment could withdraw now (no writes).
func (k Keeper) pendingRewards(ctx context.Context, c types.Commitment, p types.Pool, epoch uint64) (sdkmath.Int, error) {
	_, err := k.settle(ctx, &c, p, epoch)
	return c.Unclaimed, err
}

// withdrawRewards pays a committer everything its commitments earned and,
// when it is an operator, what it holds in OperatorRewards.
func (k Keeper) withdrawRewards(ctx context.Context, committer sdk.AccAddress, committerStr string) (sdk.Coin, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	list, err := k.committerCommitments(ctx, committerStr)
	if err != nil {
		return sdk.Coin{}, err
	}
	epoch, err := k.currentEpoch(ctx, params)
	if err != nil {
		return sdk.Coin{}, err
	}
	// refuse before writing anything when there is nothing to pay
	owed := sdkmath.ZeroInt()
	for _, c := range list {
		p, err := k.pool(ctx, c.Operator, c.ServiceId)
		if err != nil {
			return sdk.Coin{}, err
		}
		amt, err := k.pendingRewards(ctx, c, p, epoch)
		if err != nil {
			return sdk.Coin{}, err
		}
		owed = owed.Add(amt)
	}
	asOperator, err := k.operatorRewards(ctx, committerStr)
	if err != nil {
		return sdk.Coin{}, err
	}
	if owed.IsZero() && asOperator.IsZero() {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrNoRewards, "%s", committerStr)
	}
	total := asOperator
	if asOperator.IsPositive() {
		if err := k.OperatorRewards.Remove(ctx, committerStr); err != nil {
			return sdk.Coin{}, err
		}
	}
	for _, c := range list {
		p, err := k.pool(ctx, c.Operator, c.ServiceId)
		if err != nil {
			return sdk.Coin{}, err
		}
		joined, err := k.joinPending(ctx, &p, epoch)
		if err != nil {
			return sdk.Coin{}, err
		}
		if err := k.accrue(ctx, &c, p, epoch); err != nil {
			return sdk.Coin{}, err
		}
		if c.Unclaimed.IsZero() {
			// still save what joining and settling changed
			if err := k.setCommitment(ctx, c); err != nil {
				return sdk.Coin{}, err
			}
			if joined {
				if err := k.setPool(ctx, p); err != nil {
					return sdk.Coin{}, err
				}
			}
			continue
		}
		total = total.Add(c.Unclaimed)
		p.Outstanding = p.Outstanding.Sub(c.Unclaimed)
		c.Unclaimed = sdkmath.ZeroInt()
		if err := k.setCommitment(ctx, c); err != nil {
			return sdk.Coin{}, err
		}
		if err := k.setPool(ctx, p); err != nil {
			return sdk.Coin{}, err
		}
	}
	if total.IsZero() {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrNoRewards, "%s", committerStr)
	}
	amt := sdk.NewCoin(params.StakeDenom, total)
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, committer, sdk.NewCoins(amt)); err != nil {
		return sdk.Coin{}, err
	}
	return amt, emit(ctx, &types.EventRewardsWithdrawn{Committer: committerStr, Amount: amt})
}

// reward pays one backer's share of a task fee: the operator keeps its
// commission, credited to its OperatorRewards, and the rest accrues to the
// pool's earning shares (those committed before this epoch, L-2) through the
// reward index (no loop over committers). An operator with no earning stake
// in the service keeps it all.
func (k Keeper) reward(ctx context.Context, operator string, serviceID, epoch uint64, share sdk.Coin) error {
	if !share.Amount.IsPositive() {
		return nil
	}
	op, err := k.Operators.Get(ctx, operator)
	if err != nil {
		return err
	}
	p, err := k.pool(ctx, operator, serviceID)
	if err != nil {
		return err
	}
	dirty, err := k.joinPending(ctx, &p, epoch)
	if err != nil {
		return err
	}
	keep := share.Amount
	// only shares committed before this epoch earn (L-2)
	if earning := p.Shares.Sub(p.PendingShares); p.Total.IsPositive() && earning.IsPositive() {
		commission := activeCommission(op, sdk.UnwrapSDKContext(ctx).BlockTime())
		if commission.IsNil() {
			commission = sdkmath.LegacyZeroDec() // unset: everything to committers
		}
		keep = sdkmath.MinInt(commission.MulInt(share.Amount).TruncateInt(), share.Amount)
		if rest := share.Amount.Sub(keep); rest.IsPositive() {
			p.RewardIndex = p.RewardIndex.Add(sdkmath.LegacyNewDecFromInt(rest).QuoInt(earning))
			p.Outstanding = p.Outstanding.Add(rest)
			dirty = true
		}
	}
	if dirty {
		if err := k.setPool(ctx, p); err != nil {
			return err
		}
	}
	if !keep.IsPositive() {
		return nil
	}
	return k.creditOperator(ctx, operator, keep)
}

// creditOperator adds to what an operator may withdraw: no bank send per
// task (issue #16); MsgWithdrawRewards pays it.
func (k Keeper) creditOperator(ctx context.Context, operator string, amount sdkmath.Int) error {
	held, err := k.OperatorRewards.Get(ctx, operator)
	if isNotFound(err) {
		held = sdkmath.ZeroInt()
	} else if err != nil {
		return err
	}
	return k.OperatorRewards.Set(ctx, operator, held.Add(amount))
}

// operatorRewards is what an operator holds claimable (zero if nothing).
func (k Keeper) operatorRewards(ctx context.Context, operator string) (sdkmath.Int, error) {
	held, err := k.OperatorRewards.Get(ctx, operator)
	if isNotFound(err) {
		return sdkmath.ZeroInt(), nil
	}
	return held, err
}
