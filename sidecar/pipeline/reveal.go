package pipeline

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// Commit and reveal (issue #20). A COMMIT_REVEAL task's outcome is voted in
// two stages. Once it is recorded, the pipeline takes the task's salt from
// the store, or draws 32 random bytes and saves them, before it queues the
// commit (types.VoteCommitment of the outcome and the salt): a commitment on
// chain always has its salt on disk. The reveal (the outcome and the salt)
// waits here, in memory, until the commit phase has closed: the block that
// closed it at quorum (its EventCommitsClosed, which the watcher reports with
// the block, WithBlocks) or the task's commit deadline. It is queued right
// after reading that block, so it lands in the next one: a task created at H
// is committed at H+1, closed at H+1 and revealed at H+2. A reveal is never
// sent before the phase closed: it would show the outcome while commitments
// can still be made.
//
// A restart resumes from the store: the work stays in the inbox until the
// reveal is submitted, and its replay queues the commit again (the submitter
// skips it once submitted), with the saved salt, and reads the task to learn
// whether the phase closed meanwhile (its close may be in a block read
// before the stop, which the watcher does not report again). Within one run
// the stages are in hand: the watcher hands a created task over twice (from
// the websocket and from its block's results), and the copy that finds the
// outcome recorded queues nothing and reads nothing, since this run's block
// stream reports the close.

// revealPollEvery is how often the chain's height is read for the reveals
// without WithBlocks.
const revealPollEvery = time.Second

// pendingReveal is a COMMIT_REVEAL task whose commit is queued and whose
// reveal waits for the commit phase to close.
type pendingReveal struct {
	vote           submitter.Vote // the reveal
	commitDeadline int64
	closedAt       int64 // the block the phase closed in at quorum (0: not seen)
}

// due reports whether the reveal, sent after block h, lands where reveals
// are accepted: after the block the commit phase closed in.
func (r pendingReveal) due(h int64) bool {
	return h >= r.commitDeadline || (r.closedAt != 0 && h >= r.closedAt)
}

// queueVote queues the vote on work whose outcome is recorded under key: on
// an OPEN task (commitDeadline 0) the vote itself; on a COMMIT_REVEAL task
// its commit, its reveal waiting for the commit phase to close.
func (p *Pipeline) queueVote(key string, vote submitter.Vote, commitDeadline int64) error {
	if commitDeadline == 0 {
		return p.voter.Enqueue(vote)
	}
	salt, err := p.salt(key)
	if err != nil {
		return fmt.Errorf("the salt of task %d's commitment: %w", vote.TaskID, err)
	}
	vote.Salt = salt
	commit := submitter.Vote{
		TaskID: vote.TaskID, Deadline: commitDeadline,
		Commitment: types.VoteCommitment(p.chainID, vote.TaskID, p.operator, vote.Result, vote.Failure, salt),
	}
	// Waiting before the commit can land: its close cannot be missed.
	p.awaitReveal(&pendingReveal{vote: vote, commitDeadline: commitDeadline})
	if err := p.voter.Enqueue(commit); err != nil {
		p.mu.Lock()
		delete(p.reveals, vote.TaskID)
		p.mu.Unlock()
		return err
	}
	if vote.Deadline != 0 {
		// Unknown, it could not be forgotten: a copy is then resumed as
		// after a restart.
		p.mu.Lock()
		p.inHand[vote.TaskID] = vote.Deadline
		p.mu.Unlock()
	}
	return nil
}

// stagesInHand reports whether this run queued the task's commit, its
// reveal waiting for the commit phase to close or queued since.
func (p *Pipeline) stagesInHand(id uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.inHand[id]
	return ok
}

// salt returns the work's salt from the store or, when it has none, draws
// one and saves it (store.SetSalt says how durably) before returning it.
func (p *Pipeline) salt(key string) ([]byte, error) {
	salt, ok, err := p.store.Salt(key)
	if err != nil {
		return nil, err
	}
	if ok && len(salt) == types.CommitmentSize {
		return salt, nil
	}
	salt = make([]byte, types.CommitmentSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return salt, p.store.SetSalt(key, salt)
}

func (p *Pipeline) awaitReveal(r *pendingReveal) {
	p.mu.Lock()
	p.reveals[r.vote.TaskID] = r
	p.mu.Unlock()
}

// commitPhaseOver reports whether a commit sent now lands after the task's
// commit deadline (the chain refuses it: the task is lost for this operator).
func (p *Pipeline) commitPhaseOver(ctx context.Context, commitDeadline int64) bool {
	h, err := p.height(ctx)
	return err == nil && h >= commitDeadline
}

// resumeCommitReveal queues again, after a restart, the stages of a
// COMMIT_REVEAL task whose outcome was recorded: the commit with the saved
// salt (the submitter skips it once submitted) and the reveal, at once if
// the task says its commit phase has closed. A copy of work whose stages
// this run queued changes nothing: queued again, the reveal would lose the
// close already seen, and reading the task would cost a Query/Task per task.
func (p *Pipeline) resumeCommitReveal(ctx context.Context, key string, vote submitter.Vote, commitDeadline int64) error {
	if p.stagesInHand(vote.TaskID) {
		return nil
	}
	if err := p.queueVote(key, vote, commitDeadline); err != nil {
		return err
	}
	res, err := p.chain.TaskFor(ctx, vote.TaskID, p.operator)
	if err != nil {
		p.log.Warn("could not read a COMMIT_REVEAL task to resume it; its reveal waits for its commit deadline", "work", key,
			"commit_deadline", commitDeadline, "err", err)
		return nil
	}
	h, err := p.height(ctx)
	if err != nil {
		return nil // the next block decides
	}
	b := watcher.Block{Height: h}
	if res.Task.CommitsClosedHeight != 0 {
		b.CommitsClosed = []uint64{vote.TaskID}
	}
	p.onBlock(b)
	return nil
}

// onBlock queues the reveals a block makes due: of the tasks whose commit
// phase closed in it, and of those whose commit deadline it reached. A
// reveal that can no longer land by its task's deadline is given up.
func (p *Pipeline) onBlock(b watcher.Block) {
	p.mu.Lock()
	for id, d := range p.inHand {
		if b.Height > d {
			// Past its deadline a copy is dropped as expired (resumeSaved).
			delete(p.inHand, id)
		}
	}
	for _, id := range b.CommitsClosed {
		if r, ok := p.reveals[id]; ok && r.closedAt == 0 {
			r.closedAt = b.Height
		}
	}
	var due, expired []*pendingReveal
	for id, r := range p.reveals {
		switch {
		case r.vote.Deadline != 0 && b.Height >= r.vote.Deadline:
			expired = append(expired, r)
		case r.due(b.Height):
			due = append(due, r)
		default:
			continue
		}
		delete(p.reveals, id)
	}
	p.mu.Unlock()
	for _, r := range expired {
		key := store.WorkKey(r.vote.TaskID, nil)
		p.log.Warn("the commit phase did not close before the task's deadline: no reveal", "work", key,
			"commit_deadline", r.commitDeadline, "deadline", r.vote.Deadline, "height", b.Height)
		p.metrics.WorkGivenUp("deadline")
		p.done(key)
	}
	slices.SortFunc(due, func(a, b *pendingReveal) int { return int(a.vote.Deadline - b.vote.Deadline) })
	for _, r := range due {
		p.log.Info("commit phase closed: reveal queued", "task", r.vote.TaskID, "height", b.Height,
			"closed_at", r.closedAt, "commit_deadline", r.commitDeadline)
		if err := p.voter.Enqueue(r.vote); err != nil {
			p.log.Warn("could not queue a reveal; trying again at the next block", "task", r.vote.TaskID, "err", err)
			p.awaitReveal(r)
		}
	}
}

// watchBlocks queues the reveals as blocks come (WithBlocks), or as the
// chain's height moves without it, until ctx ends.
func (p *Pipeline) watchBlocks(ctx context.Context) {
	var tick <-chan time.Time
	if p.blocks == nil {
		t := time.NewTicker(revealPollEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-p.blocks:
			p.onBlock(b)
		case <-tick:
			p.mu.Lock()
			waiting := len(p.reveals) > 0
			p.mu.Unlock()
			if !waiting {
				continue
			}
			if h, err := p.height(ctx); err == nil {
				p.onBlock(watcher.Block{Height: h})
			}
		}
	}
}
