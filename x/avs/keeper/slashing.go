package keeper

import (
	"context"
	"math"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// dissenters returns the operators whose (non-late) votes dissent from the
// accepted result: see dissents.
func dissenters(svc types.Service, result []byte, votes []types.Vote) []string {
	var out []string
	for _, v := range votes {
		if dissents(svc, result, v) {
			out = append(out, v.Operator)
		}
	}
	return out
}

// dissents reports whether a vote disagrees with the accepted result enough
// to be slashed: another digest (EXACT), or beyond the slashable spread of the
// median (MEDIAN). A failure vote dissents only for a deterministic reason
// (trap, exit, memory, output): a timeout or an HTTP failure depends on the
// operator's machine and network, not on its honesty.
func dissents(svc types.Service, result []byte, v types.Vote) bool {
	if v.Failure.IsFailure() {
		return v.Failure.Deterministic()
	}
	if svc.Manifest.Aggregation.Mode != types.AGGREGATION_MODE_MEDIAN {
		return v.Digest != types.Digest(result)
	}
	m, err1 := types.ParseNumericResult(result)
	x, err2 := types.ParseNumericResult(v.Result)
	if err1 != nil || err2 != nil {
		return true
	}
	return !types.WithinSpread(x, m, svc.Manifest.Aggregation.SlashableSpreadOrAllowed())
}

// slashDissenters slashes the dissenting operators, if the service slashes.
func (k Keeper) slashDissenters(ctx context.Context, svc types.Service, task types.Task, operators []string) error {
	if len(operators) == 0 || !svc.Manifest.Slashes() {
		return nil
	}
	for _, op := range operators {
		if err := k.slash(ctx, op, svc, task); err != nil {
			return err
		}
	}
	return nil
}

// slash cuts an operator's backing in a service by fraction: the tokens of
// its pool, and of its unbonding pools of the task's epoch and later (the
// stake that was still committed when the epoch's snapshot could count it).
// It never walks commitments or unbonding entries: they hold shares, and
// what a share is worth falls with its pool's tokens. The unbonding pools it
// walks are at most those of the epochs a task spans, max_task_timeout /
// epoch_length + 2, however many entries they hold. Slashed tokens are
// burned.
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
	total := cut(fraction, p.Total)
	if total.IsPositive() {
		p.Total = p.Total.Sub(total)
		if err := k.setPool(ctx, p); err != nil {
			return err
		}
	}
	rng := new(collections.Range[collections.Triple[string, uint64, uint64]]).
		StartInclusive(unbondingPoolKey(operator, svc.Id, task.Epoch)).
		EndInclusive(unbondingPoolKey(operator, svc.Id, math.MaxUint64))
	var unbonding []types.UnbondingPool
	if err := k.UnbondingPools.Walk(ctx, rng, func(_ collections.Triple[string, uint64, uint64], u types.UnbondingPool) (bool, error) {
		unbonding = append(unbonding, u)
		return false, nil
	}); err != nil {
		return err
	}
	for _, u := range unbonding {
		d := cut(fraction, u.Total)
		if !d.IsPositive() {
			continue
		}
		u.Total = u.Total.Sub(d)
		total = total.Add(d)
		if err := k.setUnbondingPool(ctx, u); err != nil {
			return err
		}
	}
	burned := sdk.NewCoin(params.StakeDenom, total)
	if total.IsPositive() {
		if err := k.bank.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(burned)); err != nil {
			return err
		}
	}
	return emit(ctx, &types.EventOperatorSlashed{Operator: operator, ServiceId: svc.Id, TaskId: task.Id, Fraction: fraction.String(), Amount: burned})
}
