package keeper_test

import (
	"fmt"

	"github.com/avschain/avschain/x/avs/types"
)

// TestL3GenesisChannels: a manifest's IBC channels in a genesis are checked
// as at MsgCreateService (L-4): channel identifiers, at most MaxIBCChannels
// of each kind. A channel that is not open is accepted, as it is at
// MsgCreateService (a relayer may open it later, and at launch no channel is
// open yet): a genesis must import every state the chain can reach, or the
// chain could not restart from its own export.
func (s *KeeperTestSuite) TestL3GenesisChannels() {
	m := defaultManifest(s.storeComponent())
	m.IbcRequestChannels = []string{"channel-7"}
	m.IbcResultChannels = []string{"channel-8"}
	s.setupService(m, 1)
	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(exported.Validate(), "a channel nobody opened yet is accepted")
	other := s.newEnv()
	for a, c := range s.bank.Balances {
		other.bank.Balances[a] = c
	}
	s.Require().NoError(other.keeper.InitGenesis(other.ctx, exported))
	svc, err := other.keeper.Services.Get(other.ctx, 1)
	s.Require().NoError(err)
	s.Require().Equal([]string{"channel-8"}, svc.Manifest.IbcResultChannels)

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
			gs, err := s.keeper.ExportGenesis(s.ctx)
			s.Require().NoError(err)
			tc.spoil(&gs.Services[0].Manifest)
			err = gs.Validate()
			s.Require().ErrorIs(err, types.ErrInvalidGenesis)
			s.Require().Contains(err.Error(), tc.want)
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
