package keeper

import (
	"context"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// MaxMonikerLength bounds an operator's moniker.
const MaxMonikerLength = 70

type msgServer struct {
	Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the x/avs Msg service backed by the keeper.
func NewMsgServerImpl(k Keeper) types.MsgServer {
	return msgServer{Keeper: k}
}

// UpdateParams replaces the module parameters; only the authority may do it.
func (m msgServer) UpdateParams(goCtx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.accAddress("authority", msg.Authority); err != nil {
		return nil, err
	}
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "expected authority %s, got %s", m.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	current, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if current.StakeDenom != msg.Params.StakeDenom {
		// Commitments, fees, treasuries and rewards are all held in the stake
		// denom: switching it under them would strand them.
		held := m.bank.GetBalance(ctx, authtypes.NewModuleAddress(types.ModuleName), current.StakeDenom)
		if !held.IsZero() {
			return nil, errorsmod.Wrapf(types.ErrInvalidParams,
				"stake_denom cannot change from %s while x/avs holds %s (commitments, fees, treasuries, rewards)", current.StakeDenom, held)
		}
	}
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, emit(ctx, &types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params})
}

// StoreComponent stores a WASI component.
func (m msgServer) StoreComponent(goCtx context.Context, msg *types.MsgStoreComponent) (*types.MsgStoreComponentResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.accAddress("sender", msg.Sender); err != nil {
		return nil, err
	}
	return m.storeComponent(ctx, msg.Sender, msg.Wasm)
}

// validateManifest runs the manifest's own checks and the ones that need state.
func (m msgServer) validateManifest(ctx sdk.Context, man types.ServiceManifest) error {
	params, err := m.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := man.ValidateBasic(params); err != nil {
		return err
	}
	if has, err := m.Components.Has(ctx, man.ComponentDigest); err != nil {
		return err
	} else if !has {
		return errorsmod.Wrapf(types.ErrComponentNotFound, "component_digest %s: store it with MsgStoreComponent first", man.ComponentDigest)
	}
	if man.HandlerContract != "" {
		if _, err := m.accAddress("handler_contract", man.HandlerContract); err != nil {
			return err
		}
	}
	return nil
}

// CreateService deploys a service from a manifest.
func (m msgServer) CreateService(goCtx context.Context, msg *types.MsgCreateService) (*types.MsgCreateServiceResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.accAddress("owner", msg.Owner); err != nil {
		return nil, err
	}
	if err := m.validateManifest(ctx, msg.Manifest); err != nil {
		return nil, err
	}
	id, err := m.ServiceSeq.Next(ctx)
	if err != nil {
		return nil, err
	}
	svc := types.Service{
		Id: id, Owner: msg.Owner, Manifest: msg.Manifest, Status: types.SERVICE_STATUS_ACTIVE,
		CreatedHeight: ctx.BlockHeight(), UpdatedHeight: ctx.BlockHeight(),
	}
	if err := m.Services.Set(ctx, id, svc); err != nil {
		return nil, err
	}
	if err := m.indexTriggers(ctx, svc); err != nil {
		return nil, err
	}
	return &types.MsgCreateServiceResponse{ServiceId: id},
		emit(ctx, &types.EventServiceCreated{ServiceId: id, Owner: msg.Owner, ComponentDigest: msg.Manifest.ComponentDigest})
}

// UpdateService replaces a service's manifest. Pointing it at a new component
// digest is how a service is upgraded; open tasks keep the digest they started with.
func (m msgServer) UpdateService(goCtx context.Context, msg *types.MsgUpdateService) (*types.MsgUpdateServiceResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	svc, err := m.ownedService(ctx, msg.ServiceId, msg.Owner)
	if err != nil {
		return nil, err
	}
	if err := m.validateManifest(ctx, msg.Manifest); err != nil {
		return nil, err
	}
	svc.Manifest = msg.Manifest
	svc.UpdatedHeight = ctx.BlockHeight()
	if err := m.Services.Set(ctx, svc.Id, svc); err != nil {
		return nil, err
	}
	if err := m.indexTriggers(ctx, svc); err != nil {
		return nil, err
	}
	return &types.MsgUpdateServiceResponse{},
		emit(ctx, &types.EventServiceUpdated{ServiceId: svc.Id, ComponentDigest: svc.Manifest.ComponentDigest, Status: svc.Status})
}

// SetServiceStatus pauses or resumes a service.
func (m msgServer) SetServiceStatus(goCtx context.Context, msg *types.MsgSetServiceStatus) (*types.MsgSetServiceStatusResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, ok := types.ServiceStatus_name[int32(msg.Status)]; !ok {
		return nil, errorsmod.Wrapf(types.ErrInvalidRequest, "unknown service status %d", msg.Status)
	}
	svc, err := m.ownedService(ctx, msg.ServiceId, msg.Owner)
	if err != nil {
		return nil, err
	}
	svc.Status = msg.Status
	svc.UpdatedHeight = ctx.BlockHeight()
	if err := m.Services.Set(ctx, svc.Id, svc); err != nil {
		return nil, err
	}
	return &types.MsgSetServiceStatusResponse{},
		emit(ctx, &types.EventServiceUpdated{ServiceId: svc.Id, ComponentDigest: svc.Manifest.ComponentDigest, Status: svc.Status})
}

// TransferService hands a service to a new owner.
func (m msgServer) TransferService(goCtx context.Context, msg *types.MsgTransferService) (*types.MsgTransferServiceResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.accAddress("new_owner", msg.NewOwner); err != nil {
		return nil, err
	}
	svc, err := m.ownedService(ctx, msg.ServiceId, msg.Owner)
	if err != nil {
		return nil, err
	}
	svc.Owner = msg.NewOwner
	svc.UpdatedHeight = ctx.BlockHeight()
	if err := m.Services.Set(ctx, svc.Id, svc); err != nil {
		return nil, err
	}
	return &types.MsgTransferServiceResponse{},
		emit(ctx, &types.EventServiceTransferred{ServiceId: svc.Id, OldOwner: msg.Owner, NewOwner: msg.NewOwner})
}

// UpdateAllowlist adds and removes operators on a service's allow-list.
// Removing an operator does not opt it out; it only stops new opt-ins.
func (m msgServer) UpdateAllowlist(goCtx context.Context, msg *types.MsgUpdateAllowlist) (*types.MsgUpdateAllowlistResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if len(msg.Add)+len(msg.Remove) == 0 {
		return nil, errorsmod.Wrap(types.ErrInvalidRequest, "nothing to add or remove")
	}
	for _, a := range append(append([]string(nil), msg.Add...), msg.Remove...) {
		if _, err := m.accAddress("allow-list entry", a); err != nil {
			return nil, err
		}
	}
	svc, err := m.ownedService(ctx, msg.ServiceId, msg.Owner)
	if err != nil {
		return nil, err
	}
	for _, a := range msg.Add {
		if err := m.Allowlist.Set(ctx, collections.Join(svc.Id, a)); err != nil {
			return nil, err
		}
	}
	for _, a := range msg.Remove {
		if err := m.Allowlist.Remove(ctx, collections.Join(svc.Id, a)); err != nil {
			return nil, err
		}
	}
	return &types.MsgUpdateAllowlistResponse{},
		emit(ctx, &types.EventAllowlistUpdated{ServiceId: svc.Id, Added: msg.Add, Removed: msg.Remove})
}

// validCommission returns c, or def when c is unset; c must be in [0, 1].
func validCommission(c, def sdkmath.LegacyDec) (sdkmath.LegacyDec, error) {
	if c.IsNil() {
		if def.IsNil() {
			return sdkmath.LegacyZeroDec(), nil
		}
		return def, nil
	}
	if c.IsNegative() || c.GT(sdkmath.LegacyOneDec()) {
		return def, errorsmod.Wrapf(types.ErrInvalidRequest, "commission %s must be in [0, 1]", c)
	}
	return c, nil
}

func validateMoniker(moniker string) error {
	if strings.TrimSpace(moniker) == "" || len(moniker) > MaxMonikerLength {
		return errorsmod.Wrapf(types.ErrInvalidRequest, "moniker must be 1 to %d characters", MaxMonikerLength)
	}
	return nil
}

// RegisterOperator registers the signer as an operator.
func (m msgServer) RegisterOperator(goCtx context.Context, msg *types.MsgRegisterOperator) (*types.MsgRegisterOperatorResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if err := validateMoniker(msg.Moniker); err != nil {
		return nil, err
	}
	if has, err := m.Operators.Has(ctx, msg.Operator); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrOperatorExists, "%s", msg.Operator)
	}
	commission, err := validCommission(msg.Commission, sdkmath.LegacyZeroDec())
	if err != nil {
		return nil, err
	}
	op := types.Operator{Address: msg.Operator, Moniker: msg.Moniker, RegisteredHeight: ctx.BlockHeight(), Commission: commission}
	if err := m.Operators.Set(ctx, msg.Operator, op); err != nil {
		return nil, err
	}
	return &types.MsgRegisterOperatorResponse{}, emit(ctx, &types.EventOperatorRegistered{Operator: msg.Operator, Moniker: msg.Moniker})
}

// UpdateOperator changes an operator's moniker.
func (m msgServer) UpdateOperator(goCtx context.Context, msg *types.MsgUpdateOperator) (*types.MsgUpdateOperatorResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	op, err := m.getOperator(ctx, msg.Operator)
	if err != nil {
		return nil, err
	}
	if err := validateMoniker(msg.Moniker); err != nil {
		return nil, err
	}
	if op.Commission, err = validCommission(msg.Commission, op.Commission); err != nil {
		return nil, err
	}
	op.Moniker = msg.Moniker
	if err := m.Operators.Set(ctx, msg.Operator, op); err != nil {
		return nil, err
	}
	return &types.MsgUpdateOperatorResponse{}, emit(ctx, &types.EventOperatorUpdated{Operator: msg.Operator, Moniker: msg.Moniker})
}

// OptIn opts an operator in to a service. Its votes count from the service's
// next power snapshot (the next epoch, or the service's first task).
func (m msgServer) OptIn(goCtx context.Context, msg *types.MsgOptIn) (*types.MsgOptInResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	op, err := m.getOperator(ctx, msg.Operator)
	if err != nil {
		return nil, err
	}
	if op.Jailed {
		return nil, errorsmod.Wrapf(types.ErrOperatorJailed, "%s", msg.Operator)
	}
	svc, err := m.getService(ctx, msg.ServiceId)
	if err != nil {
		return nil, err
	}
	key := collections.Join(svc.Id, msg.Operator)
	if has, err := m.OptIns.Has(ctx, key); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyOptedIn, "%s in service %d", msg.Operator, svc.Id)
	}
	if svc.Manifest.Admission == types.ADMISSION_ALLOWLIST {
		if ok, err := m.Allowlist.Has(ctx, key); err != nil {
			return nil, err
		} else if !ok {
			return nil, errorsmod.Wrapf(types.ErrNotAllowlisted, "%s for service %d", msg.Operator, svc.Id)
		}
	}
	if err := m.OptIns.Set(ctx, key, collections.NoValue{}); err != nil {
		return nil, err
	}
	return &types.MsgOptInResponse{}, emit(ctx, &types.EventOptedIn{Operator: msg.Operator, ServiceId: svc.Id})
}

// OptOut opts an operator out of a service. Tasks already created keep it in
// their snapshot: it may still vote on them.
func (m msgServer) OptOut(goCtx context.Context, msg *types.MsgOptOut) (*types.MsgOptOutResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.getOperator(ctx, msg.Operator); err != nil {
		return nil, err
	}
	key := collections.Join(msg.ServiceId, msg.Operator)
	if has, err := m.OptIns.Has(ctx, key); err != nil {
		return nil, err
	} else if !has {
		return nil, errorsmod.Wrapf(types.ErrNotOptedIn, "%s in service %d", msg.Operator, msg.ServiceId)
	}
	if err := m.OptIns.Remove(ctx, key); err != nil {
		return nil, err
	}
	return &types.MsgOptOutResponse{}, emit(ctx, &types.EventOptedOut{Operator: msg.Operator, ServiceId: msg.ServiceId})
}

// CreateTask opens a task paid by its creator.
func (m msgServer) CreateTask(goCtx context.Context, msg *types.MsgCreateTask) (*types.MsgCreateTaskResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	creator, err := m.accAddress("creator", msg.Creator)
	if err != nil {
		return nil, err
	}
	task, err := m.Keeper.CreateTask(ctx, msg.ServiceId, msg.Input, msg.Creator, creator, msg.Fee, types.Origin{Kind: types.ORIGIN_KIND_TX})
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateTaskResponse{TaskId: task.Id, DeadlineHeight: task.DeadlineHeight}, nil
}

// SubmitResults records an operator's votes. The message fails only for what
// concerns all entries (signer, registration, jail, count); each entry is then
// judged on its own in a cached store, so a bad entry is reported in the
// response and an EventVoteRejected and leaves the good ones standing.
func (m msgServer) SubmitResults(goCtx context.Context, msg *types.MsgSubmitResults) (*types.MsgSubmitResultsResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	op, err := m.getOperator(ctx, msg.Operator)
	if err != nil {
		return nil, err
	}
	if op.Jailed {
		return nil, errorsmod.Wrapf(types.ErrOperatorJailed, "%s", msg.Operator)
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if len(msg.Results) == 0 || uint64(len(msg.Results)) > uint64(params.MaxVotesPerTx) {
		return nil, errorsmod.Wrapf(types.ErrTooManyResults, "%d results, expected 1 to max_votes_per_tx (%d)", len(msg.Results), params.MaxVotesPerTx)
	}
	resp := &types.MsgSubmitResultsResponse{Outcomes: make([]types.ResultOutcome, 0, len(msg.Results))}
	for _, r := range msg.Results {
		cacheCtx, write := ctx.CacheContext()
		var (
			status types.TaskStatus
			err    error
		)
		switch {
		case r.TaskId != 0 && r.Event != nil:
			err = errorsmod.Wrapf(types.ErrInvalidRequest, "a vote names task %d or an event, not both", r.TaskId)
		case r.Event != nil:
			// An event-trigger vote: its task is found, or opened, by reference.
			r.TaskId, err = m.eventTask(cacheCtx, *r.Event)
		}
		if err == nil {
			status, err = m.submitVote(cacheCtx, params, msg.Operator, r)
		}
		outcome := types.ResultOutcome{TaskId: r.TaskId, TaskStatus: status}
		if err == nil {
			write()
			outcome.Accepted = true
		} else {
			codespace, code, _ := errorsmod.ABCIInfo(err, false)
			outcome.Codespace, outcome.Code, outcome.Error = codespace, code, err.Error()
			if r.Event != nil && (types.ErrAutoTaskLimit.Is(err) || types.ErrTreasuryEmpty.Is(err)) {
				if err := emit(ctx, &types.EventTaskSkipped{ServiceId: r.Event.ServiceId, Reason: "event trigger: " + err.Error()}); err != nil {
					return nil, err
				}
			}
			if err := emit(ctx, &types.EventVoteRejected{
				TaskId: r.TaskId, Operator: msg.Operator, Codespace: codespace, Code: code, Reason: err.Error(),
			}); err != nil {
				return nil, err
			}
		}
		resp.Outcomes = append(resp.Outcomes, outcome)
	}
	return resp, nil
}

// Commit escrows stake behind an operator in a service.
func (m msgServer) Commit(goCtx context.Context, msg *types.MsgCommit) (*types.MsgCommitResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	committer, err := m.accAddress("committer", msg.Committer)
	if err != nil {
		return nil, err
	}
	return &types.MsgCommitResponse{}, m.commit(ctx, committer, msg)
}

// Uncommit starts unbonding part of a commitment.
func (m msgServer) Uncommit(goCtx context.Context, msg *types.MsgUncommit) (*types.MsgUncommitResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if _, err := m.accAddress("committer", msg.Committer); err != nil {
		return nil, err
	}
	return m.uncommit(ctx, msg)
}

// WithdrawRewards pays the committer all its rewards.
func (m msgServer) WithdrawRewards(goCtx context.Context, msg *types.MsgWithdrawRewards) (*types.MsgWithdrawRewardsResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
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
func (m msgServer) FundService(goCtx context.Context, msg *types.MsgFundService) (*types.MsgFundServiceResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	funder, err := m.accAddress("funder", msg.Funder)
	if err != nil {
		return nil, err
	}
	return &types.MsgFundServiceResponse{}, m.fundService(ctx, funder, msg)
}

// Unjail unjails the signing operator after its cooldown.
func (m msgServer) Unjail(goCtx context.Context, msg *types.MsgUnjail) (*types.MsgUnjailResponse, error) {
	return &types.MsgUnjailResponse{}, m.unjail(sdk.UnwrapSDKContext(goCtx), msg.Operator)
}

// RequestRemoteTask asks a service on another chain for a task over IBC.
func (m msgServer) RequestRemoteTask(goCtx context.Context, msg *types.MsgRequestRemoteTask) (*types.MsgRequestRemoteTaskResponse, error) {
	if _, err := m.accAddress("sender", msg.Sender); err != nil {
		return nil, err
	}
	return m.requestRemoteTask(sdk.UnwrapSDKContext(goCtx), msg)
}
