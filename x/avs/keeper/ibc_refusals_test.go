package keeper_test

import (
	"fmt"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkbech32 "github.com/cosmos/cosmos-sdk/types/bech32"

	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcerrors "github.com/cosmos/ibc-go/v8/modules/core/errors"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeIBC is core IBC as x/avs sees it (ICS4Wrapper and ScopedKeeper): the
// avs channels x/avs holds a capability for, the packets it sent, and the
// error WriteAcknowledgement returns.
type fakeIBC struct {
	channels map[string]*capabilitytypes.Capability // channel id → its capability
	sent     []fakeSent
	sendErr  error
	ackErr   error
	acks     int
}

type fakeSent struct {
	channel string
	timeout uint64
	data    []byte
}

func newFakeIBC(channels ...string) *fakeIBC {
	f := &fakeIBC{channels: map[string]*capabilitytypes.Capability{}}
	for i, ch := range channels {
		f.channels[ch] = capabilitytypes.NewCapability(uint64(i + 1))
	}
	return f
}

func (f *fakeIBC) SendPacket(_ sdk.Context, c *capabilitytypes.Capability, port, channel string, _ clienttypes.Height, timeout uint64, data []byte) (uint64, error) {
	if port != types.PortID || c != f.channels[channel] {
		return 0, fmt.Errorf("fakeIBC: wrong capability for %s/%s", port, channel)
	}
	if f.sendErr != nil {
		return 0, f.sendErr
	}
	f.sent = append(f.sent, fakeSent{channel: channel, timeout: timeout, data: data})
	return uint64(len(f.sent)), nil
}

func (f *fakeIBC) WriteAcknowledgement(sdk.Context, *capabilitytypes.Capability, ibcexported.PacketI, ibcexported.Acknowledgement) error {
	if f.ackErr != nil {
		return f.ackErr
	}
	f.acks++
	return nil
}

func (f *fakeIBC) GetCapability(_ sdk.Context, name string) (*capabilitytypes.Capability, bool) {
	for ch, c := range f.channels {
		if name == host.ChannelCapabilityPath(types.PortID, ch) {
			return c, true
		}
	}
	return nil, false
}

func (f *fakeIBC) AuthenticateCapability(ctx sdk.Context, c *capabilitytypes.Capability, name string) bool {
	got, ok := f.GetCapability(ctx, name)
	return ok && got == c
}

func (*fakeIBC) ClaimCapability(sdk.Context, *capabilitytypes.Capability, string) error { return nil }

// TestRequestRemoteTaskRefusals: MsgRequestRemoteTask's bad inputs, each
// refused with its registered error, sending nothing, recording nothing and
// emitting nothing; and the valid request, whose timeout_seconds 0 means 10
// minutes.
func (s *KeeperTestSuite) TestRequestRemoteTaskRefusals() {
	otherPrefix, err := sdkbech32.ConvertAndEncode("cosmos", acc("someone"))
	s.Require().NoError(err)
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgRequestRemoteTask, ibc *fakeIBC)
		unwired  bool
		expErr   *errorsmod.Error
	}{
		{name: "valid, timeout 0 is 10 minutes", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.TimeoutSeconds = 0 }},
		{name: "sender not bech32", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.Sender = "alice" }, expErr: types.ErrInvalidAddress},
		{name: "sender with another prefix", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.Sender = otherPrefix }, expErr: types.ErrInvalidAddress},
		{name: "empty sender", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.Sender = "" }, expErr: types.ErrInvalidAddress},
		{name: "channel id malformed", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.Channel = "chan0" }, expErr: types.ErrInvalidChannel},
		{name: "empty channel", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.Channel = "" }, expErr: types.ErrInvalidChannel},
		{name: "channel x/avs holds no capability for", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.Channel = "channel-5" }, expErr: types.ErrInvalidChannel},
		{name: "handler contract not bech32", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.HandlerContract = "contract" }, expErr: types.ErrInvalidAddress},
		{name: "handler contract with another prefix", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) { msg.HandlerContract = otherPrefix }, expErr: types.ErrInvalidAddress},
		{name: "oversize input", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) {
			msg.Input = make([]byte, types.DefaultMaxInputSize+1)
		}, expErr: types.ErrInputTooLarge},
		{name: "timeout over 30 days", malleate: func(msg *types.MsgRequestRemoteTask, _ *fakeIBC) {
			msg.TimeoutSeconds = types.MaxRemoteTimeoutSeconds + 1
		}, expErr: types.ErrInvalidPacket},
		{name: "core IBC refuses the send (channel closed)", malleate: func(_ *types.MsgRequestRemoteTask, ibc *fakeIBC) {
			ibc.sendErr = errorsmod.Wrap(channeltypes.ErrInvalidChannelState, "channel is CLOSED")
		}, expErr: channeltypes.ErrInvalidChannelState},
		{name: "IBC not wired", unwired: true, expErr: types.ErrInvalidChannel},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			ibc := newFakeIBC("channel-0")
			if !tc.unwired {
				s.keeper.SetIBC(ibc, nil, ibc)
			}
			s.ctx = s.ctx.WithBlockTime(time.Unix(1_700_000_000, 0))
			msg := &types.MsgRequestRemoteTask{Sender: s.creator(), Channel: "channel-0", ServiceId: 3, Input: []byte("7"),
				TimeoutSeconds: 60, HandlerContract: contractAddr("handler")}
			if tc.malleate != nil {
				tc.malleate(msg, ibc)
			}
			ctx := s.withEvents()
			res, err := s.msgServer.RequestRemoteTask(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Empty(ibc.sent, "nothing was sent")
				s.Require().Empty(ctx.EventManager().Events(), "nothing was emitted")
				n := 0
				s.Require().NoError(s.keeper.RemoteResults.Walk(s.ctx, nil, func(collections.Pair[string, uint64], types.RemoteResult) (bool, error) {
					n++
					return false, nil
				}))
				s.Require().Zero(n, "nothing was recorded")
				return
			}
			s.Require().NoError(err)
			s.Require().Len(ibc.sent, 1)
			s.Require().Equal("channel-0", ibc.sent[0].channel)
			s.Require().Equal(uint64(ctx.BlockTime().Add(time.Duration(types.DefaultRemoteTimeoutSeconds)*time.Second).UnixNano()), ibc.sent[0].timeout)
			s.Require().Equal(types.TaskRequestPacketData{ServiceID: "3", Input: []byte("7")}.GetBytes(), ibc.sent[0].data)
			r, err := s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", res.Sequence))
			s.Require().NoError(err)
			s.Require().Equal(types.REMOTE_STATUS_PENDING, r.Status)
			s.Require().Equal(msg.HandlerContract, r.HandlerContract)
			s.Require().Len(s.typedEvents(ctx, &types.EventRemoteTaskRequested{}), 1)
		})
	}
}

// TestIBCHandshakeRefusals: x/avs's handshake callbacks refuse an ORDERED
// channel, another port and another version, at each step, and refuse to
// close a channel, each with its registered error. (The app test
// TestIBCHandshakeRefused sends the same refusals through core IBC.)
func (s *KeeperTestSuite) TestIBCHandshakeRefusals() {
	im := avs.NewIBCModule(s.keeper)
	cp := channeltypes.NewCounterparty(types.PortID, "channel-9")
	testCases := []struct {
		name   string
		call   func() error
		expErr *errorsmod.Error
	}{
		{"init: ORDERED", func() error {
			_, err := im.OnChanOpenInit(s.ctx, channeltypes.ORDERED, nil, types.PortID, "channel-0", nil, cp, types.Version)
			return err
		}, types.ErrInvalidChannel},
		{"init: another port", func() error {
			_, err := im.OnChanOpenInit(s.ctx, channeltypes.UNORDERED, nil, "transfer", "channel-0", nil, cp, types.Version)
			return err
		}, types.ErrInvalidChannel},
		{"init: another version", func() error {
			_, err := im.OnChanOpenInit(s.ctx, channeltypes.UNORDERED, nil, types.PortID, "channel-0", nil, cp, "ics20-1")
			return err
		}, types.ErrInvalidChannel},
		{"try: ORDERED", func() error {
			_, err := im.OnChanOpenTry(s.ctx, channeltypes.ORDERED, nil, types.PortID, "channel-0", nil, cp, types.Version)
			return err
		}, types.ErrInvalidChannel},
		{"try: another port", func() error {
			_, err := im.OnChanOpenTry(s.ctx, channeltypes.UNORDERED, nil, "transfer", "channel-0", nil, cp, types.Version)
			return err
		}, types.ErrInvalidChannel},
		{"try: counterparty's version", func() error {
			_, err := im.OnChanOpenTry(s.ctx, channeltypes.UNORDERED, nil, types.PortID, "channel-0", nil, cp, "avs-2")
			return err
		}, types.ErrInvalidChannel},
		{"ack: counterparty's version", func() error {
			return im.OnChanOpenAck(s.ctx, types.PortID, "channel-0", "channel-9", "")
		}, types.ErrInvalidChannel},
		{"close init", func() error { return im.OnChanCloseInit(s.ctx, types.PortID, "channel-0") }, ibcerrors.ErrInvalidRequest},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.Require().ErrorIs(tc.call(), tc.expErr)
		})
	}
}

// TestIBCAckWriteFailure: when the acknowledgement of a task requested over
// IBC cannot be written (core IBC refuses it, or x/avs holds no capability
// for the channel), the task's outcome stands, EventIBCFailed names the task,
// the channel and the reason, and the packet is no longer kept. (The app test
// TestIBCAckOnClosedChannel does the same through a really closed channel.)
func (s *KeeperTestSuite) TestIBCAckWriteFailure() {
	testCases := []struct {
		name     string
		malleate func(ibc *fakeIBC)
		expText  string
	}{
		{"core IBC refuses the write", func(ibc *fakeIBC) {
			ibc.ackErr = errorsmod.Wrap(channeltypes.ErrInvalidChannelState, "channel is CLOSED")
		}, "channel is CLOSED"},
		{"no capability for the channel", func(ibc *fakeIBC) { delete(ibc.channels, "channel-0") }, "no capability for avs/channel-0"},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			ibc := newFakeIBC("channel-0")
			s.keeper.SetIBC(ibc, nil, ibc)
			m := defaultManifest(s.storeComponent())
			m.IbcRequestChannels = []string{"channel-0"}
			id, ops := s.setupService(m, 1)
			s.fundService(id, 10*defaultFee)
			packet := channeltypes.Packet{
				Sequence: 4, SourcePort: types.PortID, SourceChannel: "channel-9", DestinationPort: types.PortID, DestinationChannel: "channel-0",
				Data: types.TaskRequestPacketData{ServiceID: fmt.Sprint(id), Input: []byte("7")}.GetBytes(),
			}
			s.Require().Nil(avs.NewIBCModule(s.keeper).OnRecvPacket(s.ctx, packet, nil), "asynchronous acknowledgement")
			has, err := s.keeper.IBCPackets.Has(s.ctx, 1)
			s.Require().NoError(err)
			s.Require().True(has)

			tc.malleate(ibc)
			ctx := s.withEvents()
			res, err := s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: ops[0], Results: []types.TaskResult{{TaskId: 1, Result: []byte("49")}}})
			s.Require().NoError(err)
			s.Require().True(res.Outcomes[0].Accepted)
			s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(1).Status, "the outcome stands")
			s.Require().Zero(ibc.acks)
			evs := s.typedEvents(ctx, &types.EventIBCFailed{})
			s.Require().Len(evs, 1)
			failed := evs[0].(*types.EventIBCFailed)
			s.Require().EqualValues(1, failed.TaskId)
			s.Require().Equal("channel-0", failed.Channel)
			s.Require().Contains(failed.Error, tc.expText)
			has, err = s.keeper.IBCPackets.Has(s.ctx, 1)
			s.Require().NoError(err)
			s.Require().False(has, "the packet is not kept for a retry")
		})
	}
}
