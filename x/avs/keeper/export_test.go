package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/types"
)

// Test seams, compiled into the tests only (ibc-go
// modules/apps/transfer/keeper/export_test.go).

// SetPowerSource overrides how operator power is computed, whatever the
// service's weighting. Every copy of the keeper sees it.
func (k Keeper) SetPowerSource(p PowerSource) { k.wiring.power = p }

// TopPowers is topPowers, the snapshot's cut to max_snapshot_operators.
var TopPowers = topPowers

// SchedulePrune is schedulePrune, which settlement calls once a task's
// deadline was handled.
func (k Keeper) SchedulePrune(ctx context.Context, params types.Params, task types.Task) error {
	return k.schedulePrune(ctx, params, task)
}

// UpdateService is updateService: a manifest change below the msg server's
// checks of the manifest.
func (k Keeper) UpdateService(ctx context.Context, owner string, id uint64, man types.ServiceManifest) error {
	return k.updateService(ctx, owner, id, man)
}

// PendingRewards is what a commitment could withdraw now (L-2: its pending
// shares earn from their epoch's join).
func (k Keeper) PendingRewards(ctx context.Context, c types.Commitment) (sdkmath.Int, error) {
	p, err := k.pool(ctx, c.Operator, c.ServiceId)
	if err != nil {
		return sdkmath.Int{}, err
	}
	epoch, err := k.epochNow(ctx)
	if err != nil {
		return sdkmath.Int{}, err
	}
	return k.pendingRewards(ctx, c, p, epoch)
}

// TallyKey is the tally key of a vote with this (hex) digest on a task no
// event opened: the raw digest.
func TallyKey(digest string) string { return rawDigest(digest) }

// RestoreVote is restoreVote: a stored vote with what its key says.
var RestoreVote = restoreVote
