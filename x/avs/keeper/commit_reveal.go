package keeper

import (
	"bytes"
	"context"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Commit and reveal (issue #20). On a COMMIT_REVEAL task an operator first
// sends a commitment, types.VoteCommitment of its outcome and a salt of its
// own, and reveals the outcome and salt once the commit phase closed: no
// result is public while a commitment can still be made, so no operator can
// copy one it did not compute. The commit phase closes when committed power
// meets the service's quorum, at the end of that block (Task.CommitsOpen), or
// at the task's commit_deadline_height; the reveals are accepted from the
// next block to the task's deadline and tallied
// as votes are on an OPEN task. A commitment counts for nothing by itself: an
// operator answers a task by its reveal, and one never revealed is a miss.

// submitCommit records an operator's commitment on a COMMIT_REVEAL task and
// closes the commit phase once committed power meets the quorum. It writes
// nothing when it returns an error.
func (k Keeper) submitCommit(ctx context.Context, b *voteBatch, operator string, r types.TaskResult) (types.TaskStatus, error) {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if len(r.Result) > 0 || r.Failure.IsFailure() || len(r.Salt) > 0 || r.Event != nil {
		return 0, errorsmod.Wrap(types.ErrVoteMode, "a commitment carries no result, failure, salt or event: they come with the reveal")
	}
	if len(r.Commitment) != types.CommitmentSize {
		return 0, errorsmod.Wrapf(types.ErrVoteMode, "a commitment is %d bytes, got %d", types.CommitmentSize, len(r.Commitment))
	}
	task, power, err := k.votingTask(ctx, b, operator, r.TaskId)
	switch {
	case err != nil:
		return task.Status, err
	case !task.IsCommitReveal():
		return task.Status, errorsmod.Wrapf(types.ErrVoteMode, "task %d is voted in the clear (VOTE_MODE_OPEN): send the result, not a commitment", task.Id)
	case !task.CommitsOpen(h):
		return task.Status, errorsmod.Wrapf(types.ErrCommitClosed, "task %d: %s", task.Id, commitsClosedAt(task))
	}
	key := collections.Join(task.Id, operator)
	if has, err := k.VoteCommits.Has(ctx, key); err != nil {
		return task.Status, err
	} else if has {
		return task.Status, errorsmod.Wrapf(types.ErrDuplicateVote, "%s already committed on task %d", operator, task.Id)
	}
	if err := k.VoteCommits.Set(ctx, key, types.VoteCommit{
		TaskId: task.Id, Operator: operator, Commitment: bytes.Clone(r.Commitment), Power: power, Height: h,
	}); err != nil {
		return task.Status, err
	}
	task.CommitPower += power
	task.CommitCount++
	svc, err := k.batchService(ctx, b, task)
	if err != nil {
		return task.Status, err
	}
	// The phase closes once the committed power could decide the task: the
	// quorum, or under MEDIAN the larger power a median is taken over (M-6),
	// so that the reveals can reach it.
	q := svc.Manifest.Quorum
	if svc.Manifest.Aggregation.Mode == types.AGGREGATION_MODE_MEDIAN {
		q.Threshold = types.MedianQuorum(q.Threshold)
	}
	if task.CommitsClosedHeight == 0 && quorumMet(q, task.CommitPower, task.CommitCount, task.PowerTotal) {
		task.CommitsClosedHeight = h
		if err := emit(ctx, &types.EventCommitsClosed{
			TaskId: task.Id, Height: h, CommitPower: task.CommitPower, CommitCount: task.CommitCount,
		}); err != nil {
			return task.Status, err
		}
	}
	if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
		return task.Status, err
	}
	return task.Status, emit(ctx, &types.EventVoteCommitted{TaskId: task.Id, Operator: operator, Power: power})
}

func commitsClosedAt(task types.Task) string {
	if task.CommitsClosedHeight != 0 {
		return fmt.Sprintf("committed power met the quorum at height %d", task.CommitsClosedHeight)
	}
	return fmt.Sprintf("its commit phase ended at height %d", task.CommitDeadlineHeight)
}

// checkReveal checks an entry on a COMMIT_REVEAL task before it is recorded
// as a vote: the commit phase closed, the operator committed, and the outcome
// and salt hash to its commitment. A reveal that does not is a fault: the
// commitment is spent and the operator slashed as for a losing vote where the
// service slashes, and checkReveal returns ErrRevealMismatch, which
// submitResults refuses but writes. A matching reveal
// spends the commitment too: its vote takes its place.
func (k Keeper) checkReveal(ctx context.Context, svc types.Service, task types.Task, operator string, r types.TaskResult) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	h := sdkCtx.BlockHeight()
	if len(r.Salt) == 0 {
		return errorsmod.Wrapf(types.ErrVoteMode, "task %d is voted by commit and reveal (VOTE_MODE_COMMIT_REVEAL): commit first, then reveal with the salt", task.Id)
	}
	if len(r.Salt) != types.CommitmentSize {
		return errorsmod.Wrapf(types.ErrVoteMode, "a salt is %d bytes, got %d", types.CommitmentSize, len(r.Salt))
	}
	if !task.RevealsOpen(h) {
		return errorsmod.Wrapf(types.ErrRevealTooEarly, "task %d: reveals open in the block after its commit phase closes (at height %d at the latest)", task.Id, task.CommitDeadlineHeight)
	}
	key := collections.Join(task.Id, operator)
	c, err := k.VoteCommits.Get(ctx, key)
	if isNotFound(err) {
		return errorsmod.Wrapf(types.ErrNoCommitment, "%s made no commitment on task %d", operator, task.Id)
	} else if err != nil {
		return err
	}
	if err := k.VoteCommits.Remove(ctx, key); err != nil {
		return err
	}
	want := types.VoteCommitment(sdkCtx.ChainID(), task.Id, operator, r.Result, r.Failure, r.Salt)
	if bytes.Equal(want, c.Commitment) {
		return nil
	}
	if err := k.slashDissenters(ctx, svc, task, []string{operator}); err != nil {
		return err
	}
	return errorsmod.Wrapf(types.ErrRevealMismatch, "%s on task %d: the commitment is spent", operator, task.Id)
}
