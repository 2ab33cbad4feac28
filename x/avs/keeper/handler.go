package keeper

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// SetContractKeeper lets x/avs call handler contracts. The app sets it once
// the wasm keeper exists (it is built after x/avs, which its message router
// needs); without it, handler contracts are not called. Every copy of the
// keeper sees it, whenever it was made.
func (k Keeper) SetContractKeeper(ck types.ContractKeeper) { k.wiring.contracts = ck }

// HandlerMsg is the sudo message a handler contract receives.
type HandlerMsg struct {
	AVSTaskResult HandlerTaskResult `json:"avs_task_result"`
}

// HandlerTaskResult describes the task that ended. Input and result are
// base64 (CosmWasm's Binary); ids are decimal strings (Uint64).
type HandlerTaskResult struct {
	TaskID    string `json:"task_id"`
	ServiceID string `json:"service_id"`
	// Status is "completed", "failed" (result is then the failure reason:
	// "trap", "exit", "time", "memory", "output" or "http") or "expired".
	Status string `json:"status"`
	Input  []byte `json:"input"`
	Result []byte `json:"result"`
}

// endStatus is how a handler contract and an IBC requester are told of a
// task's end: "completed" with the result, "failed" with the failure reason
// ("exit", …) as the result, or "expired" with none. A failure travels in
// the result field, so contracts built for the first two statuses keep
// decoding the message.
func endStatus(task types.Task) (string, []byte) {
	switch task.Status {
	case types.TASK_STATUS_EXPIRED:
		return "expired", task.Result
	case types.TASK_STATUS_FAILED:
		return "failed", []byte(task.Failure.Short())
	}
	return "completed", task.Result
}

// callHandler tells the task's handler contract (the service's handler when
// the task was created) that the task ended. It runs in its own cached store
// under handler_gas_limit; whatever the contract does — fail, panic, run out
// of gas — the task's outcome stands: the failure is an event. It returns the
// gas the contract used, which is also charged to ctx's meter.
func (k Keeper) callHandler(ctx context.Context, task types.Task) (uint64, error) {
	if task.HandlerContract == "" || k.wiring.contracts == nil {
		return 0, nil
	}
	status, result := endStatus(task)
	msg, err := json.Marshal(HandlerMsg{AVSTaskResult: HandlerTaskResult{
		TaskID: strconv.FormatUint(task.Id, 10), ServiceID: strconv.FormatUint(task.ServiceId, 10),
		Status: status, Input: task.Input, Result: result,
	}})
	if err != nil {
		return 0, err
	}
	return k.sudoHandler(ctx, task.HandlerContract, task.Id, msg)
}

// sudoHandler calls a contract with sudo msg in its own cached store under
// handler_gas_limit. Whatever the contract does — fail, panic, run out of gas —
// is an event, never an error of the caller; the gas it used is charged to
// ctx's meter and returned.
func (k Keeper) sudoHandler(ctx context.Context, contract string, taskID uint64, msg []byte) (uint64, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if contract == "" || k.wiring.contracts == nil {
		return 0, nil
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	addr, err := k.accAddress("handler_contract", contract)
	if err != nil {
		return 0, emit(ctx, &types.EventHandlerFailed{TaskId: taskID, Contract: contract, Error: err.Error()})
	}
	meter := storetypes.NewGasMeter(params.HandlerGasLimit)
	cacheCtx, write := sdkCtx.WithGasMeter(meter).CacheContext()
	callErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				if oog, ok := r.(storetypes.ErrorOutOfGas); ok {
					err = fmt.Errorf("out of gas (limit %d) in %s", params.HandlerGasLimit, oog.Descriptor)
					return
				}
				err = fmt.Errorf("handler panicked: %v", r)
			}
		}()
		_, err = k.wiring.contracts.Sudo(cacheCtx, addr, msg)
		return err
	}()
	used := min(meter.GasConsumed(), params.HandlerGasLimit)
	sdkCtx.GasMeter().ConsumeGas(used, "x/avs: handler contract")
	if callErr != nil {
		return used, emit(ctx, &types.EventHandlerFailed{TaskId: taskID, Contract: contract, Error: callErr.Error(), GasUsed: used})
	}
	write()
	return used, emit(ctx, &types.EventHandlerCalled{TaskId: taskID, Contract: contract, GasUsed: used})
}

// notifyHandler tells whoever waits for the task's end: its handler contract,
// and over IBC the chain that requested it and the result channels. It
// returns the gas the handler contract used.
func (k Keeper) notifyHandler(ctx context.Context, svc types.Service, task types.Task) (uint64, error) {
	used, err := k.callHandler(ctx, task)
	if err != nil {
		return used, err
	}
	return used, k.ibcTaskEnded(ctx, svc, task)
}

// hookCallKey marks the context of a handler call made from a block hook:
// the messages the contract dispatches are then counted against the
// per-block caps (max_hook_tasks_per_block, max_auto_tasks_per_block).
type hookCallKey struct{}

// inBlockHook reports whether ctx is a handler call made from a block hook.
func inBlockHook(ctx context.Context) bool {
	v, _ := sdk.UnwrapSDKContext(ctx).Value(hookCallKey{}).(bool)
	return v
}

// useHookTask counts one more task opened by a handler contract called from
// a block hook, or refuses it: max_hook_tasks_per_block across all services,
// and the service's max_auto_tasks_per_block.
func (k Keeper) useHookTask(ctx context.Context, params types.Params, serviceID uint64) error {
	n, err := k.HookTasksThisBlock.Get(ctx)
	if err != nil && !isNotFound(err) {
		return err
	}
	if n >= uint64(params.MaxHookTasksPerBlock) {
		return errorsmod.Wrapf(types.ErrHookTaskLimit, "handler contracts called from block hooks opened %d tasks in this block (max_hook_tasks_per_block)", n)
	}
	if err := k.useAutoTask(ctx, serviceID, params.MaxAutoTasksPerBlock); err != nil {
		return err
	}
	return k.HookTasksThisBlock.Set(ctx, n+1)
}

// settleDeposit pays a handler call made from a block hook out of the task's
// handler deposit: the gas used, at handler_gas_price rounded up, goes to the
// fee collector (as a transaction's fee would), the rest back to the treasury.
func (k Keeper) settleDeposit(ctx context.Context, params types.Params, task types.Task, deposit sdk.Coin, used uint64) error {
	if !deposit.IsPositive() {
		return nil
	}
	cost := params.HandlerGasPrice.MulInt(sdkmath.NewIntFromUint64(used)).Ceil().TruncateInt()
	cost = sdkmath.MinInt(cost, deposit.Amount)
	if cost.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, authtypes.FeeCollectorName, sdk.NewCoins(sdk.NewCoin(deposit.Denom, cost))); err != nil {
			return err
		}
	}
	return k.toTreasury(ctx, task.ServiceId, deposit.SubAmount(cost))
}
