package keeper

import (
	"context"

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
		return types.Pool{Operator: operator, ServiceId: serviceID, Total: sdkmath.ZeroInt(),
			RewardIndex: sdkmath.LegacyZeroDec(), Outstanding: sdkmath.ZeroInt()}, nil
	}
	return p, err
}

func (k Keeper) setPool(ctx context.Context, p types.Pool) error {
	return k.Pools.Set(ctx, collections.Join(p.Operator, p.ServiceId), p)
}

func commitmentKey(operator string, serviceID uint64, committer string) collections.Triple[string, uint64, string] {
	return collections.Join3(operator, serviceID, committer)
}

// settle moves the rewards a commitment earned since its last settlement into
// its unclaimed balance (never more than the pool's index allows).
func settle(c *types.Commitment, p types.Pool) {
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
	settle(&c, p)
	return c.Unclaimed
}

// setCommitment writes a commitment, or deletes it once it holds nothing.
func (k Keeper) setCommitment(ctx context.Context, c types.Commitment) error {
	key := commitmentKey(c.Operator, c.ServiceId, c.Committer)
	if c.Amount.IsZero() && c.Unclaimed.IsZero() {
		if has, err := k.CommitmentsByPool.Has(ctx, key); err != nil || !has {
			return err
		}
		return k.CommitmentsByPool.Remove(ctx, key)
	}
	return k.CommitmentsByPool.Set(ctx, key, c)
}

// commit escrows amount from committer (from pays) behind an operator in a
// service.
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
	c, err := k.CommitmentsByPool.Get(ctx, commitmentKey(operator, serviceID, committer))
	if isNotFound(err) {
		c = types.Commitment{Committer: committer, Operator: operator, ServiceId: serviceID,
			Amount: sdkmath.ZeroInt(), RewardIndex: p.RewardIndex, Unclaimed: sdkmath.ZeroInt()}
	} else if err != nil {
		return err
	}
	settle(&c, p)
	c.Amount = c.Amount.Add(amount.Amount)
	p.Total = total
	if err := k.setCommitment(ctx, c); err != nil {
		return err
	}
	if err := k.setPool(ctx, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventCommitted{Committer: committer, Operator: operator, ServiceId: serviceID, Amount: amount})
}

// uncommit moves amount of a commitment into an unbonding entry and returns it.
func (k Keeper) uncommit(ctx context.Context, committer, operator string, serviceID uint64, amount sdk.Coin) (types.UnbondingEntry, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
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
	if amount.Amount.GT(c.Amount) {
		return types.UnbondingEntry{}, errorsmod.Wrapf(types.ErrInsufficientStake, "uncommit %s, committed %s%s", amount, c.Amount, params.StakeDenom)
	}
	p, err := k.pool(ctx, operator, serviceID)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
	settle(&c, p)
	c.Amount = c.Amount.Sub(amount.Amount)
	p.Total = p.Total.Sub(amount.Amount)
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
	entry := types.UnbondingEntry{
		Id: id, Committer: committer, Operator: operator, ServiceId: serviceID,
		Amount: amount.Amount, CreationHeight: sdkCtx.BlockHeight(), CompletionTime: sdkCtx.BlockTime().Add(params.UnbondingTime),
	}
	if err := k.Unbonding.Set(ctx, id, entry); err != nil {
		return types.UnbondingEntry{}, err
	}
	return entry, emit(ctx, &types.EventUncommitted{Committer: committer, Operator: operator, ServiceId: serviceID,
		Amount: amount, EntryId: id, CompletionTime: entry.CompletionTime})
}

// MatureUnbonding releases every unbonding entry whose time has come, walking
// the time index only.
func (k Keeper) MatureUnbonding(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndInclusive(collections.Join(sdkCtx.BlockTime().UnixNano(), uint64(1<<64-1)))
	var due []uint64
	if err := k.Unbonding.Indexes.ByTime.Walk(ctx, rng, func(_ int64, id uint64) (bool, error) {
		due = append(due, id)
		return false, nil
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
		amt := sdk.NewCoin(params.StakeDenom, e.Amount)
		if e.Amount.IsPositive() {
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
		settle(&c, p)
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

// slash cuts an operator's backing in a service by fraction: every commitment
// pro rata, and the unbonding entries begun at or after the faulty task's
// creation (stake that was still backing it). Slashed tokens are burned.
func (k Keeper) slash(ctx context.Context, operator string, svc types.Service, task types.Task) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	fraction := svc.Manifest.SlashFraction
	p, err := k.pool(ctx, operator, svc.Id)
	if err != nil {
		return err
	}
	cut := sdkmath.ZeroInt()
	var commitments []types.Commitment
	if err := k.CommitmentsByPool.Walk(ctx, collections.NewSuperPrefixedTripleRange[string, uint64, string](operator, svc.Id),
		func(_ collections.Triple[string, uint64, string], c types.Commitment) (bool, error) {
			commitments = append(commitments, c)
			return false, nil
		}); err != nil {
		return err
	}
	for _, c := range commitments {
		settle(&c, p)
		d := fraction.MulInt(c.Amount).TruncateInt()
		c.Amount = c.Amount.Sub(d)
		cut = cut.Add(d)
		if err := k.setCommitment(ctx, c); err != nil {
			return err
		}
	}
	p.Total = p.Total.Sub(cut)
	if err := k.setPool(ctx, p); err != nil {
		return err
	}
	var entries []uint64
	if err := k.Unbonding.Indexes.ByPool.Walk(ctx, collections.NewPrefixedPairRange[collections.Pair[string, uint64], uint64](collections.Join(operator, svc.Id)),
		func(_ collections.Pair[string, uint64], id uint64) (bool, error) {
			entries = append(entries, id)
			return false, nil
		}); err != nil {
		return err
	}
	for _, id := range entries {
		e, err := k.Unbonding.Get(ctx, id)
		if err != nil {
			return err
		}
		if e.CreationHeight < task.CreatedHeight {
			continue
		}
		d := fraction.MulInt(e.Amount).TruncateInt()
		e.Amount = e.Amount.Sub(d)
		cut = cut.Add(d)
		if err := k.Unbonding.Set(ctx, e.Id, e); err != nil {
			return err
		}
	}
	burned := sdk.NewCoin(params.StakeDenom, cut)
	if cut.IsPositive() {
		if err := k.bank.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(burned)); err != nil {
			return err
		}
	}
	return emit(ctx, &types.EventOperatorSlashed{Operator: operator, ServiceId: svc.Id, TaskId: task.Id, Fraction: fraction.String(), Amount: burned})
}

// fundService adds amount, paid by from, to a service's treasury.
func (k Keeper) fundService(ctx context.Context, from sdk.AccAddress, funder string, serviceID uint64, amount sdk.Coin) error {
	if _, err := k.getService(ctx, serviceID); err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, from, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return err
	}
	t, err := k.treasury(ctx, serviceID)
	if err != nil {
		return err
	}
	t = t.Add(amount.Amount)
	if err := k.Treasuries.Set(ctx, serviceID, t); err != nil {
		return err
	}
	return emit(ctx, &types.EventServiceFunded{ServiceId: serviceID, Funder: funder, Amount: amount,
		Treasury: sdk.NewCoin(amount.Denom, t)})
}

func (k Keeper) treasury(ctx context.Context, serviceID uint64) (sdkmath.Int, error) {
	t, err := k.Treasuries.Get(ctx, serviceID)
	if isNotFound(err) {
		return sdkmath.ZeroInt(), nil
	}
	return t, err
}
