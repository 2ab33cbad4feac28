package pipeline

import (
	"context"

	"github.com/avschain/avschain/sidecar/watcher"
)

// Handle runs one piece of work as Start's workers do (the tests call it
// directly instead of going through Start).
func (p *Pipeline) Handle(ctx context.Context, w watcher.Work) error {
	_, err := p.handle(ctx, w)
	return err
}

// Prune prunes as Start does every WithPruneEvery.
func (p *Pipeline) Prune(ctx context.Context) (int, error) { return p.prune(ctx) }

// Component returns a component as a run fetches it.
func (p *Pipeline) Component(ctx context.Context, digest string) ([]byte, error) {
	return p.component(ctx, digest)
}

// Block is what the pipeline does with a block the watcher read
// (WithBlocks): queue the reveals it makes due.
func (p *Pipeline) Block(b watcher.Block) { p.onBlock(b) }

// HandleVoted runs one piece of work as Start's workers do and reports
// whether a vote was queued for it (Start then keeps the work saved until
// the vote is submitted, instead of marking it done).
func (p *Pipeline) HandleVoted(ctx context.Context, w watcher.Work) (bool, error) {
	return p.handle(ctx, w)
}

// StagesInHand is how many COMMIT_REVEAL tasks the pipeline remembers
// having queued the stages of in this run.
func (p *Pipeline) StagesInHand() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inHand)
}
