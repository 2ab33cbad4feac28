package keeper

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

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
	Status    string `json:"status"` // "completed" or "expired"
	Input     []byte `json:"input"`
	Result    []byte `json:"result"`
}

// callHandler tells the service's handler contract that a task ended. It runs
// in its own cached store under handler_gas_limit; whatever the contract does
// — fail, panic, run out of gas — the task's outcome stands: the failure is an
// event. The gas the contract used is charged to the caller.
func (k Keeper) callHandler(ctx context.Context, contract string, task types.Task) error {
	if contract == "" || k.wiring.contracts == nil {
		return nil
	}
	status := "completed"
	if task.Status == types.TASK_STATUS_EXPIRED {
		status = "expired"
	}
	msg, err := json.Marshal(HandlerMsg{AVSTaskResult: HandlerTaskResult{
		TaskID: strconv.FormatUint(task.Id, 10), ServiceID: strconv.FormatUint(task.ServiceId, 10),
		Status: status, Input: task.Input, Result: task.Result,
	}})
	if err != nil {
		return err
	}
	return k.sudoHandler(ctx, contract, task.Id, msg)
}

// sudoHandler calls a contract with sudo msg in its own cached store under
// handler_gas_limit. Whatever the contract does — fail, panic, run out of gas —
// is an event, never an error of the caller; the gas it used is charged.
func (k Keeper) sudoHandler(ctx context.Context, contract string, taskID uint64, msg []byte) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if contract == "" || k.wiring.contracts == nil {
		return nil
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	addr, err := k.accAddress("handler_contract", contract)
	if err != nil {
		return emit(ctx, &types.EventHandlerFailed{TaskId: taskID, Contract: contract, Error: err.Error()})
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
		return emit(ctx, &types.EventHandlerFailed{TaskId: taskID, Contract: contract, Error: callErr.Error(), GasUsed: used})
	}
	write()
	return emit(ctx, &types.EventHandlerCalled{TaskId: taskID, Contract: contract, GasUsed: used})
}

// notifyHandler tells whoever waits for the task's end: the service's handler
// contract, and over IBC the chain that requested it and the result channels.
func (k Keeper) notifyHandler(ctx context.Context, svc types.Service, task types.Task) error {
	if err := k.callHandler(ctx, svc.Manifest.HandlerContract, task); err != nil {
		return err
	}
	return k.ibcTaskEnded(ctx, svc, task)
}
