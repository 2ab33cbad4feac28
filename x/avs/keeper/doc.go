// Package keeper implements x/avs state transitions: the Msg and Query
// services, genesis import and export, and the block hooks. The msg server
// (msg_server*.go) decodes and runs the stateless checks of validate.go, then
// calls the keeper with plain values; the keeper is cut by concern: task.go
// (create, expire), vote.go (intake, tallies, completion), settle.go
// (deadlines, liveness), commitments.go, rewards.go, slashing.go,
// treasury.go, services.go, operators.go, triggers.go, ibc.go, handler.go;
// indexes.go holds the IndexedMap indexes.
package keeper
