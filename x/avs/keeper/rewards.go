package keeper

import (
	"context"
	"sort"

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
	for i, b := range sorted {
		if err := k.reward(ctx, b.Operator, serviceID, sdk.NewCoin(fee.Denom, shares[i])); err != nil {
			return err
		}
	}
	return nil
}

// accrue moves the rewards a commitment earned since it last accrued into
// its unclaimed balance (never more than the pool's index allows).
func accrue(c *types.Commitment, p types.Pool) {
	if c.RewardIndex.IsNil() {
		c.RewardIndex = sdkmath.LegacyZeroDec()
	}
	if c.Unclaimed.IsNil() {
		c.Unclaimed = sdkmath.ZeroInt()
	}
	if d := p.RewardIndex.Sub(c.RewardIndex); d.IsPositive() {
		c.Unclaimed = c.Unclaimed.Add(d.MulInt(c.Amount).TruncateInt())
	}
	c.RewardIndex = p.RewardIndex
}

// pendingRewards is what a commitment could withdraw now.
func pendingRewards(c types.Commitment, p types.Pool) sdkmath.Int {
	accrue(&c, p)
	return c.Unclaimed
}

// withdrawRewards pays a committer everything its commitments earned.
func (k Keeper) withdrawRewards(ctx context.Context, committer sdk.AccAddress, committerStr string) (sdk.Coin, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	list, err := k.committerCommitments(ctx, committerStr)
	if err != nil {
		return sdk.Coin{}, err
	}
	total := sdkmath.ZeroInt()
	for _, c := range list {
		p, err := k.pool(ctx, c.Operator, c.ServiceId)
		if err != nil {
			return sdk.Coin{}, err
		}
		accrue(&c, p)
		if c.Unclaimed.IsZero() {
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
// commission, and the rest accrues to the pool's committers through the
// reward index (no loop over committers). An operator with no committers in
// the service keeps it all.
func (k Keeper) reward(ctx context.Context, operator string, serviceID uint64, share sdk.Coin) error {
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
	keep := share.Amount
	if p.Total.IsPositive() {
		commission := op.Commission
		if commission.IsNil() {
			commission = sdkmath.LegacyZeroDec() // unset: everything to committers
		}
		keep = sdkmath.MinInt(commission.MulInt(share.Amount).TruncateInt(), share.Amount)
		if rest := share.Amount.Sub(keep); rest.IsPositive() {
			p.RewardIndex = p.RewardIndex.Add(sdkmath.LegacyNewDecFromInt(rest).QuoInt(p.Total))
			p.Outstanding = p.Outstanding.Add(rest)
			if err := k.setPool(ctx, p); err != nil {
				return err
			}
		}
	}
	if !keep.IsPositive() {
		return nil
	}
	addr, err := k.accAddress("operator", operator)
	if err != nil {
		return err
	}
	return k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, addr, sdk.NewCoins(sdk.NewCoin(share.Denom, keep)))
}
