package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
)

// Operation weight keys and their defaults: a simulation params file may set any of them.
const (
	OpWeightMsgRegisterOperator = "op_weight_msg_register_operator"
	OpWeightMsgCreateService    = "op_weight_msg_create_service"
	OpWeightMsgOptIn            = "op_weight_msg_opt_in"
	OpWeightMsgCreateTask       = "op_weight_msg_create_task"
	OpWeightMsgCreateTasks      = "op_weight_msg_create_tasks"
	OpWeightMsgCommit           = "op_weight_msg_commit"
	OpWeightMsgUncommit         = "op_weight_msg_uncommit"
	OpWeightMsgFundService      = "op_weight_msg_fund_service"

	DefaultWeightMsgRegisterOperator = 40
	DefaultWeightMsgCreateService    = 20
	DefaultWeightMsgOptIn            = 40
	DefaultWeightMsgCreateTask       = 30
	DefaultWeightMsgCreateTasks      = 10
	DefaultWeightMsgCommit           = 60
	DefaultWeightMsgUncommit         = 30
	DefaultWeightMsgFundService      = 20
)

// maxStakePerMsg bounds one commitment or funding, so that a whole simulation
// stays far below the keeper's per-pool stake limit (2^50).
const maxStakePerMsg = 1_000_000_000

// WeightedOperations returns the x/avs operations with their weights. Each
// one reads state through the app's query router and delivers a real, signed
// tx through the app; where its precondition does not hold it is a no-op with
// the reason.
func WeightedOperations(appParams simtypes.AppParams, txConfig client.TxConfig) simulation.WeightedOperations {
	weight := func(key string, def int) int {
		w := def
		appParams.GetOrGenerate(key, &w, nil, func(*rand.Rand) {})
		return w
	}
	return simulation.WeightedOperations{
		simulation.NewWeightedOperation(weight(OpWeightMsgRegisterOperator, DefaultWeightMsgRegisterOperator), SimulateMsgRegisterOperator(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgCreateService, DefaultWeightMsgCreateService), SimulateMsgCreateService(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgOptIn, DefaultWeightMsgOptIn), SimulateMsgOptIn(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgCreateTask, DefaultWeightMsgCreateTask), SimulateMsgCreateTask(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgCreateTasks, DefaultWeightMsgCreateTasks), SimulateMsgCreateTasks(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgCommit, DefaultWeightMsgCommit), SimulateMsgCommit(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgUncommit, DefaultWeightMsgUncommit), SimulateMsgUncommit(txConfig)),
		simulation.NewWeightedOperation(weight(OpWeightMsgFundService, DefaultWeightMsgFundService), SimulateMsgFundService(txConfig)),
	}
}

// deliver signs msg by from with random fees and delivers it through the
// app, as distribution's operations do; spent is what msg itself costs.
func deliver(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, txConfig client.TxConfig,
	from simtypes.Account, msg sdk.Msg, spent sdk.Coins,
) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
	c := newChain(app, ctx)
	return simulation.GenAndDeliverTxWithRandFees(simulation.OperationInput{
		R: r, App: app, TxGen: txConfig, Msg: msg, Context: ctx, SimAccount: from,
		AccountKeeper: c, Bankkeeper: c, ModuleName: types.ModuleName, CoinsSpentInMsg: spent,
	})
}

// noOp skips msg for reason; failed skips it on a query error, which ends the simulation.
func noOp(msg sdk.Msg, reason string) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
	return simtypes.NoOpMsg(types.ModuleName, sdk.MsgTypeURL(msg), reason), nil, nil
}

func failed(msg sdk.Msg, err error) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
	return simtypes.NoOpMsg(types.ModuleName, sdk.MsgTypeURL(msg), err.Error()), nil, err
}

// SimComponent is the component the simulation stores and builds services
// on: the smallest valid WASI command.
func SimComponent() []byte { return avstest.Module(true, avstest.WASI) }

// SimulateMsgRegisterOperator registers a random account that is not an operator yet.
func SimulateMsgRegisterOperator(txConfig client.TxConfig) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		msg := &types.MsgRegisterOperator{}
		ops, err := newChain(app, ctx).operators(ctx)
		if err != nil {
			return failed(msg, err)
		}
		registered := make(map[string]bool, len(ops))
		for _, o := range ops {
			registered[o.Address] = true
		}
		var free []simtypes.Account
		for _, a := range accs {
			if !registered[a.Address.String()] {
				free = append(free, a)
			}
		}
		if len(free) == 0 {
			return noOp(msg, "every account is an operator already")
		}
		from := free[r.Intn(len(free))]
		msg.Operator = from.Address.String()
		msg.Moniker = simtypes.RandStringOfLength(r, 1+r.Intn(20))
		msg.Commission = sdkmath.LegacyNewDecWithPrec(r.Int63n(101), 2)
		return deliver(r, app, ctx, txConfig, from, msg, nil)
	}
}

// SimulateMsgCreateService stores SimComponent once (the first time it runs)
// and then creates open services on it, some free, some with a fee per task.
func SimulateMsgCreateService(txConfig client.TxConfig) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		msg := &types.MsgCreateService{}
		c := newChain(app, ctx)
		params, err := c.params(ctx)
		if err != nil {
			return failed(msg, err)
		}
		from, _ := simtypes.RandomAcc(r, accs)
		code := SimComponent()
		digest := types.Digest(code)
		if _, err := c.avs.Component(ctx, &types.QueryComponentRequest{Digest: digest}); err != nil {
			store := &types.MsgStoreComponent{Sender: from.Address.String(), Wasm: code}
			if uint64(len(code)) > params.MaxComponentSize {
				return noOp(store, "max_component_size is below the simulation component")
			}
			return deliver(r, app, ctx, txConfig, from, store, nil)
		}
		fee := sdk.NewInt64Coin(params.StakeDenom, 0)
		if r.Intn(2) == 0 {
			fee.Amount = sdkmath.NewInt(1 + r.Int63n(1_000))
		}
		weighting := types.WEIGHTING_EQUAL
		if r.Intn(2) == 0 {
			weighting = types.WEIGHTING_STAKE
		}
		msg.Owner = from.Address.String()
		msg.Manifest = types.ServiceManifest{
			Name:            "sim-" + simtypes.RandStringOfLength(r, 8),
			ComponentDigest: digest,
			Limits:          types.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: min(1024, params.MaxResultSize)},
			// above one half (M-6)
			Quorum:      types.Quorum{Threshold: sdkmath.LegacyNewDecWithPrec(51+r.Int63n(50), 2), Weighting: weighting},
			Aggregation: types.Aggregation{Mode: types.AGGREGATION_MODE_EXACT},
			FeePerTask:  fee,
		}
		if weighting == types.WEIGHTING_EQUAL {
			// EQUAL with open admission needs a self-stake (H-6)
			msg.Manifest.MinSelfStake = sdkmath.NewInt(1_000)
		}
		if err := msg.Manifest.Validate(params); err != nil {
			return noOp(msg, "random manifest is invalid: "+err.Error())
		}
		return deliver(r, app, ctx, txConfig, from, msg, nil)
	}
}

// SimulateMsgOptIn opts a random unjailed operator in to a random open
// service it is not in yet.
func SimulateMsgOptIn(txConfig client.TxConfig) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		msg := &types.MsgOptIn{}
		c := newChain(app, ctx)
		ops, err := c.operators(ctx)
		if err != nil {
			return failed(msg, err)
		}
		svcs, err := c.services(ctx)
		if err != nil {
			return failed(msg, err)
		}
		if len(ops) == 0 || len(svcs) == 0 {
			return noOp(msg, "no operator or no service yet")
		}
		op := ops[r.Intn(len(ops))]
		svc := svcs[r.Intn(len(svcs))]
		from, found := simtypes.FindAccount(accs, sdk.MustAccAddressFromBech32(op.Address))
		switch {
		case !found:
			return noOp(msg, "operator is not a simulation account")
		case svc.Manifest.Admission == types.ADMISSION_ALLOWLIST:
			return noOp(msg, "service admits an allowlist only")
		}
		ids, err := c.operatorServices(ctx, op.Address)
		if err != nil {
			return failed(msg, err)
		}
		for _, id := range ids {
			if id == svc.Id {
				return noOp(msg, "operator is in the service already")
			}
		}
		msg.Operator, msg.ServiceId = op.Address, svc.Id
		return deliver(r, app, ctx, txConfig, from, msg, nil)
	}
}

// SimulateMsgCreateTask opens a task, paying its fee, on a random active
// service that has operator power to run it in the current epoch.
func SimulateMsgCreateTask(txConfig client.TxConfig) simtypes.Operation {
	return simulateCreateTasks(txConfig, false)
}

// SimulateMsgCreateTasks opens 1 to 10 tasks in one MsgCreateTasks, on a
// service chosen as for SimulateMsgCreateTask.
func SimulateMsgCreateTasks(txConfig client.TxConfig) simtypes.Operation {
	return simulateCreateTasks(txConfig, true)
}

// simulateCreateTasks opens one task (MsgCreateTask) or a batch
// (MsgCreateTasks) on a random active service that has operator power to run
// it in the current epoch, its creator paying every fee.
func simulateCreateTasks(txConfig client.TxConfig, batch bool) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		var msg sdk.Msg = &types.MsgCreateTask{}
		if batch {
			msg = &types.MsgCreateTasks{}
		}
		c := newChain(app, ctx)
		params, err := c.params(ctx)
		if err != nil {
			return failed(msg, err)
		}
		svcs, err := c.services(ctx)
		if err != nil {
			return failed(msg, err)
		}
		if len(svcs) == 0 {
			return noOp(msg, "no service yet")
		}
		svc := svcs[r.Intn(len(svcs))]
		if svc.Status != types.SERVICE_STATUS_ACTIVE {
			return noOp(msg, "service is not active")
		}
		current, snapshot, err := c.servicePower(ctx, svc.Id)
		if err != nil {
			return failed(msg, err)
		}
		// The epoch's snapshot, once taken, decides; before it, current power does.
		total := snapshot.Total
		if total == 0 {
			for _, p := range current {
				total += p.Power
			}
		}
		if total == 0 {
			return noOp(msg, "service has no operator power this epoch")
		}
		n := 1
		if batch {
			n = 1 + r.Intn(int(min(10, params.MaxTasksPerMsg)))
		}
		inputs := make([][]byte, n)
		for i := range inputs {
			inputs[i] = []byte(simtypes.RandStringOfLength(r, 1+r.Intn(int(min(64, params.MaxInputSize)))))
		}
		from, _ := simtypes.RandomAcc(r, accs)
		fee := svc.Manifest.FeePerTask
		var spent sdk.Coins
		if !types.IsFree(fee) {
			balance, err := c.spendable(ctx, from.Address, fee.Denom)
			if err != nil {
				return failed(msg, err)
			}
			total := sdk.NewCoin(fee.Denom, fee.Amount.MulRaw(int64(n)))
			if balance.IsLT(total) {
				return noOp(msg, "creator cannot pay the fees")
			}
			spent = sdk.NewCoins(total)
		}
		if batch {
			msg = &types.MsgCreateTasks{Creator: from.Address.String(), ServiceId: svc.Id, Inputs: inputs, FeePerTask: fee}
		} else {
			msg = &types.MsgCreateTask{Creator: from.Address.String(), ServiceId: svc.Id, Input: inputs[0], Fee: fee}
		}
		return deliver(r, app, ctx, txConfig, from, msg, spent)
	}
}
