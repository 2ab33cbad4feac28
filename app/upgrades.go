package app

import (
	"context"
	"fmt"

	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/types/module"
)

// UpgradeName is the software upgrade that moves a chain to this version of
// avsd: a governance proposal (MsgSoftwareUpgrade) names it, every node halts
// at its height, and this binary continues from there (docs/VALIDATORS.md,
// "Upgrades"). v0.2.0 runs x/avs's migration from consensus version 1 to 2
// (x/avs/migrations/v2: the max_tasks_per_msg parameter). It adds and
// deletes no store.
const UpgradeName = "v0.2.0"

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
}
