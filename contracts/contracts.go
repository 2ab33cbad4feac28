// Package contracts holds avschain's own CosmWasm contracts, built from the
// Rust sources beside this file by scripts/build-contracts.sh (`make
// contracts`) and committed, so Go tests need no Rust toolchain.
package contracts

import _ "embed"

//go:embed avs-handler/avs_handler.wasm
var handlerWasm []byte

//go:embed avs-ibc-client/avs_ibc_client.wasm
var clientWasm []byte

//go:embed avs-requester/avs_requester.wasm
var requesterWasm []byte

// HandlerWasm is avs-handler: it keeps every task result x/avs sends it, and
// every avs-ibc-client callback.
func HandlerWasm() []byte { return handlerWasm }

// RequesterWasm is avs-requester: it requests tasks, records their answers,
// and governs a service it owns.
func RequesterWasm() []byte { return requesterWasm }

// ClientWasm is avs-ibc-client: deployed on another CosmWasm chain, it
// requests avschain tasks over IBC and keeps their results.
func ClientWasm() []byte { return clientWasm }
