package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcerrors "github.com/cosmos/ibc-go/v8/modules/core/errors"
	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	"github.com/avschain/avschain/app"
	avskeeper "github.com/avschain/avschain/x/avs/keeper"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// TestIBCExpiredRequest: a task requested over IBC that nobody votes on
// expires on chain A at its deadline, in EndBlock. Its fee goes back to the
// service treasury (not to an account: the requester paid nothing), the
// acknowledgement "expired" is written and the packet is no longer kept; on
// chain B the request becomes EXPIRED.
func TestIBCExpiredRequest(t *testing.T) {
	e := newIBCEnv(t)
	appA := e.a.App.(*app.App)
	id := e.bareService([]string{e.path.EndpointA.ChannelID}, nil, func(m *avstypes.ServiceManifest) { m.TaskTimeout = 3 })
	e.staff(id)
	e.fund(id)
	treasury := func() sdkmath.Int {
		v, err := appA.AVSKeeper.Treasuries.Get(e.a.GetContext(), id)
		require.NoError(t, err)
		return v
	}
	moduleBalance := func() sdkmath.Int {
		return appA.BankKeeper.GetBalance(e.a.GetContext(), authtypes.NewModuleAddress(avstypes.ModuleName), e.denom).Amount
	}
	require.Equal(t, int64(1000), treasury().Int64())
	held := moduleBalance()

	packet := e.request(id, "7", 600)
	require.NoError(t, e.path.EndpointA.RecvPacket(packet))
	task, err := appA.AVSKeeper.Tasks.Get(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.Equal(t, avstypes.TASK_STATUS_PENDING, task.Status)
	require.True(t, task.PaidByTreasury)
	require.Equal(t, int64(900), treasury().Int64(), "the fee is escrowed from the treasury")
	has, err := appA.AVSKeeper.IBCPackets.Has(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.True(t, has, "the packet is kept until its acknowledgement")

	for e.a.GetContext().BlockHeight() <= task.DeadlineHeight {
		e.coord.CommitBlock(e.a)
	}
	task, err = appA.AVSKeeper.Tasks.Get(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.Equal(t, avstypes.TASK_STATUS_EXPIRED, task.Status)
	require.Equal(t, task.DeadlineHeight, task.EndedHeight)
	require.Equal(t, int64(1000), treasury().Int64(), "the treasury is refunded the fee")
	require.Equal(t, held, moduleBalance(), "the fee never left the module")
	has, err = appA.AVSKeeper.IBCPackets.Has(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.False(t, has, "the packet is removed once acknowledged")

	// the acknowledgement chain A committed to, built by hand
	ack := channeltypes.NewResultAcknowledgement(avstypes.TaskAck{
		TaskID: "1", Status: "expired", Result: task.Result, PowerFor: "0", PowerTotal: "1",
		Height: strconv.FormatInt(task.EndedHeight, 10),
	}.GetBytes()).Acknowledgement()
	commitment, ok := appA.IBCKeeper.ChannelKeeper.GetPacketAcknowledgement(e.a.GetContext(), packet.DestinationPort, packet.DestinationChannel, packet.Sequence)
	require.True(t, ok, "chain A wrote the acknowledgement")
	require.Equal(t, channeltypes.CommitAcknowledgement(ack), commitment)

	require.NoError(t, e.path.EndpointA.UpdateClient())
	require.NoError(t, e.path.EndpointB.UpdateClient())
	require.NoError(t, e.path.EndpointB.AcknowledgePacket(packet, ack))
	r := e.remote(packet.Sequence)
	require.Equal(t, avstypes.REMOTE_STATUS_EXPIRED, r.Status)
	require.EqualValues(t, 1, r.TaskId)
	require.Empty(t, r.Result)
	require.Empty(t, r.Error)
	require.Equal(t, task.EndedHeight, r.RemoteHeight)
}

// TestIBCAckOnClosedChannel: the channel a request came on is closed before
// its task ends (the other end closed it: an application other than x/avs may,
// and chain A confirms). The acknowledgement cannot be written: the task's
// outcome stands, EventIBCFailed names the task, the channel and core IBC's
// reason, and the packet is no longer kept. Chain B's request stays PENDING.
func TestIBCAckOnClosedChannel(t *testing.T) {
	e := newIBCEnv(t)
	appA := e.a.App.(*app.App)
	id := e.service([]string{e.path.EndpointA.ChannelID}, nil)
	packet := e.request(id, "7", 600)
	require.NoError(t, e.path.EndpointA.RecvPacket(packet))

	sender := e.a.SenderAccount.GetAddress().String()
	require.NoError(t, e.path.EndpointB.SetChannelState(channeltypes.CLOSED))
	proof, proofHeight := e.path.EndpointB.QueryProof(host.ChannelKey(avstypes.PortID, e.path.EndpointB.ChannelID))
	e.sendA(channeltypes.NewMsgChannelCloseConfirm(avstypes.PortID, e.path.EndpointA.ChannelID, proof, proofHeight, sender))
	require.Equal(t, channeltypes.CLOSED, e.path.EndpointA.GetChannel().State)

	vote := e.sendA(&avstypes.MsgSubmitResults{Operator: sender, Results: []avstypes.TaskResult{{TaskId: 1, Result: []byte("49")}}})
	_, err := ibctesting.ParseAckFromEvents(vote.Events)
	require.Error(t, err, "no acknowledgement was written")
	require.Equal(t, "1", attr(t, vote.Events, "avschain.avs.v1.EventIBCFailed", "task_id"))
	require.Equal(t, e.path.EndpointA.ChannelID, attr(t, vote.Events, "avschain.avs.v1.EventIBCFailed", "channel"))
	require.Contains(t, attr(t, vote.Events, "avschain.avs.v1.EventIBCFailed", "error"), channeltypes.ErrInvalidChannelState.Error())

	task, err := appA.AVSKeeper.Tasks.Get(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.Equal(t, avstypes.TASK_STATUS_COMPLETED, task.Status, "the outcome stands")
	require.Equal(t, "49", string(task.Result))
	has, err := appA.AVSKeeper.IBCPackets.Has(e.a.GetContext(), 1)
	require.NoError(t, err)
	require.False(t, has)
	_, ok := appA.IBCKeeper.ChannelKeeper.GetPacketAcknowledgement(e.a.GetContext(), packet.DestinationPort, packet.DestinationChannel, packet.Sequence)
	require.False(t, ok)

	// chain B never hears: the packet was received, so no timeout can be proved
	require.NoError(t, e.path.EndpointB.UpdateClient())
	err = e.path.EndpointB.TimeoutOnClose(packet)
	require.ErrorContains(t, err, "failed packet receipt absence verification")
	require.Equal(t, avstypes.REMOTE_STATUS_PENDING, e.remote(packet.Sequence).Status)
}

// avsEvents returns the types of the x/avs events among events.
func avsEvents(events []abci.Event) []string {
	var out []string
	for _, ev := range events {
		if strings.HasPrefix(ev.Type, "avschain.avs.v1.") {
			out = append(out, ev.Type)
		}
	}
	return out
}

// TestIBCPushedResultLost: a result chain A pushed to a result channel is
// lost when its packet times out or the receiving chain answers with an error
// acknowledgement. x/avs on chain A keeps no record of its pushes, so in both
// cases it records nothing and emits nothing: only core IBC's timeout_packet
// or acknowledge_packet event tells of it. The task's outcome stands.
func TestIBCPushedResultLost(t *testing.T) {
	testCases := []struct {
		name     string
		settle   func(t *testing.T, e *ibcEnv, packet channeltypes.Packet) *abci.ExecTxResult
		expEvent string
	}{
		{"timeout", func(t *testing.T, e *ibcEnv, packet channeltypes.Packet) *abci.ExecTxResult {
			e.coord.IncrementTimeBy(time.Duration(avstypes.DefaultRemoteTimeoutSeconds+1) * time.Second)
			e.coord.CommitBlock(e.b)
			require.NoError(t, e.path.EndpointA.UpdateClient())
			proof, proofHeight := e.path.EndpointB.QueryProof(host.PacketReceiptKey(packet.DestinationPort, packet.DestinationChannel, packet.Sequence))
			next, ok := e.b.App.GetIBCKeeper().ChannelKeeper.GetNextSequenceRecv(e.b.GetContext(), packet.DestinationPort, packet.DestinationChannel)
			require.True(t, ok)
			return e.sendA(channeltypes.NewMsgTimeout(packet, next, proof, proofHeight, e.a.SenderAccount.GetAddress().String()))
		}, channeltypes.EventTypeTimeoutPacket},
		{"error acknowledgement", func(t *testing.T, e *ibcEnv, packet channeltypes.Packet) *abci.ExecTxResult {
			// x/avs on chain B accepts every push chain A sends; the refusal
			// is written as another application on B would.
			ack := channeltypes.NewErrorAcknowledgement(avstypes.ErrInvalidPacket)
			require.NoError(t, e.path.EndpointB.WriteAcknowledgement(ack, packet))
			proof, proofHeight := e.path.EndpointB.QueryProof(host.PacketAcknowledgementKey(packet.DestinationPort, packet.DestinationChannel, packet.Sequence))
			return e.sendA(channeltypes.NewMsgAcknowledgement(packet, ack.Acknowledgement(), proof, proofHeight, e.a.SenderAccount.GetAddress().String()))
		}, channeltypes.EventTypeAcknowledgePacket},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newIBCEnv(t)
			appA := e.a.App.(*app.App)
			id := e.service(nil, []string{e.path.EndpointA.ChannelID})
			sender := e.a.SenderAccount.GetAddress().String()
			e.sendA(&avstypes.MsgCreateTask{Creator: sender, ServiceId: id, Input: []byte("8"), Fee: e.fee})
			res := e.sendA(&avstypes.MsgSubmitResults{Operator: sender, Results: []avstypes.TaskResult{{TaskId: 1, Result: []byte("64")}}})
			packet, err := ibctesting.ParsePacketFromEvents(res.Events)
			require.NoError(t, err)
			require.NoError(t, e.path.EndpointB.UpdateClient())

			settled := tc.settle(t, e, packet)
			require.Empty(t, avsEvents(settled.Events), "x/avs emits nothing")
			require.True(t, eventOfType(settled.Events, tc.expEvent), "core IBC tells of it")
			ctx := e.a.GetContext()
			require.Empty(t, appA.IBCKeeper.ChannelKeeper.GetPacketCommitment(ctx, packet.SourcePort, packet.SourceChannel, packet.Sequence), "the packet is settled")
			for _, m := range []collections.Map[collections.Pair[string, uint64], avstypes.RemoteResult]{appA.AVSKeeper.RemoteResults, appA.AVSKeeper.PushedResults} {
				it, err := m.Iterate(ctx, nil)
				require.NoError(t, err)
				require.False(t, it.Valid(), "x/avs records nothing")
				it.Close()
			}
			task, err := appA.AVSKeeper.Tasks.Get(ctx, 1)
			require.NoError(t, err)
			require.Equal(t, avstypes.TASK_STATUS_COMPLETED, task.Status)
			require.Equal(t, "64", string(task.Result))
		})
	}
}

func eventOfType(events []abci.Event, typ string) bool {
	for _, ev := range events {
		if ev.Type == typ {
			return true
		}
	}
	return false
}

// codeOf is how ibctesting's SendMsgs reports a refused transaction's
// registered error: "codespace/code: ...".
func codeOf(err *errorsmod.Error) string {
	return fmt.Sprintf("%s/%d:", err.Codespace(), err.ABCICode())
}

// TestIBCHandshakeRefused: through core IBC, x/avs refuses to open an ORDERED
// channel or one with another version, to answer a channel from another
// application (its counterparty version is not avs-1), and to close an avs
// channel; each transaction fails with x/avs's registered error and no avs
// channel is opened or closed.
func TestIBCHandshakeRefused(t *testing.T) {
	e := newIBCEnv(t)
	newPath := func(portA, versionA string, order channeltypes.Order) *ibctesting.Path {
		p := ibctesting.NewPath(e.a, e.b)
		for _, pair := range [][2]*ibctesting.Endpoint{{p.EndpointA, e.path.EndpointA}, {p.EndpointB, e.path.EndpointB}} {
			pair[0].ClientID, pair[0].ConnectionID = pair[1].ClientID, pair[1].ConnectionID
			pair[0].ChannelConfig.PortID, pair[0].ChannelConfig.Version, pair[0].ChannelConfig.Order = avstypes.PortID, avstypes.Version, channeltypes.UNORDERED
		}
		p.EndpointA.ChannelConfig.PortID, p.EndpointA.ChannelConfig.Version, p.EndpointA.ChannelConfig.Order = portA, versionA, order
		return p
	}
	testCases := []struct {
		name   string
		open   func(t *testing.T) error
		expErr *errorsmod.Error
		expLog string
	}{
		{"init: ORDERED", func(*testing.T) error {
			return newPath(avstypes.PortID, avstypes.Version, channeltypes.ORDERED).EndpointA.ChanOpenInit()
		},
			avstypes.ErrInvalidChannel, "expected an ORDER_UNORDERED channel, got ORDER_ORDERED"},
		{"init: another version", func(*testing.T) error {
			return newPath(avstypes.PortID, "avs-2", channeltypes.UNORDERED).EndpointA.ChanOpenInit()
		},
			avstypes.ErrInvalidChannel, `expected version \"avs-1\", got \"avs-2\"`},
		{"try: a transfer channel", func(t *testing.T) error {
			p := newPath("transfer", "ics20-1", channeltypes.UNORDERED)
			require.NoError(t, p.EndpointA.ChanOpenInit(), "chain A's transfer module opens its end")
			return p.EndpointB.ChanOpenTry()
		}, avstypes.ErrInvalidChannel, `expected counterparty version \"avs-1\", got \"ics20-1\"`},
		{"close init", func(*testing.T) error { return e.path.EndpointA.ChanCloseInit() }, ibcerrors.ErrInvalidRequest, "avs channels cannot be closed"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.open(t)
			require.Error(t, err)
			require.Contains(t, err.Error(), codeOf(tc.expErr))
			require.Contains(t, err.Error(), tc.expLog)
		})
	}
	var avsChannels []string
	for _, c := range e.a.App.GetIBCKeeper().ChannelKeeper.GetAllChannels(e.a.GetContext()) {
		if c.PortId == avstypes.PortID {
			avsChannels = append(avsChannels, c.ChannelId+"/"+c.State.String())
		}
	}
	require.Equal(t, []string{e.path.EndpointA.ChannelID + "/" + channeltypes.OPEN.String()}, avsChannels, "only the env's channel, still open")
}

// TestIBCRequestOnForeignChannel: MsgRequestRemoteTask on a channel that
// exists but is not on port avs (an ICS-20 channel) is refused with
// ErrInvalidChannel: x/avs holds no capability for it.
func TestIBCRequestOnForeignChannel(t *testing.T) {
	e := newIBCEnv(t)
	tp := ibctesting.NewTransferPath(e.a, e.b)
	tp.EndpointA.ClientID, tp.EndpointA.ConnectionID = e.path.EndpointA.ClientID, e.path.EndpointA.ConnectionID
	tp.EndpointB.ClientID, tp.EndpointB.ConnectionID = e.path.EndpointB.ClientID, e.path.EndpointB.ConnectionID
	e.coord.CreateChannels(tp)
	require.NotEqual(t, e.path.EndpointB.ChannelID, tp.EndpointB.ChannelID)

	appB := e.b.App.(*app.App)
	ctx := e.b.GetContext()
	_, err := avskeeper.NewMsgServerImpl(appB.AVSKeeper).RequestRemoteTask(ctx, &avstypes.MsgRequestRemoteTask{
		Sender: e.b.SenderAccount.GetAddress().String(), Channel: tp.EndpointB.ChannelID, ServiceId: 1, Input: []byte("7"), TimeoutSeconds: 60,
	})
	require.ErrorIs(t, err, avstypes.ErrInvalidChannel)
	require.Contains(t, err.Error(), "no capability for avs/"+tp.EndpointB.ChannelID)
	it, err := appB.AVSKeeper.RemoteResults.Iterate(ctx, nil)
	require.NoError(t, err)
	defer it.Close()
	require.False(t, it.Valid(), "nothing recorded")
}
