// Package prefix (app/prefix, a leaf: it imports nothing) holds avschain's bech32 address prefixes, in one place for
// the two programs that need them: the app (avsd) and the sidecar, which
// must not import the app (it would link the whole chain). It imports
// nothing, so both can depend on it.
package prefix

// The prefixes derive from Account as in every SDK chain (sdk.PrefixPublic
// "pub", sdk.PrefixValidator "val", sdk.PrefixOperator "oper",
// sdk.PrefixConsensus "cons"; prefix_test.go checks the derivation).
const (
	Account      = "avs"
	AccountPub   = Account + "pub"
	Validator    = Account + "valoper"
	ValidatorPub = Validator + "pub"
	Consensus    = Account + "valcons"
	ConsensusPub = Consensus + "pub"
)
