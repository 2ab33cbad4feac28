package cmd

import (
	"errors"
	"io"

	"github.com/CosmWasm/wasmd/x/wasm"
	wasmcli "github.com/CosmWasm/wasmd/x/wasm/client/cli"
	wasmkeeper "github.com/CosmWasm/wasmd/x/wasm/keeper"
	wasmtypes "github.com/CosmWasm/wasmd/x/wasm/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cast"
	"github.com/spf13/cobra"

	"cosmossdk.io/log"
	confixcmd "cosmossdk.io/tools/confix/cmd"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/debug"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/pruning"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	"github.com/cosmos/cosmos-sdk/client/snapshot"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	authcmd "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/app/dashboard"
)

// initCometBFTConfig returns CometBFT's defaults; the localnet script tunes block times.
func initCometBFTConfig() *cmtcfg.Config {
	return cmtcfg.DefaultConfig()
}

// initAppConfig adds wasmd's node settings and the dashboard's switch to
// app.toml and sets a non-zero
// minimum gas price in the bond denom (DefaultMinGasPrices, security review
// L-11): a node refuses transactions that do not pay for their gas.
func initAppConfig() (string, interface{}) {
	type CustomAppConfig struct {
		serverconfig.Config
		Wasm      wasmtypes.NodeConfig `mapstructure:"wasm"`
		Dashboard dashboard.Config     `mapstructure:"dashboard"`
	}
	srvCfg := serverconfig.DefaultConfig()
	srvCfg.MinGasPrices = DefaultMinGasPrices()
	return serverconfig.DefaultConfigTemplate + wasmtypes.DefaultConfigTemplate() + dashboard.DefaultConfigTemplate,
		CustomAppConfig{Config: *srvCfg, Wasm: wasmtypes.DefaultNodeConfig(), Dashboard: dashboard.DefaultConfig()}
}

func initRootCmd(rootCmd *cobra.Command, tempApp *app.App) {
	txConfig := tempApp.TxConfig()
	basicManager := tempApp.BasicModuleManager

	rootCmd.AddCommand(
		withGenesisDefaults(genutilcli.InitCmd(basicManager, app.DefaultNodeHome)),
		debug.Cmd(),
		confixcmd.ConfigCommand(),
		pruning.Cmd(newApp, app.DefaultNodeHome),
		snapshot.Cmd(newApp),
	)
	// start, export, version, comet, rollback and the rest of the node's commands.
	server.AddCommands(rootCmd, app.DefaultNodeHome, newApp, appExport, wasm.AddModuleInitFlags)
	wasmcli.ExtendUnsafeResetAllCmd(rootCmd)

	rootCmd.AddCommand(
		server.StatusCommand(),
		genutilcli.Commands(txConfig, basicManager, app.DefaultNodeHome),
		queryCommand(),
		txCommand(),
		keys.Commands(),
	)
}

// queryCommand is `avsd query`: the SDK's block and tx lookups here; autocli
// adds each module's queries (x/avs's among them) under it.
func queryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "query",
		Aliases:                    []string{"q"},
		Short:                      "Querying subcommands",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		rpc.QueryEventForTxCmd(),
		server.QueryBlockCmd(),
		authcmd.QueryTxsByEventsCmd(),
		server.QueryBlocksCmd(),
		authcmd.QueryTxCmd(),
		server.QueryBlockResultsCmd(),
	)
	return cmd
}

// txCommand is `avsd tx`: signing, broadcasting and encoding here; autocli
// adds each module's messages under it.
func txCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "tx",
		Short:                      "Transactions subcommands",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		authcmd.GetSignCommand(),
		authcmd.GetSignBatchCommand(),
		authcmd.GetMultiSignCommand(),
		authcmd.GetMultiSignBatchCmd(),
		authcmd.GetValidateSignaturesCommand(),
		authcmd.GetBroadcastCommand(),
		authcmd.GetEncodeCommand(),
		authcmd.GetDecodeCommand(),
		authcmd.GetSimulateCmd(),
	)
	return cmd
}

// newApp builds the app for `start` and the snapshot and pruning commands.
// wasmd's VM cache metrics are registered only when telemetry is on.
func newApp(logger log.Logger, db dbm.DB, traceStore io.Writer, appOpts servertypes.AppOptions) servertypes.Application {
	var wasmOpts []wasmkeeper.Option
	if cast.ToBool(appOpts.Get("telemetry.enabled")) {
		wasmOpts = append(wasmOpts, wasmkeeper.WithVMCacheMetrics(prometheus.DefaultRegisterer))
	}
	return app.New(logger, db, traceStore, true, appOpts, wasmOpts, server.DefaultBaseappOptions(appOpts)...)
}

// appExport serves `avsd export`: the latest state at height -1, else the
// state as of height.
func appExport(
	logger log.Logger,
	db dbm.DB,
	traceStore io.Writer,
	height int64,
	forZeroHeight bool,
	jailAllowedAddrs []string,
	appOpts servertypes.AppOptions,
	modulesToExport []string,
) (servertypes.ExportedApp, error) {
	homePath, ok := appOpts.Get(flags.FlagHome).(string)
	if !ok || homePath == "" {
		return servertypes.ExportedApp{}, errors.New("application home is not set")
	}
	a := app.New(logger, db, traceStore, height == -1, appOpts, nil)
	if height != -1 {
		if err := a.LoadHeight(height); err != nil {
			return servertypes.ExportedApp{}, err
		}
	}
	return a.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}
