package app_test

import (
	"testing"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/header"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	genesistypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/genesis/types"
	icahostkeeper "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/keeper"
	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/testutil/apptest"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// wantICAAllowMessages is the ICA host allow-list written out, so that a
// change to app.ICAAllowMessages is a deliberate change to this test too.
var wantICAAllowMessages = []string{
	"/avschain.avs.v1.MsgCreateTask",
	"/avschain.avs.v1.MsgCreateTasks",
	"/avschain.avs.v1.MsgFundService",
	"/avschain.avs.v1.MsgCommit",
	"/avschain.avs.v1.MsgUncommit",
	"/avschain.avs.v1.MsgWithdrawRewards",
	"/cosmos.bank.v1beta1.MsgSend",
}

// TestICAHostDefaultGenesis: both defaults a chain can get its ICA host
// params from — `avsd init` (the basic manager) and an upgrade that adds the
// module (RunMigrations asks the module itself) — enable the host with the
// allow-list, never ibc-go's "*".
func TestICAHostDefaultGenesis(t *testing.T) {
	a := apptest.NewApp(t, dbm.NewMemDB())
	want := icahosttypes.NewParams(true, wantICAAllowMessages)
	require.Equal(t, wantICAAllowMessages, app.ICAAllowMessages())

	var basic genesistypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(a.DefaultGenesis()[icatypes.ModuleName], &basic)
	require.Equal(t, want, basic.HostGenesisState.Params, "avsd init")
	require.Equal(t, icatypes.HostPortID, basic.HostGenesisState.Port)
	require.NoError(t, basic.Validate())

	mod, ok := a.ModuleManager.Modules[icatypes.ModuleName].(module.HasGenesisBasics)
	require.True(t, ok, "the ICA module is in the module manager")
	var migrated genesistypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(mod.DefaultGenesis(a.AppCodec()), &migrated)
	require.Equal(t, want, migrated.HostGenesisState.Params, "RunMigrations")
}

// TestICAHostAllowList: the host executes the listed x/avs and bank messages
// and refuses the rest (service administration, operators, staking, gov);
// every listed type URL names a message this app routes.
func TestICAHostAllowList(t *testing.T) {
	a := apptest.NewApp(t, dbm.NewMemDB())
	for _, url := range app.ICAAllowMessages() {
		require.NotNil(t, a.MsgServiceRouter().HandlerByTypeURL(url), "%s must be a routed message", url)
	}
	cases := []struct {
		msg     sdk.Msg
		allowed bool
	}{
		{msg: &avstypes.MsgCreateTask{}, allowed: true},
		{msg: &avstypes.MsgCreateTasks{}, allowed: true},
		{msg: &avstypes.MsgFundService{}, allowed: true},
		{msg: &avstypes.MsgCommit{}, allowed: true},
		{msg: &avstypes.MsgUncommit{}, allowed: true},
		{msg: &avstypes.MsgWithdrawRewards{}, allowed: true},
		{msg: &banktypes.MsgSend{}, allowed: true},
		{msg: &avstypes.MsgStoreComponent{}, allowed: false},
		{msg: &avstypes.MsgCreateService{}, allowed: false},
		{msg: &avstypes.MsgRegisterOperator{}, allowed: false},
		{msg: &avstypes.MsgSubmitResults{}, allowed: false},
		{msg: &avstypes.MsgUpdateParams{}, allowed: false},
		{msg: &banktypes.MsgMultiSend{}, allowed: false},
		{msg: &stakingtypes.MsgDelegate{}, allowed: false},
		{msg: &stakingtypes.MsgCreateValidator{}, allowed: false},
	}
	for _, tc := range cases {
		t.Run(sdk.MsgTypeURL(tc.msg), func(t *testing.T) {
			require.Equal(t, tc.allowed, icahosttypes.ContainsMsgType(app.ICAAllowMessages(), tc.msg))
		})
	}
}

// TestICAHostAtGenesis: a new chain runs the host with the allow-list, its
// port bound, and the interchainaccounts module account known (the host
// keeper panics without it) and barred from bank sends like the others.
func TestICAHostAtGenesis(t *testing.T) {
	chain := apptest.Setup(t, nil)
	a := chain.App
	ctx := chain.Context()
	require.Equal(t, icahosttypes.NewParams(true, wantICAAllowMessages), a.ICAHostKeeper.GetParams(ctx))
	require.True(t, icaPortBound(a, ctx), "host port bound")
	addr := a.AccountKeeper.GetModuleAddress(icatypes.ModuleName)
	require.NotNil(t, addr)
	require.True(t, a.BankKeeper.BlockedAddr(addr))
	require.Contains(t, app.GetMaccPerms(), icatypes.ModuleName)
}

// TestUpgradeHandlerAddsICAHost: a chain upgraded from v0.1.0 has no ICA
// module; the v0.2.0 handler initialises it with the allow-list (not "*").
func TestUpgradeHandlerAddsICAHost(t *testing.T) {
	chain := apptest.Setup(t, nil)
	a := chain.App
	chain.NextBlock(t)
	ctx := chain.Context()
	ctx = ctx.WithHeaderInfo(header.Info{Height: ctx.BlockHeight(), Time: ctx.BlockTime()})

	vm, err := a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, vm[icatypes.ModuleName])
	// As a chain that ran v0.1.0: no version stored for the module
	// (SetModuleVersionMap only writes, so delete the entry in the store).
	ctx.KVStore(a.GetKey(upgradetypes.StoreKey)).Delete(append([]byte{upgradetypes.VersionMapByte}, icatypes.ModuleName...))
	vm, err = a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.NotContains(t, vm, icatypes.ModuleName)
	a.ICAHostKeeper.SetParams(ctx, icahosttypes.DefaultParams()) // "*": the upgrade must replace it

	require.NoError(t, a.UpgradeKeeper.ApplyUpgrade(ctx, upgradetypes.Plan{Name: app.UpgradeName, Height: ctx.BlockHeight()}))

	vm, err = a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, vm[icatypes.ModuleName])
	require.Equal(t, icahosttypes.NewParams(true, wantICAAllowMessages), a.ICAHostKeeper.GetParams(ctx))
}

// TestICAHostParamsByGovernance: the gov authority replaces the allow-list
// with the host's MsgUpdateParams; anyone else is refused.
func TestICAHostParamsByGovernance(t *testing.T) {
	chain := apptest.Setup(t, nil)
	a := chain.App
	ctx := chain.Context()
	srv := icahostkeeper.NewMsgServerImpl(&a.ICAHostKeeper)
	next := icahosttypes.NewParams(true, []string{"/cosmos.bank.v1beta1.MsgSend"})

	_, err := srv.UpdateParams(ctx, &icahosttypes.MsgUpdateParams{Signer: chain.Account.String(), Params: next})
	require.Error(t, err)
	_, err = srv.UpdateParams(ctx, &icahosttypes.MsgUpdateParams{
		Signer: authtypes.NewModuleAddress(govtypes.ModuleName).String(), Params: next,
	})
	require.NoError(t, err)
	require.Equal(t, next, a.ICAHostKeeper.GetParams(ctx))
}

// icaPortBound says whether the ICA host owns the capability of its port.
func icaPortBound(a *app.App, ctx sdk.Context) bool {
	_, ok := a.ScopedICAHostKeeper.GetCapability(ctx, host.PortPath(icatypes.HostPortID))
	return ok
}
