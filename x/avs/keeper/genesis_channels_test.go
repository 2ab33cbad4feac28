package keeper_test

import (
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/avschain/avschain/x/avs/types"
)

// fakeChannels is an IBC channel keeper that knows which channels exist on
// port avs; it sends nothing.
type fakeChannels struct{ open map[string]bool }

func (f fakeChannels) GetChannel(_ sdk.Context, port, channel string) (channeltypes.Channel, bool) {
	if port != types.PortID || !f.open[channel] {
		return channeltypes.Channel{}, false
	}
	return channeltypes.Channel{State: channeltypes.OPEN, Version: types.Version}, true
}

func (fakeChannels) SendPacket(sdk.Context, *capabilitytypes.Capability, string, string, clienttypes.Height, uint64, []byte) (uint64, error) {
	return 0, errors.New("fakeChannels sends nothing")
}

func (fakeChannels) WriteAcknowledgement(sdk.Context, *capabilitytypes.Capability, ibcexported.PacketI, ibcexported.Acknowledgement) error {
	return errors.New("fakeChannels acknowledges nothing")
}

// TestL3GenesisRefusesUnknownChannels: a manifest may name only IBC channels
// that exist on port avs — at MsgCreateService and MsgUpdateService (open the
// channel, then name it), and so at genesis, where a service naming a channel
// the IBC state does not hold is refused (it would never receive or deliver
// anything). A channel once opened stays in the IBC state, so a chain's own
// export always passes. Identifiers and counts are checked statelessly (L-4).
func (s *KeeperTestSuite) TestL3GenesisRefusesUnknownChannels() {
	m := defaultManifest(s.storeComponent())
	m.IbcRequestChannels = []string{"channel-7"}
	m.IbcResultChannels = []string{"channel-8"}
	s.keeper.SetIBC(fakeChannels{open: map[string]bool{"channel-7": true}}, nil, nil)
	_, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	s.Require().ErrorIs(err, types.ErrInvalidChannel)
	s.Require().Contains(err.Error(), "channel-8 does not exist on port avs")
	s.keeper.SetIBC(fakeChannels{open: map[string]bool{"channel-7": true, "channel-8": true}}, nil, nil)
	s.setupService(m, 1)
	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(exported.Validate())

	importInto := func(open map[string]bool) error {
		other := s.newEnv()
		for a, c := range s.bank.Balances {
			other.bank.Balances[a] = c
		}
		other.keeper.SetIBC(fakeChannels{open: open}, nil, nil)
		return other.keeper.InitGenesis(other.ctx, exported)
	}
	err = importInto(map[string]bool{"channel-7": true})
	s.Require().ErrorIs(err, types.ErrInvalidChannel, "a genesis whose IBC state lacks channel-8")
	s.Require().Contains(err.Error(), "service 1")
	s.Require().NoError(importInto(map[string]bool{"channel-7": true, "channel-8": true}))

	// an update cannot name an unknown channel either
	m.IbcResultChannels = []string{"channel-9"}
	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: 1, Manifest: m})
	s.Require().ErrorIs(err, types.ErrInvalidChannel)

	many := make([]string, types.MaxIBCChannels+1)
	for i := range many {
		many[i] = fmt.Sprintf("channel-%d", i)
	}
	for _, tc := range []struct {
		name  string
		spoil func(*types.ServiceManifest)
		want  string
	}{
		{"request channel is not a channel identifier", func(m *types.ServiceManifest) { m.IbcRequestChannels = []string{"transfer"} }, "not a channel identifier"},
		{"result channel is not a channel identifier", func(m *types.ServiceManifest) { m.IbcResultChannels = []string{"channel-x/../1"} }, "not a channel identifier"},
		{"too many result channels", func(m *types.ServiceManifest) { m.IbcResultChannels = many }, "ibc_result_channels has 9"},
	} {
		s.Run(tc.name, func() {
			s.requireGenesisRefused(func(gs *types.GenesisState) { tc.spoil(&gs.Services[0].Manifest) }, tc.want)
		})
	}
}

// M-3 at genesis: the votes of an event task carry the digest of the input
// they read, and no other vote does.
func (s *KeeperTestSuite) TestM3GenesisVoteInputDigest() {
	id, ops := s.eventService(10, 3)
	s.Require().True(s.eventVote(ops[0], ref(id, 9, 1), "7").Accepted)
	plain := s.createTask(id)
	s.Require().True(s.vote(ops[0], plain, "7").Accepted)
	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(exported.Validate())
	s.Require().Len(exported.Votes, 2)
	for _, tc := range []struct {
		name  string
		spoil func(votes []types.Vote)
	}{
		{"event vote without its input digest", func(v []types.Vote) { v[0].InputDigest = "" }},
		{"event vote with a malformed input digest", func(v []types.Vote) { v[0].InputDigest = "zz" }},
		{"other vote with an input digest", func(v []types.Vote) { v[1].InputDigest = types.Digest([]byte("x")) }},
	} {
		s.Run(tc.name, func() {
			gs, err := s.keeper.ExportGenesis(s.ctx)
			s.Require().NoError(err)
			s.Require().EqualValues(1, gs.Votes[0].TaskId)
			tc.spoil(gs.Votes)
			err = gs.Validate()
			s.Require().ErrorIs(err, types.ErrInvalidGenesis)
			s.Require().Contains(err.Error(), "input_digest")
		})
	}
}
