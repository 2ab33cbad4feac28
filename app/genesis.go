package app

import "encoding/json"

// GenesisState is the app state of a genesis file: each module's JSON, keyed by module name.
type GenesisState map[string]json.RawMessage
