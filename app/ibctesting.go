package app

import (
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"

	capabilitykeeper "github.com/cosmos/ibc-go/modules/capability/keeper"
	ibckeeper "github.com/cosmos/ibc-go/v8/modules/core/keeper"
	ibctestingtypes "github.com/cosmos/ibc-go/v8/testing/types"
)

// The methods below make App an ibc-go testing.TestingApp, so IBC tests can
// run two avschain apps under ibc-go's coordinator.

// GetBaseApp returns the base app.
func (app *App) GetBaseApp() *baseapp.BaseApp { return app.BaseApp }

// GetStakingKeeper returns the staking keeper.
func (app *App) GetStakingKeeper() ibctestingtypes.StakingKeeper { return app.StakingKeeper }

// GetIBCKeeper returns the IBC keeper.
func (app *App) GetIBCKeeper() *ibckeeper.Keeper { return app.IBCKeeper }

// GetScopedIBCKeeper returns IBC's scoped capability keeper.
func (app *App) GetScopedIBCKeeper() capabilitykeeper.ScopedKeeper { return app.ScopedIBCKeeper }

// GetTxConfig returns the tx config.
func (app *App) GetTxConfig() client.TxConfig { return app.txConfig }
