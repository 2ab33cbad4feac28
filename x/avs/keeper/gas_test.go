package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/log"
	storetypes "cosmossdk.io/store/types"

	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktestutil "github.com/cosmos/cosmos-sdk/x/bank/testutil"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// The gas figures of the x/avs README come from these benchmarks. Unlike the
// suite they run on the real x/auth and x/bank keepers, so that the fee escrow
// and the payouts cost what they cost on chain. Only the msg server is
// measured: a transaction adds the ante handler's (signature, tx size) on top.

// gasEnv is x/avs wired to real auth and bank keepers, with an EXACT service
// (threshold 0.6: 3 of its 4 operators complete a task) and a funded creator.
type gasEnv struct {
	tb        testing.TB
	ctx       sdk.Context
	msgServer types.MsgServer
	service   uint64
	ops       []string
	creator   string
	keeper    keeper.Keeper
	bank      bankkeeper.BaseKeeper
}

func newGasEnv(tb testing.TB) *gasEnv { return newGasEnvWith(tb, nil) }

// newGasEnvWith is newGasEnv with the service's manifest edited.
func newGasEnvWith(tb testing.TB, edit func(*types.ServiceManifest)) *gasEnv {
	keys := storetypes.NewKVStoreKeys(authtypes.StoreKey, banktypes.StoreKey, types.StoreKey)
	ctx := testutil.DefaultContextWithKeys(keys, nil, nil).WithBlockHeight(gasHeight)
	cdc := moduletestutil.MakeTestEncodingConfig(auth.AppModuleBasic{}, bank.AppModuleBasic{}, avs.AppModuleBasic{}).Codec
	authority := addrOf(authtypes.NewModuleAddress("gov"))
	ak := authkeeper.NewAccountKeeper(cdc, runtime.NewKVStoreService(keys[authtypes.StoreKey]), authtypes.ProtoBaseAccount,
		map[string][]string{minttypes.ModuleName: {authtypes.Minter}, types.ModuleName: nil}, bech32, "avs", authority)
	bk := bankkeeper.NewBaseKeeper(cdc, runtime.NewKVStoreService(keys[banktypes.StoreKey]), ak, nil, authority, log.NewNopLogger())
	require.NoError(tb, bk.SetParams(ctx, banktypes.DefaultParams()))
	k := keeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[types.StoreKey]), bech32, bk, authority)
	require.NoError(tb, k.InitGenesis(ctx, types.DefaultGenesis()))
	e := &gasEnv{tb: tb, ctx: ctx, msgServer: keeper.NewMsgServerImpl(k), creator: addr("creator"), keeper: k, bank: bk}

	// the creator and the operators have accounts, as signers of earlier txs do
	require.NoError(tb, banktestutil.FundAccount(ctx, bk, acc("creator"), sdk.NewCoins(sdk.NewInt64Coin(denom, creatorFunds))))
	st, err := e.msgServer.StoreComponent(ctx, &types.MsgStoreComponent{Sender: addr("owner"), Wasm: validWasm()})
	require.NoError(tb, err)
	m := defaultManifest(st.Digest)
	m.Quorum.Threshold = dec("0.6")
	if edit != nil {
		edit(&m)
	}
	svc, err := e.msgServer.CreateService(ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	require.NoError(tb, err)
	e.service = svc.ServiceId
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("op%d", i)
		require.NoError(tb, banktestutil.FundAccount(ctx, bk, acc(name), sdk.NewCoins(sdk.NewInt64Coin(denom, 1))))
		_, err := e.msgServer.RegisterOperator(ctx, &types.MsgRegisterOperator{Operator: addr(name), Moniker: name})
		require.NoError(tb, err)
		_, err = e.msgServer.UpdateAllowlist(ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: e.service, Add: []string{addr(name)}})
		require.NoError(tb, err)
		_, err = e.msgServer.OptIn(ctx, &types.MsgOptIn{Operator: addr(name), ServiceId: e.service})
		require.NoError(tb, err)
		e.ops = append(e.ops, addr(name))
	}
	return e
}

func (e *gasEnv) createTaskMsg() *types.MsgCreateTask {
	return &types.MsgCreateTask{Creator: e.creator, ServiceId: e.service, Input: []byte("input"), Fee: sdk.NewInt64Coin(denom, defaultFee)}
}

// tasks opens n tasks; if prevoted, op2 and op3 vote "A" on each, so that
// one more "A" completes it.
func (e *gasEnv) tasks(n int, prevoted bool) []uint64 {
	ids := make([]uint64, n)
	for i := range ids {
		res, err := e.msgServer.CreateTask(e.ctx, e.createTaskMsg())
		require.NoError(e.tb, err)
		ids[i] = res.TaskId
	}
	if prevoted {
		for _, op := range e.ops[1:3] {
			_, err := e.msgServer.SubmitResults(e.ctx, votes(op, ids))
			require.NoError(e.tb, err)
		}
	}
	return ids
}

func votes(op string, ids []uint64) *types.MsgSubmitResults {
	msg := &types.MsgSubmitResults{Operator: op}
	for _, id := range ids {
		msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Result: []byte("A")})
	}
	return msg
}

// metered returns the context with a fresh gas meter and the SDK's default
// KV and transient gas costs, as a DeliverTx context has.
func (e *gasEnv) metered() sdk.Context { return e.meteredFrom(e.ctx) }

// meteredFrom is metered for another context of the same stores.
func (e *gasEnv) meteredFrom(ctx sdk.Context) sdk.Context {
	return ctx.WithGasMeter(storetypes.NewGasMeter(1 << 40)).
		WithKVGasConfig(storetypes.KVGasConfig()).
		WithTransientKVGasConfig(storetypes.TransientGasConfig())
}

// createTaskGas is the gas of one MsgCreateTask; the epoch's first task also
// takes the service's power snapshot. A task of the epoch before is created
// first either way, so that the module account exists, as on a live chain.
func createTaskGas(tb testing.TB, firstOfEpoch bool) uint64 {
	e := newGasEnv(tb)
	e.tasks(1, false)
	ctx := e.metered()
	if firstOfEpoch {
		ctx = ctx.WithBlockHeight(ctx.BlockHeight() + int64(types.DefaultEpochLength))
	}
	_, err := e.msgServer.CreateTask(ctx, e.createTaskMsg())
	require.NoError(tb, err)
	return ctx.GasMeter().GasConsumed()
}

// createTaskGasAhead is the gas of the epoch's first MsgCreateTask when the
// epoch before had a task, so that its last block took the snapshot ahead
// (TakeNextSnapshots): no surcharge.
func createTaskGasAhead(tb testing.TB) uint64 {
	e := newGasEnv(tb)
	e.tasks(1, false)
	l := int64(types.DefaultEpochLength)
	first := (e.ctx.BlockHeight()/l + 1) * l
	require.NoError(tb, e.keeper.EndBlocker(e.ctx.WithBlockHeight(first-1)))
	ctx := e.metered().WithBlockHeight(first)
	_, err := e.msgServer.CreateTask(ctx, e.createTaskMsg())
	require.NoError(tb, err)
	return ctx.GasMeter().GasConsumed()
}

// createTasksGas is the gas of one MsgCreateTasks of n inputs, later in the
// epoch.
func createTasksGas(tb testing.TB, n int) uint64 {
	e := newGasEnv(tb)
	e.tasks(1, false)
	msg := &types.MsgCreateTasks{Creator: e.creator, ServiceId: e.service, FeePerTask: sdk.NewInt64Coin(denom, defaultFee)}
	for i := range n {
		msg.Inputs = append(msg.Inputs, fmt.Appendf(nil, "in%03d", i))
	}
	ctx := e.metered()
	res, err := e.msgServer.CreateTasks(ctx, msg)
	require.NoError(tb, err)
	require.Len(tb, res.TaskIds, n)
	return ctx.GasMeter().GasConsumed()
}

// submitGas is the gas of one MsgSubmitResults from op1 carrying n votes on
// n distinct pending tasks; each vote completes its task if completing.
func submitGas(tb testing.TB, n int, completing bool) uint64 {
	e := newGasEnv(tb)
	ids := e.tasks(n, completing)
	ctx := e.metered()
	res, err := e.msgServer.SubmitResults(ctx, votes(e.ops[0], ids))
	require.NoError(tb, err)
	want := types.TASK_STATUS_PENDING
	if completing {
		want = types.TASK_STATUS_COMPLETED
	}
	for _, o := range res.Outcomes {
		require.True(tb, o.Accepted, o.Error)
		require.Equal(tb, want, o.TaskStatus)
	}
	return ctx.GasMeter().GasConsumed()
}

func BenchmarkCreateTaskGas(b *testing.B) {
	for _, first := range []bool{true, false} {
		name := "later_in_epoch"
		if first {
			name = "first_of_epoch"
		}
		b.Run(name, func(b *testing.B) {
			var gas uint64
			for i := 0; i < b.N; i++ {
				gas = createTaskGas(b, first)
			}
			b.ReportMetric(float64(gas), "gas/op")
		})
	}
}

// BenchmarkCreateTasksGas reports the gas of a MsgCreateTasks of N inputs and
// the marginal gas per task, (gas(N) - gas(1)) / (N - 1).
func BenchmarkCreateTasksGas(b *testing.B) {
	var one uint64
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("inputs=%d", n), func(b *testing.B) {
			var gas uint64
			for i := 0; i < b.N; i++ {
				gas = createTasksGas(b, n)
			}
			b.ReportMetric(float64(gas), "gas/op")
			if n == 1 {
				one = gas
			} else if one > 0 {
				b.ReportMetric(float64(gas-one)/float64(n-1), "gas/task")
			}
		})
	}
}

// BenchmarkSubmitResultsGas reports the gas of a batch of N votes and the
// marginal gas per vote, (gas(N) - gas(1)) / (N - 1).
func BenchmarkSubmitResultsGas(b *testing.B) {
	for _, completing := range []bool{false, true} {
		kind := "pending"
		if completing {
			kind = "completing"
		}
		var one uint64
		for _, n := range []int{1, 10, 50} {
			b.Run(fmt.Sprintf("%s/votes=%d", kind, n), func(b *testing.B) {
				var gas uint64
				for i := 0; i < b.N; i++ {
					gas = submitGas(b, n, completing)
				}
				b.ReportMetric(float64(gas), "gas/op")
				if n == 1 {
					one = gas
				} else if one > 0 {
					b.ReportMetric(float64(gas-one)/float64(n-1), "gas/vote")
				}
			})
		}
	}
}

// crGas is the gas of one MsgSubmitResults from op1 on n distinct pending
// COMMIT_REVEAL tasks: commits (op1 commits first), closing commits (op2 and
// op3 committed before: op1's closes each phase), pending reveals (op1
// reveals first) or completing reveals (op2 and op3 revealed before).
func crGas(tb testing.TB, n int, stage string) uint64 {
	e := newGasEnvWith(tb, func(m *types.ServiceManifest) {
		m.VoteMode = types.VOTE_MODE_COMMIT_REVEAL
		m.CommitBlocks = 3
		m.TaskTimeout = 10
	})
	ids := e.tasks(n, false)
	entries := func(op string, reveal bool) *types.MsgSubmitResults {
		msg := &types.MsgSubmitResults{Operator: op}
		for _, id := range ids {
			s := salt(op)
			if reveal {
				msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Result: []byte("A"), Salt: s})
			} else {
				c := types.VoteCommitment(e.ctx.ChainID(), id, op, []byte("A"), 0, s)
				msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Commitment: c})
			}
		}
		return msg
	}
	send := func(ctx sdk.Context, msg *types.MsgSubmitResults, want types.TaskStatus) {
		res, err := e.msgServer.SubmitResults(ctx, msg)
		require.NoError(tb, err)
		for _, o := range res.Outcomes {
			require.True(tb, o.Accepted, o.Error)
			require.Equal(tb, want, o.TaskStatus)
		}
	}
	e.ctx = e.ctx.WithBlockHeight(e.ctx.BlockHeight() + 1)
	if stage != "commit" {
		send(e.ctx, entries(e.ops[1], false), types.TASK_STATUS_PENDING)
		send(e.ctx, entries(e.ops[2], false), types.TASK_STATUS_PENDING)
	}
	if stage == "reveal" || stage == "completing reveal" {
		send(e.ctx, entries(e.ops[0], false), types.TASK_STATUS_PENDING)
		e.ctx = e.ctx.WithBlockHeight(e.ctx.BlockHeight() + 1)
	}
	want := types.TASK_STATUS_PENDING
	if stage == "completing reveal" {
		send(e.ctx, entries(e.ops[1], true), types.TASK_STATUS_PENDING)
		send(e.ctx, entries(e.ops[2], true), types.TASK_STATUS_PENDING)
		want = types.TASK_STATUS_COMPLETED
	}
	ctx := e.metered()
	send(ctx, entries(e.ops[0], stage == "reveal" || stage == "completing reveal"), want)
	return ctx.GasMeter().GasConsumed()
}

// TestCommitRevealGasFigures pins the commit-reveal figures of the x/avs
// README (section Figures).
func TestCommitRevealGasFigures(t *testing.T) {
	got := map[string]uint64{}
	for _, stage := range []string{"commit", "closing commit", "reveal", "completing reveal"} {
		got["1 "+stage] = crGas(t, 1, stage)
		got["10 "+stage+"s"] = crGas(t, 10, stage)
	}
	want := map[string]uint64{
		"1 commit":              21617,
		"10 commits":            160379,
		"1 closing commit":      21803,
		"10 closing commits":    162239,
		"1 reveal":              22870,
		"10 reveals":            134380,
		"1 completing reveal":   37410,
		"10 completing reveals": 279780,
	}
	require.Equal(t, want, got, "update x/avs/README.md (Figures) with the new figures")
}

// TestGasFigures pins the figures of the x/avs README (section Figures): a
// change of what x/avs reads or writes changes one of them, and the README
// is then updated with the test.
func TestGasFigures(t *testing.T) {
	one, ten := submitGas(t, 1, false), submitGas(t, 10, false)
	oneC, tenC := submitGas(t, 1, true), submitGas(t, 10, true)
	got := map[string]uint64{
		"create task, later in the epoch":                       createTaskGas(t, false),
		"create task, first of the epoch":                       createTaskGas(t, true),
		"create task, first of the epoch, snapshot taken ahead": createTaskGasAhead(t),
		"create 1 task in a batch":                              createTasksGas(t, 1),
		"create 100 tasks in a batch":                           createTasksGas(t, 100),
		"1 pending vote":                                        one,
		"10 pending votes":                                      ten,
		"1 completing vote":                                     oneC,
		"10 completing votes":                                   tenC,
		"end of block: pay 1 task":                              payoutGas(t, 1),
		"end of block: pay 10 tasks":                            payoutGas(t, 10),
	}
	want := map[string]uint64{
		"create task, later in the epoch":                       44531,
		"create task, first of the epoch":                       69656,
		"create task, first of the epoch, snapshot taken ahead": 44519,
		"create 1 task in a batch":                              44531,
		"create 100 tasks in a batch":                           1481774,
		"1 pending vote":                                        20453,
		"10 pending votes":                                      110426,
		"1 completing vote":                                     34465,
		"10 completing votes":                                   250546,
		"end of block: pay 1 task":                              28129,
		"end of block: pay 10 tasks":                            281656,
	}
	require.Equal(t, want, got, "update x/avs/README.md (Figures) with the new figures")
	require.LessOrEqual(t, (ten-one)/9, uint64(10_000), "a pending vote in a batch")
	require.LessOrEqual(t, (tenC-oneC)/9, uint64(25_000), "a completing vote in a batch")
	require.LessOrEqual(t, got["create task, first of the epoch, snapshot taken ahead"], got["create task, later in the epoch"], "no surcharge once the snapshot is taken ahead")
	require.LessOrEqual(t, got["create 100 tasks in a batch"]/100, uint64(25_000), "a task created in a batch")
}

// payoutGas is the store gas of the end of the block that pays n tasks
// completed in it (3 backers each): no transaction pays it (PayDecided).
func payoutGas(tb testing.TB, n int) uint64 {
	e := newGasEnv(tb)
	ids := e.tasks(n, true)
	_, err := e.msgServer.SubmitResults(e.ctx, votes(e.ops[0], ids))
	require.NoError(tb, err)
	params, err := e.keeper.Params.Get(e.ctx)
	require.NoError(tb, err)
	ctx := e.metered()
	require.NoError(tb, e.keeper.PayDecided(ctx, params))
	for _, id := range ids {
		unpaid, err := e.keeper.UnpaidTasks.Has(ctx, id)
		require.NoError(tb, err)
		require.False(tb, unpaid)
	}
	return ctx.GasMeter().GasConsumed()
}

// BenchmarkPayoutGas reports the store gas of paying n decided tasks at the
// end of the block, and per task.
func BenchmarkPayoutGas(b *testing.B) {
	var one uint64
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			var gas uint64
			for i := 0; i < b.N; i++ {
				gas = payoutGas(b, n)
			}
			b.ReportMetric(float64(gas), "gas/op")
			if n == 1 {
				one = gas
			} else if one > 0 {
				b.ReportMetric(float64(gas-one)/float64(n-1), "gas/task")
			}
		})
	}
}

// eventVoteGas is the gas of one event-trigger vote (task_id 0 and an
// EventRef with a 300-byte input, as the sidecar builds for a contract event):
// the first vote on the event opens its treasury-paid task, a later one joins it.
func eventVoteGas(tb testing.TB, opening bool) uint64 {
	e := newGasEnv(tb)
	m := defaultManifest(mustServiceDigest(tb, e))
	m.Quorum.Threshold = dec("0.6")
	m.Triggers = []types.Trigger{{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: "wasm-avs_announce"}}}}
	_, err := e.msgServer.UpdateService(e.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: e.service, Manifest: m})
	require.NoError(tb, err)
	_, err = e.msgServer.FundService(e.ctx, &types.MsgFundService{Funder: e.creator, ServiceId: e.service, Amount: sdk.NewInt64Coin(denom, 10*defaultFee)})
	require.NoError(tb, err)
	e.ctx = e.ctx.WithBlockHeight(e.ctx.BlockHeight() + 2)
	ref := types.EventRef{
		ServiceId: e.service, Height: e.ctx.BlockHeight() - 1, TxHash: fmt.Sprintf("%064X", 7), EventIndex: 6,
		Input: []byte(fmt.Sprintf(`{"trigger":"event","service_id":1,"height":11,"tx_hash":"%064X","event_index":6,"event":{"type":"wasm-avs_announce","attributes":[{"key":"_contract_address","value":"%s"},{"key":"service_id","value":"1"},{"key":"sender","value":"%s"},{"key":"data","value":"7"}]}}`, 7, addr("contract"), addr("bob"))),
	}
	vote := func(op string) *types.MsgSubmitResults {
		return &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{{Result: []byte("A"), Event: &ref}}}
	}
	if !opening {
		_, err := e.msgServer.SubmitResults(e.ctx, vote(e.ops[1]))
		require.NoError(tb, err)
	}
	ctx := e.metered()
	res, err := e.msgServer.SubmitResults(ctx, vote(e.ops[0]))
	require.NoError(tb, err)
	require.True(tb, res.Outcomes[0].Accepted, res.Outcomes[0].Error)
	return ctx.GasMeter().GasConsumed()
}

func mustServiceDigest(tb testing.TB, e *gasEnv) string {
	st, err := e.msgServer.StoreComponent(e.ctx, &types.MsgStoreComponent{Sender: addr("owner"), Wasm: validWasm()})
	require.NoError(tb, err)
	return st.Digest
}

// BenchmarkEventVoteGas reports the gas of an event-trigger vote that opens
// its task and of one that joins it.
func BenchmarkEventVoteGas(b *testing.B) {
	for _, opening := range []bool{true, false} {
		name := "joining"
		if opening {
			name = "opening"
		}
		b.Run(name, func(b *testing.B) {
			var gas uint64
			for i := 0; i < b.N; i++ {
				gas = eventVoteGas(b, opening)
			}
			b.ReportMetric(float64(gas), "gas/op")
		})
	}
}

func TestEventVoteGas(t *testing.T) {
	open, join := eventVoteGas(t, true), eventVoteGas(t, false)
	require.Equal(t, []uint64{107389, 51574}, []uint64{open, join}, "update x/avs/README.md (Figures) with the new figures")
}

// gasHeight is the height the gas figures are measured at: a chain's
// heights are millions, and a vote records its height (a varint: 3 bytes
// here, 1 at height 10).
const gasHeight = 1_500_000
