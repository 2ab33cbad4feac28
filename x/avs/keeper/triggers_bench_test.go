package keeper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	storetypes "cosmossdk.io/store/types"

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

// BenchmarkTriggerEndBlock measures the EndBlock of a block in which n
// services' interval triggers are all due, with the default
// max_trigger_fires_per_block (200): its gas (SDK default KV costs) and its
// store operations stay flat once n passes the budget. Each iteration runs
// the same block on a cached store.
//
//	go test -run '^$' -bench TriggerEndBlock -benchtime 5x ./x/avs/keeper/
func BenchmarkTriggerEndBlock(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("due=%d", n), func(b *testing.B) {
			key := storetypes.NewKVStoreKey(types.StoreKey)
			tc := testutil.DefaultContextWithDB(b, key, storetypes.NewTransientStoreKey("transient_bench"))
			ctx := tc.Ctx.WithBlockHeight(10).WithBlockTime(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
			cdc := moduletestutil.MakeTestEncodingConfig(avs.AppModuleBasic{}).Codec
			bank := avstest.NewBank()
			k := keeper.NewKeeper(cdc, runtime.NewKVStoreService(key), bech32, bank, addrOf(authtypes.NewModuleAddress("gov")))
			require.NoError(b, k.InitGenesis(ctx, types.DefaultGenesis()))
			ms := keeper.NewMsgServerImpl(k)
			st, err := ms.StoreComponent(ctx, &types.MsgStoreComponent{Sender: addr("owner"), Wasm: validWasm()})
			require.NoError(b, err)
			_, err = ms.RegisterOperator(ctx, &types.MsgRegisterOperator{Operator: addr("op1"), Moniker: "op1"})
			require.NoError(b, err)
			m := defaultManifest(st.Digest)
			m.Triggers = []types.Trigger{intervalTrigger(1_000_000, 20, 0)}
			bank.Fund(acc("funder"), sdk.NewCoins(stake(int64(n)*10*defaultFee)))
			for i := 0; i < n; i++ {
				svc, err := ms.CreateService(ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
				require.NoError(b, err)
				_, err = ms.OptIn(ctx, &types.MsgOptIn{Operator: addr("op1"), ServiceId: svc.ServiceId})
				require.NoError(b, err)
				_, err = ms.FundService(ctx, &types.MsgFundService{Funder: addr("funder"), ServiceId: svc.ServiceId, Amount: stake(10 * defaultFee)})
				require.NoError(b, err)
			}
			// Commit the setup, as the chain would have: a block then reads
			// committed state, not an uncommitted tree of n services.
			tc.CMS.Commit()
			block := ctx.WithBlockHeight(20).WithBlockTime(ctx.BlockTime().Add(time.Second))
			var gas, ops, fired uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cached, _ := block.CacheContext()
				gasCtx := cached.WithGasMeter(storetypes.NewInfiniteGasMeter())
				before, err := k.TaskSeq.Peek(gasCtx)
				require.NoError(b, err)
				require.NoError(b, k.EndBlocker(gasCtx))
				after, err := k.TaskSeq.Peek(gasCtx)
				require.NoError(b, err)
				gas, fired = gasCtx.GasMeter().GasConsumed(), after-before

				b.StopTimer()
				counted, _ := block.CacheContext()
				counted = opCounting(counted)
				require.NoError(b, k.EndBlocker(counted))
				ops = counted.GasMeter().GasConsumed()
				b.StartTimer()
			}
			b.ReportMetric(float64(gas), "gas/block")
			b.ReportMetric(float64(ops), "storeops/block")
			b.ReportMetric(float64(fired), "fires/block")
		})
	}
}
