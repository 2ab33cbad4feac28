package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// updateParams replaces the module parameters.
func (k Keeper) updateParams(ctx context.Context, authority string, p types.Params) error {
	current, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if current.StakeDenom != p.StakeDenom {
		// Commitments, fees, treasuries and rewards are all held in the stake
		// denom: switching it under them would strand them.
		held := k.bank.GetBalance(ctx, authtypes.NewModuleAddress(types.ModuleName), current.StakeDenom)
		if !held.IsZero() {
			return errorsmod.Wrapf(types.ErrInvalidParams,
				"stake_denom cannot change from %s while x/avs holds %s (commitments, fees, treasuries, rewards)", current.StakeDenom, held)
		}
	}
	if current.EpochLength != p.EpochLength {
		// The next epoch starts here, numbered after the current one: no
		// height maps back onto an epoch (and its snapshot) of the old
		// length (L-8).
		epoch, err := k.currentEpoch(ctx, current)
		if err != nil {
			return err
		}
		base := types.EpochBase{Height: sdk.UnwrapSDKContext(ctx).BlockHeight(), Epoch: epoch + 1}
		if err := k.EpochBase.Set(ctx, base); err != nil {
			return err
		}
	}
	if err := k.Params.Set(ctx, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventParamsUpdated{Authority: authority, Params: p})
}

// getService loads a service or returns ErrServiceNotFound.
func (k Keeper) getService(ctx context.Context, id uint64) (types.Service, error) {
	s, err := k.Services.Get(ctx, id)
	if isNotFound(err) {
		return s, errorsmod.Wrapf(types.ErrServiceNotFound, "service %d", id)
	}
	return s, err
}

// ownedService loads a service and checks that signer owns it.
func (k Keeper) ownedService(ctx context.Context, id uint64, signer string) (types.Service, error) {
	s, err := k.getService(ctx, id)
	if err != nil {
		return s, err
	}
	if s.Owner != signer {
		return s, errorsmod.Wrapf(types.ErrNotServiceOwner, "service %d is owned by %s, not %s", id, s.Owner, signer)
	}
	return s, nil
}

// requireComponent checks that a manifest's component is stored.
func (k Keeper) requireComponent(ctx context.Context, man types.ServiceManifest) error {
	if has, err := k.Components.Has(ctx, man.ComponentDigest); err != nil {
		return err
	} else if !has {
		return errorsmod.Wrapf(types.ErrComponentNotFound, "component_digest %s: store it first with `avsd tx avs store-component FILE.wasm`", man.ComponentDigest)
	}
	return nil
}

// createService deploys a service from a checked manifest and returns its id.
func (k Keeper) createService(ctx context.Context, owner string, man types.ServiceManifest) (uint64, error) {
	if err := k.requireComponent(ctx, man); err != nil {
		return 0, err
	}
	id, err := k.ServiceSeq.Next(ctx)
	if err != nil {
		return 0, err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	svc := types.Service{
		Id: id, Owner: owner, Manifest: man, Status: types.SERVICE_STATUS_ACTIVE,
		CreatedHeight: height, UpdatedHeight: height, Revision: 1, PendingSlashFraction: sdkmath.LegacyZeroDec(),
	}
	if err := k.Services.Set(ctx, id, svc); err != nil {
		return 0, err
	}
	if err := k.saveRevision(ctx, svc); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventServiceCreated{ServiceId: id, Owner: owner, ComponentDigest: man.ComponentDigest})
}

// updateService makes man the next revision of a service owner owns: the
// rules of the tasks created from now on (the open ones keep theirs). A raise
// of slash_fraction waits unbonding_time (updateSlashFraction).
func (k Keeper) updateService(ctx context.Context, owner string, id uint64, man types.ServiceManifest) error {
	svc, err := k.ownedService(ctx, id, owner)
	if err != nil {
		return err
	}
	if err := k.requireComponent(ctx, man); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	updateSlashFraction(&svc, &man, sdk.UnwrapSDKContext(ctx).BlockTime(), params.UnbondingTime)
	if err := k.nextRevision(ctx, &svc, man); err != nil {
		return err
	}
	// The triggers may have changed: each starts again from its next due point.
	if err := k.rescheduleTriggers(ctx, svc); err != nil {
		return err
	}
	return emit(ctx, serviceUpdated(svc))
}

// setServiceStatus pauses or resumes a service owner owns.
func (k Keeper) setServiceStatus(ctx context.Context, owner string, id uint64, status types.ServiceStatus) error {
	svc, err := k.ownedService(ctx, id, owner)
	if err != nil {
		return err
	}
	was := svc.Status
	svc.Status = status
	svc.UpdatedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Services.Set(ctx, svc.Id, svc); err != nil {
		return err
	}
	if status != was {
		if status == types.SERVICE_STATUS_ACTIVE { // resumed
			err = k.scheduleTriggers(ctx, svc)
		} else { // paused: its triggers wait outside the schedule
			err = k.unscheduleTriggers(ctx, svc.Id)
		}
		if err != nil {
			return err
		}
	}
	return emit(ctx, serviceUpdated(svc))
}

// transferService hands a service owner owns to newOwner.
func (k Keeper) transferService(ctx context.Context, owner string, id uint64, newOwner string) error {
	svc, err := k.ownedService(ctx, id, owner)
	if err != nil {
		return err
	}
	svc.Owner = newOwner
	svc.UpdatedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Services.Set(ctx, svc.Id, svc); err != nil {
		return err
	}
	return emit(ctx, &types.EventServiceTransferred{ServiceId: svc.Id, OldOwner: owner, NewOwner: newOwner})
}

// updateAllowlist adds and removes operators on the allow-list of a service
// owner owns.
func (k Keeper) updateAllowlist(ctx context.Context, owner string, id uint64, add, remove []string) error {
	svc, err := k.ownedService(ctx, id, owner)
	if err != nil {
		return err
	}
	for _, a := range add {
		if err := k.Allowlist.Set(ctx, collections.Join(svc.Id, a)); err != nil {
			return err
		}
	}
	for _, a := range remove {
		if err := k.Allowlist.Remove(ctx, collections.Join(svc.Id, a)); err != nil {
			return err
		}
	}
	return emit(ctx, &types.EventAllowlistUpdated{ServiceId: svc.Id, Added: add, Removed: remove})
}
