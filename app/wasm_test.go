package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	wasmtestdata "github.com/CosmWasm/wasmd/x/wasm/keeper/testdata"
	wasmtypes "github.com/CosmWasm/wasmd/x/wasm/types"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/apptest"
	"github.com/avschain/avschain/testutil/avstest"
	avskeeper "github.com/avschain/avschain/x/avs/keeper"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

const wasmTestFee = 1000

// wasmEnv is the real app with x/avs and the wasm keeper driven directly: a
// component, three operators and helpers to store, instantiate and call
// contracts. Each step takes a fresh chain.Context(), so its events are its own.
type wasmEnv struct {
	t         *testing.T
	chain     *apptest.Chain
	avs       avstypes.MsgServer
	contracts *wasmkeeper.PermissionedKeeper
	digest    string
	operators []string
}

func newWasmEnv(t *testing.T) *wasmEnv {
	chain := apptest.Setup(t, nil)
	e := &wasmEnv{
		t: t, chain: chain,
		avs:       avskeeper.NewMsgServerImpl(chain.App.AVSKeeper),
		contracts: wasmkeeper.NewDefaultPermissionKeeper(chain.App.WasmKeeper),
	}
	ctx := chain.Context()
	res, err := e.avs.StoreComponent(ctx, &avstypes.MsgStoreComponent{Sender: chain.Account.String(), Wasm: avstest.Module(true, avstest.WASI)})
	require.NoError(t, err)
	e.digest = res.Digest
	for i := 1; i <= 3; i++ {
		op := sdk.AccAddress(fmt.Appendf(nil, "wasm-test-operator-%d", i)).String()
		_, err := e.avs.RegisterOperator(ctx, &avstypes.MsgRegisterOperator{Operator: op, Moniker: fmt.Sprintf("op%d", i)})
		require.NoError(t, err)
		e.operators = append(e.operators, op)
	}
	chain.NextBlock(t)
	return e
}

func (e *wasmEnv) manifest(handler string) avstypes.ServiceManifest {
	return avstypes.ServiceManifest{
		Name:            "square",
		ComponentDigest: e.digest,
		Limits:          avstypes.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: 64},
		Quorum:          avstypes.Quorum{Threshold: sdkmath.LegacyMustNewDecFromStr("0.6")},
		Aggregation:     avstypes.Aggregation{Mode: avstypes.AGGREGATION_MODE_EXACT},
		FeePerTask:      sdk.NewInt64Coin(app.BondDenom, wasmTestFee),
		HandlerContract: handler,
		Admission:       avstypes.ADMISSION_ALLOWLIST, // EQUAL weighting among listed operators (H-6)
	}
}

// createService deploys a service owned by the funded account, every
// operator allow-listed and opted in.
func (e *wasmEnv) createService(m avstypes.ServiceManifest) uint64 {
	ctx := e.chain.Context()
	res, err := e.avs.CreateService(ctx, &avstypes.MsgCreateService{Owner: e.chain.Account.String(), Manifest: m})
	require.NoError(e.t, err)
	_, err = e.avs.UpdateAllowlist(ctx, &avstypes.MsgUpdateAllowlist{Owner: e.chain.Account.String(), ServiceId: res.ServiceId, Add: e.operators})
	require.NoError(e.t, err)
	for _, op := range e.operators {
		_, err := e.avs.OptIn(ctx, &avstypes.MsgOptIn{Operator: op, ServiceId: res.ServiceId})
		require.NoError(e.t, err)
	}
	return res.ServiceId
}

func (e *wasmEnv) setHandler(serviceID uint64, handler string) {
	svc, err := e.chain.App.AVSKeeper.Services.Get(e.chain.Context(), serviceID)
	require.NoError(e.t, err)
	m := svc.Manifest
	m.HandlerContract = handler
	_, err = e.avs.UpdateService(e.chain.Context(), &avstypes.MsgUpdateService{Owner: svc.Owner, ServiceId: serviceID, Manifest: m})
	require.NoError(e.t, err)
}

// instantiate stores code and instantiates it, the funded account as creator.
func (e *wasmEnv) instantiate(code []byte, msg string) sdk.AccAddress {
	ctx := e.chain.Context()
	codeID, _, err := e.contracts.Create(ctx, e.chain.Account, code, nil)
	require.NoError(e.t, err)
	addr, _, err := e.contracts.Instantiate(ctx, codeID, e.chain.Account, nil, []byte(msg), "test", nil)
	require.NoError(e.t, err)
	return addr
}

// execute calls the contract as the funded account.
func (e *wasmEnv) execute(contract sdk.AccAddress, msg string, funds ...sdk.Coin) (sdk.Context, []byte, error) {
	ctx := e.chain.Context()
	// As in a transaction, a failed execution writes nothing.
	cacheCtx, write := ctx.CacheContext()
	data, err := e.contracts.Execute(cacheCtx, contract, e.chain.Account, []byte(msg), sdk.NewCoins(funds...))
	if err == nil {
		write()
	}
	return ctx, data, err
}

func (e *wasmEnv) query(contract sdk.AccAddress, msg string, out any) {
	bz, err := e.chain.App.WasmKeeper.QuerySmart(e.chain.Context(), contract, []byte(msg))
	require.NoError(e.t, err, "query %s", msg)
	require.NoError(e.t, json.Unmarshal(bz, out), "answer %s", bz)
}

// createTask opens a task from the funded account.
func (e *wasmEnv) createTask(serviceID uint64, input string) uint64 {
	res, err := e.avs.CreateTask(e.chain.Context(), &avstypes.MsgCreateTask{
		Creator: e.chain.Account.String(), ServiceId: serviceID, Input: []byte(input), Fee: sdk.NewInt64Coin(app.BondDenom, wasmTestFee),
	})
	require.NoError(e.t, err)
	return res.TaskId
}

// complete has two of the three operators vote result (threshold 0.6), which
// completes the task; it returns the context the completing vote ran in.
func (e *wasmEnv) complete(taskID uint64, result string) sdk.Context {
	var ctx sdk.Context
	for _, op := range e.operators[:2] {
		ctx = e.chain.Context()
		res, err := e.avs.SubmitResults(ctx, &avstypes.MsgSubmitResults{Operator: op, Results: []avstypes.TaskResult{{TaskId: taskID, Result: []byte(result)}}})
		require.NoError(e.t, err)
		require.True(e.t, res.Outcomes[0].Accepted, "vote refused: %s", res.Outcomes[0].Error)
	}
	require.Equal(e.t, avstypes.TASK_STATUS_COMPLETED, e.task(taskID).Status)
	return ctx
}

func (e *wasmEnv) task(id uint64) avstypes.Task {
	task, err := e.chain.App.AVSKeeper.Tasks.Get(e.chain.Context(), id)
	require.NoError(e.t, err)
	return task
}

func (e *wasmEnv) service(id uint64) avstypes.Service {
	svc, err := e.chain.App.AVSKeeper.Services.Get(e.chain.Context(), id)
	require.NoError(e.t, err)
	return svc
}

// typedEvents returns the typed events of like's type emitted on ctx.
func typedEvents[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	var out []T
	var zero T
	for _, ev := range ctx.EventManager().Events() {
		if ev.Type != proto.MessageName(zero) {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		require.NoError(t, err)
		out = append(out, msg.(T))
	}
	return out
}

type requestView struct {
	ID     string  `json:"id"`
	TaskID *string `json:"task_id"`
	Input  []byte  `json:"input"`
	Status string  `json:"status"`
	Result []byte  `json:"result"`
}

// TestWasmRequesterRoundTrip: a request made through avs-requester becomes a
// task, the operators' votes complete it, x/avs calls the contract (the
// service's handler) with sudo, and the answer is read back from the contract.
func TestWasmRequesterRoundTrip(t *testing.T) {
	e := newWasmEnv(t)
	serviceID := e.createService(e.manifest(""))
	requester := e.instantiate(contracts.RequesterWasm(), fmt.Sprintf(`{"service_id":"%d"}`, serviceID))
	e.setHandler(serviceID, requester.String())
	e.chain.NextBlock(t)

	input := base64.StdEncoding.EncodeToString([]byte("5"))
	fee := sdk.NewInt64Coin(app.BondDenom, wasmTestFee)
	ctx, data, err := e.execute(requester, fmt.Sprintf(`{"request":{"input":%q}}`, input), fee)
	require.NoError(t, err)
	// The reply to MsgCreateTask sets the execution's data: request → task.
	require.JSONEq(t, `{"request_id":"1","task_id":"1"}`, string(data))
	created := typedEvents[*avstypes.EventTaskCreated](t, ctx)
	require.Len(t, created, 1)
	require.Equal(t, requester.String(), created[0].Creator, "the contract is the task's creator")
	task := e.task(1)
	require.Equal(t, avstypes.TASK_STATUS_PENDING, task.Status)
	require.Equal(t, []byte("5"), task.Input)
	require.Equal(t, fee, task.Fee)

	var req requestView
	e.query(requester, `{"request":{"id":"1"}}`, &req)
	require.Equal(t, "1", *req.TaskID)
	require.Equal(t, "pending", req.Status)
	e.chain.NextBlock(t)

	ctx = e.complete(1, "25")
	called := typedEvents[*avstypes.EventHandlerCalled](t, ctx)
	require.Len(t, called, 1)
	require.Equal(t, requester.String(), called[0].Contract)
	require.Positive(t, called[0].GasUsed)
	t.Logf("handler sudo used %d gas (handler_gas_limit %d)", called[0].GasUsed, avstypes.DefaultHandlerGasLimit)
	require.Empty(t, typedEvents[*avstypes.EventHandlerFailed](t, ctx))
	e.chain.NextBlock(t)

	e.query(requester, `{"request":{"id":"1"}}`, &req)
	require.Equal(t, requestView{ID: "1", TaskID: req.TaskID, Input: []byte("5"), Status: "completed", Result: []byte("25")}, req)
	var list struct{ Requests []requestView }
	e.query(requester, `{"requests":{}}`, &list)
	require.Len(t, list.Requests, 1)

	// Through the stargate accept list, the contract reads the task itself.
	var viaStargate struct {
		Task struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Result []byte `json:"result"`
		} `json:"task"`
	}
	e.query(requester, `{"task":{"task_id":"1"}}`, &viaStargate)
	require.Equal(t, "1", viaStargate.Task.ID)
	require.Equal(t, "TASK_STATUS_COMPLETED", viaStargate.Task.Status)
	require.Equal(t, []byte("25"), viaStargate.Task.Result)

	// A task of the service that the contract did not ask for is ignored.
	other := e.createTask(serviceID, "6")
	ctx = e.complete(other, "36")
	require.Len(t, typedEvents[*avstypes.EventHandlerCalled](t, ctx), 1)
	_, err = e.chain.App.WasmKeeper.QuerySmart(e.chain.Context(), requester, []byte(`{"request":{"id":"2"}}`))
	require.ErrorContains(t, err, "no request 2")
}

// TestWasmHandlerStoresResults: avs-handler keeps each result by task id,
// completed and expired alike.
func TestWasmHandlerStoresResults(t *testing.T) {
	e := newWasmEnv(t)
	handler := e.instantiate(contracts.HandlerWasm(), `{}`)
	m := e.manifest(handler.String())
	m.TaskTimeout = 3
	serviceID := e.createService(m)
	// The treasury pays the handler deposit an expiry's call is paid from.
	_, err := e.avs.FundService(e.chain.Context(), &avstypes.MsgFundService{
		Funder: e.chain.Account.String(), ServiceId: serviceID, Amount: sdk.NewInt64Coin(app.BondDenom, 1_000_000),
	})
	require.NoError(t, err)

	first := e.createTask(serviceID, "4")
	second := e.createTask(serviceID, "7")
	ctx := e.complete(first, "16")
	require.Len(t, typedEvents[*avstypes.EventHandlerCalled](t, ctx), 1)
	for i := 0; i < 4; i++ { // the second task expires at the end of its deadline block
		e.chain.NextBlock(t)
	}
	require.Equal(t, avstypes.TASK_STATUS_EXPIRED, e.task(second).Status)

	type stored struct {
		TaskID    string `json:"task_id"`
		ServiceID string `json:"service_id"`
		Status    string `json:"status"`
		Result    []byte `json:"result"`
	}
	sid := strconv.FormatUint(serviceID, 10)
	var got stored
	e.query(handler, fmt.Sprintf(`{"result":{"task_id":"%d"}}`, first), &got)
	require.Equal(t, stored{TaskID: strconv.FormatUint(first, 10), ServiceID: sid, Status: "completed", Result: []byte("16")}, got)
	var list struct{ Results []stored }
	e.query(handler, `{"results":{}}`, &list)
	require.Equal(t, []stored{got, {TaskID: strconv.FormatUint(second, 10), ServiceID: sid, Status: "expired", Result: []byte{}}}, list.Results)
	e.query(handler, fmt.Sprintf(`{"results":{"start_after":"%d"}}`, first), &list)
	require.Len(t, list.Results, 1)

	_, err = e.chain.App.WasmKeeper.QuerySmart(e.chain.Context(), handler, []byte(`{"result":{"task_id":"99"}}`))
	require.ErrorContains(t, err, "no result for task 99")
	_, _, err = e.execute(handler, `{}`)
	require.ErrorContains(t, err, "avs-handler takes only avs_result")
}

// TestWasmHandlerFailureKeepsTask: a handler that errs (wasmd's hackatom has
// no avs_task_result sudo message) or runs out of handler_gas_limit never
// undoes the task: it completes, and EventHandlerFailed names the contract.
func TestWasmHandlerFailureKeepsTask(t *testing.T) {
	e := newWasmEnv(t)
	acct := e.chain.Account.String()
	hackatom := e.instantiate(wasmtestdata.HackatomContractWasm(), fmt.Sprintf(`{"verifier":%q,"beneficiary":%q}`, acct, acct))
	serviceID := e.createService(e.manifest(hackatom.String()))
	taskID := e.createTask(serviceID, "3")
	ctx := e.complete(taskID, "9")
	failed := typedEvents[*avstypes.EventHandlerFailed](t, ctx)
	require.Len(t, failed, 1)
	require.Equal(t, taskID, failed[0].TaskId)
	require.Equal(t, hackatom.String(), failed[0].Contract)
	require.Contains(t, failed[0].Error, "unknown variant `avs_task_result`")
	require.Empty(t, typedEvents[*avstypes.EventHandlerCalled](t, ctx))
	require.Equal(t, []byte("9"), e.task(taskID).Result)
	// the fee is paid at the end of the block: to the operators' claimable rewards
	k := e.chain.App.AVSKeeper
	params, err := k.Params.Get(e.chain.Context())
	require.NoError(t, err)
	require.NoError(t, k.PayDecided(e.chain.Context(), params))
	// by hand: two backers of equal power split the 1000 fee, 500 each, and
	// with no stake committed in their pools each keeps its whole share
	for _, op := range e.operators[:2] {
		held, err := k.OperatorRewards.Get(e.chain.Context(), op)
		require.NoError(t, err)
		require.Equal(t, sdkmath.NewInt(500), held, "the backers are paid all the same: %s", op)
	}
	has, err := k.OperatorRewards.Has(e.chain.Context(), e.operators[2])
	require.NoError(t, err)
	require.False(t, has, "the operator that did not vote earns nothing")

	// Out of gas: avs-handler under a tiny handler_gas_limit.
	handler := e.instantiate(contracts.HandlerWasm(), `{}`)
	e.setHandler(serviceID, handler.String())
	params, err = e.chain.App.AVSKeeper.Params.Get(e.chain.Context())
	require.NoError(t, err)
	params.HandlerGasLimit = 5000
	_, err = e.avs.UpdateParams(e.chain.Context(), &avstypes.MsgUpdateParams{Authority: authtypes.NewModuleAddress(govtypes.ModuleName).String(), Params: params})
	require.NoError(t, err)
	taskID = e.createTask(serviceID, "4")
	ctx = e.complete(taskID, "16")
	failed = typedEvents[*avstypes.EventHandlerFailed](t, ctx)
	require.Len(t, failed, 1)
	require.Equal(t, handler.String(), failed[0].Contract)
	require.Contains(t, failed[0].Error, "out of gas (limit 5000)")
	require.EqualValues(t, 5000, failed[0].GasUsed)
	_, err = e.chain.App.WasmKeeper.QuerySmart(e.chain.Context(), handler, []byte(fmt.Sprintf(`{"result":{"task_id":"%d"}}`, taskID)))
	require.ErrorContains(t, err, "no result for task", "the handler's writes are rolled back")
	e.chain.NextBlock(t)
	require.Equal(t, avstypes.TASK_STATUS_COMPLETED, e.task(taskID).Status)
}

// TestWasmContractOwnsService: a service transferred to avs-requester is
// governed through the contract (update_service, set_status); a plain
// account or another contract that does not own it is refused by x/avs.
func TestWasmContractOwnsService(t *testing.T) {
	e := newWasmEnv(t)
	serviceID := e.createService(e.manifest(""))
	initMsg := fmt.Sprintf(`{"service_id":"%d"}`, serviceID)
	dao := e.instantiate(contracts.RequesterWasm(), initMsg)
	other := e.instantiate(contracts.RequesterWasm(), initMsg)
	_, err := e.avs.TransferService(e.chain.Context(), &avstypes.MsgTransferService{Owner: e.chain.Account.String(), ServiceId: serviceID, NewOwner: dao.String()})
	require.NoError(t, err)

	// The contract sets itself as handler and changes name and timeout.
	want := e.service(serviceID).Manifest
	want.Name = "square-v2"
	want.TaskTimeout = 30
	want.Config = []avstypes.ConfigEntry{{Key: "MODE", Value: "fast"}}
	want.Limits.HttpAllowList = []string{"example.org:443"}
	want.HandlerContract = dao.String()
	manifestJSON, err := e.chain.App.AppCodec().MarshalJSON(&want)
	require.NoError(t, err)
	ctx, _, err := e.execute(dao, fmt.Sprintf(`{"update_service":{"manifest":%s}}`, manifestJSON))
	require.NoError(t, err)
	require.Len(t, typedEvents[*avstypes.EventServiceUpdated](t, ctx), 1)
	svc := e.service(serviceID)
	require.Equal(t, dao.String(), svc.Owner)
	require.Equal(t, want, svc.Manifest, "the manifest must survive JSON → the contract's protobuf → x/avs")

	_, _, err = e.execute(dao, `{"set_status":{"status":"paused"}}`)
	require.NoError(t, err)
	require.Equal(t, avstypes.SERVICE_STATUS_PAUSED, e.service(serviceID).Status)
	_, _, err = e.execute(dao, `{"request":{"input":"NQ=="}}`, sdk.NewInt64Coin(app.BondDenom, wasmTestFee))
	require.ErrorIs(t, err, avstypes.ErrServicePaused)
	_, _, err = e.execute(dao, `{"set_status":{"status":"active"}}`)
	require.NoError(t, err)
	require.Equal(t, avstypes.SERVICE_STATUS_ACTIVE, e.service(serviceID).Status)

	// Refused: the former owner, a plain account now.
	_, err = e.avs.UpdateService(e.chain.Context(), &avstypes.MsgUpdateService{Owner: e.chain.Account.String(), ServiceId: serviceID, Manifest: want})
	require.ErrorIs(t, err, avstypes.ErrNotServiceOwner)
	// Refused: a second requester contract that does not own the service;
	// x/avs's error surfaces through the contract execution.
	_, _, err = e.execute(other, fmt.Sprintf(`{"update_service":{"manifest":%s}}`, manifestJSON))
	require.ErrorIs(t, err, avstypes.ErrNotServiceOwner)
	_, _, err = e.execute(other, `{"set_status":{"status":"paused"}}`)
	require.ErrorIs(t, err, avstypes.ErrNotServiceOwner)
	// Refused by the contract: only its admin may govern through it.
	stranger := sdk.AccAddress("some-stranger-account")
	_, err = e.contracts.Execute(e.chain.Context(), dao, stranger, []byte(`{"set_status":{"status":"paused"}}`), nil)
	require.ErrorIs(t, err, wasmtypes.ErrExecuteFailed)
	require.ErrorContains(t, err, "unauthorized: only the admin")
	// A manifest the contract cannot encode is refused before x/avs sees it.
	_, _, err = e.execute(dao, `{"update_service":{"manifest":{"name":"x","colour":"red"}}}`)
	require.ErrorContains(t, err, `manifest: unknown field "colour"`)
	// One x/avs refuses.
	_, _, err = e.execute(dao, `{"update_service":{"manifest":{"name":"x"}}}`)
	require.ErrorIs(t, err, avstypes.ErrInvalidManifest)
	require.Equal(t, want, e.service(serviceID).Manifest)
}

// TestWasmRequesterErrors: malformed messages and requests x/avs refuses get
// clear errors, and leave no request behind.
func TestWasmRequesterErrors(t *testing.T) {
	e := newWasmEnv(t)
	serviceID := e.createService(e.manifest(""))
	requester := e.instantiate(contracts.RequesterWasm(), fmt.Sprintf(`{"service_id":"%d"}`, serviceID))
	fee := sdk.NewInt64Coin(app.BondDenom, wasmTestFee)

	for _, c := range []struct{ msg, want string }{
		{`not json`, "invalid execute message: expected value at line 1 column 1"},
		{`{"bogus":{}}`, "invalid execute message: unknown variant `bogus`"},
		{`{"request":{}}`, "invalid execute message: missing field `input`"},
		{`{"request":{"input":"%%%"}}`, "input: invalid base64"},
	} {
		_, _, err := e.execute(requester, c.msg, fee)
		require.ErrorIs(t, err, wasmtypes.ErrExecuteFailed, c.msg)
		require.ErrorContains(t, err, c.want, c.msg)
	}
	_, _, err := e.execute(requester, `{"request":{"input":"NQ=="}}`)
	require.ErrorContains(t, err, "send exactly one coin with a request, the task fee (got 0)")
	_, _, err = e.execute(requester, `{"request":{"input":"NQ=="}}`, sdk.NewInt64Coin(app.BondDenom, wasmTestFee-1))
	require.ErrorIs(t, err, avstypes.ErrInsufficientFee)

	// A requester pointed at a service that does not exist.
	lost := e.instantiate(contracts.RequesterWasm(), `{"service_id":"999"}`)
	_, _, err = e.execute(lost, `{"request":{"input":"NQ=="}}`, fee)
	require.ErrorIs(t, err, avstypes.ErrServiceNotFound)

	_, err = e.chain.App.WasmKeeper.QuerySmart(e.chain.Context(), requester, []byte(`{"request":{"id":"1"}}`))
	require.ErrorContains(t, err, "no request 1", "a refused request leaves nothing behind")
	_, err = e.chain.App.WasmKeeper.QuerySmart(e.chain.Context(), requester, []byte(`{"task":{"task_id":"42"}}`))
	require.ErrorContains(t, err, "query failed", "wasmd redacts the x/avs error to its codes")

	// Instantiation checks its message too.
	ctx := e.chain.Context()
	codeID, _, err := e.contracts.Create(ctx, e.chain.Account, contracts.RequesterWasm(), nil)
	require.NoError(t, err)
	_, _, err = e.contracts.Instantiate(ctx, codeID, e.chain.Account, nil, []byte(`{"service_id":"one"}`), "bad", nil)
	require.ErrorContains(t, err, `service_id must be a decimal integer, got "one"`)
}
