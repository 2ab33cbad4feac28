package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// ModuleBalances is what the module account must hold, by part.
type ModuleBalances struct {
	Commitments, Unbonding, Escrow, Treasuries, Rewards, Total sdkmath.Int
}

// ExpectedModuleBalance adds up everything the module account holds for
// others, in the stake denom: commitments, unbonding entries, the fees of
// PENDING tasks and their handler deposits, treasuries, and the rewards owed to committers.
func (k Keeper) ExpectedModuleBalance(ctx context.Context) (ModuleBalances, error) {
	b := ModuleBalances{sdkmath.ZeroInt(), sdkmath.ZeroInt(), sdkmath.ZeroInt(), sdkmath.ZeroInt(), sdkmath.ZeroInt(), sdkmath.ZeroInt()}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return b, err
	}
	err = k.Pools.Walk(ctx, nil, func(_ collections.Pair[string, uint64], p types.Pool) (bool, error) {
		b.Commitments = b.Commitments.Add(p.Total)
		b.Rewards = b.Rewards.Add(p.Outstanding)
		return false, nil
	})
	if err != nil {
		return b, err
	}
	err = k.Unbonding.Walk(ctx, nil, func(_ uint64, e types.UnbondingEntry) (bool, error) {
		b.Unbonding = b.Unbonding.Add(e.Amount)
		return false, nil
	})
	if err != nil {
		return b, err
	}
	err = k.Treasuries.Walk(ctx, nil, func(_ uint64, t sdkmath.Int) (bool, error) {
		b.Treasuries = b.Treasuries.Add(t)
		return false, nil
	})
	if err != nil {
		return b, err
	}
	err = k.Tasks.Indexes.ByServiceStatus.Walk(ctx, nil, func(ref collections.Pair[uint64, int32], id uint64) (bool, error) {
		if ref.K2() != int32(types.TASK_STATUS_PENDING) {
			return false, nil
		}
		t, err := k.Tasks.Get(ctx, id)
		if err != nil {
			return true, err
		}
		if !types.IsFree(t.Fee) && t.Fee.Denom == params.StakeDenom {
			b.Escrow = b.Escrow.Add(t.Fee.Amount)
		}
		if t.HandlerDeposit.Denom == params.StakeDenom && !t.HandlerDeposit.Amount.IsNil() {
			b.Escrow = b.Escrow.Add(t.HandlerDeposit.Amount)
		}
		return false, nil
	})
	b.Total = b.Commitments.Add(b.Unbonding).Add(b.Escrow).Add(b.Treasuries).Add(b.Rewards)
	return b, err
}

// CheckModuleBalance is the module's invariant: the module account holds
// exactly commitments + unbonding + fee escrows + treasuries + unclaimed
// rewards, in the stake denom.
func (k Keeper) CheckModuleBalance(ctx context.Context) error {
	want, err := k.ExpectedModuleBalance(ctx)
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	have := k.bank.GetBalance(ctx, authtypes.NewModuleAddress(types.ModuleName), params.StakeDenom)
	if !have.Amount.Equal(want.Total) {
		return fmt.Errorf("x/avs module account holds %s, expected %s%s (commitments %s, unbonding %s, escrow %s, treasuries %s, rewards %s)",
			have, want.Total, params.StakeDenom, want.Commitments, want.Unbonding, want.Escrow, want.Treasuries, want.Rewards)
	}
	return nil
}
