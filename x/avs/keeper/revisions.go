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

// Service revisions (security review H-3). Every manifest a service had is
// kept as a numbered revision; a task records the revision it was created
// under and is voted on, completed, slashed for and executed by that
// revision's rules, whatever the owner changes later. A raise of
// slash_fraction waits unbonding_time (see updateSlashFraction).

// saveRevision stores the service's manifest as its revision svc.Revision.
func (k Keeper) saveRevision(ctx context.Context, svc types.Service) error {
	return k.ServiceRevisions.Set(ctx, collections.Join(svc.Id, svc.Revision), svc.Manifest)
}

// serviceRevision returns the manifest of one revision of a service.
func (k Keeper) serviceRevision(ctx context.Context, serviceID, revision uint64) (types.ServiceManifest, error) {
	m, err := k.ServiceRevisions.Get(ctx, collections.Join(serviceID, revision))
	if isNotFound(err) {
		return m, errorsmod.Wrapf(types.ErrServiceRevisionNotFound, "service %d revision %d", serviceID, revision)
	}
	return m, err
}

// serviceAsOfTask returns the service as its task sees it: with the manifest of
// the revision the task was created under (the current one costs no extra
// read). It is for reading the task's rules; never store it back.
func (k Keeper) serviceAsOfTask(ctx context.Context, task types.Task) (types.Service, error) {
	svc, err := k.getService(ctx, task.ServiceId)
	if err != nil || svc.Revision == task.ServiceRevision {
		return svc, err
	}
	man, err := k.serviceRevision(ctx, task.ServiceId, task.ServiceRevision)
	if err != nil {
		return svc, err
	}
	svc.Manifest, svc.Revision = man, task.ServiceRevision
	return svc, nil
}

// nextRevision makes man the service's manifest as its next revision and
// stores both.
func (k Keeper) nextRevision(ctx context.Context, svc *types.Service, man types.ServiceManifest) error {
	svc.Manifest = man
	svc.Revision++
	svc.UpdatedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Services.Set(ctx, svc.Id, *svc); err != nil {
		return err
	}
	return k.saveRevision(ctx, *svc)
}

// updateSlashFraction applies the owner's new manifest's slash_fraction to
// svc and man. A cut (or no change) applies at once and cancels a pending
// raise. A raise does not: man keeps the current fraction and the raise
// becomes pending until now + delay (unbonding_time), so every committer can
// uncommit before it applies. Asking again for a raise no larger than the
// pending one keeps its time (the committers were warned of more); a larger
// one starts the wait again.
func updateSlashFraction(svc *types.Service, man *types.ServiceManifest, now time.Time, delay time.Duration) {
	current, want := decOrZero(svc.Manifest.SlashFraction), decOrZero(man.SlashFraction)
	if !want.GT(current) {
		svc.PendingSlashFraction, svc.PendingSlashAt = sdkmath.LegacyZeroDec(), time.Time{}
		return
	}
	man.SlashFraction = svc.Manifest.SlashFraction
	if svc.PendingSlashAt.IsZero() || want.GT(decOrZero(svc.PendingSlashFraction)) {
		svc.PendingSlashAt = now.Add(delay)
	}
	svc.PendingSlashFraction = want
}

// applyDueSlashRaise makes a pending slash_fraction raise whose time has come
// the service's next revision. createTask calls it when it takes a new power
// snapshot: the raise then applies to every task of the new epoch and to no
// task of an epoch whose snapshot was taken before its time (a committer who
// uncommitted before it was counted at the old fraction only). Until a task
// opens such an epoch, the Service still shows the raise as pending.
func (k Keeper) applyDueSlashRaise(ctx context.Context, svc *types.Service) error {
	if svc.PendingSlashAt.IsZero() || sdk.UnwrapSDKContext(ctx).BlockTime().Before(svc.PendingSlashAt) {
		return nil
	}
	man := svc.Manifest
	man.SlashFraction = svc.PendingSlashFraction
	svc.PendingSlashFraction, svc.PendingSlashAt = sdkmath.LegacyZeroDec(), time.Time{}
	if err := k.nextRevision(ctx, svc, man); err != nil {
		return err
	}
	return emit(ctx, serviceUpdated(*svc))
}

// serviceUpdated is the EventServiceUpdated of a service as it now is.
func serviceUpdated(svc types.Service) *types.EventServiceUpdated {
	e := &types.EventServiceUpdated{
		ServiceId: svc.Id, ComponentDigest: svc.Manifest.ComponentDigest, Status: svc.Status, Revision: svc.Revision,
	}
	if !svc.PendingSlashAt.IsZero() {
		e.PendingSlashFraction, e.PendingSlashAt = svc.PendingSlashFraction.String(), svc.PendingSlashAt
	}
	return e
}

// decOrZero is d, or zero when it is unset (a manifest without slash_fraction
// does not slash).
func decOrZero(d sdkmath.LegacyDec) sdkmath.LegacyDec {
	if d.IsNil() {
		return sdkmath.LegacyZeroDec()
	}
	return d
}
