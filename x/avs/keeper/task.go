package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// feePayer says who pays a new task's fee.
type feePayer int

const (
	// payerAccount: an account pays the fee it offers into escrow.
	payerAccount feePayer = iota
	// payerTreasury: the service treasury pays its fee_per_task.
	payerTreasury
)

// taskSpec is what a new task is made of.
type taskSpec struct {
	serviceID uint64
	input     []byte
	// creator is the account that asked, or the module for an automatic task.
	creator string
	origin  types.Origin
	payer   feePayer
	// account pays fee (payerAccount only; nil for a free task). A treasury
	// always pays the service's fee_per_task.
	account sdk.AccAddress
	fee     sdk.Coin
	// timeout, if positive and shorter than the service's, is the task's
	// timeout in blocks: an event task's confirmation window.
	timeout uint64
}

// timeoutOr returns the spec's timeout if it is positive and below the
// service's timeout, else the service's.
func (s taskSpec) timeoutOr(service uint64) uint64 {
	if s.timeout > 0 && s.timeout < service {
		return s.timeout
	}
	return service
}

// errTreasuryShort is createTask's answer when the treasury cannot pay a
// payerTreasury task: CreateTaskFromTreasury turns it into EventTaskSkipped.
type errTreasuryShort struct{ reason string }

func (e errTreasuryShort) Error() string { return e.reason }

// CreateTaskFromTreasury opens a task that no account pays for (a trigger, an
// IBC packet): its fee_per_task comes from the service treasury. When the
// treasury cannot pay, no task is created and EventTaskSkipped says so; the
// returned bool reports whether a task was created.
func (k Keeper) CreateTaskFromTreasury(ctx context.Context, serviceID uint64, input []byte, origin types.Origin) (types.Task, bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Task{}, false, err
	}
	return k.createTreasuryTask(ctx, params, serviceID, input, origin, 0)
}

// createTreasuryTask is CreateTaskFromTreasury with a timeout: if positive
// and shorter than the service's, the task's deadline comes that many blocks
// after its creation.
func (k Keeper) createTreasuryTask(ctx context.Context, params types.Params, serviceID uint64, input []byte, origin types.Origin, timeout uint64) (types.Task, bool, error) {
	creator, err := k.addressCodec.BytesToString(authtypes.NewModuleAddress(types.ModuleName))
	if err != nil {
		return types.Task{}, false, err
	}
	task, err := k.createTask(ctx, params, taskSpec{serviceID: serviceID, input: input, creator: creator, origin: origin, payer: payerTreasury, timeout: timeout})
	var short errTreasuryShort
	switch {
	case errors.As(err, &short):
		return types.Task{}, false, emit(ctx, &types.EventTaskSkipped{ServiceId: serviceID, Reason: short.reason})
	case err != nil:
		return types.Task{}, false, err
	}
	return task, true, nil
}

// createTask checks a task against its service, takes its fee (into escrow,
// or out of the treasury) and opens it. It is the one way tasks are made:
// MsgCreateTask for an account, CreateTaskFromTreasury for triggers and IBC
// packets; MsgCreateTasks makes many at once through createTasks.
func (k Keeper) createTask(ctx context.Context, params types.Params, spec taskSpec) (types.Task, error) {
	tasks, err := k.createTasks(ctx, params, spec, [][]byte{spec.input})
	if err != nil {
		return types.Task{}, err
	}
	return tasks[0], nil
}

// createTasks opens one task per input, all of spec's service and payer: what
// they share (the service, the snapshot, the fee escrow, the task sequence, the
// epoch's open count) is read and written once. It creates all of them or
// none (an error leaves the caller's store to be discarded, as a failed
// message's is).
func (k Keeper) createTasks(ctx context.Context, params types.Params, spec taskSpec, inputs [][]byte) ([]types.Task, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	n := int64(len(inputs))
	svc, err := k.getService(ctx, spec.serviceID)
	if err != nil {
		return nil, err
	}
	fee := spec.fee
	deposit := handlerDeposit(params, svc)
	treasury := sdkmath.ZeroInt()
	if spec.payer == payerTreasury || deposit.IsPositive() {
		// read only when it pays something: not on an account's task
		// of a service without a handler
		if treasury, err = k.treasury(ctx, spec.serviceID); err != nil {
			return nil, err
		}
	}
	if spec.payer == payerTreasury {
		fee = svc.Manifest.FeePerTask
		total := feeAmount(fee).MulRaw(n)
		if treasury.LT(total) {
			return nil, errTreasuryShort{fmt.Sprintf("treasury %s%s cannot pay the fee %s", treasury, params.StakeDenom, fee)}
		}
		treasury = treasury.Sub(total)
	}
	for _, input := range inputs {
		if err := validateInput(params, input); err != nil {
			return nil, err
		}
	}
	if svc.Status != types.SERVICE_STATUS_ACTIVE {
		return nil, errorsmod.Wrapf(types.ErrServicePaused, "service %d", spec.serviceID)
	}
	if fee, err = taskFee(params, svc, fee); err != nil {
		return nil, err
	}

	epoch, err := k.currentEpoch(ctx, params)
	if err != nil {
		return nil, err
	}
	snap, fresh, err := k.snapshot(ctx, params, svc, epoch)
	if err != nil {
		return nil, err
	}
	if snap.Total == 0 {
		return nil, k.noOperators(ctx, params, svc, epoch)
	}
	switch {
	case types.IsFree(fee), spec.payer == payerTreasury:
	case spec.account == nil:
		return nil, errorsmod.Wrap(types.ErrInvalidFee, "a paid task needs a payer")
	default:
		escrow := sdk.NewCoin(fee.Denom, fee.Amount.MulRaw(n))
		if err := k.bank.SendCoinsFromAccountToModule(ctx, spec.account, types.ModuleName, sdk.NewCoins(escrow)); err != nil {
			return nil, err
		}
	}

	if fresh {
		if err := k.openSnapshot(ctx, snap, &svc); err != nil {
			return nil, err
		}
	}
	first, err := k.TaskSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	if err := k.TaskSeq.Set(ctx, first+uint64(n)); err != nil {
		return nil, err
	}
	timeout := spec.timeoutOr(svc.Manifest.TimeoutOr(params.DefaultTaskTimeout))
	deadline := sdkCtx.BlockHeight() + int64(timeout)
	var commitDeadline int64 // 0: an OPEN task
	if svc.Manifest.VoteMode == types.VOTE_MODE_COMMIT_REVEAL {
		// The commit phase leaves the reveals at least one block, also under
		// a request's shorter timeout (an IBC packet's).
		commitDeadline = sdkCtx.BlockHeight() + int64(min(svc.Manifest.CommitBlocksOr(params.MaxCommitBlocks), max(timeout-1, 1)))
	}
	tasks := make([]types.Task, 0, n)
	for i, input := range inputs {
		// The treasury pays each handler deposit (the owner chose the
		// handler); a task it cannot pay for is not told of its expiry
		// from the block hook.
		taskDeposit, unpaid := deposit, deposit.IsPositive() && treasury.LT(deposit.Amount)
		if unpaid {
			taskDeposit = sdk.NewCoin(params.StakeDenom, sdkmath.ZeroInt())
		}
		treasury = treasury.Sub(taskDeposit.Amount)
		task := types.Task{
			Id:                   first + uint64(i),
			ServiceId:            spec.serviceID,
			Input:                input,
			Creator:              spec.creator,
			Origin:               spec.origin,
			CreatedHeight:        sdkCtx.BlockHeight(),
			CreatedTime:          sdkCtx.BlockTime(),
			DeadlineHeight:       deadline,
			Status:               types.TASK_STATUS_PENDING,
			Fee:                  fee,
			Epoch:                epoch,
			PowerTotal:           snap.Total,
			ComponentDigest:      svc.Manifest.ComponentDigest,
			PaidByTreasury:       spec.payer == payerTreasury,
			HandlerContract:      svc.Manifest.HandlerContract,
			HandlerDeposit:       taskDeposit,
			HandlerUnpaid:        unpaid,
			ServiceRevision:      svc.Revision,
			CommitDeadlineHeight: commitDeadline,
		}
		if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
			return nil, err
		}
		if err := k.TasksByDeadline.Set(ctx, collections.Join(task.DeadlineHeight, task.Id)); err != nil {
			return nil, err
		}
		if err := emit(ctx, types.NewEventTaskCreated(task)); err != nil {
			return nil, err
		}
		tasks = append(tasks, task)
	}
	if spec.payer == payerTreasury || deposit.IsPositive() {
		if err := k.Treasuries.Set(ctx, spec.serviceID, treasury); err != nil {
			return nil, err
		}
	}
	return tasks, k.openEpochTasks(ctx, spec.serviceID, epoch, uint64(n))
}

// expire ends a PENDING task and refunds its fee to whoever paid it.
func (k Keeper) expire(ctx context.Context, task *types.Task) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	task.Status = types.TASK_STATUS_EXPIRED
	task.EndedHeight = sdkCtx.BlockHeight()
	if err := k.Tasks.Set(ctx, task.Id, *task); err != nil {
		return err
	}
	if types.IsFree(task.Fee) {
		return nil
	}
	return k.payBack(ctx, *task, task.Fee)
}

// payBack returns coins of a task's fee escrow to whoever paid it: the
// service treasury or the creator's account.
func (k Keeper) payBack(ctx context.Context, task types.Task, coin sdk.Coin) error {
	if !coin.IsPositive() {
		return nil
	}
	if task.PaidByTreasury {
		return k.toTreasury(ctx, task.ServiceId, coin)
	}
	creator, err := k.accAddress("creator", task.Creator)
	if err != nil {
		return err
	}
	return k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, creator, sdk.NewCoins(coin))
}

// toTreasury credits coin (held by the module) to a service's treasury.
func (k Keeper) toTreasury(ctx context.Context, serviceID uint64, coin sdk.Coin) error {
	if !coin.IsPositive() {
		return nil
	}
	t, err := k.treasury(ctx, serviceID)
	if err != nil {
		return err
	}
	return k.Treasuries.Set(ctx, serviceID, t.Add(coin.Amount))
}

// handlerDeposit is what a task of svc escrows for its handler call:
// handler_gas_limit × handler_gas_price, rounded up; zero without a handler.
func handlerDeposit(params types.Params, svc types.Service) sdk.Coin {
	if svc.Manifest.HandlerContract == "" {
		return sdk.NewCoin(params.StakeDenom, sdkmath.ZeroInt())
	}
	amt := params.HandlerGasPrice.MulInt(sdkmath.NewIntFromUint64(params.HandlerGasLimit)).Ceil().TruncateInt()
	return sdk.NewCoin(params.StakeDenom, amt)
}

// feeAmount is a fee's amount, zero for a free task.
func feeAmount(fee sdk.Coin) sdkmath.Int {
	if types.IsFree(fee) {
		return sdkmath.ZeroInt()
	}
	return fee.Amount
}

// noOperators says why a service's snapshot has no power, and what makes
// one: an operator opting in, or an opted-in operator getting power (its own
// commitment, leaving jail, or the next epoch's snapshot).
func (k Keeper) noOperators(ctx context.Context, params types.Params, svc types.Service, epoch uint64) error {
	rng := collections.NewPrefixedPairRange[uint64, string](svc.Id)
	iter, err := k.OptIns.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	optedIn := iter.Valid()
	if err := iter.Close(); err != nil {
		return err
	}
	if !optedIn {
		return errorsmod.Wrapf(types.ErrNoOperators,
			"service %d has no operator opted in: operators join it with `avsd tx avs opt-in %d`", svc.Id, svc.Id)
	}
	base, err := k.EpochBase.Get(ctx)
	if err != nil && !isNotFound(err) {
		return err
	}
	next := base.Height + int64((epoch-base.Epoch+1)*params.EpochLength)
	need := "it is not jailed there"
	if min := svc.Manifest.MinSelfStakeOr(params.MinOperatorStake); min.IsPositive() {
		need = fmt.Sprintf("its own commitment reaches %s%s (`avsd tx avs commit OPERATOR %d AMOUNT`) and %s",
			min, params.StakeDenom, svc.Id, need)
	}
	return errorsmod.Wrapf(types.ErrNoOperators,
		"the operators opted in to service %d have no power in epoch %d's snapshot: an operator counts once %s; "+
			"one that opted in after the snapshot counts from the next epoch, at height %d", svc.Id, epoch, need, next)
}
