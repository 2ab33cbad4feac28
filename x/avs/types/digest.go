package types

import (
	"crypto/sha256"
	"encoding/hex"
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
