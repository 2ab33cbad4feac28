package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktestutil "github.com/cosmos/cosmos-sdk/x/bank/testutil"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// endBlockEnv is a gasEnv whose service has ops operators (the snapshot holds
// min(ops, max_snapshot_operators)) and n PENDING tasks sharing one deadline,
// which nobody votes on: each expires, is refunded and counts every snapshot
// operator for liveness, the worst case of a deadline block.
func endBlockEnv(tb testing.TB, ops, n int) (*gasEnv, int64) {
	e := newGasEnv(tb)
	for i := len(e.ops) + 1; i <= ops; i++ {
		name := fmt.Sprintf("op%d", i)
		require.NoError(tb, banktestutil.FundAccount(e.ctx, e.bank, acc(name), sdk.NewCoins(sdk.NewInt64Coin(denom, 1))))
		_, err := e.msgServer.RegisterOperator(e.ctx, &types.MsgRegisterOperator{Operator: addr(name), Moniker: name})
		require.NoError(tb, err)
		_, err = e.msgServer.UpdateAllowlist(e.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: e.service, Add: []string{addr(name)}})
		require.NoError(tb, err)
		_, err = e.msgServer.OptIn(e.ctx, &types.MsgOptIn{Operator: addr(name), ServiceId: e.service})
		require.NoError(tb, err)
		e.ops = append(e.ops, addr(name))
	}
	params, err := e.keeper.Params.Get(e.ctx)
	require.NoError(tb, err)
	params.LivenessWindow, params.JailThreshold = 1<<40, 1<<40 // nobody is jailed midway
	require.NoError(tb, e.keeper.Params.Set(e.ctx, params))
	ids := e.tasks(n, false)
	task, err := e.keeper.Tasks.Get(e.ctx, ids[0])
	require.NoError(tb, err)
	return e, task.DeadlineHeight
}

// dueLeft counts the deadline index entries at or below h.
func dueLeft(tb testing.TB, ctx sdk.Context, k keeper.Keeper) int {
	n := 0
	require.NoError(tb, k.TasksByDeadline.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		if key.K1() <= ctx.BlockHeight() {
			n++
		}
		return false, nil
	}))
	return n
}

// BenchmarkEndBlockDueTasks measures the EndBlock of a deadline block with 1,
// 100 and 10,000 due tasks on a service whose snapshot holds 100 operators:
// the time and the store gas (SDK KV costs) of that one block. Above
// max_settlements_per_block (500) the per-block cost stays flat and the rest
// is carried over: blocks/op is how many deadline blocks drain them all.
func BenchmarkEndBlockDueTasks(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("due=%d", n), func(b *testing.B) {
			e, deadline := endBlockEnv(b, 100, n)
			base := e.ctx.WithBlockHeight(deadline)
			var gas uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctx, _ := base.CacheContext()
				ctx = e.meteredFrom(ctx)
				if err := e.keeper.EndBlocker(ctx); err != nil {
					b.Fatal(err)
				}
				gas = ctx.GasMeter().GasConsumed()
			}
			b.StopTimer()
			b.ReportMetric(float64(gas), "gas/block")
			budget := int(types.DefaultMaxSettlementsPerBlock)
			b.ReportMetric(float64((n+budget-1)/budget), "blocks")
		})
	}
}

// TestEndBlockDrainsDueTasks keeps the benchmark's setup honest: 1,200 due
// tasks are all settled over ceil(1200/500) = 3 blocks, no block settling
// more than the budget, and the module balance holds.
func TestEndBlockDrainsDueTasks(t *testing.T) {
	e, deadline := endBlockEnv(t, 10, 1200)
	for h := deadline; ; h++ {
		e.ctx = e.ctx.WithBlockHeight(h)
		before := dueLeft(t, e.ctx, e.keeper)
		if before == 0 {
			require.Equal(t, deadline+3, h, "three blocks")
			break
		}
		require.NoError(t, e.keeper.EndBlocker(e.ctx))
		require.LessOrEqual(t, before-dueLeft(t, e.ctx, e.keeper), int(types.DefaultMaxSettlementsPerBlock))
	}
	require.NoError(t, e.keeper.CheckModuleBalance(e.ctx))
}
