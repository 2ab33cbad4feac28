// Package simulation plugs x/avs into the SDK simulator (x/simulation), as
// the SDK's own modules do: a random genesis (genesis.go), a store decoder
// for diffing stores (decoder.go), weighted operations that deliver signed
// txs through the app (operations.go, operations_stake.go, reading state
// through the app's query router in query.go) and governance proposal
// messages (proposals.go). app's TestAvsSimulation runs them on the real app.
package simulation
