package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the x/avs module name, also its store key and IBC port base.
	ModuleName = "avs"
	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Never renumber one: they are the on-disk layout.
var (
	ParamsKey = collections.NewPrefix(0)
)
