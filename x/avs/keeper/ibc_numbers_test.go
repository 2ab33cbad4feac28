package keeper_test

import (
	"cosmossdk.io/collections"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/types"
)

// TestPushedResultNumbersRefused (tests review M6): a pushed result whose
// ids, powers or height are not decimals gets an ErrInvalidPacket error
// acknowledgement and stores nothing. Before, OnRecvTaskResult dropped the
// parse errors and stored service_id "x" as 0.
func (s *KeeperTestSuite) TestPushedResultNumbersRefused() {
	good := types.TaskResultPacketData{TaskID: "9", ServiceID: "2", Status: "completed", Input: []byte("5"), Result: []byte("25"),
		PowerFor: "2", PowerTotal: "3", Height: "40"}
	for _, tc := range []struct {
		name     string
		malleate func(p *types.TaskResultPacketData)
	}{
		{name: "service_id not a number", malleate: func(p *types.TaskResultPacketData) { p.ServiceID = "x" }},
		{name: "task_id with a leading zero", malleate: func(p *types.TaskResultPacketData) { p.TaskID = "09" }},
		{name: "power_for empty", malleate: func(p *types.TaskResultPacketData) { p.PowerFor = "" }},
		{name: "power_total over uint64", malleate: func(p *types.TaskResultPacketData) { p.PowerTotal = "18446744073709551616" }},
		{name: "negative height", malleate: func(p *types.TaskResultPacketData) { p.Height = "-40" }},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			p := good
			tc.malleate(&p)
			before := s.state()
			push := channeltypes.Packet{
				Sequence: 1, SourcePort: types.PortID, SourceChannel: "channel-7", DestinationPort: types.PortID, DestinationChannel: "channel-0",
				Data: p.GetBytes(),
			}
			ack := avs.NewIBCModule(s.keeper).OnRecvPacket(s.ctx, push, nil)
			s.Require().False(ack.Success())
			s.Require().JSONEq(`{"error":"ABCI error: avs/38: invalid IBC packet"}`, string(ack.Acknowledgement()))
			has, err := s.keeper.PushedResults.Has(s.ctx, collections.Join("channel-0", uint64(1)))
			s.Require().NoError(err)
			s.Require().False(has)
			s.requireUnchanged(before)

			// the keeper refuses it too when called directly
			s.Require().ErrorIs(s.keeper.OnRecvTaskResult(s.ctx, push, p), types.ErrInvalidPacket)
		})
	}
}

// TestAckNumbersRefused (tests review M6): an acknowledgement whose numbers
// are not decimals records the request as ERROR ("unreadable
// acknowledgement"), not as COMPLETED with task 0.
func (s *KeeperTestSuite) TestAckNumbersRefused() {
	s.pendingRequest("channel-0", 1, s.creator())
	answer := channeltypes.NewResultAcknowledgement([]byte(`{"task_id":"x","status":"completed","result":"OQ==","power_for":"1","power_total":"1","height":"41"}`))
	request := channeltypes.Packet{Sequence: 1, SourcePort: types.PortID, SourceChannel: "channel-0"}
	s.keeper.SetContractKeeper(&fakeContracts{})
	s.Require().NoError(s.keeper.OnAcknowledgement(s.ctx, request, answer))
	r, err := s.keeper.RemoteResults.Get(s.ctx, collections.Join("channel-0", uint64(1)))
	s.Require().NoError(err)
	s.Require().Equal(types.REMOTE_STATUS_ERROR, r.Status)
	s.Require().Contains(r.Error, `task_id "x"`)
	s.Require().Zero(r.TaskId)
	s.Require().Empty(r.Result)
}
