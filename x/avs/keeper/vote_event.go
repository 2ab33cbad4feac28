package keeper

import (
	errorsmod "cosmossdk.io/errors"

	"github.com/avschain/avschain/x/avs/types"
)

// Votes on event-trigger tasks (security review M-3): each carries the digest
// of the event input it read, and is tallied, paid and judged with the votes
// that read the same input. vote.go calls these helpers.

// tallyKey is what a vote is tallied under: its digest, and on an event task
// the digest of the event input it read too, so that such a task completes
// only on agreement of both (M-3). Digests are raw bytes in it (keys.go).
func tallyKey(v types.Vote) string {
	if v.InputDigest == "" {
		return rawDigest(v.Digest)
	}
	return rawDigest(v.InputDigest) + rawDigest(v.Digest)
}

// eventInputDigest returns the digest of the event input a vote on an event
// task read, or "" on another task. Such a vote must name its event: the
// input is part of what it votes for.
func eventInputDigest(params types.Params, task types.Task, r types.TaskResult) (string, error) {
	if !task.Origin.IsEventOrigin() {
		return "", nil
	}
	if r.Event == nil {
		return "", errorsmod.Wrapf(types.ErrInvalidEventRef, "task %d was opened by an event trigger: vote with the event's reference and the input you read", task.Id)
	}
	if err := validateInput(params, r.Event.Input); err != nil {
		return "", err
	}
	return types.Digest(r.Event.Input), nil
}

// inputAgrees reports whether a vote read the input a completed task was
// decided on (always, but on an event task). A vote that read another input
// is not slashed: the chain cannot tell which reading of an event was wrong,
// only that the quorum agreed on another (M-3).
func inputAgrees(task types.Task, v types.Vote) bool {
	return !task.Origin.IsEventOrigin() || v.InputDigest == types.Digest(task.Input)
}

// sameInput returns the votes that read the input task was decided on.
func sameInput(task types.Task, votes []types.Vote) []types.Vote {
	out := make([]types.Vote, 0, len(votes))
	for _, v := range votes {
		if inputAgrees(task, v) {
			out = append(out, v)
		}
	}
	return out
}
