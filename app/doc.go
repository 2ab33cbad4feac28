// Package app wires the avschain application: the Cosmos SDK modules, IBC core
// and transfer, CosmWasm (wasmd) and x/avs, following wasmd's app/app.go.
package app
