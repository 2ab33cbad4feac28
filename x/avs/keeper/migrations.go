package keeper

import (
	"context"

	v2 "github.com/avschain/avschain/x/avs/migrations/v2"
)

// Migrator runs the x/avs store migrations that the module registers with
// the configurator; an upgrade handler runs them through RunMigrations.
type Migrator struct {
	keeper Keeper
}

// NewMigrator returns the migrator of a keeper.
func NewMigrator(k Keeper) Migrator { return Migrator{keeper: k} }

// Migrate1to2 moves x/avs from consensus version 1 to 2 (v2.MigrateParams).
func (m Migrator) Migrate1to2(ctx context.Context) error {
	return v2.MigrateParams(ctx, m.keeper.Params)
}
