package keeper_test

import (
	"errors"
	"fmt"

	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeContracts stands in for wasmd's PermissionedKeeper: it records each
// sudo call and runs do, which may write through ctx, emit, burn gas, fail or
// panic like a contract.
type fakeContracts struct {
	calls []fakeCall
	do    func(ctx sdk.Context) error
}

type fakeCall struct {
	contract string
	msg      string
}

func (f *fakeContracts) Sudo(ctx sdk.Context, contract sdk.AccAddress, msg []byte) ([]byte, error) {
	f.calls = append(f.calls, fakeCall{contract: addrOf(contract), msg: string(msg)})
	if f.do == nil {
		return nil, nil
	}
	return nil, f.do(ctx)
}

// contractWrite is the state change a fake contract makes: an operator
// record, written through the context the handler is given.
var contractWrite = addr("written-by-contract")

func (s *KeeperTestSuite) contractWrote() bool {
	ok, err := s.keeper.Operators.Has(s.ctx, contractWrite)
	s.Require().NoError(err)
	return ok
}

// writeAnd writes contractWrite, emits an event, burns gas, then returns
// (or panics with) what then gives.
func (s *KeeperTestSuite) writeAnd(gas uint64, then func() error) func(sdk.Context) error {
	return func(ctx sdk.Context) error {
		s.Require().NoError(s.keeper.Operators.Set(ctx, contractWrite, types.Operator{Address: contractWrite, Moniker: "contract"}))
		ctx.EventManager().EmitEvent(sdk.NewEvent("wasm-handled"))
		ctx.GasMeter().ConsumeGas(gas, "contract work")
		return then()
	}
}

// handlerService wires the fake in and creates a one-operator service whose
// handler is handler, with a short task timeout.
func (s *KeeperTestSuite) handlerService(fake *fakeContracts, handler string) (uint64, string) {
	s.keeper.SetContractKeeper(fake)
	s.msgServer = keeper.NewMsgServerImpl(s.keeper)
	m := defaultManifest("")
	m.HandlerContract = handler
	m.TaskTimeout = 5
	id, ops := s.setupService(m, 1)
	s.fundService(id, 100*s.depositAmount()) // pays the handler deposits
	return id, ops[0]
}

// depositAmount is a handler task's deposit under the current params.
func (s *KeeperTestSuite) depositAmount() int64 {
	p := s.params()
	return p.HandlerGasPrice.MulInt64(int64(p.HandlerGasLimit)).Ceil().TruncateInt64()
}

// completeWithEvents votes the task's one operator in, which completes it,
// on a context whose events are the vote's alone.
func (s *KeeperTestSuite) completeWithEvents(op string, taskID uint64, result string) sdk.Context {
	ctx := s.withEvents()
	res, err := s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{{TaskId: taskID, Result: []byte(result)}}})
	s.Require().NoError(err)
	s.Require().True(res.Outcomes[0].Accepted, res.Outcomes[0].Error)
	s.Require().Equal(types.TASK_STATUS_COMPLETED, res.Outcomes[0].TaskStatus)
	s.payDecided() // as at the end of the block
	return ctx
}

// expireWithEvents runs the deadline block's EndBlocker for the task.
func (s *KeeperTestSuite) expireWithEvents(taskID uint64) sdk.Context {
	s.ctx = s.ctx.WithBlockHeight(s.task(taskID).DeadlineHeight)
	ctx := s.withEvents()
	s.Require().NoError(s.keeper.EndBlocker(ctx))
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(taskID).Status)
	return ctx
}

func (s *KeeperTestSuite) handlerEvents(ctx sdk.Context) ([]*types.EventHandlerCalled, []*types.EventHandlerFailed) {
	var called []*types.EventHandlerCalled
	var failed []*types.EventHandlerFailed
	for _, e := range s.typedEvents(ctx, &types.EventHandlerCalled{}) {
		called = append(called, e.(*types.EventHandlerCalled))
	}
	for _, e := range s.typedEvents(ctx, &types.EventHandlerFailed{}) {
		failed = append(failed, e.(*types.EventHandlerFailed))
	}
	return called, failed
}

func hasEvent(ctx sdk.Context, typ string) bool {
	for _, e := range ctx.EventManager().Events() {
		if e.Type == typ {
			return true
		}
	}
	return false
}

func (s *KeeperTestSuite) TestHandlerCalledOnCompletion() {
	handler := contractAddr("handler")
	fake := &fakeContracts{}
	fake.do = s.writeAnd(1234, func() error { return nil })
	serviceID, op := s.handlerService(fake, handler)
	taskID := s.createTask(serviceID)

	ctx := s.completeWithEvents(op, taskID, "16")
	s.Require().Len(fake.calls, 1)
	s.Require().Equal(handler, fake.calls[0].contract)
	//nolint:testifylint // the contract receives these exact bytes: JSONEq would accept any key order or spacing
	s.Require().Equal(fmt.Sprintf(
		`{"avs_task_result":{"task_id":"%d","service_id":"%d","status":"completed","input":"aW5wdXQ=","result":"MTY="}}`,
		taskID, serviceID), fake.calls[0].msg, "input is base64 of \"input\", result of \"16\"")
	called, failed := s.handlerEvents(ctx)
	s.Require().Empty(failed)
	s.Require().Len(called, 1)
	s.Require().Equal(taskID, called[0].TaskId)
	s.Require().Equal(handler, called[0].Contract)
	s.Require().GreaterOrEqual(called[0].GasUsed, uint64(1234), "the contract's gas, its store writes included")
	s.Require().True(s.contractWrote(), "a successful handler's writes are kept")
	s.Require().True(hasEvent(ctx, "wasm-handled"), "and its events")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(taskID).Status)

	// The deadline sweep of a completed task does not call the handler again.
	s.ctx = s.ctx.WithBlockHeight(s.task(taskID).DeadlineHeight)
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Len(fake.calls, 1)
}

func (s *KeeperTestSuite) TestHandlerCalledOnExpiry() {
	handler := contractAddr("handler")
	fake := &fakeContracts{}
	fake.do = s.writeAnd(10, func() error { return nil })
	serviceID, _ := s.handlerService(fake, handler)
	taskID := s.createTask(serviceID)

	ctx := s.expireWithEvents(taskID)
	s.Require().Len(fake.calls, 1)
	//nolint:testifylint // the contract receives these exact bytes: JSONEq would accept any key order or spacing
	s.Require().Equal(fmt.Sprintf(
		`{"avs_task_result":{"task_id":"%d","service_id":"%d","status":"expired","input":"aW5wdXQ=","result":null}}`,
		taskID, serviceID), fake.calls[0].msg, "an expired task has no result")
	called, failed := s.handlerEvents(ctx)
	s.Require().Empty(failed)
	s.Require().Len(called, 1)
	s.Require().True(s.contractWrote())
}

// TestHandlerFailureNeverUndoesTask: an error, an out-of-gas panic or any
// other panic rolls back what the contract wrote and emitted, emits
// EventHandlerFailed, charges at most handler_gas_limit, and the task's
// outcome (status, fee payout or refund) stands.
func (s *KeeperTestSuite) TestHandlerFailureNeverUndoesTask() {
	params, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	limit := params.HandlerGasLimit
	cases := []struct {
		name    string
		gas     uint64
		then    func() error
		wantErr string
	}{
		{"error", 10, func() error { return errors.New("contract says no") }, "contract says no"},
		{"out of gas", limit + 1, func() error { return nil }, fmt.Sprintf("out of gas (limit %d) in contract work", limit)},
		{"out of gas panic", 10, func() error { panic(storetypes.ErrorOutOfGas{Descriptor: "wasm"}) }, fmt.Sprintf("out of gas (limit %d) in wasm", limit)},
		{"other panic", 10, func() error { panic("boom") }, "handler panicked: boom"},
	}
	for _, tc := range cases {
		for _, expire := range []bool{false, true} {
			s.Run(fmt.Sprintf("%s/expired=%v", tc.name, expire), func() {
				s.SetupTest()
				handler := contractAddr("handler")
				fake := &fakeContracts{}
				fake.do = s.writeAnd(tc.gas, tc.then)
				serviceID, op := s.handlerService(fake, handler)
				taskID := s.createTask(serviceID)
				creatorBefore := s.balance(s.creator())
				treasuryBefore := s.treasuryOf(serviceID)

				var ctx sdk.Context
				gasBefore := s.ctx.GasMeter().GasConsumed()
				if expire {
					ctx = s.expireWithEvents(taskID)
				} else {
					ctx = s.completeWithEvents(op, taskID, "16")
					s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(taskID).Status)
					s.Require().Equal([]byte("16"), s.task(taskID).Result)
					s.Require().EqualValues(defaultFee, s.earned(op).Int64(), "the backer is paid")
				}
				s.Require().Len(fake.calls, 1)
				called, failed := s.handlerEvents(ctx)
				s.Require().Empty(called)
				s.Require().Len(failed, 1)
				s.Require().Equal(taskID, failed[0].TaskId)
				s.Require().Equal(handler, failed[0].Contract)
				s.Require().Equal(tc.wantErr, failed[0].Error)
				s.Require().LessOrEqual(failed[0].GasUsed, limit)
				deposit := s.task(taskID).HandlerDeposit
				s.Require().True(deposit.IsZero(), "the deposit is settled with the task")
				if expire {
					// the fee comes back; the treasury gets the deposit less the handler's gas at handler_gas_price
					s.Require().Equal(creatorBefore.AddRaw(defaultFee), s.balance(s.creator()), "the fee is refunded")
					cost := s.params().HandlerGasPrice.MulInt64(int64(failed[0].GasUsed)).Ceil().TruncateInt64()
					s.Require().Equal(treasuryBefore+s.depositAmount()-cost, s.treasuryOf(serviceID))
				} else {
					s.Require().Equal(treasuryBefore+s.depositAmount(), s.treasuryOf(serviceID), "the tx paid the handler: the whole deposit comes back")
				}
				s.requireBalanced()
				if tc.gas > limit {
					s.Require().Equal(limit, failed[0].GasUsed)
					s.Require().GreaterOrEqual(ctx.GasMeter().GasConsumed()-gasBefore, limit, "the caller pays the handler's gas")
				}
				s.Require().False(s.contractWrote(), "a failed handler's writes are rolled back")
				s.Require().False(hasEvent(ctx, "wasm-handled"), "and its events dropped")
			})
		}
	}
}

// TestHandlerNotCalled: no handler_contract, or no contract keeper wired in.
func (s *KeeperTestSuite) TestHandlerNotCalled() {
	fake := &fakeContracts{}
	serviceID, op := s.handlerService(fake, "")
	taskID := s.createTask(serviceID)
	ctx := s.completeWithEvents(op, taskID, "16")
	s.Require().Empty(fake.calls)
	called, failed := s.handlerEvents(ctx)
	s.Require().Empty(called)
	s.Require().Empty(failed)

	s.SetupTest() // a keeper without SetContractKeeper
	m := defaultManifest("")
	m.HandlerContract = contractAddr("handler")
	id, ops := s.setupService(m, 1)
	ctx = s.completeWithEvents(ops[0], s.createTask(id), "16")
	called, failed = s.handlerEvents(ctx)
	s.Require().Empty(called)
	s.Require().Empty(failed)
}
