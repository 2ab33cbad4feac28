package app_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibccoretypes "github.com/cosmos/ibc-go/v8/modules/core/types"
	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/avstest"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// ibcEnv is two avschain apps joined by an avs channel: chain A runs the
// service, chain B asks it for tasks.
type ibcEnv struct {
	t      *testing.T
	coord  *ibctesting.Coordinator
	a, b   *ibctesting.TestChain
	path   *ibctesting.Path
	denom  string
	fee    sdk.Coin
	digest string
}

func newIBCEnv(t *testing.T) *ibcEnv {
	t.Helper()
	app.SetAddressPrefixes() // before ibctesting prints its first address
	ibctesting.DefaultTestingAppInit = func() (ibctesting.TestingApp, map[string]json.RawMessage) {
		a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()), nil)
		return a, a.DefaultGenesis()
	}
	coord := ibctesting.NewCoordinator(t, 2)
	e := &ibcEnv{t: t, coord: coord, a: coord.GetChain(ibctesting.GetChainID(1)), b: coord.GetChain(ibctesting.GetChainID(2))}
	e.path = ibctesting.NewPath(e.a, e.b)
	for _, ep := range []*ibctesting.Endpoint{e.path.EndpointA, e.path.EndpointB} {
		ep.ChannelConfig.PortID = avstypes.PortID
		ep.ChannelConfig.Version = avstypes.Version
		ep.ChannelConfig.Order = channeltypes.UNORDERED
	}
	coord.Setup(e.path)
	e.denom = sdk.DefaultBondDenom
	e.fee = sdk.NewInt64Coin(e.denom, 100)

	sender := e.a.SenderAccount.GetAddress().String()
	res := e.sendA(&avstypes.MsgStoreComponent{Sender: sender, Wasm: avstest.Module(true, avstest.WASI)})
	e.digest = attr(t, res.Events, "avschain.avs.v1.EventComponentStored", "digest")
	e.sendA(&avstypes.MsgRegisterOperator{Operator: sender, Moniker: "op"})
	return e
}

func (e *ibcEnv) sendA(msgs ...sdk.Msg) *abci.ExecTxResult {
	e.t.Helper()
	res, err := e.a.SendMsgs(msgs...)
	require.NoError(e.t, err)
	return res
}

func (e *ibcEnv) sendB(msgs ...sdk.Msg) *abci.ExecTxResult {
	e.t.Helper()
	res, err := e.b.SendMsgs(msgs...)
	require.NoError(e.t, err)
	return res
}

// service creates a service on chain A, run by chain A's sender account, with
// a funded treasury, and returns its id.
func (e *ibcEnv) service(requestChannels, resultChannels []string) uint64 {
	id := e.bareService(requestChannels, resultChannels)
	e.staff(id)
	e.fund(id)
	return id
}

// staff allow-lists chain A's sender account on a service and opts it in.
func (e *ibcEnv) staff(id uint64) {
	sender := e.a.SenderAccount.GetAddress().String()
	e.sendA(&avstypes.MsgUpdateAllowlist{Owner: sender, ServiceId: id, Add: []string{sender}},
		&avstypes.MsgOptIn{Operator: sender, ServiceId: id})
}

// fund puts 1000 into a service's treasury: ten tasks' fees.
func (e *ibcEnv) fund(id uint64) {
	e.sendA(&avstypes.MsgFundService{Funder: e.a.SenderAccount.GetAddress().String(), ServiceId: id, Amount: sdk.NewInt64Coin(e.denom, 1000)})
}

// bareService creates a service on chain A with no operator and an empty
// treasury, and returns its id; opts change its manifest.
func (e *ibcEnv) bareService(requestChannels, resultChannels []string, opts ...func(*avstypes.ServiceManifest)) uint64 {
	sender := e.a.SenderAccount.GetAddress().String()
	m := avstypes.ServiceManifest{
		Name: "square", ComponentDigest: e.digest,
		Limits:             avstypes.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: 64},
		Quorum:             avstypes.Quorum{Threshold: sdkmath.LegacyOneDec()},
		Admission:          avstypes.ADMISSION_ALLOWLIST, // EQUAL weighting among listed operators (H-6)
		Aggregation:        avstypes.Aggregation{AllowedSpread: sdkmath.LegacyZeroDec(), SlashableSpread: sdkmath.LegacyZeroDec()},
		FeePerTask:         e.fee,
		SlashFraction:      sdkmath.LegacyZeroDec(),
		IbcRequestChannels: requestChannels,
		IbcResultChannels:  resultChannels,
	}
	for _, o := range opts {
		o(&m)
	}
	res := e.sendA(&avstypes.MsgCreateService{Owner: sender, Manifest: m})
	id, err := strconv.ParseUint(attr(e.t, res.Events, "avschain.avs.v1.EventServiceCreated", "service_id"), 10, 64)
	require.NoError(e.t, err)
	return id
}

// request sends MsgRequestRemoteTask on chain B and returns its packet.
func (e *ibcEnv) request(serviceID uint64, input string, timeoutSeconds uint64) channeltypes.Packet {
	res := e.sendB(&avstypes.MsgRequestRemoteTask{
		Sender: e.b.SenderAccount.GetAddress().String(), Channel: e.path.EndpointB.ChannelID,
		ServiceId: serviceID, Input: []byte(input), TimeoutSeconds: timeoutSeconds,
	})
	packet, err := ibctesting.ParsePacketFromEvents(res.Events)
	require.NoError(e.t, err)
	require.NoError(e.t, e.path.EndpointA.UpdateClient())
	return packet
}

func (e *ibcEnv) remote(seq uint64) avstypes.RemoteResult {
	r, err := e.b.App.(*app.App).AVSKeeper.RemoteResults.Get(e.b.GetContext(), collections.Join(e.path.EndpointB.ChannelID, seq))
	require.NoError(e.t, err)
	return r
}

func attr(t *testing.T, events []abci.Event, typ, key string) string {
	t.Helper()
	for _, ev := range events {
		if ev.Type != typ {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == key {
				var s string
				if err := json.Unmarshal([]byte(a.Value), &s); err == nil {
					return s
				}
				return a.Value
			}
		}
	}
	t.Fatalf("no %s.%s in events", typ, key)
	return ""
}

// TestIBCRequestVotesAck: chain B asks chain A's service for square(7); the
// packet opens a treasury-paid task on A, A's operator votes 49, and the
// acknowledgement written at completion brings 49 back to B.
func TestIBCRequestVotesAck(t *testing.T) {
	e := newIBCEnv(t)
	id := e.service([]string{e.path.EndpointA.ChannelID}, nil)
	packet := e.request(id, "7", 600)
	require.Equal(t, avstypes.REMOTE_STATUS_PENDING, e.remote(packet.Sequence).Status)

	res, err := e.path.EndpointA.RecvPacketWithResult(packet)
	require.NoError(t, err)
	_, err = ibctesting.ParseAckFromEvents(res.Events)
	require.Error(t, err, "the acknowledgement waits for the task")
	taskID := attr(t, res.Events, "avschain.avs.v1.EventTaskCreated", "task_id")
	require.Equal(t, "1", taskID)
	task, err := e.a.App.(*app.App).AVSKeeper.Tasks.Get(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.Equal(t, avstypes.ORIGIN_KIND_IBC, task.Origin.Kind)
	require.True(t, task.PaidByTreasury)

	vote := e.sendA(&avstypes.MsgSubmitResults{Operator: e.a.SenderAccount.GetAddress().String(), Results: []avstypes.TaskResult{{TaskId: 1, Result: []byte("49")}}})
	ack, err := ibctesting.ParseAckFromEvents(vote.Events)
	require.NoError(t, err, "completion writes the acknowledgement")
	require.NoError(t, e.path.EndpointB.UpdateClient())
	require.NoError(t, e.path.EndpointB.AcknowledgePacket(packet, ack))

	r := e.remote(packet.Sequence)
	require.Equal(t, avstypes.REMOTE_STATUS_COMPLETED, r.Status)
	require.Equal(t, "49", string(r.Result))
	require.EqualValues(t, 1, r.TaskId)
	require.EqualValues(t, 1, r.PowerFor)
	require.EqualValues(t, 1, r.PowerTotal)
}

// TestIBCErrorAcks: bad requests get error acknowledgements carrying the
// registered code of x/avs's refusal (ibc-go keeps only the code in the ack;
// the reason is in chain A's EventIBCFailed), recorded on the requesting chain
// when it asked through MsgRequestRemoteTask; nothing is created on chain A
// (review M4).
func TestIBCErrorAcks(t *testing.T) {
	e := newIBCEnv(t)
	channel := []string{e.path.EndpointA.ChannelID}
	e.service(channel, nil) // service 1: allowed, so the raw packets fail on their own
	notListed := e.service(nil, nil)
	paused := e.service(channel, nil)
	e.sendA(&avstypes.MsgSetServiceStatus{Owner: e.a.SenderAccount.GetAddress().String(), ServiceId: paused, Status: avstypes.SERVICE_STATUS_PAUSED})
	unfunded := e.bareService(channel, nil)
	e.staff(unfunded)
	unstaffed := e.bareService(channel, nil)
	e.fund(unstaffed)
	timeout := uint64(e.b.GetContext().BlockTime().Add(600e9).UnixNano())

	testCases := []struct {
		name       string
		packet     func() channeltypes.Packet
		wantErr    *errorsmod.Error
		errText    string // in chain A's EventIBCFailed
		wantRemote bool   // sent with MsgRequestRemoteTask: chain B keeps a record
	}{
		{"unknown service", func() channeltypes.Packet { return e.request(99, "7", 600) }, avstypes.ErrServiceNotFound, "service 99: service not found", true},
		{"channel not listed by the service", func() channeltypes.Packet { return e.request(notListed, "7", 600) }, avstypes.ErrChannelNotAllowed, "does not list", true},
		{"paused service", func() channeltypes.Packet { return e.request(paused, "7", 600) }, avstypes.ErrServicePaused, "service is paused", true},
		{"empty treasury", func() channeltypes.Packet { return e.request(unfunded, "7", 600) }, avstypes.ErrTreasuryEmpty, "fund-service", true},
		{"no operator opted in", func() channeltypes.Packet { return e.request(unstaffed, "7", 600) }, avstypes.ErrNoOperators, "has no operator opted in", true},
		{"oversize input", func() channeltypes.Packet {
			data := avstypes.TaskRequestPacketData{ServiceID: "1", Input: make([]byte, avstypes.DefaultMaxInputSize+1)}.GetBytes()
			return e.rawPacket(data, timeout)
		}, avstypes.ErrInputTooLarge, "input too large", false},
		{"malformed JSON", func() channeltypes.Packet { return e.rawPacket([]byte(`{"service_id":`), timeout) }, avstypes.ErrInvalidPacket, "invalid IBC packet", false},
		{"unknown field", func() channeltypes.Packet { return e.rawPacket([]byte(`{"service_id":"1","price":3}`), timeout) }, avstypes.ErrInvalidPacket, "invalid IBC packet", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			packet := tc.packet()
			before, err := e.a.App.(*app.App).AVSKeeper.TaskSeq.Peek(e.a.GetContext())
			require.NoError(t, err)
			res, err := e.path.EndpointA.RecvPacketWithResult(packet)
			require.NoError(t, err)
			ackBz, err := ibctesting.ParseAckFromEvents(res.Events)
			require.NoError(t, err, "a bad packet is acknowledged at once")
			var ack channeltypes.Acknowledgement
			require.NoError(t, avstypes.ModuleCdcJSON.UnmarshalJSON(ackBz, &ack))
			// x/avs names the registered error: codespace, code and description
			wantAck := fmt.Sprintf("ABCI error: avs/%d: %s", tc.wantErr.ABCICode(), tc.wantErr.Error())
			require.Equal(t, wantAck, ack.GetError())
			// core IBC keeps the refused callback's events under its error prefix
			failed := attr(t, res.Events, ibccoretypes.ErrorAttributeKeyPrefix+"avschain.avs.v1.EventIBCFailed", ibccoretypes.ErrorAttributeKeyPrefix+"error")
			require.Contains(t, failed, tc.errText)
			after, err := e.a.App.(*app.App).AVSKeeper.TaskSeq.Peek(e.a.GetContext())
			require.NoError(t, err)
			require.Equal(t, before, after, "no task was created")

			require.NoError(t, e.path.EndpointB.UpdateClient())
			require.NoError(t, e.path.EndpointB.AcknowledgePacket(packet, ackBz))
			r, err := e.b.App.(*app.App).AVSKeeper.RemoteResults.Get(e.b.GetContext(), collections.Join(e.path.EndpointB.ChannelID, packet.Sequence))
			if !tc.wantRemote {
				require.ErrorIs(t, err, collections.ErrNotFound, "a raw packet was no request of x/avs")
				return
			}
			require.NoError(t, err)
			require.Equal(t, avstypes.REMOTE_STATUS_ERROR, r.Status)
			require.Equal(t, wantAck, r.Error)
		})
	}
}

// eventMentions reports whether any event attribute contains text.
func eventMentions(events []abci.Event, text string) bool {
	for _, ev := range events {
		for _, a := range ev.Attributes {
			if strings.Contains(a.Value, text) {
				return true
			}
		}
	}
	return false
}

// rawPacket sends arbitrary data from chain B's avs channel, as a module would.
func (e *ibcEnv) rawPacket(data []byte, timeout uint64) channeltypes.Packet {
	seq, err := e.path.EndpointB.SendPacket(clienttypes.ZeroHeight(), timeout, data)
	require.NoError(e.t, err)
	return channeltypes.NewPacket(data, seq, e.path.EndpointB.ChannelConfig.PortID, e.path.EndpointB.ChannelID,
		e.path.EndpointA.ChannelConfig.PortID, e.path.EndpointA.ChannelID, clienttypes.ZeroHeight(), timeout)
}

// TestIBCTimeout: a request chain A never received times out on chain B.
func TestIBCTimeout(t *testing.T) {
	e := newIBCEnv(t)
	id := e.service([]string{e.path.EndpointA.ChannelID}, nil)
	packet := e.request(id, "7", 1)
	for i := 0; i < 3; i++ { // let chain A's clock pass the timeout
		e.coord.CommitBlock(e.a)
	}
	require.NoError(t, e.path.EndpointB.UpdateClient())
	require.NoError(t, e.path.EndpointB.TimeoutPacket(packet))
	r := e.remote(packet.Sequence)
	require.Equal(t, avstypes.REMOTE_STATUS_TIMEOUT, r.Status)
	require.Contains(t, r.Error, "timed out")
}

// TestIBCPushedResults: a service listing a result channel pushes each
// completed result there; chain B stores it.
func TestIBCPushedResults(t *testing.T) {
	e := newIBCEnv(t)
	id := e.service(nil, []string{e.path.EndpointA.ChannelID})
	sender := e.a.SenderAccount.GetAddress().String()
	e.sendA(&avstypes.MsgCreateTask{Creator: sender, ServiceId: id, Input: []byte("8"), Fee: e.fee})
	res := e.sendA(&avstypes.MsgSubmitResults{Operator: sender, Results: []avstypes.TaskResult{{TaskId: 1, Result: []byte("64")}}})
	packet, err := ibctesting.ParsePacketFromEvents(res.Events)
	require.NoError(t, err, "completion pushes the result")
	require.NoError(t, e.path.EndpointB.UpdateClient())
	recv, err := e.path.EndpointB.RecvPacketWithResult(packet)
	require.NoError(t, err)
	ack, err := ibctesting.ParseAckFromEvents(recv.Events)
	require.NoError(t, err)
	require.NoError(t, e.path.EndpointA.UpdateClient())
	require.NoError(t, e.path.EndpointA.AcknowledgePacket(packet, ack))

	r, err := e.b.App.(*app.App).AVSKeeper.PushedResults.Get(e.b.GetContext(), collections.Join(e.path.EndpointB.ChannelID, packet.Sequence))
	require.NoError(t, err)
	require.Equal(t, avstypes.REMOTE_STATUS_PUSHED, r.Status)
	has, err := e.b.App.(*app.App).AVSKeeper.RemoteResults.Has(e.b.GetContext(), collections.Join(e.path.EndpointB.ChannelID, packet.Sequence))
	require.NoError(t, err)
	require.False(t, has, "a push is not a request (M-2)")
	require.Equal(t, "64", string(r.Result))
	require.Equal(t, []byte("8"), r.Input)
}

// TestIBCRemoteResultHandler: a request that names a handler contract has the
// contract told of the answer (sudo avs_remote_result) when it arrives. The
// avs-handler contract only understands avs_task_result, so it refuses, and
// the failure is an event naming the contract: the remote result stands.
func TestIBCRemoteResultHandler(t *testing.T) {
	e := newIBCEnv(t)
	id := e.service([]string{e.path.EndpointA.ChannelID}, nil)

	appB := e.b.App.(*app.App)
	ctx := e.b.GetContext()
	contractKeeper := wasmkeeper.NewDefaultPermissionKeeper(appB.WasmKeeper)
	creator := e.b.SenderAccount.GetAddress()
	codeID, _, err := contractKeeper.Create(ctx, creator, contracts.HandlerWasm(), nil)
	require.NoError(t, err)
	contract, _, err := contractKeeper.Instantiate(ctx, codeID, creator, nil, []byte(`{}`), "handler", nil)
	require.NoError(t, err)
	e.coord.CommitBlock(e.b)

	res := e.sendB(&avstypes.MsgRequestRemoteTask{
		Sender: creator.String(), Channel: e.path.EndpointB.ChannelID, ServiceId: id, Input: []byte("3"),
		HandlerContract: contract.String(),
	})
	packet, err := ibctesting.ParsePacketFromEvents(res.Events)
	require.NoError(t, err)
	require.NoError(t, e.path.EndpointA.UpdateClient())
	require.NoError(t, e.path.EndpointA.RecvPacket(packet))
	vote := e.sendA(&avstypes.MsgSubmitResults{Operator: e.a.SenderAccount.GetAddress().String(), Results: []avstypes.TaskResult{{TaskId: 1, Result: []byte("9")}}})
	ack, err := ibctesting.ParseAckFromEvents(vote.Events)
	require.NoError(t, err)
	require.NoError(t, e.path.EndpointB.UpdateClient())

	proof, proofHeight := e.path.EndpointA.QueryProof(host.PacketAcknowledgementKey(packet.GetDestPort(), packet.GetDestChannel(), packet.GetSequence()))
	ackRes := e.sendB(channeltypes.NewMsgAcknowledgement(packet, ack, proof, proofHeight, creator.String()))
	require.Equal(t, contract.String(), attr(t, ackRes.Events, "avschain.avs.v1.EventHandlerFailed", "contract"))
	require.True(t, eventMentions(ackRes.Events, "avs_remote_result"), "the contract was sent avs_remote_result")

	r := e.remote(packet.Sequence)
	require.Equal(t, avstypes.REMOTE_STATUS_COMPLETED, r.Status)
	require.Equal(t, "9", string(r.Result))
	require.Equal(t, contract.String(), r.HandlerContract)
}
