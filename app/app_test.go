package app_test

import (
	"encoding/json"
	"testing"

	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	wasmtestdata "github.com/CosmWasm/wasmd/x/wasm/keeper/testdata"
	wasmtypes "github.com/CosmWasm/wasmd/x/wasm/types"
	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/header"
	sdkmath "cosmossdk.io/math"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/testutil/apptest"
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
	for _, m := range []string{avstypes.ModuleName, wasmtypes.ModuleName, authtypes.ModuleName, govtypes.ModuleName, "transfer", "feegrant", "authz"} {
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
