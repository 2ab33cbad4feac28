package app

import (
	"context"
	"fmt"

	storetypes "cosmossdk.io/store/types"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/types/module"

	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
)

// UpgradeName is the software upgrade that moves a chain to this version of
// avsd: a governance proposal (MsgSoftwareUpgrade) names it, every node halts
// at its height, and this binary continues from there (docs/VALIDATORS.md,
// "Upgrades"). v0.2.0 runs x/avs's migration from consensus version 1 to 2
// (x/avs/migrations/v2: the max_tasks_per_msg parameter) and adds the
// interchain accounts host: its store (icahost), and its genesis, with the
// host enabled and ICAAllowMessages, which RunMigrations writes because the
// module is new to the chain. It deletes no store.
const UpgradeName = "v0.2.0"

// upgradeStores are the stores UpgradeName adds: the store loader mounts
// them empty at the upgrade height.
var upgradeStores = storetypes.StoreUpgrades{Added: []string{icahosttypes.StoreKey}}

// setUpgradeHandlers registers the handler of UpgradeName: the modules'
// registered store migrations, from the versions the chain stored.
func (app *App) setUpgradeHandlers() {
	app.UpgradeKeeper.SetUpgradeHandler(UpgradeName,
		func(ctx context.Context, plan upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
			vm, err := app.ModuleManager.RunMigrations(ctx, app.configurator, fromVM)
			if err != nil {
				return nil, fmt.Errorf("upgrade %s: %w", plan.Name, err)
			}
			return vm, nil
		})

	// A node restarted at the upgrade height finds the plan on disk: from
	// that height on it loads the stores the upgrade adds. Must run before
	// LoadLatestVersion.
	info, err := app.UpgradeKeeper.ReadUpgradeInfoFromDisk()
	if err != nil {
		panic(fmt.Errorf("read upgrade info from disk: %w", err))
	}
	if info.Name == UpgradeName && !app.UpgradeKeeper.IsSkipHeight(info.Height) {
		app.SetStoreLoader(upgradetypes.UpgradeStoreLoader(info.Height, &upgradeStores))
	}
}
