package keeper_test

import (
	"cosmossdk.io/collections"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/types"
)

// pendingRequest records a request this chain sent on channel with seq, as
// requestRemoteTask does after SendPacket.
func (s *KeeperTestSuite) pendingRequest(channel string, seq uint64, sender string) {
	r := types.RemoteResult{Channel: channel, Sequence: seq, Sender: sender, ServiceId: 4, Input: []byte("3"),
		Status: types.REMOTE_STATUS_PENDING, HandlerContract: contractAddr("requester")}
	s.Require().NoError(s.keeper.RemoteResults.Set(s.ctx, collections.Join(channel, seq), r))
}

// M-2: on one channel both chains number their packets from 1. Before, the
// other chain's push with sequence 1 overwrote this chain's pending request 1
// (its sender and handler lost), and the ack of the request then completed a
// record that was no longer it. Now pushes and requests have their own keys.
func (s *KeeperTestSuite) TestM2PushDoesNotOverwriteRequest() {
	sender := s.creator()
	s.pendingRequest("channel-0", 1, sender)
	im := avs.NewIBCModule(s.keeper)
	push := channeltypes.Packet{
		Sequence: 1, SourcePort: types.PortID, SourceChannel: "channel-7", DestinationPort: types.PortID, DestinationChannel: "channel-0",
		Data: types.TaskResultPacketData{TaskID: "9", ServiceID: "2", Status: "completed", Input: []byte("5"), Result: []byte("25"),
			PowerFor: "2", PowerTotal: "3", Height: "40"}.GetBytes(),
	}
	ack := im.OnRecvPacket(s.ctx, push, nil)
	s.Require().True(ack.Success())

	req, err := s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal(sender, req.Sender, "the request keeps its sender")
	s.Require().Equal(types.REMOTE_STATUS_PENDING, req.Status)
	pushed, err := s.keeper.PushedResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_PUSHED, pushed.Status)
	s.Require().Equal([]byte("25"), pushed.Result)

	// the ack of the request completes the request, not the push
	s.keeper.SetContractKeeper(&fakeContracts{})
	answer := channeltypes.NewResultAcknowledgement(types.TaskAck{TaskID: "3", Status: "completed", Result: []byte("9"),
		PowerFor: "1", PowerTotal: "1", Height: "41"}.GetBytes())
	request := channeltypes.Packet{Sequence: 1, SourcePort: types.PortID, SourceChannel: "channel-0"}
	s.Require().NoError(s.keeper.OnAcknowledgement(s.ctx, request, answer))
	req, err = s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_COMPLETED, req.Status)
	s.Require().Equal([]byte("9"), req.Result)
	s.Require().Equal(sender, req.Sender)
	pushed, err = s.keeper.PushedResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal([]byte("25"), pushed.Result, "the push is untouched")

	// queries: requests by default, pushes with pushed
	res, err := s.queryServer.RemoteResult(s.ctx, &types.QueryRemoteResultRequest{Channel: "channel-0", Sequence: 1, Pushed: true})
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_PUSHED, res.RemoteResult.Status)
	list, err := s.queryServer.RemoteResults(s.ctx, &types.QueryRemoteResultsRequest{})
	s.Require().NoError(err)
	s.Require().Len(list.RemoteResults, 1)
	s.Require().Equal(types.REMOTE_STATUS_COMPLETED, list.RemoteResults[0].Status)

	// a timeout of this chain's push with sequence 1 (an outbound push is not
	// recorded) does not touch the completed request
	s.Require().NoError(s.keeper.OnTimeout(s.ctx, request))
	req, err = s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_COMPLETED, req.Status)
}

// L-7: an acknowledgement that cannot be read is recorded as ERROR, not
// returned as an error (which would fail every relay of it and leave the
// packet stuck).
func (s *KeeperTestSuite) TestL7UnreadableAckRecordedAsError() {
	s.pendingRequest("channel-0", 2, s.creator())
	s.keeper.SetContractKeeper(&fakeContracts{})
	request := channeltypes.Packet{Sequence: 2, SourcePort: types.PortID, SourceChannel: "channel-0"}
	bad := channeltypes.NewResultAcknowledgement([]byte(`{"not":"an ack"}`))
	s.Require().NoError(s.keeper.OnAcknowledgement(s.ctx, request, bad))
	r, err := s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", uint64(2)))
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_ERROR, r.Status)
	s.Require().Contains(r.Error, "unreadable acknowledgement")
}
