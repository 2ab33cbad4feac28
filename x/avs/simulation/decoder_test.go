package simulation_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/kv"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/simulation"
	"github.com/avschain/avschain/x/avs/types"
)

// decoderCase is one collection: a key under its prefix, the value the keeper
// stores there, and what the decoded line must show.
type decoderCase struct {
	name   string
	prefix collections.Prefix
	value  []byte
	want   string
}

func decoderCases(t *testing.T, cdc codec.BinaryCodec) []decoderCase {
	t.Helper()
	m := func(v proto.Message) []byte { return cdc.MustMarshal(v) }
	enc := func(bz []byte, err error) []byte {
		require.NoError(t, err)
		return bz
	}
	keySet := func(name string, p collections.Prefix) decoderCase {
		return decoderCase{name, p, []byte{}, ""}
	}
	zero := sdkmath.ZeroInt()
	return []decoderCase{
		{"params", types.ParamsKey, m(&types.Params{EpochLength: 42, StakeDenom: "ustake"}), "epoch_length:42"},
		{"components", types.ComponentsKey, m(&types.Component{Digest: "ab12", CodeSize: 7}), `digest:"ab12"`},
		{"component code", types.ComponentCodeKey, []byte{0x1f, 0x8b, 1, 2}, "4 bytes of code (raw or gzip'd, as uploaded)"},
		{"services", types.ServicesKey, m(&types.Service{Id: 3, Owner: "owner1"}), `owner:"owner1"`},
		{"service seq", types.ServiceSeqKey, enc(collections.Uint64Value.Encode(5)), "5"},
		{"service revisions", types.ServiceRevisionsKey, m(&types.ServiceManifest{Name: "feed", TaskTimeout: 9}), `name:"feed"`},
		{"operators", types.OperatorsKey, m(&types.Operator{Address: "op1", Moniker: "moniker1", Commission: sdkmath.LegacyZeroDec()}), `moniker:"moniker1"`},
		{"tasks", types.TasksKey, m(&types.Task{Id: 9, Creator: "creator1", Fee: sdk.NewInt64Coin("ustake", 1)}), `creator:"creator1"`},
		{"task seq", types.TaskSeqKey, enc(collections.Uint64Value.Encode(10)), "10"},
		{"votes", types.VotesKey, m(&types.Vote{TaskId: 9, Operator: "op1", Digest: "d1"}), `digest:"d1"`},
		{"tallies", types.TalliesKey, m(&types.Tally{Power: 77, Count: 2}), "power:77"},
		{"vote commits", types.VoteCommitsKey, m(&types.VoteCommit{TaskId: 9, Operator: "op1", Power: 66}), "power:66"},
		{"snapshots", types.SnapshotsKey, m(&types.PowerSnapshot{ServiceId: 3, Epoch: 4, Total: 88}), "total:88"},
		{"commitments", types.CommitmentsKey, m(&types.Commitment{Committer: "c1", Operator: "op1", Shares: sdkmath.NewInt(55),
			RewardIndex: sdkmath.LegacyZeroDec(), Unclaimed: zero}), `committer:"c1"`},
		{"pools", types.PoolsKey, m(&types.Pool{Operator: "op1", Total: sdkmath.NewInt(66), RewardIndex: sdkmath.LegacyZeroDec(), Outstanding: zero}), `total:"66"`},
		{"unbonding", types.UnbondingKey, m(&types.UnbondingEntry{Id: 2, Committer: "c1", Amount: sdkmath.NewInt(5)}), `committer:"c1"`},
		{"unbonding seq", types.UnbondingSeqKey, enc(collections.Uint64Value.Encode(3)), "3"},
		{"unbonding pools", types.UnbondingPoolsKey, m(&types.UnbondingPool{Operator: "op1", Epoch: 7, Total: sdkmath.NewInt(9), Shares: sdkmath.NewInt(10)}), `shares:"10"`},
		{"pool generation ends", types.PoolGenerationEndsKey, enc(sdk.LegacyDecValue.Encode(sdkmath.LegacyMustNewDecFromStr("1.5"))), "1.5"},
		{"pending joins", types.PendingJoinsKey, m(&types.PendingJoin{Operator: "op", Epoch: 3, RewardIndex: sdkmath.LegacyMustNewDecFromStr("0.25"), Holders: 2}), "holders:2"},
		{"treasuries", types.TreasuriesKey, enc(sdk.IntValue.Encode(sdkmath.NewInt(1234))), "1234"},
		{"operator rewards", types.OperatorRewardsKey, enc(sdk.IntValue.Encode(sdkmath.NewInt(4321))), "4321"},
		{"ibc packets", types.IBCPacketsKey, m(&channeltypes.Packet{Sequence: 4, SourceChannel: "channel-7"}), "channel-7"},
		{"remote results", types.RemoteResultsKey, m(&types.RemoteResult{Channel: "channel-8", Sequence: 1}), `channel:"channel-8"`},
		{"pushed results", types.PushedResultsKey, m(&types.RemoteResult{Channel: "channel-9", Sequence: 2}), `channel:"channel-9"`},
		{"epoch base", types.EpochBaseKey, m(&types.EpochBase{Height: 7, Epoch: 3}), "height:7 epoch:3"},
		{"liveness", types.LivenessKey, m(&types.OperatorLiveness{Missed: 4}), "missed:4"},
		{"cron evaluated at", types.CronEvaluatedAtKey, enc(collections.Int64Value.Encode(-17)), "-17"},
		{"event tasks", types.EventTasksKey, enc(collections.Uint64Value.Encode(21)), "21"},
		{"auto tasks this block", types.AutoTasksThisBlockKey, enc(collections.Uint64Value.Encode(22)), "22"},
		{"hook tasks this block", types.HookTasksThisBlockKey, enc(collections.Uint64Value.Encode(7)), "7"},
		{"event tasks this block", types.EventTasksThisBlockKey, enc(collections.Uint64Value.Encode(8)), "8"},
		{"epoch tasks", types.EpochTasksKey, m(&types.EpochTasks{Open: 3, Settled: 4}), "open:3 settled:4"},
		{"epoch answers", types.EpochAnswersKey, m(&types.EpochAnswers{Answered: 5}), "answered:5"},
		{"liveness reviews", types.LivenessReviewsKey, enc(collections.Uint64Value.Encode(6)), "6"},
		keySet("opt-ins", types.OptInsKey),
		keySet("operator services", types.OperatorServicesKey),
		keySet("allowlist", types.AllowlistKey),
		keySet("tasks by deadline", types.TasksByDeadlineKey),
		keySet("event openers this block", types.EventOpenersThisBlockKey),
		keySet("tasks by service status", types.TasksByServiceStatusKey),
		keySet("tasks by service", types.TasksByServiceKey),
		keySet("commitments by committer", types.CommitmentsByCommitter),
		keySet("unbonding by time", types.UnbondingByTimeKey),
		keySet("unbonding by pool", types.UnbondingByPoolKey),
		keySet("scheduled services", types.ScheduledServicesKey),
		keySet("unbonding by committer", types.UnbondingByCommitterKey),
		keySet("commitments by service", types.CommitmentsByServiceKey),
		{"pruned tasks", types.PrunedTasksKey, enc(collections.Int64Value.Encode(123)), "123"},
		keySet("prune queue", types.PruneQueueKey),
		keySet("unpaid tasks", types.UnpaidTasksKey),
		keySet("pruned tasks by expiry", types.PrunedTasksByExpiryKey),
		keySet("triggers by height", types.TriggersByHeightKey),
		keySet("triggers by time", types.TriggersByTimeKey),
		{"trigger due", types.TriggerDueKey, enc(collections.Int64Value.Encode(-5)), "-5"},
		{"ibc requests this block", types.IBCRequestsThisBlockKey, enc(collections.Uint64Value.Encode(23)), "23"},
	}
}

// TestDecodeStore decodes one entry of every collection into a readable
// line per store: the value where there is one, the key for key sets.
func TestDecodeStore(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	dec := simulation.NewDecodeStore(cdc)
	for _, tc := range decoderCases(t, cdc) {
		t.Run(tc.name, func(t *testing.T) {
			key := append(tc.prefix.Bytes(), 0x01, 0x02)
			got := dec(kv.Pair{Key: key, Value: tc.value}, kv.Pair{Key: key, Value: tc.value})
			if tc.want == "" { // a key set holds no value: both keys, in hex
				require.Equal(t, fmt.Sprintf("%X\n%X", key, key), got)
				return
			}
			lines := strings.Split(got, "\n")
			require.Len(t, lines, 2, "one line per store")
			require.Contains(t, lines[0], tc.want)
			require.Equal(t, lines[0], lines[1])
		})
	}
}

// TestDecodeStoreUnknownKey checks a key outside every collection panics, as
// the SDK's decoders do.
func TestDecodeStoreUnknownKey(t *testing.T) {
	dec := simulation.NewDecodeStore(codec.NewProtoCodec(codectypes.NewInterfaceRegistry()))
	require.PanicsWithValue(t, "x/avs store decoder: unknown key prefix FF", func() {
		dec(kv.Pair{Key: []byte{0xff, 1}}, kv.Pair{Key: []byte{0xff, 1}})
	})
	require.Panics(t, func() { dec(kv.Pair{}, kv.Pair{}) }, "empty key")
}

// TestDecodeStoreCoversKeys parses types/keys.go: every collection prefix
// declared there must have a case above (and so a decoder entry), so that a
// new collection cannot be added without its decoder.
func TestDecodeStoreCoversKeys(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../types/keys.go", nil, 0)
	require.NoError(t, err)
	declared := map[byte]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewPrefix" && len(call.Args) == 1 {
			lit, ok := call.Args[0].(*ast.BasicLit)
			require.True(t, ok, "prefix %v is not a literal", call.Args[0])
			n, err := strconv.ParseUint(lit.Value, 0, 8)
			require.NoError(t, err)
			declared[byte(n)] = true
		}
		return true
	})
	require.NotEmpty(t, declared)
	covered := map[byte]bool{}
	for _, tc := range decoderCases(t, codec.NewProtoCodec(codectypes.NewInterfaceRegistry())) {
		covered[tc.prefix.Bytes()[0]] = true
	}
	require.Equal(t, declared, covered)
}

// TestDecodeCompactTask: a task as the keeper stores it (creator and
// component digest raw, keeper.NewTaskValue) decodes to the task.
func TestDecodeCompactTask(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	ac := addresscodec.NewBech32Codec(sdk.GetConfig().GetBech32AccountAddrPrefix())
	creator, err := ac.BytesToString(make([]byte, 20))
	require.NoError(t, err)
	digest := types.Digest([]byte("component"))
	bz, err := keeper.NewTaskValue(cdc, ac).Encode(types.Task{Id: 9, Creator: creator, ComponentDigest: digest, Fee: sdk.NewInt64Coin("ustake", 1)})
	require.NoError(t, err)
	require.Equal(t, byte(0), bz[0], "stored compact")
	key := append(types.TasksKey.Bytes(), 9)
	got := simulation.NewDecodeStore(cdc)(kv.Pair{Key: key, Value: bz}, kv.Pair{Key: key, Value: bz})
	require.Contains(t, got, fmt.Sprintf("creator:%q", creator))
	require.Contains(t, got, fmt.Sprintf("component_digest:%q", digest))
}
