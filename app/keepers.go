package app

import (
	"fmt"
	"path/filepath"

	"github.com/CosmWasm/wasmd/x/wasm"
	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	wasmtypes "github.com/CosmWasm/wasmd/x/wasm/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cast"

	storetypes "cosmossdk.io/store/types"
	evidencekeeper "cosmossdk.io/x/evidence/keeper"
	evidencetypes "cosmossdk.io/x/evidence/types"
	"cosmossdk.io/x/feegrant"
	feegrantkeeper "cosmossdk.io/x/feegrant/keeper"
	upgradekeeper "cosmossdk.io/x/upgrade/keeper"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/server"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	authcodec "github.com/cosmos/cosmos-sdk/x/auth/codec"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	authzkeeper "github.com/cosmos/cosmos-sdk/x/authz/keeper"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	consensusparamkeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensusparamtypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distrkeeper "github.com/cosmos/cosmos-sdk/x/distribution/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	govkeeper "github.com/cosmos/cosmos-sdk/x/gov/keeper"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"
	mintkeeper "github.com/cosmos/cosmos-sdk/x/mint/keeper"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	"github.com/cosmos/cosmos-sdk/x/params"
	paramskeeper "github.com/cosmos/cosmos-sdk/x/params/keeper"
	paramstypes "github.com/cosmos/cosmos-sdk/x/params/types"
	paramproposal "github.com/cosmos/cosmos-sdk/x/params/types/proposal"
	slashingkeeper "github.com/cosmos/cosmos-sdk/x/slashing/keeper"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	capabilitykeeper "github.com/cosmos/ibc-go/modules/capability/keeper"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	icahost "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host"
	icahostkeeper "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/keeper"
	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"
	"github.com/cosmos/ibc-go/v8/modules/apps/transfer"
	ibctransferkeeper "github.com/cosmos/ibc-go/v8/modules/apps/transfer/keeper"
	ibctransfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	ibcclienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibcconnectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	porttypes "github.com/cosmos/ibc-go/v8/modules/core/05-port/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibckeeper "github.com/cosmos/ibc-go/v8/modules/core/keeper"

	"github.com/avschain/avschain/x/avs"
	avskeeper "github.com/avschain/avschain/x/avs/keeper"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// module account permissions
var maccPerms = map[string][]string{
	authtypes.FeeCollectorName:     nil,
	distrtypes.ModuleName:          nil,
	minttypes.ModuleName:           {authtypes.Minter},
	stakingtypes.BondedPoolName:    {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName: {authtypes.Burner, authtypes.Staking},
	govtypes.ModuleName:            {authtypes.Burner},
	ibctransfertypes.ModuleName:    {authtypes.Minter, authtypes.Burner},
	icatypes.ModuleName:            nil, // the ICA host keeper requires it
	wasmtypes.ModuleName:           {authtypes.Burner},
	avstypes.ModuleName:            {authtypes.Burner},
}

// initKeepers builds every keeper in dependency order, the capability scopes
// and the IBC router, and returns the wasm node config the ante handler needs.
func (app *App) initKeepers(appOpts servertypes.AppOptions, wasmOpts []wasmkeeper.Option) wasmtypes.NodeConfig {
	govAuthority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	accCodec := authcodec.NewBech32Codec(Bech32PrefixAccAddr)

	app.ParamsKeeper = initParamsKeeper(app.appCodec, app.legacyAmino, app.keys[paramstypes.StoreKey], app.tkeys[paramstypes.TStoreKey])

	app.ConsensusParamsKeeper = consensusparamkeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[consensusparamtypes.StoreKey]), govAuthority, runtime.EventService{},
	)
	app.SetParamStore(app.ConsensusParamsKeeper.ParamsStore)

	app.CapabilityKeeper = capabilitykeeper.NewKeeper(app.appCodec, app.keys[capabilitytypes.StoreKey], app.memKeys[capabilitytypes.MemStoreKey])
	app.ScopedIBCKeeper = app.CapabilityKeeper.ScopeToModule(ibcexported.ModuleName)
	app.ScopedTransferKeeper = app.CapabilityKeeper.ScopeToModule(ibctransfertypes.ModuleName)
	app.ScopedICAHostKeeper = app.CapabilityKeeper.ScopeToModule(icahosttypes.SubModuleName)
	app.ScopedWasmKeeper = app.CapabilityKeeper.ScopeToModule(wasmtypes.ModuleName)
	app.ScopedAVSKeeper = app.CapabilityKeeper.ScopeToModule(avstypes.ModuleName)
	app.CapabilityKeeper.Seal()

	app.AccountKeeper = authkeeper.NewAccountKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[authtypes.StoreKey]), authtypes.ProtoBaseAccount,
		maccPerms, accCodec, Bech32PrefixAccAddr, govAuthority,
	)
	app.BankKeeper = bankkeeper.NewBaseKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[banktypes.StoreKey]), app.AccountKeeper,
		BlockedAddresses(), govAuthority, app.Logger(),
	)
	app.StakingKeeper = stakingkeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[stakingtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		govAuthority, authcodec.NewBech32Codec(Bech32PrefixValAddr), authcodec.NewBech32Codec(Bech32PrefixConsAddr),
	)
	app.MintKeeper = mintkeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[minttypes.StoreKey]), app.StakingKeeper, app.AccountKeeper,
		app.BankKeeper, authtypes.FeeCollectorName, govAuthority,
	)
	app.DistrKeeper = distrkeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[distrtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.StakingKeeper, authtypes.FeeCollectorName, govAuthority,
	)
	app.SlashingKeeper = slashingkeeper.NewKeeper(
		app.appCodec, app.legacyAmino, runtime.NewKVStoreService(app.keys[slashingtypes.StoreKey]), app.StakingKeeper, govAuthority,
	)
	app.FeeGrantKeeper = feegrantkeeper.NewKeeper(app.appCodec, runtime.NewKVStoreService(app.keys[feegrant.StoreKey]), app.AccountKeeper)
	app.StakingKeeper.SetHooks(stakingtypes.NewMultiStakingHooks(app.DistrKeeper.Hooks(), app.SlashingKeeper.Hooks()))

	app.AuthzKeeper = authzkeeper.NewKeeper(
		runtime.NewKVStoreService(app.keys[authzkeeper.StoreKey]), app.appCodec, app.MsgServiceRouter(), app.AccountKeeper,
	)

	skipUpgradeHeights := map[int64]bool{}
	for _, h := range cast.ToIntSlice(appOpts.Get(server.FlagUnsafeSkipUpgrades)) {
		skipUpgradeHeights[int64(h)] = true
	}
	homePath := cast.ToString(appOpts.Get(flags.FlagHome))
	app.UpgradeKeeper = upgradekeeper.NewKeeper(
		skipUpgradeHeights, runtime.NewKVStoreService(app.keys[upgradetypes.StoreKey]), app.appCodec, homePath, app.BaseApp, govAuthority,
	)

	app.IBCKeeper = ibckeeper.NewKeeper(
		app.appCodec, app.keys[ibcexported.StoreKey], app.GetSubspace(ibcexported.ModuleName),
		app.StakingKeeper, app.UpgradeKeeper, app.ScopedIBCKeeper, govAuthority,
	)

	// Legacy v1beta1 param-change proposals, kept for IBC's legacy params.
	govRouter := govv1beta1.NewRouter()
	govRouter.AddRoute(govtypes.RouterKey, govv1beta1.ProposalHandler).
		AddRoute(paramproposal.RouterKey, params.NewParamChangeProposalHandler(app.ParamsKeeper))
	govKeeper := govkeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[govtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.StakingKeeper, app.DistrKeeper, app.MsgServiceRouter(), govtypes.DefaultConfig(), govAuthority,
	)
	govKeeper.SetLegacyRouter(govRouter)
	app.GovKeeper = *govKeeper.SetHooks(govtypes.NewMultiGovHooks())

	app.EvidenceKeeper = *evidencekeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[evidencetypes.StoreKey]), app.StakingKeeper, app.SlashingKeeper,
		app.AccountKeeper.AddressCodec(), runtime.ProvideCometInfoService(),
	)

	app.TransferKeeper = ibctransferkeeper.NewKeeper(
		app.appCodec, app.keys[ibctransfertypes.StoreKey], app.GetSubspace(ibctransfertypes.ModuleName),
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper,
		app.AccountKeeper, app.BankKeeper, app.ScopedTransferKeeper, govAuthority,
	)

	// The interchain accounts host, without a controller or fee middleware:
	// accounts controlled from other chains run the messages of the host's
	// allow-list (ICAAllowMessages by default) through the message router.
	app.ICAHostKeeper = icahostkeeper.NewKeeper(
		app.appCodec, app.keys[icahosttypes.StoreKey], app.GetSubspace(icahosttypes.SubModuleName),
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper,
		app.AccountKeeper, app.ScopedICAHostKeeper, app.MsgServiceRouter(), govAuthority,
	)
	// The host's msg server panics without a query router (MsgModuleQuerySafe).
	app.ICAHostKeeper.WithQueryRouter(app.GRPCQueryRouter())

	app.AVSKeeper = avskeeper.NewKeeper(app.appCodec, runtime.NewKVStoreService(app.keys[avstypes.StoreKey]), accCodec, app.BankKeeper, govAuthority)
	// x/avs's setters write into wiring every copy of its keeper shares, so
	// they may run before or after the keeper is copied into its modules.
	app.AVSKeeper.SetIBC(app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper, app.ScopedAVSKeeper)

	wasmDir := filepath.Join(homePath, "wasm")
	nodeConfig, err := wasm.ReadNodeConfig(appOpts)
	if err != nil {
		panic(fmt.Sprintf("error while reading wasm config: %s", err))
	}
	// Contracts read x/avs results through stargate and gRPC queries.
	avsQueries := AVSAcceptedQueries()
	wasmOpts = append(wasmOpts, wasmkeeper.WithQueryPlugins(&wasmkeeper.QueryPlugins{
		Stargate: wasmkeeper.AcceptListStargateQuerier(avsQueries, app.GRPCQueryRouter(), app.appCodec),
		Grpc:     wasmkeeper.AcceptListGrpcQuerier(avsQueries, app.GRPCQueryRouter(), app.appCodec),
	}))
	app.WasmKeeper = wasmkeeper.NewKeeper(
		app.appCodec, runtime.NewKVStoreService(app.keys[wasmtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.StakingKeeper, distrkeeper.NewQuerier(app.DistrKeeper),
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.PortKeeper,
		app.ScopedWasmKeeper, app.TransferKeeper, app.MsgServiceRouter(), app.GRPCQueryRouter(),
		wasmDir, nodeConfig, wasmtypes.VMConfig{}, wasmkeeper.BuiltInCapabilities(), govAuthority,
		wasmOpts...,
	)

	// x/avs calls services' handler contracts through the permissioned keeper.
	app.AVSKeeper.SetContractKeeper(wasmkeeper.NewDefaultPermissionKeeper(app.WasmKeeper))

	ibcRouter := porttypes.NewRouter().
		AddRoute(ibctransfertypes.ModuleName, transfer.NewIBCModule(app.TransferKeeper)).
		AddRoute(icahosttypes.SubModuleName, icahost.NewIBCModule(app.ICAHostKeeper)).
		AddRoute(wasmtypes.ModuleName, wasm.NewIBCHandler(app.WasmKeeper, app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ChannelKeeper)).
		AddRoute(avstypes.ModuleName, avs.NewIBCModule(app.AVSKeeper))
	app.IBCKeeper.SetRouter(ibcRouter)

	return nodeConfig
}

// AVSAcceptedQueries are the x/avs queries contracts may make, by stargate
// or gRPC: deterministic reads of tasks and services.
func AVSAcceptedQueries() wasmkeeper.AcceptedQueries {
	return wasmkeeper.AcceptedQueries{
		"/avschain.avs.v1.Query/Task":      func() proto.Message { return &avstypes.QueryTaskResponse{} },
		"/avschain.avs.v1.Query/Tasks":     func() proto.Message { return &avstypes.QueryTasksResponse{} },
		"/avschain.avs.v1.Query/Service":   func() proto.Message { return &avstypes.QueryServiceResponse{} },
		"/avschain.avs.v1.Query/Params":    func() proto.Message { return &avstypes.QueryParamsResponse{} },
		"/avschain.avs.v1.Query/TaskVotes": func() proto.Message { return &avstypes.QueryTaskVotesResponse{} },
	}
}

// GetMaccPerms returns a copy of the module account permissions.
func GetMaccPerms() map[string][]string {
	dup := make(map[string][]string, len(maccPerms))
	for k, v := range maccPerms {
		dup[k] = v
	}
	return dup
}

// BlockedAddresses returns the module accounts that may not receive funds by
// bank send. The gov account may, so that deposits can be returned to it.
func BlockedAddresses() map[string]bool {
	blocked := make(map[string]bool)
	for acc := range maccPerms {
		blocked[authtypes.NewModuleAddress(acc).String()] = true
	}
	delete(blocked, authtypes.NewModuleAddress(govtypes.ModuleName).String())
	return blocked
}

// initParamsKeeper builds the legacy params keeper and the subspaces the
// SDK and IBC modules still migrate from.
func initParamsKeeper(appCodec codec.BinaryCodec, legacyAmino *codec.LegacyAmino, key, tkey storetypes.StoreKey) paramskeeper.Keeper {
	paramsKeeper := paramskeeper.NewKeeper(appCodec, legacyAmino, key, tkey)
	paramsKeeper.Subspace(authtypes.ModuleName)
	paramsKeeper.Subspace(banktypes.ModuleName)
	paramsKeeper.Subspace(stakingtypes.ModuleName)
	paramsKeeper.Subspace(minttypes.ModuleName)
	paramsKeeper.Subspace(distrtypes.ModuleName)
	paramsKeeper.Subspace(slashingtypes.ModuleName)
	paramsKeeper.Subspace(govtypes.ModuleName)

	keyTable := ibcclienttypes.ParamKeyTable()
	keyTable.RegisterParamSet(&ibcconnectiontypes.Params{})
	paramsKeeper.Subspace(ibcexported.ModuleName).WithKeyTable(keyTable)
	paramsKeeper.Subspace(ibctransfertypes.ModuleName).WithKeyTable(ibctransfertypes.ParamKeyTable())
	paramsKeeper.Subspace(icahosttypes.SubModuleName).WithKeyTable(icahosttypes.ParamKeyTable())
	paramsKeeper.Subspace(wasmtypes.ModuleName)
	return paramsKeeper
}
