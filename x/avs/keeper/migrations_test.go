package keeper_test

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// TestMigrate1to2: a version-1 store (no max_tasks_per_msg: it reads as 0)
// gets the parameter's default; every other parameter and every other piece
// of state stays as it was, and MsgCreateTasks works after it.
func (s *KeeperTestSuite) TestMigrate1to2() {
	id, ops := s.setupService(defaultManifest(""), 2)
	s.mustVote(ops[0], s.createTask(id), "A")
	s.createTask(id)
	v1 := s.params()
	v1.MaxTasksPerMsg = 0 // what a version-1 store holds
	v1.MaxVotesPerTx = 7  // a value the chain chose, which must survive
	s.Require().Error(v1.Validate(), "a version-1 store's params are not valid version-2 params")
	s.Require().NoError(s.keeper.Params.Set(s.ctx, v1))
	_, err := s.msgServer.CreateTasks(s.ctx, &types.MsgCreateTasks{Creator: s.creator(), ServiceId: id, Inputs: [][]byte{[]byte("x")}, FeePerTask: sdk.NewInt64Coin(denom, defaultFee)})
	s.Require().ErrorIs(err, types.ErrTooManyTasks, "before the migration")
	before := s.state()

	s.Require().NoError(keeper.NewMigrator(s.keeper).Migrate1to2(s.ctx))

	want := v1
	want.MaxTasksPerMsg = types.DefaultMaxTasksPerMsg
	s.Require().Equal(want, s.params())
	after := s.state()
	s.Require().Equal(want, after.Genesis.Params)
	after.Genesis.Params = before.Genesis.Params
	s.Require().Equal([]string{"params"}, changedCollections(before.Store, after.Store), "the migration writes the params only")
	after.Store, before.Store = nil, nil
	s.Require().Equal(before, after, "the migration changes the params only")

	res, err := s.msgServer.CreateTasks(s.ctx, &types.MsgCreateTasks{Creator: s.creator(), ServiceId: id, Inputs: [][]byte{[]byte("x")}, FeePerTask: sdk.NewInt64Coin(denom, defaultFee)})
	s.Require().NoError(err)
	s.Require().Len(res.TaskIds, 1)

	// run again (a chain whose params were already set by governance): nothing changes
	s.Require().NoError(keeper.NewMigrator(s.keeper).Migrate1to2(s.ctx))
	s.Require().Equal(want, s.params())
}
