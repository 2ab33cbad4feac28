package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs/types"
)

// InitGenesis writes a validated genesis state into the store and restores
// the id sequences, the deadline index and the tallies (derived from votes);
// the maps' indexes follow their Sets.
func (k Keeper) InitGenesis(goCtx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	ctx := sdk.UnwrapSDKContext(goCtx)
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, c := range gs.Components {
		if err := k.Components.Set(ctx, c.Component.Digest, c.Component); err != nil {
			return err
		}
		if err := k.ComponentCode.Set(ctx, c.Component.Digest, c.CodeGzip); err != nil {
			return err
		}
	}
	for _, s := range gs.Services {
		if err := k.checkChannelsExist(ctx, s.Manifest); err != nil {
			return errorsmod.Wrapf(err, "genesis: service %d", s.Id)
		}
		if err := k.Services.Set(ctx, s.Id, s); err != nil {
			return err
		}
	}
	for _, r := range gs.ServiceRevisions {
		if err := k.ServiceRevisions.Set(ctx, collections.Join(r.ServiceId, r.Revision), r.Manifest); err != nil {
			return err
		}
	}
	if err := k.ServiceSeq.Set(ctx, gs.NextServiceId); err != nil {
		return err
	}
	for _, o := range gs.Operators {
		if err := k.Operators.Set(ctx, o.Address, o); err != nil {
			return err
		}
	}
	for _, p := range gs.OptIns {
		if err := k.OptIns.Set(ctx, collections.Join(p.ServiceId, p.Operator), collections.NoValue{}); err != nil {
			return err
		}
	}
	for _, p := range gs.Allowlist {
		if err := k.Allowlist.Set(ctx, collections.Join(p.ServiceId, p.Operator)); err != nil {
			return err
		}
	}
	for _, t := range gs.Tasks {
		if err := k.Tasks.Set(ctx, t.Id, t); err != nil {
			return err
		}
		// Every task waits in the deadline index until settled: a completed
		// one too, its liveness is counted at its deadline.
		if t.Status == types.TASK_STATUS_PENDING || !t.Settled {
			if err := k.TasksByDeadline.Set(ctx, collections.Join(t.DeadlineHeight, t.Id)); err != nil {
				return err
			}
		}
	}
	if err := k.TaskSeq.Set(ctx, gs.NextTaskId); err != nil {
		return err
	}
	for _, v := range gs.Votes {
		if err := k.Votes.Set(ctx, collections.Join(v.TaskId, v.Operator), v); err != nil {
			return err
		}
		if v.Late {
			continue
		}
		if _, err := k.countVote(ctx, v); err != nil {
			return err
		}
	}
	for _, c := range gs.VoteCommits {
		if err := k.VoteCommits.Set(ctx, collections.Join(c.TaskId, c.Operator), c); err != nil {
			return err
		}
	}
	for _, r := range gs.OperatorRewards {
		if err := k.OperatorRewards.Set(ctx, r.Operator, r.Amount); err != nil {
			return err
		}
	}
	for _, id := range gs.UnpaidTasks {
		if err := k.UnpaidTasks.Set(ctx, id); err != nil {
			return err
		}
	}
	for _, s := range gs.Snapshots {
		if err := k.Snapshots.Set(ctx, collections.Join(s.ServiceId, s.Epoch), s); err != nil {
			return err
		}
	}
	for _, c := range gs.Commitments {
		if err := k.CommitmentsByPool.Set(ctx, commitmentKey(c.Operator, c.ServiceId, c.Committer), c); err != nil {
			return err
		}
	}
	for _, p := range gs.Pools {
		if err := k.setPool(ctx, p); err != nil {
			return err
		}
	}
	for _, e := range gs.Unbonding {
		if err := k.Unbonding.Set(ctx, e.Id, e); err != nil {
			return err
		}
	}
	if err := k.UnbondingSeq.Set(ctx, gs.NextUnbondingId); err != nil {
		return err
	}
	for _, u := range gs.UnbondingPools {
		if err := k.UnbondingPools.Set(ctx, unbondingPoolKey(u.Operator, u.ServiceId, u.Epoch), u); err != nil {
			return err
		}
	}
	for _, e := range gs.PoolGenerationEnds {
		if err := k.PoolGenerationEnds.Set(ctx, collections.Join3(e.Operator, e.ServiceId, e.Generation), e.RewardIndex); err != nil {
			return err
		}
	}
	for _, j := range gs.PendingJoins {
		if err := k.PendingJoins.Set(ctx, pendingJoinKey(j.Operator, j.ServiceId, j.Epoch), j); err != nil {
			return err
		}
	}
	for _, t := range gs.Treasuries {
		if err := k.Treasuries.Set(ctx, t.ServiceId, t.Amount); err != nil {
			return err
		}
	}
	for _, r := range gs.RemoteResults {
		if err := k.RemoteResults.Set(ctx, collections.Join(r.Channel, r.Sequence), r); err != nil {
			return err
		}
	}
	if err := k.EpochBase.Set(ctx, gs.EpochBase); err != nil {
		return err
	}
	for _, r := range gs.PushedResults {
		if err := k.PushedResults.Set(ctx, collections.Join(r.Channel, r.Sequence), r); err != nil {
			return err
		}
	}
	for _, p := range gs.IbcPackets {
		if err := k.IBCPackets.Set(ctx, p.TaskId, p.Packet); err != nil {
			return err
		}
	}
	// The trigger schedule is derived state: each trigger of a service that
	// can pay starts at its first due point from the genesis block. cron_last
	// (the clock of the walk the schedule replaced) is ignored.
	for _, s := range gs.Services {
		if err := k.scheduleTriggers(ctx, s); err != nil {
			return err
		}
	}
	if err := k.initPruning(ctx, gs); err != nil {
		return err
	}
	if err := k.initLiveness(ctx, gs); err != nil {
		return err
	}
	return k.BindPort(ctx)
}

// ExportGenesis reads every collection back into a genesis state. Indexes and
// tallies are derived state and are rebuilt on import.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	var err error
	gs := &types.GenesisState{}
	if gs.Params, err = k.Params.Get(ctx); err != nil {
		return nil, err
	}
	if err := k.Components.Walk(ctx, nil, func(digest string, c types.Component) (bool, error) {
		code, err := k.ComponentCode.Get(ctx, digest)
		gs.Components = append(gs.Components, types.GenesisComponent{Component: c, CodeGzip: code})
		return false, err
	}); err != nil {
		return nil, err
	}
	if gs.Services, err = values(ctx, k.Services.Walk); err != nil {
		return nil, err
	}
	if gs.NextServiceId, err = k.ServiceSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.ServiceRevisions.Walk(ctx, nil, func(key collections.Pair[uint64, uint64], m types.ServiceManifest) (bool, error) {
		gs.ServiceRevisions = append(gs.ServiceRevisions, types.ServiceRevision{ServiceId: key.K1(), Revision: key.K2(), Manifest: m})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.Operators, err = values(ctx, k.Operators.Walk); err != nil {
		return nil, err
	}
	if err := k.OptIns.Walk(ctx, nil, func(p collections.Pair[uint64, string], _ collections.NoValue) (bool, error) {
		gs.OptIns = append(gs.OptIns, types.ServiceOperator{ServiceId: p.K1(), Operator: p.K2()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Allowlist.Walk(ctx, nil, func(p collections.Pair[uint64, string]) (bool, error) {
		gs.Allowlist = append(gs.Allowlist, types.ServiceOperator{ServiceId: p.K1(), Operator: p.K2()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.Tasks, err = values(ctx, k.Tasks.Walk); err != nil {
		return nil, err
	}
	if gs.NextTaskId, err = k.TaskSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.Votes.Walk(ctx, nil, func(key collections.Pair[uint64, string], v types.Vote) (bool, error) {
		gs.Votes = append(gs.Votes, restoreVote(key.K1(), key.K2(), v))
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.VoteCommits, err = values(ctx, k.VoteCommits.Walk); err != nil {
		return nil, err
	}
	if err := k.OperatorRewards.Walk(ctx, nil, func(op string, amt sdkmath.Int) (bool, error) {
		gs.OperatorRewards = append(gs.OperatorRewards, types.OperatorReward{Operator: op, Amount: amt})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.UnpaidTasks.Walk(ctx, nil, func(id uint64) (bool, error) {
		gs.UnpaidTasks = append(gs.UnpaidTasks, id)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.Snapshots, err = values(ctx, k.Snapshots.Walk); err != nil {
		return nil, err
	}
	if gs.Commitments, err = values(ctx, k.CommitmentsByPool.Walk); err != nil {
		return nil, err
	}
	if gs.Pools, err = values(ctx, k.Pools.Walk); err != nil {
		return nil, err
	}
	if gs.Unbonding, err = values(ctx, k.Unbonding.Walk); err != nil {
		return nil, err
	}
	if gs.NextUnbondingId, err = k.UnbondingSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.UnbondingPools, err = values(ctx, k.UnbondingPools.Walk); err != nil {
		return nil, err
	}
	if err := k.PoolGenerationEnds.Walk(ctx, nil, func(key collections.Triple[string, uint64, uint64], index sdkmath.LegacyDec) (bool, error) {
		gs.PoolGenerationEnds = append(gs.PoolGenerationEnds, types.PoolGenerationEnd{
			Operator: key.K1(), ServiceId: key.K2(), Generation: key.K3(), RewardIndex: index})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.PendingJoins, err = values(ctx, k.PendingJoins.Walk); err != nil {
		return nil, err
	}
	if base, err := k.EpochBase.Get(ctx); err == nil {
		gs.EpochBase = base
	} else if !isNotFound(err) {
		return nil, err
	}
	if gs.PushedResults, err = values(ctx, k.PushedResults.Walk); err != nil {
		return nil, err
	}
	if gs.RemoteResults, err = values(ctx, k.RemoteResults.Walk); err != nil {
		return nil, err
	}
	if err := k.IBCPackets.Walk(ctx, nil, func(id uint64, p channeltypes.Packet) (bool, error) {
		gs.IbcPackets = append(gs.IbcPackets, types.IBCTaskPacket{TaskId: id, Packet: p})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Treasuries.Walk(ctx, nil, func(id uint64, amt sdkmath.Int) (bool, error) {
		gs.Treasuries = append(gs.Treasuries, types.ServiceTreasury{ServiceId: id, Amount: amt})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.exportPruning(ctx, gs); err != nil {
		return nil, err
	}
	if err := k.exportLiveness(ctx, gs); err != nil {
		return nil, err
	}
	return gs, nil
}

// values returns every value of a map in key order, given its Walk.
func values[K, V any](ctx context.Context, walk func(context.Context, collections.Ranger[K], func(K, V) (bool, error)) error) ([]V, error) {
	var out []V
	err := walk(ctx, nil, func(_ K, v V) (bool, error) {
		out = append(out, v)
		return false, nil
	})
	return out, err
}
