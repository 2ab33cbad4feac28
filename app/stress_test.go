package app_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/apptest"
	"github.com/avschain/avschain/testutil/avstest"
	avskeeper "github.com/avschain/avschain/x/avs/keeper"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// The stress scenario of issue #13 (security review C-1, C-2, H-6): on the
// real app, stressTasks tasks share one deadline on a service whose snapshot
// holds stressOperators operators, none of which votes; the service's handler
// (avs-handler under a handler_gas_limit it cannot store a result within)
// burns its whole gas limit at every expiry; and stressUnbonding unbonding
// entries mature in that same block. The block hooks' budgets spread the
// work: max_settlements_per_block (500) tasks and as many liveness reviews
// per block, max_hook_gas_per_block (20M) of handler gas, and
// max_releases_per_block (500) releases.
const (
	stressTasks      = 10_000
	stressOperators  = 200
	stressUnbonding  = 1_000
	stressTimeout    = 20
	stressHandlerGas = 40_000
)

type stressEnv struct {
	chain    *apptest.Chain
	service  uint64
	deadline int64
	tasks    []uint64
	params   avstypes.Params
}

func newStressEnv(t testing.TB) *stressEnv {
	chain := apptest.Setup(t, nil)
	k := chain.App.AVSKeeper
	avs := avskeeper.NewMsgServerImpl(k)
	ctx := chain.Context()
	acct := chain.Account.String()

	params, err := k.Params.Get(ctx)
	require.NoError(t, err)
	params.MaxSnapshotOperators = stressOperators
	params.HandlerGasLimit = stressHandlerGas
	// this block's time is the last block's; the deadline block comes
	// stressTimeout+1 seconds after it: the entries mature in that block
	params.UnbondingTime = (stressTimeout + 1) * time.Second
	require.NoError(t, k.Params.Set(ctx, params))

	st, err := avs.StoreComponent(ctx, &avstypes.MsgStoreComponent{Sender: acct, Wasm: avstest.Module(true, avstest.WASI)})
	require.NoError(t, err)
	contractKeeper := wasmkeeper.NewDefaultPermissionKeeper(chain.App.WasmKeeper)
	codeID, _, err := contractKeeper.Create(ctx, chain.Account, contracts.HandlerWasm(), nil)
	require.NoError(t, err)
	handler, _, err := contractKeeper.Instantiate(ctx, codeID, chain.Account, nil, []byte(`{}`), "stress", nil)
	require.NoError(t, err)

	m := avstypes.ServiceManifest{
		Name: "stress", ComponentDigest: st.Digest,
		Limits:          avstypes.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: 64},
		Quorum:          avstypes.Quorum{Threshold: sdkmath.LegacyMustNewDecFromStr("0.51")},
		Admission:       avstypes.ADMISSION_ALLOWLIST, // EQUAL weighting among listed operators (H-6)
		Aggregation:     avstypes.Aggregation{Mode: avstypes.AGGREGATION_MODE_EXACT},
		FeePerTask:      sdk.NewInt64Coin(app.BondDenom, 10),
		HandlerContract: handler.String(),
		TaskTimeout:     stressTimeout,
	}
	svc, err := avs.CreateService(ctx, &avstypes.MsgCreateService{Owner: acct, Manifest: m})
	require.NoError(t, err)
	deposit := params.HandlerGasPrice.MulInt64(stressHandlerGas).Ceil().TruncateInt64()
	_, err = avs.FundService(ctx, &avstypes.MsgFundService{Funder: acct, ServiceId: svc.ServiceId,
		Amount: sdk.NewInt64Coin(app.BondDenom, deposit*stressTasks)})
	require.NoError(t, err)
	var first string
	for i := 0; i < stressOperators; i++ {
		op := sdk.AccAddress(fmt.Appendf(nil, "stress-op-%010d", i)).String()
		_, err := avs.RegisterOperator(ctx, &avstypes.MsgRegisterOperator{Operator: op, Moniker: fmt.Sprintf("op%d", i)})
		require.NoError(t, err)
		_, err = avs.UpdateAllowlist(ctx, &avstypes.MsgUpdateAllowlist{Owner: acct, ServiceId: svc.ServiceId, Add: []string{op}})
		require.NoError(t, err)
		_, err = avs.OptIn(ctx, &avstypes.MsgOptIn{Operator: op, ServiceId: svc.ServiceId})
		require.NoError(t, err)
		if first == "" {
			first = op
		}
	}
	// stressUnbonding entries, all begun (and so maturing) in this block
	_, err = avs.Commit(ctx, &avstypes.MsgCommit{Committer: acct, Operator: first, ServiceId: svc.ServiceId,
		Amount: sdk.NewInt64Coin(app.BondDenom, 10*stressUnbonding)})
	require.NoError(t, err)
	for i := 0; i < stressUnbonding; i++ {
		_, err := avs.Uncommit(ctx, &avstypes.MsgUncommit{Committer: acct, Operator: first, ServiceId: svc.ServiceId,
			Amount: sdk.NewInt64Coin(app.BondDenom, 1)})
		require.NoError(t, err)
	}
	e := &stressEnv{chain: chain, service: svc.ServiceId, params: params}
	for i := 0; i < stressTasks; i++ {
		res, err := avs.CreateTask(ctx, &avstypes.MsgCreateTask{Creator: acct, ServiceId: svc.ServiceId,
			Input: []byte("4"), Fee: m.FeePerTask})
		require.NoError(t, err)
		e.tasks = append(e.tasks, res.TaskId)
		e.deadline = res.DeadlineHeight
	}
	chain.NextBlock(t) // commits the setup
	return e
}

// stressBlock is what one block's hooks did.
type stressBlock struct {
	height                     int64
	elapsed                    time.Duration
	expired, handled, released int
	handlerGas                 uint64
}

// run finalizes blocks until every task is settled and every unbonding entry
// released, checking the module balance after each; at most maxBlocks.
func (e *stressEnv) run(t testing.TB, maxBlocks int) []stressBlock {
	var blocks []stressBlock
	for len(blocks) < maxBlocks {
		start := time.Now()
		res := e.chain.NextBlock(t)
		b := stressBlock{height: e.chain.App.LastBlockHeight(), elapsed: time.Since(start)}
		for _, ev := range res.Events {
			switch ev.Type {
			case "avschain.avs.v1.EventTaskExpired":
				b.expired++
			case "avschain.avs.v1.EventHandlerFailed", "avschain.avs.v1.EventHandlerCalled":
				b.handled++
				b.handlerGas += gasUsed(t, ev)
			case "avschain.avs.v1.EventUnbondingMatured":
				b.released++
			}
		}
		ctx := e.chain.Context()
		require.NoError(t, e.chain.App.AVSKeeper.CheckModuleBalance(ctx), "height %d", b.height)
		if b.height >= e.deadline {
			blocks = append(blocks, b)
		}
		if e.done(t) {
			return blocks
		}
	}
	t.Fatalf("not settled after %d blocks past the deadline", maxBlocks)
	return nil
}

// gasUsed reads a typed event's gas_used (JSON: a quoted uint64).
func gasUsed(t testing.TB, ev abci.Event) uint64 {
	for _, a := range ev.Attributes {
		if a.Key == "gas_used" {
			n, err := strconv.ParseUint(strings.Trim(a.Value, `"`), 10, 64)
			require.NoError(t, err, "gas_used %q", a.Value)
			return n
		}
	}
	return 0
}

func (e *stressEnv) done(t testing.TB) bool {
	ctx := e.chain.Context()
	k := e.chain.App.AVSKeeper
	due, err := k.TasksByDeadline.Iterate(ctx, nil)
	require.NoError(t, err)
	defer due.Close()
	unbonding, err := k.Unbonding.Iterate(ctx, nil)
	require.NoError(t, err)
	defer unbonding.Close()
	reviews, err := k.LivenessReviews.Iterate(ctx, nil)
	require.NoError(t, err)
	defer reviews.Close()
	return !due.Valid() && !unbonding.Valid() && !reviews.Valid()
}

// TestStressBlockHooksStayWithinBudgets runs the scenario: every block does
// at most its budgets' work, everything settles within the blocks the
// budgets imply, each task exactly once, and the module balance holds after
// every block. Times are reported by BenchmarkStressBlocks, not asserted.
func TestStressBlockHooksStayWithinBudgets(t *testing.T) {
	e := newStressEnv(t)
	p := e.params
	// 10,000 tasks at 500 a block, and the 200-operator review in the last
	// one's block or the next: 20 or 21 blocks from the deadline.
	wantBlocks := (stressTasks+int(p.MaxSettlementsPerBlock)-1)/int(p.MaxSettlementsPerBlock) + 1
	blocks := e.run(t, wantBlocks)
	expired, released := 0, 0
	for _, b := range blocks {
		t.Logf("height %d: %d expired, %d handler calls (%d gas), %d released", b.height, b.expired, b.handled, b.handlerGas, b.released)
		require.Equal(t, uint64(b.handled)*p.HandlerGasLimit, b.handlerGas, "height %d: each handler call burned its whole limit", b.height)
		require.LessOrEqual(t, b.expired, int(p.MaxSettlementsPerBlock), "height %d", b.height)
		require.LessOrEqual(t, b.released, int(p.MaxReleasesPerBlock), "height %d", b.height)
		require.LessOrEqual(t, b.handlerGas, p.MaxHookGasPerBlock, "height %d", b.height)
		require.Equal(t, b.expired, b.handled, "height %d: every expiry told its handler", b.height)
		expired += b.expired
		released += b.released
	}
	require.Equal(t, stressTasks, expired, "every task expired exactly once")
	require.Equal(t, stressUnbonding, released, "every entry released exactly once")
	require.Equal(t, int(p.MaxReleasesPerBlock), blocks[0].released, "the releases start in the deadline block")
	ctx := e.chain.Context()
	for _, id := range []uint64{e.tasks[0], e.tasks[stressTasks/2], e.tasks[stressTasks-1]} {
		task, err := e.chain.App.AVSKeeper.Tasks.Get(ctx, id)
		require.NoError(t, err)
		require.True(t, task.Settled)
		require.Equal(t, avstypes.TASK_STATUS_EXPIRED, task.Status)
	}
	op, err := e.chain.App.AVSKeeper.Liveness.Get(ctx, collections.Join(e.service, sdk.AccAddress(fmt.Appendf(nil, "stress-op-%010d", 7)).String()))
	require.NoError(t, err)
	require.Equal(t, uint64(stressTasks), op.Missed, "each operator's misses counted once, by the epoch's review")
}

// BenchmarkStressBlocks reports the time of the deadline block and of the
// slowest block of the stress scenario, and how many blocks it takes.
func BenchmarkStressBlocks(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newStressEnv(b)
		b.StartTimer()
		blocks := e.run(b, 100)
		b.StopTimer()
		times := make([]time.Duration, len(blocks))
		for j, bl := range blocks {
			times[j] = bl.elapsed
		}
		sort.Slice(times, func(x, y int) bool { return times[x] < times[y] })
		b.ReportMetric(float64(blocks[0].elapsed.Milliseconds()), "ms/deadline-block")
		b.ReportMetric(float64(times[len(times)-1].Milliseconds()), "ms/max-block")
		b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "ms/median-block")
		b.ReportMetric(float64(len(blocks)), "blocks")
	}
}
