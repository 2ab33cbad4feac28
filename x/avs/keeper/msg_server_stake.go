package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Commit escrows stake behind an operator in a service.
func (m msgServer) Commit(ctx context.Context, msg *types.MsgCommit) (*types.MsgCommitResponse, error) {
	committer, err := m.accAddress("committer", msg.Committer)
	if err != nil {
		return nil, err
	}
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if _, err := m.checkStake(ctx, msg.Amount); err != nil {
		return nil, err
	}
	if err := m.commit(ctx, committer, msg.Committer, msg.Operator, msg.ServiceId, msg.Amount); err != nil {
		return nil, err
	}
	return &types.MsgCommitResponse{}, nil
}

// Uncommit starts unbonding part of a commitment.
func (m msgServer) Uncommit(ctx context.Context, msg *types.MsgUncommit) (*types.MsgUncommitResponse, error) {
	if _, err := m.accAddress("committer", msg.Committer); err != nil {
		return nil, err
	}
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	params, err := m.checkStake(ctx, msg.Amount)
	if err != nil {
		return nil, err
	}
	entry, err := m.uncommit(ctx, params, msg.Committer, msg.Operator, msg.ServiceId, msg.Amount)
	if err != nil {
		return nil, err
	}
	return &types.MsgUncommitResponse{EntryId: entry.Id, CompletionTime: entry.CompletionTime}, nil
}

// WithdrawRewards pays the committer all its rewards.
func (m msgServer) WithdrawRewards(ctx context.Context, msg *types.MsgWithdrawRewards) (*types.MsgWithdrawRewardsResponse, error) {
	committer, err := m.accAddress("committer", msg.Committer)
	if err != nil {
		return nil, err
	}
	amt, err := m.withdrawRewards(ctx, committer, msg.Committer)
	if err != nil {
		return nil, err
	}
	return &types.MsgWithdrawRewardsResponse{Amount: amt}, nil
}

// FundService adds to a service's treasury.
func (m msgServer) FundService(ctx context.Context, msg *types.MsgFundService) (*types.MsgFundServiceResponse, error) {
	funder, err := m.accAddress("funder", msg.Funder)
	if err != nil {
		return nil, err
	}
	if _, err := m.checkStake(ctx, msg.Amount); err != nil {
		return nil, err
	}
	if err := m.fundService(ctx, funder, msg.Funder, msg.ServiceId, msg.Amount); err != nil {
		return nil, err
	}
	return &types.MsgFundServiceResponse{}, nil
}

// checkStake checks an amount of stake against the params, and returns them.
func (m msgServer) checkStake(ctx context.Context, amt sdk.Coin) (types.Params, error) {
	params, err := m.Params.Get(ctx)
	if err != nil {
		return params, err
	}
	return params, stakeAmount(params, amt)
}
