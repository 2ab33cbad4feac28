package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/suite"

	storetypes "cosmossdk.io/store/types"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// KeeperTestSuite runs the keeper on a real IAVL-backed store.
type KeeperTestSuite struct {
	suite.Suite

	ctx         sdk.Context
	bank        *avstest.Bank
	keeper      keeper.Keeper
	msgServer   types.MsgServer
	queryServer types.QueryServer
	authority   string
}

func TestKeeperTestSuite(t *testing.T) {
	suite.Run(t, new(KeeperTestSuite))
}

func (s *KeeperTestSuite) SetupTest() {
	key := storetypes.NewKVStoreKey(types.StoreKey)
	testCtx := testutil.DefaultContextWithDB(s.T(), key, storetypes.NewTransientStoreKey("transient_test"))
	encCfg := moduletestutil.MakeTestEncodingConfig(avs.AppModuleBasic{})
	ac := addresscodec.NewBech32Codec("avs")

	authority, err := ac.BytesToString(authtypes.NewModuleAddress("gov"))
	s.Require().NoError(err)
	s.authority = authority
	s.ctx = testCtx.Ctx.WithBlockHeight(10)
	s.bank = avstest.NewBank()
	s.keeper = keeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(key), ac, s.bank, authority)
	s.msgServer = keeper.NewMsgServerImpl(s.keeper)
	s.queryServer = keeper.NewQueryServerImpl(s.keeper)
	s.Require().NoError(s.keeper.InitGenesis(s.ctx, types.DefaultGenesis()))
}
