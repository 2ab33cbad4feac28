package keeper

import (
	"context"
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
	for i, b := range sorted {
		if err := k.reward(ctx, b.Operator, serviceID, sdk.NewCoin(fee.Denom, shares[i])); err != nil {
			return err
		}
	}
	return nil
}

// accrue moves the rewards a commitment earned since it last accrued into
// its unclaimed balance: its shares times the growth of the pool's reward
// index (rewards per share), rounded down, so never more than the pool was
// given. A commitment of an earlier generation of the pool accrues up to the
// index its generation ended at, and its shares, worth nothing, are dropped.
func (k Keeper) accrue(ctx context.Context, c *types.Commitment, p types.Pool) error {
	if c.Generation != p.Generation {
		end, err := k.PoolGenerationEnds.Get(ctx, collections.Join3(c.Operator, c.ServiceId, c.Generation))
		if err != nil {
			return errorsmod.Wrapf(err, "end of generation %d of pool %s/%d", c.Generation, c.Operator, c.ServiceId)
		}
		accrueTo(c, end)
		c.Shares = sdkmath.ZeroInt()
		c.Generation = p.Generation
	}
	accrueTo(c, p.RewardIndex)
	return nil
}

func accrueTo(c *types.Commitment, index sdkmath.LegacyDec) {
	if c.RewardIndex.IsNil() {
		c.RewardIndex = sdkmath.LegacyZeroDec()
	}
	if c.Unclaimed.IsNil() {
		c.Unclaimed = sdkmath.ZeroInt()
	}
	if d := index.Sub(c.RewardIndex); d.IsPositive() {
		c.Unclaimed = c.Unclaimed.Add(d.MulInt(c.Shares).TruncateInt())
	}
	c.RewardIndex = index
}

// pendingRewards is what a commitment could withdraw now.
func (k Keeper) pendingRewards(ctx context.Context, c types.Commitment, p types.Pool) (sdkmath.Int, error) {
	err := k.accrue(ctx, &c, p)
	return c.Unclaimed, err
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
		if err := k.accrue(ctx, &c, p); err != nil {
			return sdk.Coin{}, err
		}
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
// commission, and the rest accrues to the pool's shares through the reward
// index (no loop over committers). An operator with no stake committed in
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
		commission := activeCommission(op, sdk.UnwrapSDKContext(ctx).BlockTime())
		if commission.IsNil() {
			commission = sdkmath.LegacyZeroDec() // unset: everything to committers
		}
		keep = sdkmath.MinInt(commission.MulInt(share.Amount).TruncateInt(), share.Amount)
		if rest := share.Amount.Sub(keep); rest.IsPositive() {
			// tokens > 0 means shares > 0 (shares.go)
			p.RewardIndex = p.RewardIndex.Add(sdkmath.LegacyNewDecFromInt(rest).QuoInt(p.Shares))
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
