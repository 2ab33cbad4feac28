package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"
	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/testutil/apptest"
	"github.com/avschain/avschain/testutil/avstest"
	avskeeper "github.com/avschain/avschain/x/avs/keeper"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// benchVotes is the size of the vote batch BenchmarkDeliverSubmitResults
// delivers (issue #16: "DeliverTx of a 1,000-vote MsgSubmitResults
// profiled"); max_votes_per_tx is raised to it for the benchmark.
const benchVotes = 1000

// voteBench is the real app with an EXACT service of 4 operators (EQUAL
// weighting, threshold 0.6: 3 votes decide a task).
type voteBench struct {
	chain   *apptest.Chain
	avs     avstypes.MsgServer
	service uint64
	ops     []string
}

func newVoteBench(b *testing.B) *voteBench {
	chain := apptest.Setup(b, nil)
	k := chain.App.AVSKeeper
	avs := avskeeper.NewMsgServerImpl(k)
	ctx := chain.Context()
	acct := chain.Account.String()
	params, err := k.Params.Get(ctx)
	require.NoError(b, err)
	params.MaxVotesPerTx = benchVotes
	params.MaxSettlementsPerBlock = benchVotes // the vote's block pays every task it decided
	require.NoError(b, k.Params.Set(ctx, params))
	st, err := avs.StoreComponent(ctx, &avstypes.MsgStoreComponent{Sender: acct, Wasm: avstest.Module(true, avstest.WASI)})
	require.NoError(b, err)
	svc, err := avs.CreateService(ctx, &avstypes.MsgCreateService{Owner: acct, Manifest: avstypes.ServiceManifest{
		Name: "bench", ComponentDigest: st.Digest,
		Limits:      avstypes.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: 64},
		Quorum:      avstypes.Quorum{Threshold: sdkmath.LegacyMustNewDecFromStr("0.6")},
		Admission:   avstypes.ADMISSION_ALLOWLIST,
		Aggregation: avstypes.Aggregation{Mode: avstypes.AGGREGATION_MODE_EXACT},
		FeePerTask:  sdk.NewInt64Coin(app.BondDenom, 100),
		TaskTimeout: 50,
	}})
	require.NoError(b, err)
	e := &voteBench{chain: chain, avs: avs, service: svc.ServiceId}
	for i := 0; i < 4; i++ {
		op := sdk.AccAddress(fmt.Appendf(nil, "bench-operator-%05d", i)).String()
		_, err := avs.RegisterOperator(ctx, &avstypes.MsgRegisterOperator{Operator: op, Moniker: fmt.Sprintf("op%d", i)})
		require.NoError(b, err)
		_, err = avs.UpdateAllowlist(ctx, &avstypes.MsgUpdateAllowlist{Owner: acct, ServiceId: svc.ServiceId, Add: []string{op}})
		require.NoError(b, err)
		_, err = avs.OptIn(ctx, &avstypes.MsgOptIn{Operator: op, ServiceId: svc.ServiceId})
		require.NoError(b, err)
		e.ops = append(e.ops, op)
	}
	chain.NextBlock(b)
	return e
}

// tasks opens benchVotes tasks in one MsgCreateTasks and commits the block;
// each of the operators in prevoters votes "A" on all of them first.
func (e *voteBench) tasks(b *testing.B, prevoters ...string) []uint64 {
	inputs := make([][]byte, benchVotes)
	for i := range inputs {
		inputs[i] = []byte("4")
	}
	res, err := e.avs.CreateTasks(e.chain.Context(), &avstypes.MsgCreateTasks{Creator: e.chain.Account.String(), ServiceId: e.service,
		Inputs: inputs, FeePerTask: sdk.NewInt64Coin(app.BondDenom, 100)})
	require.NoError(b, err)
	e.chain.NextBlock(b)
	for _, op := range prevoters {
		_, err := e.avs.SubmitResults(e.chain.Context(), votesOn(op, res.TaskIds))
		require.NoError(b, err)
	}
	e.chain.NextBlock(b)
	return res.TaskIds
}

func votesOn(op string, ids []uint64) *avstypes.MsgSubmitResults {
	msg := &avstypes.MsgSubmitResults{Operator: op}
	for _, id := range ids {
		msg.Results = append(msg.Results, avstypes.TaskResult{TaskId: id, Result: []byte("A")})
	}
	return msg
}

// BenchmarkDeliverSubmitResults delivers one MsgSubmitResults of 1,000 votes
// on the real app (IAVL stores under the block's and the tx's cache stores,
// the SDK's gas metering, the message router a DeliverTx goes through; the
// ante handler's signature check is per tx and not measured), ends the block
// (its EndBlock pays every task the votes decided: max_settlements_per_block
// is 1,000 here), then finalizes and commits the next, empty block, which
// commits the vote's block's writes; it reports the three apart. "pending":
// the votes leave their tasks pending; "completing": each completes its task
// (two votes came before).
// Profile it with
//
//	go test -run '^$' -bench DeliverSubmitResults -benchtime 5x -cpuprofile /tmp/deliver.prof ./app/
func BenchmarkDeliverSubmitResults(b *testing.B) {
	for _, tc := range []struct {
		name      string
		prevoters int
	}{{"pending", 0}, {"completing", 2}} {
		b.Run(tc.name, func(b *testing.B) {
			e := newVoteBench(b)
			var deliver, endBlock, next time.Duration
			var gas uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ids := e.tasks(b, e.ops[1:1+tc.prevoters]...)
				msg := votesOn(e.ops[0], ids)
				// as FinalizeBlock delivers a tx and ends its block: the
				// block's state in a cache store over the committed IAVL
				// stores, the tx's in a cache over it (written through on
				// success), EndBlock on the block's
				ctx := e.chain.Context()
				blockStore := ctx.MultiStore().CacheMultiStore()
				blockCtx := ctx.WithMultiStore(blockStore)
				txStore := blockStore.CacheMultiStore()
				txCtx := ctx.WithMultiStore(txStore).WithGasMeter(storetypes.NewGasMeter(1 << 40))
				handler := e.chain.App.MsgServiceRouter().Handler(msg)
				b.StartTimer()

				t0 := time.Now()
				_, err := handler(txCtx, msg)
				require.NoError(b, err)
				txStore.Write()
				t1 := time.Now()
				_, err = e.chain.App.EndBlocker(blockCtx)
				require.NoError(b, err)
				blockStore.Write()
				t2 := time.Now()
				e.chain.NextBlock(b)
				deliver, endBlock, next = deliver+t1.Sub(t0), endBlock+t2.Sub(t1), next+time.Since(t2)
				gas += txCtx.GasMeter().GasConsumed()
			}
			b.ReportMetric(float64(deliver.Microseconds())/float64(b.N)/1000, "ms-deliver/op")
			b.ReportMetric(float64(endBlock.Microseconds())/float64(b.N)/1000, "ms-endblock/op")
			b.ReportMetric(float64(next.Microseconds())/float64(b.N)/1000, "ms-nextblock/op")
			b.ReportMetric(float64(gas)/float64(b.N), "gas/op")
		})
	}
}
