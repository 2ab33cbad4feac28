// Package v2 moves x/avs state from consensus version 1 (avschain v0.1.0) to
// version 2 (v0.2.0).
//
// Version 2 adds the parameter max_tasks_per_msg, which bounds MsgCreateTasks.
// A version-1 store has no such field: read by version 2 it is 0, which
// refuses every MsgCreateTasks and fails Params.Validate. The migration sets
// it to its default and leaves every other value as it was.
package v2

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/types"
)

// MigrateParams gives the stored parameters what version 2 needs.
func MigrateParams(ctx context.Context, params collections.Item[types.Params]) error {
	p, err := params.Get(ctx)
	if err != nil {
		return fmt.Errorf("x/avs v2 migration: read params: %w", err)
	}
	if p.MaxTasksPerMsg == 0 {
		p.MaxTasksPerMsg = types.DefaultMaxTasksPerMsg
	}
	if p.MaxCommitBlocks == 0 {
		p.MaxCommitBlocks = types.DefaultMaxCommitBlocks
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("x/avs v2 migration: params after migration: %w", err)
	}
	return params.Set(ctx, p)
}
