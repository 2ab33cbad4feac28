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
	accrue(&c, p)
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
	if amount.Amount.GT(c.Amount) {
		return types.UnbondingEntry{}, errorsmod.Wrapf(types.ErrInsufficientStake, "uncommit %s, committed %s%s", amount, c.Amount, params.StakeDenom)
	}
	p, err := k.pool(ctx, operator, serviceID)
	if err != nil {
		return types.UnbondingEntry{}, err
	}
	accrue(&c, p)
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
