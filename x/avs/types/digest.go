package types

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Host modules a component may import from.
const (
	WASIModule = "wasi_snapshot_preview1"
	HostModule = "avs"
)

// Digest returns the lower-case hex sha256 of b: a component's address.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// IsValidDigest reports whether s is a lower-case hex sha256.
func IsValidDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// FailureDigest is the digest of every failure vote: failures are tallied
// together whatever their reason (a slow machine may time out where another
// runs out of memory), and it cannot be a result's digest (not hex).
const FailureDigest = "failure"

// VoteDigest is the digest a vote with this result and failure carries:
// FailureDigest on a failure vote, else the result's. State does not store
// it (issue #16), so the keeper restores it and genesis checks it with this.
func VoteDigest(result []byte, failure FailureReason) string {
	if failure.IsFailure() {
		return FailureDigest
	}
	return Digest(result)
}

// IsFailure reports whether r names a failure (not UNSPECIFIED).
func (r FailureReason) IsFailure() bool { return r != FAILURE_REASON_UNSPECIFIED }

// Deterministic reports whether every honest operator running the same
// component on the same input fails the same way: a trap, a non-zero exit,
// the memory or output limit. A timeout and an HTTP failure depend on the
// machine and the network, so they are never held against an operator.
func (r FailureReason) Deterministic() bool {
	switch r {
	case FAILURE_REASON_TRAP, FAILURE_REASON_EXIT, FAILURE_REASON_MEMORY, FAILURE_REASON_OUTPUT:
		return true
	}
	return false
}

// Describe says in words what a failure reason means.
func (r FailureReason) Describe() string {
	switch r {
	case FAILURE_REASON_TRAP:
		return "component trapped"
	case FAILURE_REASON_EXIT:
		return "component exited with a non-zero code"
	case FAILURE_REASON_TIME:
		return "component exceeded its time limit"
	case FAILURE_REASON_MEMORY:
		return "component exceeded its memory limit"
	case FAILURE_REASON_OUTPUT:
		return "component exceeded its output limit"
	case FAILURE_REASON_HTTP:
		return "component failed after an http_fetch failed"
	}
	return "no failure"
}

// Short is the reason's lower-case name ("trap", "exit", "time", "memory",
// "output", "http"): what a handler contract and an IBC requester receive
// as the result of a FAILED task.
func (r FailureReason) Short() string {
	name, ok := FailureReason_name[int32(r)]
	if !ok || r == FAILURE_REASON_UNSPECIFIED {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(name, "FAILURE_REASON_"))
}
