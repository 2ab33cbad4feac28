package simulation

import (
	"fmt"

	"github.com/cosmos/gogoproto/proto"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/kv"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// NewDecodeStore returns the x/avs store decoder the simulation uses to print
// two differing entries of a collection: it decodes both values by the
// collection prefix of the key (types/keys.go), as the keeper stores them.
// Key sets and indexes hold no value, so their keys are printed instead. A key
// outside every collection panics, as the SDK's decoders do.
func NewDecodeStore(cdc codec.BinaryCodec) func(kvA, kvB kv.Pair) string {
	msg := func(newT func() proto.Message) func([]byte) string {
		return func(bz []byte) string {
			v := newT()
			cdc.MustUnmarshal(bz, v)
			return fmt.Sprintf("%v", v)
		}
	}
	value := func(c collcodec.UntypedValueCodec) func([]byte) string {
		return func(bz []byte) string {
			v, err := c.Decode(bz)
			if err != nil {
				panic(err)
			}
			s, err := c.Stringify(v)
			if err != nil {
				panic(err)
			}
			return s
		}
	}
	code := func(bz []byte) string { return fmt.Sprintf("%d bytes of code (raw or gzip'd, as uploaded)", len(bz)) }
	seq := value(untyped(collections.Uint64Value))

	values := map[byte]func([]byte) string{
		prefix(types.ParamsKey):                msg(func() proto.Message { return &types.Params{} }),
		prefix(types.ComponentsKey):            msg(func() proto.Message { return &types.Component{} }),
		prefix(types.ComponentCodeKey):         code,
		prefix(types.ServicesKey):              msg(func() proto.Message { return &types.Service{} }),
		prefix(types.ServiceSeqKey):            seq,
		prefix(types.OperatorsKey):             msg(func() proto.Message { return &types.Operator{} }),
		prefix(types.TasksKey):                 value(collcodec.NewUntypedValueCodec(keeper.NewTaskValue(cdc, addresscodec.NewBech32Codec(sdk.GetConfig().GetBech32AccountAddrPrefix())))),
		prefix(types.TaskSeqKey):               seq,
		prefix(types.VotesKey):                 msg(func() proto.Message { return &types.Vote{} }),
		prefix(types.TalliesKey):               msg(func() proto.Message { return &types.Tally{} }),
		prefix(types.VoteCommitsKey):           msg(func() proto.Message { return &types.VoteCommit{} }),
		prefix(types.SnapshotsKey):             msg(func() proto.Message { return &types.PowerSnapshot{} }),
		prefix(types.CommitmentsKey):           msg(func() proto.Message { return &types.Commitment{} }),
		prefix(types.PoolsKey):                 msg(func() proto.Message { return &types.Pool{} }),
		prefix(types.UnbondingKey):             msg(func() proto.Message { return &types.UnbondingEntry{} }),
		prefix(types.UnbondingSeqKey):          seq,
		prefix(types.UnbondingPoolsKey):        msg(func() proto.Message { return &types.UnbondingPool{} }),
		prefix(types.PoolGenerationEndsKey):    value(untyped(sdk.LegacyDecValue)),
		prefix(types.PendingJoinsKey):          msg(func() proto.Message { return &types.PendingJoin{} }),
		prefix(types.TreasuriesKey):            value(untyped(sdk.IntValue)),
		prefix(types.IBCPacketsKey):            msg(func() proto.Message { return &channeltypes.Packet{} }),
		prefix(types.RemoteResultsKey):         msg(func() proto.Message { return &types.RemoteResult{} }),
		prefix(types.PushedResultsKey):         msg(func() proto.Message { return &types.RemoteResult{} }),
		prefix(types.EpochBaseKey):             msg(func() proto.Message { return &types.EpochBase{} }),
		prefix(types.LivenessKey):              msg(func() proto.Message { return &types.OperatorLiveness{} }),
		prefix(types.CronEvaluatedAtKey):       value(untyped(collections.Int64Value)),
		prefix(types.EventTasksKey):            value(untyped(collections.Uint64Value)),
		prefix(types.AutoTasksThisBlockKey):    value(untyped(collections.Uint64Value)),
		prefix(types.HookTasksThisBlockKey):    value(untyped(collections.Uint64Value)),
		prefix(types.EventTasksThisBlockKey):   value(untyped(collections.Uint64Value)),
		prefix(types.EpochTasksKey):            msg(func() proto.Message { return &types.EpochTasks{} }),
		prefix(types.EpochAnswersKey):          msg(func() proto.Message { return &types.EpochAnswers{} }),
		prefix(types.LivenessReviewsKey):       value(untyped(collections.Uint64Value)),
		prefix(types.OptInsKey):                nil,
		prefix(types.OperatorServicesKey):      nil,
		prefix(types.AllowlistKey):             nil,
		prefix(types.TasksByDeadlineKey):       nil,
		prefix(types.EventOpenersThisBlockKey): nil,
		prefix(types.TasksByServiceStatusKey):  nil,
		prefix(types.TasksByServiceKey):        nil,
		prefix(types.CommitmentsByCommitter):   nil,
		prefix(types.UnbondingByTimeKey):       nil,
		prefix(types.UnbondingByPoolKey):       nil,
		prefix(types.ScheduledServicesKey):     nil,
		prefix(types.UnbondingByCommitterKey):  nil,
		prefix(types.CommitmentsByServiceKey):  nil,
		prefix(types.PrunedTasksKey):           value(untyped(collections.Int64Value)),
		prefix(types.PruneQueueKey):            nil,
		prefix(types.PrunedTasksByExpiryKey):   nil,
		prefix(types.TriggersByHeightKey):      nil,
		prefix(types.TriggersByTimeKey):        nil,
		prefix(types.TriggerDueKey):            value(untyped(collections.Int64Value)),
		prefix(types.IBCRequestsThisBlockKey):  value(untyped(collections.Uint64Value)),
		prefix(types.ServiceRevisionsKey):      msg(func() proto.Message { return &types.ServiceManifest{} }),
		prefix(types.UnpaidTasksKey):           nil,
		prefix(types.OperatorRewardsKey):       value(untyped(sdk.IntValue)),
	}

	return func(kvA, kvB kv.Pair) string {
		if len(kvA.Key) == 0 {
			panic("x/avs store decoder: empty key")
		}
		decode, ok := values[kvA.Key[0]]
		switch {
		case !ok:
			panic(fmt.Sprintf("x/avs store decoder: unknown key prefix %X", kvA.Key[:1]))
		case decode == nil: // a key set or an index: the key is the entry
			return fmt.Sprintf("%X\n%X", kvA.Key, kvB.Key)
		default:
			return decode(kvA.Value) + "\n" + decode(kvB.Value)
		}
	}
}

// prefix is the one byte of a collection prefix in types/keys.go.
func prefix(p collections.Prefix) byte {
	if len(p.Bytes()) != 1 {
		panic(fmt.Sprintf("x/avs store decoder: prefix %X is not one byte", p.Bytes()))
	}
	return p.Bytes()[0]
}

// untyped adapts a typed value codec to the untyped one the table holds.
func untyped[T any](c collcodec.ValueCodec[T]) collcodec.UntypedValueCodec {
	return collcodec.NewUntypedValueCodec(c)
}
