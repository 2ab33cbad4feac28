package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// getOperator loads a registered operator or returns ErrOperatorNotFound.
func (k Keeper) getOperator(ctx context.Context, addr string) (types.Operator, error) {
	op, err := k.Operators.Get(ctx, addr)
	if isNotFound(err) {
		return op, errorsmod.Wrapf(types.ErrOperatorNotFound, "%s: register it first with `avsd tx avs register-operator MONIKER`", addr)
	}
	return op, err
}

// registerOperator registers an operator with a checked moniker and commission.
func (k Keeper) registerOperator(ctx context.Context, operator, moniker string, commission sdkmath.LegacyDec) error {
	if has, err := k.Operators.Has(ctx, operator); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrOperatorExists, "%s", operator)
	}
	op := types.Operator{Address: operator, Moniker: moniker, RegisteredHeight: sdk.UnwrapSDKContext(ctx).BlockHeight(), Commission: commission, PendingCommission: sdkmath.LegacyZeroDec()}
	if err := k.Operators.Set(ctx, operator, op); err != nil {
		return err
	}
	return emit(ctx, &types.EventOperatorRegistered{Operator: operator, Moniker: moniker})
}

// updateOperator changes an operator's moniker, and its commission unless
// commission is unset.
func (k Keeper) updateOperator(ctx context.Context, operator, moniker string, commission sdkmath.LegacyDec) error {
	op, err := k.getOperator(ctx, operator)
	if err != nil {
		return err
	}
	if !commission.IsNil() {
		if _, err := validCommission(commission, op.Commission); err != nil {
			return err
		}
		if err := k.changeCommission(ctx, &op, commission); err != nil {
			return err
		}
	}
	op.Moniker = moniker
	if err := k.Operators.Set(ctx, operator, op); err != nil {
		return err
	}
	return emit(ctx, &types.EventOperatorUpdated{Operator: operator, Moniker: moniker})
}

// optIn opts an operator in to a service, if its admission allows and it is
// not jailed there.
func (k Keeper) optIn(ctx context.Context, operator string, serviceID uint64) error {
	if _, err := k.getOperator(ctx, operator); err != nil {
		return err
	}
	svc, err := k.getService(ctx, serviceID)
	if err != nil {
		return err
	}
	if l, err := k.operatorLiveness(ctx, serviceID, operator); err != nil {
		return err
	} else if l.Jailed {
		return errorsmod.Wrapf(types.ErrOperatorJailed, "%s in service %d until %s: then `avsd tx avs unjail %d`",
			operator, serviceID, l.JailedUntil.UTC().Format(time.RFC3339), serviceID)
	}
	key := collections.Join(svc.Id, operator)
	if has, err := k.OptIns.Has(ctx, key); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrAlreadyOptedIn, "%s in service %d", operator, svc.Id)
	}
	if svc.Manifest.Admission == types.ADMISSION_ALLOWLIST {
		if ok, err := k.Allowlist.Has(ctx, key); err != nil {
			return err
		} else if !ok {
			return errorsmod.Wrapf(types.ErrNotAllowlisted, "%s for service %d", operator, svc.Id)
		}
	}
	if err := k.OptIns.Set(ctx, key, collections.NoValue{}); err != nil {
		return err
	}
	return emit(ctx, &types.EventOptedIn{Operator: operator, ServiceId: svc.Id})
}

// optOut opts an operator out of a service.
func (k Keeper) optOut(ctx context.Context, operator string, serviceID uint64) error {
	if _, err := k.getOperator(ctx, operator); err != nil {
		return err
	}
	key := collections.Join(serviceID, operator)
	if has, err := k.OptIns.Has(ctx, key); err != nil {
		return err
	} else if !has {
		return errorsmod.Wrapf(types.ErrNotOptedIn, "%s in service %d (`avsd tx avs opt-in %d` opts in)", operator, serviceID, serviceID)
	}
	if err := k.OptIns.Remove(ctx, key); err != nil {
		return err
	}
	return emit(ctx, &types.EventOptedOut{Operator: operator, ServiceId: serviceID})
}

// unjail returns an operator jailed in a service to the service's next
// power snapshots once its cooldown passed.
func (k Keeper) unjail(ctx context.Context, operator string, serviceID uint64) error {
	if _, err := k.getOperator(ctx, operator); err != nil {
		return err
	}
	l, err := k.operatorLiveness(ctx, serviceID, operator)
	if err != nil {
		return err
	}
	if !l.Jailed {
		return errorsmod.Wrapf(types.ErrNotJailed, "%s in service %d", operator, serviceID)
	}
	if sdk.UnwrapSDKContext(ctx).BlockTime().Before(l.JailedUntil) {
		return errorsmod.Wrapf(types.ErrUnjailTooEarly, "%s may unjail in service %d from %s: send `avsd tx avs unjail %d` again then",
			operator, serviceID, l.JailedUntil.UTC().Format(time.RFC3339), serviceID)
	}
	l.Jailed = false
	l.WindowTasks, l.WindowMissed = 0, 0
	if err := k.Liveness.Set(ctx, collections.Join(serviceID, operator), l); err != nil {
		return err
	}
	return emit(ctx, &types.EventOperatorUnjailed{Operator: operator, ServiceId: serviceID})
}

// activeCommission is the operator's commission at time now: a pending rise
// applies once its time has come.
func activeCommission(op types.Operator, now time.Time) sdkmath.LegacyDec {
	if !op.PendingCommissionAt.IsZero() && !now.Before(op.PendingCommissionAt) {
		return op.PendingCommission
	}
	return op.Commission
}

// changeCommission applies a commission change under the rules committers
// rely on (security review L-1): a cut applies at once; a rise is at most
// max_commission_increase, waits commission_change_delay before it applies
// (committers can leave first), and comes at most once per
// commission_change_delay; nothing changes while a rise is pending.
func (k Keeper) changeCommission(ctx context.Context, op *types.Operator, c sdkmath.LegacyDec) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	current := activeCommission(*op, now)
	if !op.PendingCommissionAt.IsZero() {
		if now.Before(op.PendingCommissionAt) {
			return errorsmod.Wrapf(types.ErrInvalidCommission, "a rise to %s is pending until %s", op.PendingCommission, op.PendingCommissionAt.UTC().Format(time.RFC3339))
		}
		op.Commission, op.PendingCommission, op.PendingCommissionAt = current, sdkmath.LegacyZeroDec(), time.Time{}
	}
	switch {
	case c.Equal(current):
		return nil
	case c.LT(current): // a cut: committers only gain
		op.Commission = c
	default:
		if next := op.CommissionChangedAt.Add(params.CommissionChangeDelay); !op.CommissionChangedAt.IsZero() && now.Before(next) {
			return errorsmod.Wrapf(types.ErrInvalidCommission, "one commission change per %s: the next from %s", params.CommissionChangeDelay, next.UTC().Format(time.RFC3339))
		}
		if c.Sub(current).GT(params.MaxCommissionIncrease) {
			return errorsmod.Wrapf(types.ErrInvalidCommission, "commission %s rises more than max_commission_increase %s above %s", c, params.MaxCommissionIncrease, current)
		}
		op.PendingCommission, op.PendingCommissionAt = c, now.Add(params.CommissionChangeDelay)
	}
	op.CommissionChangedAt = now
	return nil
}
