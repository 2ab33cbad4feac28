package app_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	wasmtestdata "github.com/CosmWasm/wasmd/x/wasm/keeper/testdata"
	wasmtypes "github.com/CosmWasm/wasmd/x/wasm/types"
	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/header"
	sdkmath "cosmossdk.io/math"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	icahostkeeper "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/keeper"
	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/testutil/apptest"
	"github.com/avschain/avschain/testutil/avstest"
	avskeeper "github.com/avschain/avschain/x/avs/keeper"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// TestExportImportRoundTrip boots the app, runs blocks that store a contract and
// change x/avs params through the gov authority, exports genesis, and boots a
// second app from that export: it must run blocks and export the same state.
func TestExportImportRoundTrip(t *testing.T) {
	genesisParams := avstypes.DefaultParams()
	genesisParams.EpochLength = 7
	chain := apptest.Setup(t, func(cdc codec.Codec, gs app.GenesisState) {
		avsGenesis := avstypes.DefaultGenesis()
		avsGenesis.Params = genesisParams
		gs[avstypes.ModuleName] = cdc.MustMarshalJSON(avsGenesis)
	})
	a := chain.App
	for i := 0; i < 3; i++ {
		chain.NextBlock(t)
	}

	ctx := chain.Context()
	got, err := a.AVSKeeper.Params.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, genesisParams, got, "genesis params must be imported")

	codeID, checksum, err := wasmkeeper.NewDefaultPermissionKeeper(a.WasmKeeper).Create(ctx, chain.Account, wasmtestdata.HackatomContractWasm(), nil)
	require.NoError(t, err)
	updated := genesisParams
	updated.MaxInputSize = 1234
	_, err = avskeeper.NewMsgServerImpl(a.AVSKeeper).UpdateParams(ctx, &avstypes.MsgUpdateParams{
		Authority: authtypes.NewModuleAddress(govtypes.ModuleName).String(),
		Params:    updated,
	})
	require.NoError(t, err)
	icaParams := icahosttypes.NewParams(true, []string{"/cosmos.bank.v1beta1.MsgSend"})
	_, err = icahostkeeper.NewMsgServerImpl(&a.ICAHostKeeper).UpdateParams(ctx, &icahosttypes.MsgUpdateParams{
		Signer: authtypes.NewModuleAddress(govtypes.ModuleName).String(),
		Params: icaParams,
	})
	require.NoError(t, err)
	chain.NextBlock(t)
	chain.NextBlock(t)
	require.EqualValues(t, 6, a.LastBlockHeight())

	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	require.NotEmpty(t, exported.Validators)

	// A second app, on an empty database, starts from the export.
	db2 := dbm.NewMemDB()
	b := apptest.NewApp(t, db2)
	_, err = b.InitChain(&abci.RequestInitChain{
		ChainId:         apptest.ChainID,
		Time:            chain.Time,
		ConsensusParams: &exported.ConsensusParams,
		InitialHeight:   exported.Height,
		AppStateBytes:   exported.AppState,
	})
	require.NoError(t, err)
	_, err = b.FinalizeBlock(&abci.RequestFinalizeBlock{Height: exported.Height, Time: chain.Time.Add(1e9), NextValidatorsHash: chain.ValSet.Hash()})
	require.NoError(t, err)
	_, err = b.Commit()
	require.NoError(t, err)

	ctxB := b.NewContext(true)
	gotB, err := b.AVSKeeper.Params.Get(ctxB)
	require.NoError(t, err)
	require.Equal(t, updated, gotB, "x/avs params must survive the round trip")
	require.Equal(t, icaParams, b.ICAHostKeeper.GetParams(ctxB), "ICA host params must survive the round trip")
	require.True(t, icaPortBound(b, ctxB), "the imported chain binds the ICA host port")
	info := b.WasmKeeper.GetCodeInfo(ctxB, codeID)
	require.NotNil(t, info, "stored code must survive the round trip")
	require.Equal(t, checksum, []byte(info.CodeHash))
	code, err := b.WasmKeeper.GetByteCode(ctxB, codeID)
	require.NoError(t, err)
	require.Equal(t, wasmtestdata.HackatomContractWasm(), code)

	reexported, err := b.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var before, after map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &before))
	require.NoError(t, json.Unmarshal(reexported.AppState, &after))
	// Modules whose state does not move with blocks must export byte-identical
	// JSON; mint, distribution, bank, staking and ibc (its localhost client
	// tracks the height) change every block.
	for _, m := range []string{avstypes.ModuleName, wasmtypes.ModuleName, authtypes.ModuleName, govtypes.ModuleName, "transfer", "feegrant", "authz", icatypes.ModuleName} {
		require.JSONEq(t, string(before[m]), string(after[m]), "module %s", m)
	}
}

// TestTxDecodesServiceManifest runs a MsgCreateService with a config through
// the app's own tx encoder and decoder (which rejects unknown fields): every
// manifest field must survive, so the CLI's transactions are accepted.
func TestTxDecodesServiceManifest(t *testing.T) {
	a := apptest.NewApp(t, dbm.NewMemDB())
	msg := &avstypes.MsgCreateService{
		Owner: authtypes.NewModuleAddress("someone").String(),
		Manifest: avstypes.ServiceManifest{
			Name:         "oracle",
			Config:       []avstypes.ConfigEntry{{Key: "PAIR", Value: "ATOM/USD"}, {Key: "SOURCE", Value: "x"}},
			Limits:       avstypes.Limits{TimeMs: 1000, MemoryPages: 64, OutputBytes: 64, HttpAllowList: []string{"example.org"}},
			Quorum:       avstypes.Quorum{Threshold: sdkmath.LegacyMustNewDecFromStr("0.67")},
			MinSelfStake: sdkmath.NewInt(1_000_000),
			Aggregation: avstypes.Aggregation{
				Mode: avstypes.AGGREGATION_MODE_MEDIAN, AllowedSpread: sdkmath.LegacyMustNewDecFromStr("0.01"),
				SlashableSpread: sdkmath.LegacyMustNewDecFromStr("0.05"),
			},
			FeePerTask:    sdk.NewInt64Coin("uavs", 10),
			SlashFraction: sdkmath.LegacyMustNewDecFromStr("0.1"),
		},
	}
	builder := a.TxConfig().NewTxBuilder()
	require.NoError(t, builder.SetMsgs(msg))
	bz, err := a.TxConfig().TxEncoder()(builder.GetTx())
	require.NoError(t, err)
	decoded, err := a.TxConfig().TxDecoder()(bz)
	require.NoError(t, err)
	require.Equal(t, msg, decoded.GetMsgs()[0])
}

// TestBlockedAddrs checks that module accounts cannot receive bank sends, the
// gov account excepted.
func TestBlockedAddrs(t *testing.T) {
	chain := apptest.Setup(t, nil)
	for name := range app.GetMaccPerms() {
		addr := authtypes.NewModuleAddress(name)
		want := name != govtypes.ModuleName
		require.Equal(t, want, chain.App.BankKeeper.BlockedAddr(addr), "module account %s", name)
	}
}

// TestAddressPrefixAndDenom pins the chain's public names.
func TestAddressPrefixAndDenom(t *testing.T) {
	app.SetAddressPrefixes()
	require.Equal(t, "avs", sdk.GetConfig().GetBech32AccountAddrPrefix())
	require.Equal(t, "avsvaloper", sdk.GetConfig().GetBech32ValidatorAddrPrefix())
	a := apptest.NewApp(t, dbm.NewMemDB())
	var staking struct {
		Params struct {
			BondDenom string `json:"bond_denom"`
		} `json:"params"`
	}
	require.NoError(t, json.Unmarshal(a.DefaultGenesis()["staking"], &staking))
	require.Equal(t, "uavs", staking.Params.BondDenom)
}

// TestProtoAnnotations checks every Msg service, x/avs's included, declares its signer.
func TestProtoAnnotations(t *testing.T) {
	_ = apptest.NewApp(t, dbm.NewMemDB())
	r, err := proto.MergedRegistry()
	require.NoError(t, err)
	require.NoError(t, msgservice.ValidateProtoAnnotations(r))
}

// TestUpgradeHandlerMigratesAVS applies the v0.2.0 upgrade plan to a chain
// whose x/avs is at consensus version 1 with version-1 params (no
// max_tasks_per_msg): the handler runs the x/avs migration, the stored module
// version becomes 2 and the params get the new field, nothing else.
func TestUpgradeHandlerMigratesAVS(t *testing.T) {
	chain := apptest.Setup(t, nil)
	a := chain.App
	chain.NextBlock(t)
	ctx := chain.Context()
	ctx = ctx.WithHeaderInfo(header.Info{Height: ctx.BlockHeight(), Time: ctx.BlockTime()}) // as PreBlock has it

	vm, err := a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, vm[avstypes.ModuleName], "a new chain starts at x/avs's current version")
	vm[avstypes.ModuleName] = 1 // as a chain that ran v0.1.0
	require.NoError(t, a.UpgradeKeeper.SetModuleVersionMap(ctx, vm))
	v1 := avstypes.DefaultParams()
	v1.MaxTasksPerMsg = 0
	v1.MaxInputSize = 1234
	require.NoError(t, a.AVSKeeper.Params.Set(ctx, v1))

	plan := upgradetypes.Plan{Name: app.UpgradeName, Height: ctx.BlockHeight()}
	require.NoError(t, a.UpgradeKeeper.ApplyUpgrade(ctx, plan))

	vm, err = a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, vm[avstypes.ModuleName])
	got, err := a.AVSKeeper.Params.Get(ctx)
	require.NoError(t, err)
	want := v1
	want.MaxTasksPerMsg = avstypes.DefaultMaxTasksPerMsg
	require.Equal(t, want, got)
	done, err := a.UpgradeKeeper.GetDoneHeight(ctx, app.UpgradeName)
	require.NoError(t, err)
	require.Equal(t, ctx.BlockHeight(), done)
}

// perBlockCollections are the x/avs collections EndBlock empties: a
// committed state never holds them, so no export can.
var perBlockCollections = map[string]bool{
	"ibc_requests_this_block": true, "auto_tasks": true, "hook_tasks": true,
	"event_tasks_this_block": true, "event_openers_this_block": true,
}

// TestH2GenesisJSONRoundTrip (review H2): a chain whose x/avs holds every
// kind of state (every collection of the keeper's schema but the per-block
// counters) exports its genesis as JSON, a second app starts from that JSON,
// and the two chains, run through the same block, hold the same x/avs store
// byte for byte and export the same x/avs JSON. A zero-height export of the
// same chain succeeds and imports.
func TestH2GenesisJSONRoundTrip(t *testing.T) {
	e := newWasmEnv(t)
	a := e.chain.App
	k := a.AVSKeeper
	populateAVS(t, e)
	var empty, filled []string
	for name, n := range collectionSizes(t, a, e.chain.Context()) {
		switch {
		case perBlockCollections[name] && n > 0:
			filled = append(filled, name)
		case !perBlockCollections[name] && n == 0:
			empty = append(empty, name)
		}
	}
	require.Empty(t, empty, "collections the round trip would not test")
	require.Empty(t, filled, "per-block collections EndBlock did not empty")

	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var appState map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &appState))

	// The JSON carries every record: decoded by the app's codec it is valid,
	// every list is filled, and it encodes back to the same JSON.
	var gs avstypes.GenesisState
	require.NoError(t, a.AppCodec().UnmarshalJSON(appState[avstypes.ModuleName], &gs))
	require.NoError(t, gs.Validate())
	v := reflect.ValueOf(gs)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() == reflect.Slice && f.Name != "CronLast" { // cron_last: no longer exported
			require.Positive(t, v.Field(i).Len(), "genesis field %s is empty", f.Name)
		}
	}
	again, err := a.AppCodec().MarshalJSON(&gs)
	require.NoError(t, err)
	require.Equal(t, compactJSON(t, appState[avstypes.ModuleName]), compactJSON(t, again))

	b := apptest.NewApp(t, dbm.NewMemDB())
	_, err = b.InitChain(&abci.RequestInitChain{
		ChainId:         apptest.ChainID,
		Time:            e.chain.Time,
		ConsensusParams: &exported.ConsensusParams,
		InitialHeight:   exported.Height,
		AppStateBytes:   exported.AppState,
	})
	require.NoError(t, err)
	// An app exports only committed state, so both chains run the next block
	// (x/avs's EndBlock pays an unpaid task, goes on with a liveness review):
	// a record lost or changed in the round trip would make them differ.
	exportedStore := rawAVSStore(t, a, a.NewContext(true))
	e.chain.NextBlock(t)
	require.Equal(t, exported.Height, a.LastBlockHeight())
	require.NotEqual(t, exportedStore, rawAVSStore(t, a, a.NewContext(true)), "the block works on x/avs's state")
	_, err = b.FinalizeBlock(&abci.RequestFinalizeBlock{Height: exported.Height, Time: e.chain.Time, NextValidatorsHash: e.chain.ValSet.Hash()})
	require.NoError(t, err)
	_, err = b.Commit()
	require.NoError(t, err)

	require.Equal(t, rawAVSStore(t, a, a.NewContext(true)), rawAVSStore(t, b, b.NewContext(true)),
		"the imported chain's x/avs store, indexes and tallies included, is the original's")
	require.NoError(t, k.CheckModuleBalance(a.NewContext(true)))
	require.NoError(t, b.AVSKeeper.CheckModuleBalance(b.NewContext(true)))
	fromA, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	fromB, err := b.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var stateA, stateB map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(fromA.AppState, &stateA))
	require.NoError(t, json.Unmarshal(fromB.AppState, &stateB))
	require.Equal(t, string(stateA[avstypes.ModuleName]), string(stateB[avstypes.ModuleName]), "x/avs exports byte-identical JSON")

	// Zero height (review L8): the export succeeds on this state, and a
	// chain starts from it with x/avs's records.
	zero, err := a.ExportAppStateAndValidators(true, nil, nil)
	require.NoError(t, err)
	require.Zero(t, zero.Height)
	c := apptest.NewApp(t, dbm.NewMemDB())
	_, err = c.InitChain(&abci.RequestInitChain{
		ChainId:         apptest.ChainID,
		Time:            e.chain.Time,
		ConsensusParams: &zero.ConsensusParams,
		InitialHeight:   1,
		AppStateBytes:   zero.AppState,
	})
	require.NoError(t, err)
	_, err = c.FinalizeBlock(&abci.RequestFinalizeBlock{Height: 1, Time: e.chain.Time.Add(time.Second), NextValidatorsHash: e.chain.ValSet.Hash()})
	require.NoError(t, err)
	_, err = c.Commit()
	require.NoError(t, err)
	ctxC := c.NewContext(true)
	require.NoError(t, c.AVSKeeper.CheckModuleBalance(ctxC))
	var zeroState map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(zero.AppState, &zeroState))
	var zeroAVS avstypes.GenesisState
	require.NoError(t, c.AppCodec().UnmarshalJSON(zeroState[avstypes.ModuleName], &zeroAVS))
	for _, task := range zeroAVS.Tasks {
		got, err := c.AVSKeeper.Tasks.Get(ctxC, task.Id)
		require.NoError(t, err, "task %d imported", task.Id)
		require.Equal(t, task.Input, got.Input)
	}
	for _, svc := range zeroAVS.Services {
		got, err := c.AVSKeeper.Services.Get(ctxC, svc.Id)
		require.NoError(t, err)
		want, err := svc.Manifest.Marshal()
		require.NoError(t, err)
		have, err := got.Manifest.Marshal()
		require.NoError(t, err)
		require.Equal(t, want, have, "service %d's manifest", svc.Id)
	}
}

// populateAVS fills every x/avs collection of e's chain, through its
// messages and blocks where one chain can: components, services and their
// revisions, operators, opt-ins and the allow-list, tasks pending, completed,
// pruned, event-opened and decided but unpaid, votes and tallies, snapshots,
// a slashed and renewed pool (its generation end), commitments and the
// epoch's pending join, an unbonding entry, the treasury, operator rewards,
// the trigger schedule, the epoch base, liveness counters and a review cut
// short by max_settlements_per_block. The IBC records (a request's packet,
// a remote result, a pushed result) are set through the collections: making
// them over IBC takes a second chain and a relayer (app/ibc_test.go does).
func populateAVS(t *testing.T, e *wasmEnv) {
	t.Helper()
	k := e.chain.App.AVSKeeper
	ctx := e.chain.Context
	owner := e.chain.Account.String()
	op1, op2, bad := e.operators[0], e.operators[1], e.operators[2]
	stake := func(n int64) sdk.Coin { return sdk.NewInt64Coin(app.BondDenom, n) }
	vote := func(op string, r avstypes.TaskResult) uint64 {
		res, err := e.avs.SubmitResults(ctx(), &avstypes.MsgSubmitResults{Operator: op, Results: []avstypes.TaskResult{r}})
		require.NoError(t, err)
		require.True(t, res.Outcomes[0].Accepted, "vote refused: %s", res.Outcomes[0].Error)
		return res.Outcomes[0].TaskId
	}

	// A new epoch_length moves the epoch base (and a short one lets epochs
	// pass within the test); one settlement per block
	// leaves payouts and liveness reviews for later blocks; a short
	// retention prunes tasks within the test.
	params, err := k.Params.Get(ctx())
	require.NoError(t, err)
	params.EpochLength = 10
	params.MaxSettlementsPerBlock = 1
	params.TaskRetentionBlocks = 4
	_, err = e.avs.UpdateParams(ctx(), &avstypes.MsgUpdateParams{Authority: authtypes.NewModuleAddress(govtypes.ModuleName).String(), Params: params})
	require.NoError(t, err)
	e.chain.NextBlock(t)

	m := e.manifest("")
	m.TaskTimeout = 3
	m.SlashFraction = sdkmath.LegacyOneDec() // a slash empties the pool: the next commitment starts a generation
	m.Triggers = []avstypes.Trigger{
		{Kind: &avstypes.Trigger_BlockInterval{BlockInterval: &avstypes.BlockIntervalTrigger{Every: 1000, Start: 1000}}},
		{Kind: &avstypes.Trigger_Cron{Cron: &avstypes.CronTrigger{Schedule: "0 0 1 1 *"}}},
		{Kind: &avstypes.Trigger_Event{Event: &avstypes.EventTrigger{Type: "wasm-price_request"}}},
	}
	id := e.createService(m)
	_, err = e.avs.FundService(ctx(), &avstypes.MsgFundService{Funder: owner, ServiceId: id, Amount: stake(1_000_000)})
	require.NoError(t, err)
	_, err = e.avs.Commit(ctx(), &avstypes.MsgCommit{Committer: owner, Operator: bad, ServiceId: id, Amount: stake(1000)})
	require.NoError(t, err)
	e.chain.NextBlock(t)

	// bad loses a task and its pool; a new commitment renews it, and part of
	// it starts unbonding
	slashed := e.createTask(id, "2")
	vote(bad, avstypes.TaskResult{TaskId: slashed, Result: []byte("5")})
	e.complete(slashed, "4")
	_, err = e.avs.Commit(ctx(), &avstypes.MsgCommit{Committer: owner, Operator: bad, ServiceId: id, Amount: stake(500)})
	require.NoError(t, err)
	_, err = e.avs.Uncommit(ctx(), &avstypes.MsgUncommit{Committer: owner, Operator: bad, ServiceId: id, Amount: stake(100)})
	require.NoError(t, err)
	// an event of the last block opens a task, which its peer confirms
	ref := &avstypes.EventRef{ServiceId: id, Height: ctx().BlockHeight() - 1, TxHash: strings.Repeat("AB", 32), Input: []byte("3")}
	opened := vote(op1, avstypes.TaskResult{Result: []byte("9"), Event: ref})
	require.Equal(t, opened, vote(op2, avstypes.TaskResult{Result: []byte("9"), Event: ref}))
	e.chain.NextBlock(t)

	// Blocks go by until the first tasks are pruned while a later one,
	// settled, waits in the prune queue.
	e.chain.NextBlock(t)
	e.chain.NextBlock(t)
	later := e.createTask(id, "5")
	e.complete(later, "25")
	for i := 0; ; i++ {
		e.chain.NextBlock(t)
		gone := 0
		for _, id := range []uint64{slashed, opened} {
			pruned, err := k.PrunedTasks.Has(ctx(), id)
			require.NoError(t, err)
			if pruned {
				gone++
			}
		}
		if gone == 2 {
			break
		}
		require.Less(t, i, 20, "tasks %d and %d are not pruned", slashed, opened)
	}
	_, err = k.Tasks.Get(ctx(), later)
	require.NoError(t, err, "task %d is not pruned yet", later)

	// A commitment to bad's pool in a later epoch than the renewal's has the
	// pool join the earlier epoch's shares: the renewal's holder has not
	// settled them yet (a pending join).
	self, err := sdk.AccAddressFromBech32(bad)
	require.NoError(t, err)
	require.NoError(t, e.chain.App.BankKeeper.SendCoins(ctx(), e.chain.Account, self, sdk.NewCoins(stake(300))))
	_, err = e.avs.Commit(ctx(), &avstypes.MsgCommit{Committer: bad, Operator: bad, ServiceId: id, Amount: stake(300)})
	require.NoError(t, err)

	// The last block: two tasks decided (one is paid at its end), one
	// pending with a vote, and the IBC records.
	for i, in := range []string{"6", "7"} {
		e.complete(e.createTask(id, in), []string{"36", "49"}[i])
	}
	pending := e.createTask(id, "8")
	vote(op1, avstypes.TaskResult{TaskId: pending, Result: []byte("64")})
	task, err := k.Tasks.Get(ctx(), pending)
	require.NoError(t, err)
	task.Origin = avstypes.Origin{Kind: avstypes.ORIGIN_KIND_IBC, Ref: "channel-7/1"} // as OnRecvTaskRequest opens it
	require.NoError(t, k.Tasks.Set(ctx(), pending, task))
	require.NoError(t, k.IBCPackets.Set(ctx(), pending, channeltypes.NewPacket([]byte(`{"service_id":"1","input":"OA=="}`), 1,
		avstypes.PortID, "channel-3", avstypes.PortID, "channel-7", clienttypes.ZeroHeight(), 1<<62)))
	require.NoError(t, k.RemoteResults.Set(ctx(), collections.Join("channel-7", uint64(1)), avstypes.RemoteResult{
		Channel: "channel-7", Sequence: 1, Sender: owner, ServiceId: 4, Input: []byte("2"), Status: avstypes.REMOTE_STATUS_COMPLETED,
		TaskId: 11, Result: []byte("4"), PowerFor: 2, PowerTotal: 3, RemoteHeight: 40,
	}))
	require.NoError(t, k.PushedResults.Set(ctx(), collections.Join("channel-7", uint64(1)), avstypes.RemoteResult{
		Channel: "channel-7", Sequence: 1, ServiceId: 4, Input: []byte("3"), Status: avstypes.REMOTE_STATUS_PUSHED,
		TaskId: 12, Result: []byte("9"), PowerFor: 3, PowerTotal: 3, RemoteHeight: 41,
	}))
	// A commitment on a COMMIT_REVEAL task, mid-phase (set through the
	// collections: the service votes in the clear).
	committed := e.createTask(id, "9")
	task, err = k.Tasks.Get(ctx(), committed)
	require.NoError(t, err)
	task.CommitDeadlineHeight, task.CommitPower, task.CommitCount = task.CreatedHeight+3, 1, 1
	require.NoError(t, k.Tasks.Set(ctx(), committed, task))
	require.NoError(t, k.VoteCommits.Set(ctx(), collections.Join(committed, op2), avstypes.VoteCommit{
		TaskId: committed, Operator: op2, Commitment: bytes.Repeat([]byte{9}, avstypes.CommitmentSize), Power: 1, Height: task.CreatedHeight,
	}))
	e.chain.NextBlock(t)
	require.NoError(t, k.CheckModuleBalance(ctx()))
}

// collectionSizes counts the entries of each collection of x/avs's schema in
// the app's store; a key outside every collection fails the test.
func collectionSizes(t *testing.T, a *app.App, ctx sdk.Context) map[string]int {
	t.Helper()
	sizes := map[string]int{}
	for _, c := range a.AVSKeeper.Schema.ListCollections() {
		sizes[c.GetName()] = 0
	}
	for key := range rawAVSStore(t, a, ctx) {
		sizes[strings.SplitN(key, "/", 2)[0]]++
	}
	return sizes
}

// rawAVSStore reads x/avs's whole store, keyed "<collection>/<key hex>".
func rawAVSStore(t *testing.T, a *app.App, ctx sdk.Context) map[string]string {
	t.Helper()
	raw, err := avstest.RawStore(ctx, a.AVSKeeper.Schema, a.GetKey(avstypes.StoreKey))
	require.NoError(t, err)
	return raw
}

func compactJSON(t *testing.T, bz []byte) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, bz))
	return buf.String()
}
