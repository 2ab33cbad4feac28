package keeper_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/suite"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
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
	storeKey    *storetypes.KVStoreKey
}

func TestKeeperTestSuite(t *testing.T) {
	suite.Run(t, new(KeeperTestSuite))
}

func (s *KeeperTestSuite) SetupTest() {
	key := storetypes.NewKVStoreKey(types.StoreKey)
	s.storeKey = key
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
	gs := types.DefaultGenesis()
	gs.Params = testParams()
	s.Require().NoError(s.keeper.InitGenesis(s.ctx, gs))
}

// testParams are the suite's params: the defaults without
// min_operator_stake, as most tests commit small stakes from committers
// other than the operator (the H-6 tests set it themselves).
func testParams() types.Params {
	p := types.DefaultParams()
	p.MinOperatorStake = sdkmath.ZeroInt()
	return p
}

// rawKeys returns the hex of every raw store key under a collection prefix,
// in store order.
func (s *KeeperTestSuite) rawKeys(prefix collections.Prefix) []string {
	it := storetypes.KVStorePrefixIterator(s.ctx.KVStore(s.storeKey), prefix.Bytes())
	defer it.Close()
	var out []string
	for ; it.Valid(); it.Next() {
		out = append(out, hex.EncodeToString(it.Key()))
	}
	return out
}

// TestIndexKeyBytes pins the on-disk bytes of every secondary index entry of
// one task, one commitment and one unbonding entry: the indexes may change
// how they are kept, never the bytes a running chain has stored.
func (s *KeeperTestSuite) TestIndexKeyBytes() {
	s.startClock()
	svc, ops := s.setupService(defaultManifest(""), 1)
	task := s.createTask(svc)
	s.Require().Equal(uint64(1), task)
	committerAddr := s.fundAndCommit("committer", ops[0], svc, 500)
	res := s.uncommit(committerAddr, ops[0], svc, 200)
	s.Require().Equal(uint64(0), res.EntryId)

	// The bech32 strings of the operator op1 and of the committer, as stored
	// (a string that is not the last key part ends in a 0x00).
	const (
		op1       = "61767331646163727a68366c746130343768366c746130343768366c746130343768366c613970396d6c" // avs1dacrzh6l…a9p9ml
		committer = "617673317664686b366d74667733367832756a6c746130343768366c746130343768366c6b7335357363" // avs1vdhk6m…ks55sc
	)
	for _, tc := range []struct {
		name   string
		prefix collections.Prefix
		want   []string
	}{
		// (deadline height 60, task 1); an int64 has its sign bit flipped.
		{"TasksByDeadline", types.TasksByDeadlineKey, []string{"0b" + "800000000000003c" + "0000000000000001"}},
		// ((service 1, status PENDING = 1), task 1)
		{"TasksByServiceStatus", types.TasksByServiceStatusKey, []string{"0c" + "0000000000000001" + "80000001" + "0000000000000001"}},
		// (service 1, task 1)
		{"TasksByService", types.TasksByServiceKey, []string{"10" + "0000000000000001" + "0000000000000001"}},
		// (committer, operator, service 1)
		{"CommitmentsByCommitter", types.CommitmentsByCommitter, []string{"12" + committer + "00" + op1 + "00" + "0000000000000001"}},
		// (completion time in unix ns, entry 0)
		{"UnbondingByTime", types.UnbondingByTimeKey, []string{"16" + "9a4db3034fec3200" + "0000000000000000"}},
		// (operator, service 1, entry 0)
		{"UnbondingByPool", types.UnbondingByPoolKey, []string{"17" + op1 + "00" + "0000000000000001" + "0000000000000000"}},
		// (committer, entry 0), added with the IndexedMap
		{"UnbondingByCommitter", types.UnbondingByCommitterKey, []string{"1f" + committer + "00" + "0000000000000000"}},
		// (service 1, (operator, service 1, committer)), added with the IndexedMap
		{"CommitmentsByService", types.CommitmentsByServiceKey, []string{"20" + "0000000000000001" + op1 + "00" + "0000000000000001" + committer}},
		// (operator, service 1)
		{"OperatorServices", types.OperatorServicesKey, []string{"07" + op1 + "00" + "0000000000000001"}},
	} {
		s.Run(tc.name, func() {
			got := s.rawKeys(tc.prefix)
			s.Require().Equal(tc.want, got)
		})
	}
}

// TestEventTaskIndexKeyBytes pins the bytes of a tasks' ByEvent entry: the event
// reference's key, and the task id as its value.
func (s *KeeperTestSuite) TestEventTaskIndexKeyBytes() {
	id, ops := s.eventService(10, 3)
	o := s.eventVote(ops[0], ref(id, 9, 2), "12.5")
	s.Require().True(o.Accepted, o.Error)

	// "1/9/" + 64 × "AB" + "/2"
	key := "1d" + "312f392f" + strings.Repeat("4142", 32) + "2f32"
	s.Require().Equal([]string{key}, s.rawKeys(types.EventTasksKey))
	value := s.ctx.KVStore(s.storeKey).Get(mustHex(key))
	s.Require().Equal("0000000000000001", hex.EncodeToString(value), "task 1")
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// TestTriggerScheduleKeyBytes pins the bytes of the trigger schedule:
// (height, service, trigger) ordered by height, and (service, trigger).
func (s *KeeperTestSuite) TestTriggerScheduleKeyBytes() {
	s.ctx = s.ctx.WithBlockHeight(3)
	id := s.triggeredService(10, intervalTrigger(5, 0, 0))
	s.Require().Equal(uint64(1), id)
	s.Require().Equal([]string{"21" + "8000000000000005" + "0000000000000001" + "00000000"}, s.rawKeys(types.TriggersByHeightKey))
	s.Require().Equal([]string{"23" + "0000000000000001" + "00000000"}, s.rawKeys(types.TriggerDueKey))
}
