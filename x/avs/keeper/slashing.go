package keeper

import (
	"context"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

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
// median (MEDIAN).
func dissents(svc types.Service, result []byte, v types.Vote) bool {
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
		accrue(&c, p)
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
