// Package contracts holds avschain's own CosmWasm contracts, built from the
// Rust sources beside this file by scripts/build-contracts.sh (`make
// contracts`) and committed, so Go tests need no Rust toolchain.
package contracts

import _ "embed"

//go:embed avs-handler/avs_handler.wasm
var handlerWasm []byte

//go:embed avs-requester/avs_requester.wasm
var requesterWasm []byte

// HandlerWasm is avs-handler: it keeps every task result x/avs sends it.
func HandlerWasm() []byte { return handlerWasm }

// RequesterWasm is avs-requester: it requests tasks, records their answers,
// and governs a service it owns.
func RequesterWasm() []byte { return requesterWasm }
