package keeper

import (
	"context"
	"fmt"
	"strings"

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
// others, in the stake denom: the tokens of the commitment and unbonding
// pools, the fees of PENDING tasks and their handler deposits, the fees of
// decided tasks not yet paid (UnpaidTasks), treasuries,
// and the rewards owed to committers and operators.
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
	err = k.UnbondingPools.Walk(ctx, nil, func(_ collections.Triple[string, uint64, uint64], u types.UnbondingPool) (bool, error) {
		b.Unbonding = b.Unbonding.Add(u.Total)
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
	err = k.OperatorRewards.Walk(ctx, nil, func(_ string, r sdkmath.Int) (bool, error) {
		b.Rewards = b.Rewards.Add(r)
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
	if err != nil {
		return b, err
	}
	// a decided task's fee stays in escrow until EndBlock pays it
	err = k.UnpaidTasks.Walk(ctx, nil, func(id uint64) (bool, error) {
		t, err := k.Tasks.Get(ctx, id)
		if err != nil {
			return true, err
		}
		if !types.IsFree(t.Fee) && t.Fee.Denom == params.StakeDenom {
			b.Escrow = b.Escrow.Add(t.Fee.Amount)
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

// CheckShares is the share accounting's invariant: the shares of a pool's
// commitments (of its current generation) add up to the pool's shares, the
// shares of an unbonding pool's entries to the unbonding pool's, and a pool
// never holds tokens without shares. So Σ commitment value == pool tokens,
// up to the rounding down of each value (what rounding leaves stays in the
// pool, and the last shares out take it).
func (k Keeper) CheckShares(ctx context.Context) error {
	// (collections keys hold pointers: key the maps by string)
	held := map[string]sdkmath.Int{}
	pending := map[string]sdkmath.Int{} // pool -> pending shares of its bucket's holders
	holders := map[string]uint64{}      // pool -> its bucket's holders
	joinHolders := map[string]uint64{}  // "operator/service/epoch/generation" -> holders
	err := k.CommitmentsByPool.Walk(ctx, nil, func(key collections.Triple[string, uint64, string], c types.Commitment) (bool, error) {
		p, err := k.pool(ctx, c.Operator, c.ServiceId)
		if err != nil {
			return true, err
		}
		if !c.PendingShares.IsNil() && c.PendingShares.IsPositive() {
			pk := fmt.Sprintf("%s/%d", key.K1(), key.K2())
			if c.Generation == p.Generation && p.PendingShares.IsPositive() && p.PendingEpoch == c.PendingEpoch {
				if v, ok := pending[pk]; ok {
					pending[pk] = v.Add(c.PendingShares)
				} else {
					pending[pk] = c.PendingShares
				}
				holders[pk]++
			} else {
				joinHolders[fmt.Sprintf("%s/%d/%d/%d", key.K1(), key.K2(), c.PendingEpoch, c.Generation)]++
			}
		}
		if c.Generation != p.Generation {
			return false, nil
		}
		pk := fmt.Sprintf("%s/%d", key.K1(), key.K2())
		if v, ok := held[pk]; ok {
			held[pk] = v.Add(c.Shares)
		} else {
			held[pk] = c.Shares
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	err = k.Pools.Walk(ctx, nil, func(key collections.Pair[string, uint64], p types.Pool) (bool, error) {
		sum, ok := held[fmt.Sprintf("%s/%d", key.K1(), key.K2())]
		if !ok {
			sum = sdkmath.ZeroInt()
		}
		if !p.Shares.Equal(sum) {
			return true, fmt.Errorf("pool %s/%d has %s shares, its commitments %s", p.Operator, p.ServiceId, p.Shares, sum)
		}
		if p.Shares.IsZero() && !p.Total.IsZero() {
			return true, fmt.Errorf("pool %s/%d holds %s tokens and no shares", p.Operator, p.ServiceId, p.Total)
		}
		pk := fmt.Sprintf("%s/%d", key.K1(), key.K2())
		want, ok := pending[pk]
		if !ok {
			want = sdkmath.ZeroInt()
		}
		if !p.PendingShares.IsNil() && (!p.PendingShares.Equal(want) || p.PendingHolders != holders[pk]) {
			return true, fmt.Errorf("pool %s has %s pending shares of %d holders, its commitments %s of %d", pk, p.PendingShares, p.PendingHolders, want, holders[pk])
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	err = k.PendingJoins.Walk(ctx, nil, func(_ collections.Triple[string, uint64, uint64], j types.PendingJoin) (bool, error) {
		jk := fmt.Sprintf("%s/%d/%d/%d", j.Operator, j.ServiceId, j.Epoch, j.Generation)
		if j.Holders != joinHolders[jk] {
			return true, fmt.Errorf("pending join %s counts %d holders, the commitments %d", jk, j.Holders, joinHolders[jk])
		}
		delete(joinHolders, jk)
		return false, nil
	})
	if err != nil {
		return err
	}
	for jk, n := range joinHolders {
		// pending shares of a generation slashed to nothing before they joined have no join
		var op string
		var svc, epoch, gen uint64
		if _, err := fmt.Sscanf(strings.ReplaceAll(jk, "/", " "), "%s %d %d %d", &op, &svc, &epoch, &gen); err != nil {
			return err
		}
		p, err := k.pool(ctx, op, svc)
		if err != nil {
			return err
		}
		if gen == p.Generation {
			return fmt.Errorf("%d commitments to %s/%d hold pending shares of epoch %d with no join", n, op, svc, epoch)
		}
	}
	entries := map[string]sdkmath.Int{}
	err = k.Unbonding.Walk(ctx, nil, func(_ uint64, e types.UnbondingEntry) (bool, error) {
		key := fmt.Sprintf("%s/%d/%d", e.Operator, e.ServiceId, e.Epoch)
		u, err := k.unbondingPool(ctx, e.Operator, e.ServiceId, e.Epoch)
		if err != nil || u.Generation != e.Generation {
			return err != nil, err
		}
		if v, ok := entries[key]; ok {
			entries[key] = v.Add(e.Shares)
		} else {
			entries[key] = e.Shares
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	return k.UnbondingPools.Walk(ctx, nil, func(key collections.Triple[string, uint64, uint64], u types.UnbondingPool) (bool, error) {
		sum, ok := entries[fmt.Sprintf("%s/%d/%d", key.K1(), key.K2(), key.K3())]
		if !ok {
			sum = sdkmath.ZeroInt()
		}
		if !u.Shares.Equal(sum) {
			return true, fmt.Errorf("unbonding pool %s/%d/%d has %s shares, its entries %s", u.Operator, u.ServiceId, u.Epoch, u.Shares, sum)
		}
		return false, nil
	})
}
