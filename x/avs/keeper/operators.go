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
		return op, errorsmod.Wrapf(types.ErrOperatorNotFound, "%s: register with MsgRegisterOperator first", addr)
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
	op := types.Operator{Address: operator, Moniker: moniker, RegisteredHeight: sdk.UnwrapSDKContext(ctx).BlockHeight(), Commission: commission}
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
	if op.Commission, err = validCommission(commission, op.Commission); err != nil {
		return err
	}
	op.Moniker = moniker
	if err := k.Operators.Set(ctx, operator, op); err != nil {
		return err
	}
	return emit(ctx, &types.EventOperatorUpdated{Operator: operator, Moniker: moniker})
}

// optIn opts an unjailed operator in to a service, if its admission allows.
func (k Keeper) optIn(ctx context.Context, operator string, serviceID uint64) error {
	op, err := k.getOperator(ctx, operator)
	if err != nil {
		return err
	}
	if op.Jailed {
		return errorsmod.Wrapf(types.ErrOperatorJailed, "%s", operator)
	}
	svc, err := k.getService(ctx, serviceID)
	if err != nil {
		return err
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
		return errorsmod.Wrapf(types.ErrNotOptedIn, "%s in service %d", operator, serviceID)
	}
	if err := k.OptIns.Remove(ctx, key); err != nil {
		return err
	}
	return emit(ctx, &types.EventOptedOut{Operator: operator, ServiceId: serviceID})
}

// unjail returns a jailed operator once its cooldown passed.
func (k Keeper) unjail(ctx context.Context, operator string) error {
	op, err := k.getOperator(ctx, operator)
	if err != nil {
		return err
	}
	if !op.Jailed {
		return errorsmod.Wrapf(types.ErrNotJailed, "%s", operator)
	}
	if sdk.UnwrapSDKContext(ctx).BlockTime().Before(op.JailedUntil) {
		return errorsmod.Wrapf(types.ErrUnjailTooEarly, "%s may unjail from %s", operator, op.JailedUntil.UTC().Format(time.RFC3339))
	}
	op.Jailed = false
	op.WindowTasks, op.WindowMissed = 0, 0
	if err := k.Operators.Set(ctx, operator, op); err != nil {
		return err
	}
	return emit(ctx, &types.EventOperatorUnjailed{Operator: operator})
}
