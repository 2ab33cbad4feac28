package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// The msg server decodes and checks each message, stateless checks first
// (validate.go), then hands plain values to the keeper
// (cosmos-sdk x/protocolpool keeper/msg_server.go). No Msg type goes below it.

type msgServer struct {
	Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the x/avs Msg service backed by the keeper.
func NewMsgServerImpl(k Keeper) types.MsgServer {
	return msgServer{Keeper: k}
}

// UpdateParams replaces the module parameters; only the authority may do it.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if _, err := m.accAddress("authority", msg.Authority); err != nil {
		return nil, err
	}
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "expected authority %s, got %s", m.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	if err := m.updateParams(ctx, msg.Authority, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// StoreComponent stores a WASI component.
func (m msgServer) StoreComponent(ctx context.Context, msg *types.MsgStoreComponent) (*types.MsgStoreComponentResponse, error) {
	if _, err := m.accAddress("sender", msg.Sender); err != nil {
		return nil, err
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateUpload(params, msg.Wasm); err != nil {
		return nil, err
	}
	c, existed, err := m.storeComponent(ctx, params, msg.Sender, msg.Wasm)
	if err != nil {
		return nil, err
	}
	return &types.MsgStoreComponentResponse{Digest: c.Digest, CodeSize: c.CodeSize, Existed: existed}, nil
}

// checkManifest runs a manifest's own checks against the params and decodes
// its handler contract's address.
func (m msgServer) checkManifest(ctx context.Context, man types.ServiceManifest) error {
	params, err := m.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := man.Validate(params); err != nil {
		return err
	}
	if err := m.checkChannelsExist(ctx, man); err != nil {
		return err
	}
	if man.HandlerContract != "" {
		if _, err := m.accAddress("handler_contract", man.HandlerContract); err != nil {
			return err
		}
	}
	return nil
}

// CreateService deploys a service from a manifest.
func (m msgServer) CreateService(ctx context.Context, msg *types.MsgCreateService) (*types.MsgCreateServiceResponse, error) {
	if _, err := m.accAddress("owner", msg.Owner); err != nil {
		return nil, err
	}
	if err := m.checkManifest(ctx, msg.Manifest); err != nil {
		return nil, err
	}
	id, err := m.createService(ctx, msg.Owner, msg.Manifest)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateServiceResponse{ServiceId: id}, nil
}

// UpdateService replaces a service's manifest. Pointing it at a new component
// digest is how a service is upgraded; open tasks keep the digest they started with.
func (m msgServer) UpdateService(ctx context.Context, msg *types.MsgUpdateService) (*types.MsgUpdateServiceResponse, error) {
	if _, err := m.accAddress("owner", msg.Owner); err != nil {
		return nil, err
	}
	if err := m.checkManifest(ctx, msg.Manifest); err != nil {
		return nil, err
	}
	if err := m.updateService(ctx, msg.Owner, msg.ServiceId, msg.Manifest); err != nil {
		return nil, err
	}
	return &types.MsgUpdateServiceResponse{}, nil
}

// SetServiceStatus pauses or resumes a service.
func (m msgServer) SetServiceStatus(ctx context.Context, msg *types.MsgSetServiceStatus) (*types.MsgSetServiceStatusResponse, error) {
	if err := validateServiceStatus(msg.Status); err != nil {
		return nil, err
	}
	if _, err := m.accAddress("owner", msg.Owner); err != nil {
		return nil, err
	}
	if err := m.setServiceStatus(ctx, msg.Owner, msg.ServiceId, msg.Status); err != nil {
		return nil, err
	}
	return &types.MsgSetServiceStatusResponse{}, nil
}

// TransferService hands a service to a new owner.
func (m msgServer) TransferService(ctx context.Context, msg *types.MsgTransferService) (*types.MsgTransferServiceResponse, error) {
	if _, err := m.accAddress("new_owner", msg.NewOwner); err != nil {
		return nil, err
	}
	if _, err := m.accAddress("owner", msg.Owner); err != nil {
		return nil, err
	}
	if err := m.transferService(ctx, msg.Owner, msg.ServiceId, msg.NewOwner); err != nil {
		return nil, err
	}
	return &types.MsgTransferServiceResponse{}, nil
}

// UpdateAllowlist adds and removes operators on a service's allow-list.
// Removing an operator does not opt it out; it only stops new opt-ins.
func (m msgServer) UpdateAllowlist(ctx context.Context, msg *types.MsgUpdateAllowlist) (*types.MsgUpdateAllowlistResponse, error) {
	if len(msg.Add)+len(msg.Remove) == 0 {
		return nil, errorsmod.Wrap(types.ErrInvalidRequest, "nothing to add or remove")
	}
	for _, a := range append(append([]string(nil), msg.Add...), msg.Remove...) {
		if _, err := m.accAddress("allow-list entry", a); err != nil {
			return nil, err
		}
	}
	if _, err := m.accAddress("owner", msg.Owner); err != nil {
		return nil, err
	}
	if err := m.updateAllowlist(ctx, msg.Owner, msg.ServiceId, msg.Add, msg.Remove); err != nil {
		return nil, err
	}
	return &types.MsgUpdateAllowlistResponse{}, nil
}

// RegisterOperator registers the signer as an operator.
func (m msgServer) RegisterOperator(ctx context.Context, msg *types.MsgRegisterOperator) (*types.MsgRegisterOperatorResponse, error) {
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if err := validateMoniker(msg.Moniker); err != nil {
		return nil, err
	}
	commission, err := validCommission(msg.Commission, sdkmath.LegacyZeroDec())
	if err != nil {
		return nil, err
	}
	if err := m.registerOperator(ctx, msg.Operator, msg.Moniker, commission); err != nil {
		return nil, err
	}
	return &types.MsgRegisterOperatorResponse{}, nil
}

// UpdateOperator changes an operator's moniker, and its commission if set.
func (m msgServer) UpdateOperator(ctx context.Context, msg *types.MsgUpdateOperator) (*types.MsgUpdateOperatorResponse, error) {
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if err := validateMoniker(msg.Moniker); err != nil {
		return nil, err
	}
	if _, err := validCommission(msg.Commission, sdkmath.LegacyZeroDec()); err != nil {
		return nil, err
	}
	if err := m.updateOperator(ctx, msg.Operator, msg.Moniker, msg.Commission); err != nil {
		return nil, err
	}
	return &types.MsgUpdateOperatorResponse{}, nil
}

// OptIn opts an operator in to a service. Its votes count from the service's
// next power snapshot (the next epoch, or the service's first task).
func (m msgServer) OptIn(ctx context.Context, msg *types.MsgOptIn) (*types.MsgOptInResponse, error) {
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if err := m.optIn(ctx, msg.Operator, msg.ServiceId); err != nil {
		return nil, err
	}
	return &types.MsgOptInResponse{}, nil
}

// OptOut opts an operator out of a service. Tasks already created keep it in
// their snapshot: it may still vote on them.
func (m msgServer) OptOut(ctx context.Context, msg *types.MsgOptOut) (*types.MsgOptOutResponse, error) {
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if err := m.optOut(ctx, msg.Operator, msg.ServiceId); err != nil {
		return nil, err
	}
	return &types.MsgOptOutResponse{}, nil
}

// CreateTask opens a task paid by its creator.
func (m msgServer) CreateTask(ctx context.Context, msg *types.MsgCreateTask) (*types.MsgCreateTaskResponse, error) {
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	tasks, err := m.createAccountTasks(ctx, params, msg.Creator, msg.ServiceId, [][]byte{msg.Input}, msg.Fee)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateTaskResponse{TaskId: tasks[0].Id, DeadlineHeight: tasks[0].DeadlineHeight}, nil
}

// CreateTasks opens many tasks of one service paid by their creator, with one
// escrow of the fees.
func (m msgServer) CreateTasks(ctx context.Context, msg *types.MsgCreateTasks) (*types.MsgCreateTasksResponse, error) {
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if len(msg.Inputs) == 0 || uint64(len(msg.Inputs)) > uint64(params.MaxTasksPerMsg) {
		return nil, errorsmod.Wrapf(types.ErrTooManyTasks, "%d inputs, expected 1 to max_tasks_per_msg (%d)", len(msg.Inputs), params.MaxTasksPerMsg)
	}
	tasks, err := m.createAccountTasks(ctx, params, msg.Creator, msg.ServiceId, msg.Inputs, msg.FeePerTask)
	if err != nil {
		return nil, err
	}
	res := &types.MsgCreateTasksResponse{TaskIds: make([]uint64, len(tasks)), DeadlineHeight: tasks[0].DeadlineHeight}
	for i, task := range tasks {
		res.TaskIds[i] = task.Id
	}
	return res, nil
}

// createAccountTasks opens one task per input, every fee paid by the
// creator's account: what MsgCreateTask and MsgCreateTasks share.
func (m msgServer) createAccountTasks(ctx context.Context, params types.Params, creator string, serviceID uint64, inputs [][]byte, fee sdk.Coin) ([]types.Task, error) {
	account, err := m.accAddress("creator", creator)
	if err != nil {
		return nil, err
	}
	for i, input := range inputs {
		if err := validateInput(params, input); err != nil {
			if len(inputs) > 1 {
				err = errorsmod.Wrapf(err, "input %d", i)
			}
			return nil, err
		}
	}
	if inBlockHook(ctx) {
		// a handler contract called from a block hook: nobody's transaction
		// pays for this block's work, so each task is capped (C-2)
		for range inputs {
			if err := m.useHookTask(ctx, params, serviceID); err != nil {
				return nil, err
			}
		}
	}
	return m.createTasks(ctx, params, taskSpec{
		serviceID: serviceID, creator: creator, origin: types.Origin{Kind: types.ORIGIN_KIND_TX},
		payer: payerAccount, account: account, fee: fee,
	}, inputs)
}

// SubmitResults records an operator's votes. The message fails only for what
// concerns all entries (signer, count, registration, jail); each entry is then
// judged on its own in a cached store, so a bad entry is reported in the
// response and an EventVoteRejected and leaves the good ones standing.
func (m msgServer) SubmitResults(ctx context.Context, msg *types.MsgSubmitResults) (*types.MsgSubmitResultsResponse, error) {
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if len(msg.Results) == 0 || uint64(len(msg.Results)) > uint64(params.MaxVotesPerTx) {
		return nil, errorsmod.Wrapf(types.ErrTooManyResults, "%d results, expected 1 to max_votes_per_tx (%d)", len(msg.Results), params.MaxVotesPerTx)
	}
	outcomes, err := m.submitResults(ctx, params, msg.Operator, msg.Results)
	if err != nil {
		return nil, err
	}
	return &types.MsgSubmitResultsResponse{Outcomes: outcomes}, nil
}

// Unjail unjails the signing operator in a service after its cooldown.
func (m msgServer) Unjail(ctx context.Context, msg *types.MsgUnjail) (*types.MsgUnjailResponse, error) {
	if _, err := m.accAddress("operator", msg.Operator); err != nil {
		return nil, err
	}
	if err := m.unjail(ctx, msg.Operator, msg.ServiceId); err != nil {
		return nil, err
	}
	return &types.MsgUnjailResponse{}, nil
}

// RequestRemoteTask asks a service on another chain for a task over IBC.
func (m msgServer) RequestRemoteTask(ctx context.Context, msg *types.MsgRequestRemoteTask) (*types.MsgRequestRemoteTaskResponse, error) {
	if _, err := m.accAddress("sender", msg.Sender); err != nil {
		return nil, err
	}
	if err := validateChannel(msg.Channel); err != nil {
		return nil, err
	}
	if msg.HandlerContract != "" {
		if _, err := m.accAddress("handler_contract", msg.HandlerContract); err != nil {
			return nil, err
		}
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateInput(params, msg.Input); err != nil {
		return nil, err
	}
	timeout := msg.TimeoutSeconds
	if timeout == 0 {
		timeout = types.DefaultRemoteTimeoutSeconds
	}
	r, err := m.requestRemoteTask(ctx, types.RemoteResult{
		Channel: msg.Channel, Sender: msg.Sender, ServiceId: msg.ServiceId, Input: msg.Input, HandlerContract: msg.HandlerContract,
	}, timeout)
	if err != nil {
		return nil, err
	}
	return &types.MsgRequestRemoteTaskResponse{Channel: r.Channel, Sequence: r.Sequence}, nil
}
