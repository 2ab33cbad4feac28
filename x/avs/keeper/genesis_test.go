package keeper_test

import (
	"github.com/avschain/avschain/x/avs/types"
)

func (s *KeeperTestSuite) TestGenesisRoundTrip() {
	gs := types.DefaultGenesis()
	gs.Params.EpochLength = 11
	gs.Params.MaxVotesPerTx = 3
	s.Require().NoError(s.keeper.InitGenesis(s.ctx, gs))

	exported, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, exported)
}

func (s *KeeperTestSuite) TestInitGenesisRefusesInvalidState() {
	gs := types.DefaultGenesis()
	gs.Params.LivenessWindow = 0
	err := s.keeper.InitGenesis(s.ctx, gs)
	s.Require().ErrorIs(err, types.ErrInvalidGenesis)
	s.Require().Contains(err.Error(), "liveness_window")

	kept, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal(types.DefaultParams(), kept)
}
