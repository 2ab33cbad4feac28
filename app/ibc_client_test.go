package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	wasmtypes "github.com/CosmWasm/wasmd/x/wasm/types"
	wasmvmtypes "github.com/CosmWasm/wasmvm/v2/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/contracts"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// clientEnv is ibcEnv plus the avs-ibc-client contract on chain B, joined to
// chain A's avs port by its own channel: chain B plays a plain CosmWasm
// chain that asks avschain (chain A) for tasks through the contract.
type clientEnv struct {
	*ibcEnv
	path   *ibctesting.Path // EndpointA: the contract's port on B; EndpointB: avs on A
	client sdk.AccAddress
}

func newClientEnv(t *testing.T) *clientEnv {
	t.Helper()
	e := &clientEnv{ibcEnv: newIBCEnv(t)}
	e.client = e.instantiate(contracts.ClientWasm(), `{}`)
	port := e.b.App.(*app.App).WasmKeeper.GetContractInfo(e.b.GetContext(), e.client).IBCPortID
	require.Equal(t, "wasm."+e.client.String(), port, "wasmd binds an IBC-enabled contract's port")

	e.path = ibctesting.NewPath(e.b, e.a)
	e.path.EndpointA.ChannelConfig.PortID = port
	e.path.EndpointB.ChannelConfig.PortID = avstypes.PortID
	for _, ep := range []*ibctesting.Endpoint{e.path.EndpointA, e.path.EndpointB} {
		ep.ChannelConfig.Version = avstypes.Version
		ep.ChannelConfig.Order = channeltypes.UNORDERED
	}
	e.coord.Setup(e.path) // the contract opens the channel (open_init), avs answers
	return e
}

// instantiate stores and instantiates a contract on chain B.
func (e *clientEnv) instantiate(wasm []byte, msg string) sdk.AccAddress {
	e.t.Helper()
	ctx := e.b.GetContext()
	k := wasmkeeper.NewDefaultPermissionKeeper(e.b.App.(*app.App).WasmKeeper)
	creator := e.b.SenderAccount.GetAddress()
	codeID, _, err := k.Create(ctx, creator, wasm, nil)
	require.NoError(e.t, err)
	addr, _, err := k.Instantiate(ctx, codeID, creator, nil, []byte(msg), "contract", nil)
	require.NoError(e.t, err)
	e.coord.CommitBlock(e.b)
	return addr
}

// execute runs a contract message on chain B as its sender account.
func (e *clientEnv) execute(contract sdk.AccAddress, msg string) (*wasmtypes.MsgExecuteContractResponse, channeltypes.Packet) {
	e.t.Helper()
	res := e.sendB(&wasmtypes.MsgExecuteContract{Sender: e.b.SenderAccount.GetAddress().String(), Contract: contract.String(), Msg: []byte(msg)})
	var txData sdk.TxMsgData
	require.NoError(e.t, txData.Unmarshal(res.Data))
	require.Len(e.t, txData.MsgResponses, 1)
	var out wasmtypes.MsgExecuteContractResponse
	require.NoError(e.t, out.Unmarshal(txData.MsgResponses[0].Value))
	packet, _ := ibctesting.ParsePacketFromEvents(res.Events)
	return &out, packet
}

// request asks service id for a task through the contract and returns the
// request id and its packet.
func (e *clientEnv) request(serviceID uint64, input string, timeoutSeconds uint64, callback sdk.AccAddress) (string, channeltypes.Packet) {
	e.t.Helper()
	cb := ""
	if callback != nil {
		cb = fmt.Sprintf(`,"callback":%q`, callback.String())
	}
	res, packet := e.execute(e.client, fmt.Sprintf(`{"request":{"service_id":"%d","input":%q,"timeout_seconds":%d%s}}`,
		serviceID, base64.StdEncoding.EncodeToString([]byte(input)), timeoutSeconds, cb))
	var data struct {
		RequestID string `json:"request_id"`
	}
	require.NoError(e.t, json.Unmarshal(res.Data, &data))
	require.Equal(e.t, e.path.EndpointA.ChannelConfig.PortID, packet.SourcePort)
	require.NoError(e.t, e.path.EndpointB.UpdateClient())
	return data.RequestID, packet
}

// clientRecord is a record of the contract, as its result query answers.
type clientRecord struct {
	ID             string  `json:"id"`
	Kind           string  `json:"kind"`
	Channel        string  `json:"channel"`
	Sequence       *uint64 `json:"sequence"`
	ServiceID      string  `json:"service_id"`
	Input          string  `json:"input"`
	Status         string  `json:"status"`
	TaskID         *string `json:"task_id"`
	Result         *string `json:"result"`
	PowerFor       *string `json:"power_for"`
	PowerTotal     *string `json:"power_total"`
	Error          *string `json:"error"`
	CallbackStatus *string `json:"callback_status"`
}

func (e *clientEnv) query(contract sdk.AccAddress, msg string, out any) {
	e.t.Helper()
	bz, err := e.b.App.(*app.App).WasmKeeper.QuerySmart(e.b.GetContext(), contract, []byte(msg))
	require.NoError(e.t, err)
	require.NoError(e.t, json.Unmarshal(bz, out), string(bz))
}

func (e *clientEnv) record(id string) clientRecord {
	e.t.Helper()
	var r clientRecord
	e.query(e.client, fmt.Sprintf(`{"result":{"id":%q}}`, id), &r)
	return r
}

// answer delivers a request to chain A, votes result as A's only operator,
// and relays the acknowledgement back to the contract.
func (e *clientEnv) answer(packet channeltypes.Packet, result string) {
	e.t.Helper()
	require.NoError(e.t, e.path.EndpointB.RecvPacket(packet))
	taskID, err := e.a.App.(*app.App).AVSKeeper.TaskSeq.Peek(e.a.GetContext())
	require.NoError(e.t, err)
	vote := e.sendA(&avstypes.MsgSubmitResults{Operator: e.a.SenderAccount.GetAddress().String(), Results: []avstypes.TaskResult{{TaskId: taskID - 1, Result: []byte(result)}}})
	ack, err := ibctesting.ParseAckFromEvents(vote.Events)
	require.NoError(e.t, err, "completion writes the acknowledgement")
	require.NoError(e.t, e.path.EndpointA.UpdateClient())
	require.NoError(e.t, e.path.EndpointA.AcknowledgePacket(packet, ack))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestIBCClientCompleted: the contract on chain B asks chain A's service for
// square(7) with avs-handler as its callback; A's operator votes 49; the
// acknowledgement brings 49 to the record, and the callback delivers it.
func TestIBCClientCompleted(t *testing.T) {
	e := newClientEnv(t)
	handler := e.instantiate(contracts.HandlerWasm(), `{}`)
	id := e.service([]string{e.path.EndpointB.ChannelID}, nil)
	reqID, packet := e.request(id, "7", 600, handler)
	require.Equal(t, "1", reqID)
	var sent struct {
		ServiceID string `json:"service_id"`
		Input     []byte `json:"input"`
		Memo      string `json:"memo"`
	}
	require.NoError(t, json.Unmarshal(packet.Data, &sent))
	require.Equal(t, fmt.Sprint(id), sent.ServiceID)
	require.Equal(t, "7", string(sent.Input))
	require.Equal(t, "avs-ibc-client:1", sent.Memo)
	require.Equal(t, "pending", e.record(reqID).Status)

	e.answer(packet, "49")
	r := e.record(reqID)
	require.Equal(t, "completed", r.Status)
	require.Equal(t, b64("49"), *r.Result)
	require.Equal(t, "1", *r.TaskID)
	require.Equal(t, "1", *r.PowerTotal)
	require.Equal(t, packet.Sequence, *r.Sequence)
	require.Nil(t, r.Error)
	require.Equal(t, "delivered", *r.CallbackStatus)

	var cbs struct {
		Callbacks []struct {
			Sender string       `json:"sender"`
			Result clientRecord `json:"result"`
		} `json:"callbacks"`
	}
	e.query(handler, `{"callbacks":{}}`, &cbs)
	require.Len(t, cbs.Callbacks, 1)
	require.Equal(t, e.client.String(), cbs.Callbacks[0].Sender)
	require.Equal(t, "1", cbs.Callbacks[0].Result.ID)
	require.Equal(t, "completed", cbs.Callbacks[0].Result.Status)
	require.Equal(t, b64("49"), *cbs.Callbacks[0].Result.Result)

	var results struct {
		Results []clientRecord `json:"results"`
	}
	e.query(e.client, `{"results":{}}`, &results)
	require.Len(t, results.Results, 1)
	e.query(e.client, `{"results":{"start_after":"1"}}`, &results)
	require.Empty(t, results.Results)
}

// TestIBCClientErrorAck: a request for a service chain A does not have comes
// back as an error acknowledgement, recorded with x/avs's reason.
func TestIBCClientErrorAck(t *testing.T) {
	e := newClientEnv(t)
	reqID, packet := e.request(99, "7", 600, nil)
	res, err := e.path.EndpointB.RecvPacketWithResult(packet)
	require.NoError(t, err)
	ack, err := ibctesting.ParseAckFromEvents(res.Events)
	require.NoError(t, err, "a refused request is acknowledged at once")
	require.NoError(t, e.path.EndpointA.UpdateClient())
	require.NoError(t, e.path.EndpointA.AcknowledgePacket(packet, ack))

	r := e.record(reqID)
	require.Equal(t, "error", r.Status)
	require.Equal(t, "ABCI error: avs/10: service not found", *r.Error)
	require.Nil(t, r.TaskID)
}

// TestIBCClientTimeout: a request chain A never received times out.
func TestIBCClientTimeout(t *testing.T) {
	e := newClientEnv(t)
	id := e.service([]string{e.path.EndpointB.ChannelID}, nil)
	reqID, packet := e.request(id, "7", 1, nil)
	for i := 0; i < 3; i++ { // let chain A's clock pass the timeout
		e.coord.CommitBlock(e.a)
	}
	require.NoError(t, e.path.EndpointA.UpdateClient())
	require.NoError(t, e.path.EndpointA.TimeoutPacket(packet))
	r := e.record(reqID)
	require.Equal(t, "timeout", r.Status)
	require.Contains(t, *r.Error, "timed out")
}

// TestIBCClientPushed: a service listing the contract's channel among its
// result channels pushes each result there; the contract keeps it as a
// "pushed" record and acknowledges it as x/avs expects.
func TestIBCClientPushed(t *testing.T) {
	e := newClientEnv(t)
	id := e.service(nil, []string{e.path.EndpointB.ChannelID})
	sender := e.a.SenderAccount.GetAddress().String()
	e.sendA(&avstypes.MsgCreateTask{Creator: sender, ServiceId: id, Input: []byte("8"), Fee: e.fee})
	res := e.sendA(&avstypes.MsgSubmitResults{Operator: sender, Results: []avstypes.TaskResult{{TaskId: 1, Result: []byte("64")}}})
	packet, err := ibctesting.ParsePacketFromEvents(res.Events)
	require.NoError(t, err, "completion pushes the result")
	require.NoError(t, e.path.EndpointA.UpdateClient())
	recv, err := e.path.EndpointA.RecvPacketWithResult(packet)
	require.NoError(t, err)
	ack, err := ibctesting.ParseAckFromEvents(recv.Events)
	require.NoError(t, err)
	require.JSONEq(t, `{"result":"AQ=="}`, string(ack))
	require.NoError(t, e.path.EndpointB.UpdateClient())
	require.NoError(t, e.path.EndpointB.AcknowledgePacket(packet, ack), "x/avs accepts the contract's acknowledgement")

	r := e.record("1")
	require.Equal(t, "pushed", r.Kind)
	require.Equal(t, "completed", r.Status)
	require.Equal(t, b64("64"), *r.Result)
	require.Equal(t, b64("8"), r.Input)
	require.Equal(t, "1", *r.TaskID)
	require.Equal(t, packet.Sequence, *r.Sequence)
}

// TestIBCClientCallbackFails: a callback contract that refuses avs_result
// (avs-requester) fails alone: the result is kept and the failure recorded.
func TestIBCClientCallbackFails(t *testing.T) {
	e := newClientEnv(t)
	requester := e.instantiate(contracts.RequesterWasm(), `{"service_id":"1"}`)
	id := e.service([]string{e.path.EndpointB.ChannelID}, nil)
	reqID, packet := e.request(id, "5", 600, requester)
	e.answer(packet, "25")
	r := e.record(reqID)
	require.Equal(t, "completed", r.Status)
	require.Equal(t, b64("25"), *r.Result)
	require.True(t, strings.HasPrefix(*r.CallbackStatus, "failed: "), *r.CallbackStatus)
	require.Contains(t, *r.CallbackStatus, "unknown variant `avs_result`", "the callee's own refusal")
}

// TestIBCClientCallbackOutOfGas: a callback that runs out of its gas limit
// (the admin sets callback_gas_limit to 1) fails alone too: the record stays
// completed with its result, and the callback is recorded as failed, out of
// gas, while the relayer's acknowledgement transaction succeeds.
func TestIBCClientCallbackOutOfGas(t *testing.T) {
	e := newClientEnv(t)
	handler := e.instantiate(contracts.HandlerWasm(), `{}`)
	e.execute(e.client, `{"update_config":{"callback_gas_limit":1}}`)
	id := e.service([]string{e.path.EndpointB.ChannelID}, nil)
	reqID, packet := e.request(id, "6", 600, handler)
	e.answer(packet, "36")
	r := e.record(reqID)
	require.Equal(t, "completed", r.Status)
	require.Equal(t, b64("36"), *r.Result)
	require.True(t, strings.HasPrefix(*r.CallbackStatus, "failed: "), *r.CallbackStatus)
	// wasmd redacts an SDK error to its code in a reply: 11 is out of gas
	require.Equal(t, fmt.Sprintf("failed: codespace: sdk, code: %d", sdkerrors.ErrOutOfGas.ABCICode()), *r.CallbackStatus)
	var cb json.RawMessage
	e.query(handler, `{"callbacks":{}}`, &cb)
	require.NotContains(t, string(cb), b64("36"), "the callback's writes were undone: %s", cb)
}

// TestIBCClientUnexpectedAcks: whatever acknowledgement comes back, the
// contract's ibc_packet_ack succeeds (a failure would fail the relayer's
// transaction and leave the packet stuck) and records an error.
func TestIBCClientUnexpectedAcks(t *testing.T) {
	e := newClientEnv(t)
	id := e.service([]string{e.path.EndpointB.ChannelID}, nil)
	testCases := []struct {
		name    string
		ack     string
		wantErr string
	}{
		{"not JSON", "\x00garbage", "unreadable acknowledgement"},
		{"empty", "", "unreadable acknowledgement"},
		{"empty object", "{}", "unreadable acknowledgement"},
		{"result not base64", `{"result":"!!"}`, "unreadable acknowledgement"},
		{"result not a TaskAck", `{"result":"AQ=="}`, "not an avs-1 TaskAck"},
		{"unknown task status", fmt.Sprintf(`{"result":%q}`, b64(`{"task_id":"1","status":"odd","result":null,"power_for":"1","power_total":"1","height":"3"}`)), "unknown task status"},
		{"error ack", `{"error":"something went wrong"}`, "something went wrong"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			reqID, packet := e.request(id, "7", 600, nil)
			require.NoError(t, e.ack(packet, []byte(tc.ack)))
			r := e.record(reqID)
			require.Equal(t, "error", r.Status)
			require.Contains(t, *r.Error, tc.wantErr)
			require.NoError(t, e.ack(packet, []byte(tc.ack)), "a second ack is ignored")
		})
	}
	t.Run("packet this contract did not send", func(t *testing.T) {
		_, packet := e.request(id, "7", 600, nil)
		packet.Data = []byte(`{"service_id":"1","input":"Nw==","memo":"avs-ibc-client:999"}`)
		require.NoError(t, e.ack(packet, []byte(`{"error":"x"}`)))
		packet.Data = []byte("garbage")
		require.NoError(t, e.ack(packet, []byte(`{"error":"x"}`)))
	})
}

// ack calls the contract's ibc_packet_ack as wasmd's IBC handler does.
func (e *clientEnv) ack(packet channeltypes.Packet, ack []byte) error {
	return e.b.App.(*app.App).WasmKeeper.OnAckPacket(e.b.GetContext(), e.client, wasmvmtypes.IBCPacketAckMsg{
		Acknowledgement: wasmvmtypes.IBCAcknowledgement{Data: ack},
		OriginalPacket: wasmvmtypes.IBCPacket{
			Data:     packet.Data,
			Src:      wasmvmtypes.IBCEndpoint{PortID: packet.SourcePort, ChannelID: packet.SourceChannel},
			Dest:     wasmvmtypes.IBCEndpoint{PortID: packet.DestinationPort, ChannelID: packet.DestinationChannel},
			Sequence: packet.Sequence,
			Timeout:  wasmvmtypes.IBCTimeout{Timestamp: packet.TimeoutTimestamp},
		},
		Relayer: e.b.SenderAccount.GetAddress().String(),
	})
}

// TestIBCClientSchema: the committed JSON schema is the contract's: its
// message names are the contract's, every example it gives is accepted by
// the real wasm, and a record has exactly the fields the schema lists (the
// contract refuses unknown fields, so a drifting schema fails here).
func TestIBCClientSchema(t *testing.T) {
	bz, err := os.ReadFile("../contracts/avs-ibc-client/schema/avs-ibc-client.json")
	require.NoError(t, err)
	type msgSchema struct {
		Examples []json.RawMessage `json:"examples"`
		OneOf    []struct {
			Required []string          `json:"required"`
			Examples []json.RawMessage `json:"examples"`
		} `json:"oneOf"`
	}
	var schema struct {
		ContractName string                     `json:"contract_name"`
		IDLVersion   string                     `json:"idl_version"`
		Instantiate  msgSchema                  `json:"instantiate"`
		Execute      msgSchema                  `json:"execute"`
		Query        msgSchema                  `json:"query"`
		Responses    map[string]json.RawMessage `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(bz, &schema))
	require.Equal(t, "avs-ibc-client", schema.ContractName)
	require.Equal(t, "1.0.0", schema.IDLVersion)

	e := newClientEnv(t)
	handler := e.instantiate(contracts.HandlerWasm(), `{}`)
	// The examples name a wasmd chain's callback and channel; here they are chain B's.
	local := strings.NewReplacer("wasm1callbackcontract", handler.String(), `"channel-0"`, fmt.Sprintf("%q", e.path.EndpointA.ChannelID))

	require.NotEmpty(t, schema.Instantiate.Examples)
	for _, ex := range schema.Instantiate.Examples {
		e.instantiate(contracts.ClientWasm(), string(ex))
	}
	names := func(m msgSchema) []string {
		var out []string
		for _, v := range m.OneOf {
			require.Len(t, v.Required, 1)
			require.NotEmpty(t, v.Examples, v.Required[0])
			out = append(out, v.Required[0])
		}
		return out
	}
	require.Equal(t, []string{"request", "update_config"}, names(schema.Execute))
	require.Equal(t, []string{"result", "results", "channels", "config"}, names(schema.Query))
	for _, v := range schema.Execute.OneOf {
		for _, ex := range v.Examples {
			e.execute(e.client, local.Replace(string(ex)))
		}
	}
	for _, v := range schema.Query.OneOf {
		require.Contains(t, schema.Responses, v.Required[0], "each query has its response schema")
		for _, ex := range v.Examples {
			var answer json.RawMessage
			e.query(e.client, string(ex), &answer)
		}
	}

	var recordSchema struct {
		Required []string `json:"required"`
	}
	require.NoError(t, json.Unmarshal(schema.Responses["result"], &recordSchema))
	var record map[string]json.RawMessage
	e.query(e.client, `{"result":{"id":"1"}}`, &record)
	var fields []string
	for k := range record {
		fields = append(fields, k)
	}
	require.ElementsMatch(t, recordSchema.Required, fields)
}
