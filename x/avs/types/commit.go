package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// CommitmentDomain separates vote commitments from every other hash.
const CommitmentDomain = "avschain/x/avs/vote-commitment/v1"

// CommitmentSize is the size of a commitment and of a salt.
const CommitmentSize = sha256.Size

// VoteCommitment is what an operator commits to on a COMMIT_REVEAL task:
// sha256(domain ‖ chain_id ‖ task_id ‖ operator ‖ outcome ‖ salt), each
// variable-length part prefixed with its length (big-endian uint32) so no two
// inputs share an encoding, the task id as a big-endian uint64, and the
// outcome as the failure reason (big-endian int32, 0 for a result) followed by
// the result. The chain id and operator bind it to one chain and one voter: a
// commitment copied from another operator does not match the copier's reveal.
func VoteCommitment(chainID string, taskID uint64, operator string, result []byte, failure FailureReason, salt []byte) []byte {
	h := sha256.New()
	part := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	part([]byte(CommitmentDomain))
	part([]byte(chainID))
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], taskID)
	h.Write(id[:])
	part([]byte(operator))
	var f [4]byte
	binary.BigEndian.PutUint32(f[:], uint32(failure))
	h.Write(f[:])
	part(result)
	part(salt)
	return h.Sum(nil)
}

// IsCommitReveal reports whether the task is voted on by commit and reveal.
func (t Task) IsCommitReveal() bool { return t.CommitDeadlineHeight != 0 }

// CommitsOpen reports whether the task accepts commitments at height. A
// phase closed by a quorum closes at the end of that block: the commitments
// later in the same block are taken too (none of them can have seen a
// reveal, accepted from the next block only), so that an honest operator is
// not counted a miss for coming after the quorum in the block's order.
func (t Task) CommitsOpen(height int64) bool {
	return t.IsCommitReveal() && height <= t.CommitDeadlineHeight &&
		(t.CommitsClosedHeight == 0 || height <= t.CommitsClosedHeight)
}

// RevealsOpen reports whether the task's commit phase closed before height,
// so that reveals are accepted at it (until the deadline).
func (t Task) RevealsOpen(height int64) bool {
	if !t.IsCommitReveal() {
		return false
	}
	closed := t.CommitDeadlineHeight
	if t.CommitsClosedHeight != 0 && t.CommitsClosedHeight < closed {
		closed = t.CommitsClosedHeight
	}
	return height > closed
}

// CommitBlocksOr is the service's commit phase length, or def (the module's
// max_commit_blocks) when it names none.
func (m ServiceManifest) CommitBlocksOr(def uint64) uint64 {
	if m.CommitBlocks == 0 {
		return def
	}
	return m.CommitBlocks
}
