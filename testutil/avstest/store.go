package avstest

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// RawStore reads a module's whole store, keyed "<collection name>/<key hex>"
// by the collection of schema with the longest prefix the key starts with (a
// collection added later is covered without naming it). A key that belongs
// to no collection of the schema is an error.
func RawStore(ctx sdk.Context, schema collections.Schema, key storetypes.StoreKey) (map[string]string, error) {
	cols := schema.ListCollections()
	out := map[string]string{}
	it := ctx.KVStore(key).Iterator(nil, nil)
	defer it.Close()
	for ; it.Valid(); it.Next() {
		name, best := "", -1
		for _, c := range cols {
			if p := c.GetPrefix(); bytes.HasPrefix(it.Key(), p) && len(p) > best {
				name, best = c.GetName(), len(p)
			}
		}
		if name == "" {
			return nil, fmt.Errorf("store key %x belongs to no collection of the schema", it.Key())
		}
		out[name+"/"+hex.EncodeToString(it.Key())] = hex.EncodeToString(it.Value())
	}
	return out, nil
}
