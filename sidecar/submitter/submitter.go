// Package submitter turns results into votes on chain: it batches the votes
// ready at a block into MsgSubmitResults transactions, tracks the signing
// account's sequence (refreshed on mismatch), retries out-of-gas with more
// gas, confirms inclusion, and records every vote in the store so that none
// is ever sent twice.
//
// A refused transaction never blocks the queue (C1). Batches are cut below
// the transaction byte cap (WithMaxTxBytes, and 9/10 of the consensus
// block.max_bytes), the consensus block.max_gas and the chain's
// max_votes_per_tx (re-read every few minutes and at once after the chain
// refuses a batch for its number of results). A refusal is classified
// (classify.go):
//   - permanent for a vote (an x/avs error such as voting closed, duplicate
//     vote, not opted in): a batch is split until the vote is alone, then the
//     vote is dropped: logged, counted (VotesDropped) and recorded submitted
//     so that it is never sent again;
//   - for the stages of a COMMIT_REVEAL vote, in a transaction that landed:
//     a commit refused as a duplicate is on chain already (done); any other
//     refusal of a commit (the commit phase closed, ErrCommitClosed) gives up
//     the task: the reveal is recorded submitted with it and never sent. A
//     reveal refused with ErrRevealTooEarly is sent again about a block
//     later; one refused with ErrRevealMismatch is logged as an error (a
//     fault the chain slashes), others as for votes;
//   - permanent for the batch (too large, gas over the block's, too many
//     results) or not understood: the batch is halved; a vote alone refused
//     for a reason not understood is set aside and retried later, a few times;
//   - transient (mempool full, connection refused, timeouts, sequence
//     mismatch): sent again after a capped exponential backoff;
//   - the account cannot pay (insufficient funds or fee, no fee allowance or
//     grant for the vote key, operator not registered): reported as
//     SubmitterBlocked until a transaction lands, logged at most once a
//     minute, retried with backoff.
//
// Up to WithMaxInFlight transactions are in flight at once, signed with
// consecutive sequences without waiting for the previous one to land, and
// confirmed independently. A vote is in at most one transaction that can
// still land: it is signed again only once its transaction failed, was
// refused, or can no longer land (its timeout height has passed). Any
// sequence mismatch moves the next sequence to the one the chain expects
// (learn, in classify.go). The queue is ordered by the votes' deadline
// heights, first come first among equals.
//
// Inclusion is known without the node's tx indexer (C2): the blocks from the
// one after signing to the transaction's timeout height are read and the
// transaction found in them by hash, its result taken from the block's
// results. Each new block is read once for every transaction in flight, and
// its results only when it holds one of them; the latest height is read
// once a pass, not once a transaction. Votes left pending by an earlier run
// are settled the same way, alongside new votes, with /tx tried first while
// the node answers it.
//
// With WithAuthzOperator the keyring key is a hot vote key: it signs an authz
// MsgExec of MsgSubmitResults for the operator, and the operator pays the fee
// through a feegrant allowance, so the operator's key stays cold (M9).
//
// The files follow skip-mev/connect oracle/{oracle,options,lifecycle}.go:
// submitter.go (the type, New, Enqueue, Start), options.go, batch.go
// (cutting, building, signing and sending a batch), classify.go (what a
// refusal means and what is done about it), params.go (the chain's limits)
// and confirm.go (waiting for a transaction and recording its outcome, also
// after a restart).
package submitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/internal/delay"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// DefaultVoteGasReserve is the gas added for a vote that completes its task
// at delivery although it did not in simulation (measured at about 82k for
// three backers; see x/avs/README.md). It is added for at most ReservedVotes
// votes of a transaction.
const DefaultVoteGasReserve = 100_000

// ReservedVotes is how many votes of a transaction get the vote gas reserve.
// The SDK charges the whole gas limit, so a reserve for every vote would be
// paid for in full (M10). More votes completing their tasks at delivery than
// simulation saw make the transaction run out of gas; it is then sent again
// with more gas.
const ReservedVotes = 3

// VoteGasMargin is the gas added per vote on top of the simulated amount
// and its adjustment.
const VoteGasMargin = 5_000

// DefaultMaxVotes is the votes per transaction until the chain's
// max_votes_per_tx is read.
const DefaultMaxVotes = 100

// DefaultMaxInFlight is how many vote transactions of this run may wait for
// inclusion at once (WithMaxInFlight). A transaction takes one or two blocks
// to confirm; with 100 votes a transaction, 8 in flight carry several
// hundred votes a block.
const DefaultMaxInFlight = 8

// DefaultMaxTxBytes caps a vote transaction's encoded size: below CometBFT's
// default mempool max_tx_bytes (1 MiB), which the RPC does not expose.
const DefaultMaxTxBytes = 900 << 10

// Chain is what the submitter needs from the chain.
type Chain interface {
	LatestHeight(ctx context.Context) (int64, error)
	Account(ctx context.Context, addr sdk.AccAddress) (accNum, seq uint64, err error)
	Simulate(ctx context.Context, txBytes []byte) (uint64, error)
	BroadcastSync(ctx context.Context, txBytes []byte) (*coretypes.ResultBroadcastTx, error)
	// TxResult is the /tx shortcut: nil and no error when the transaction
	// is not known (yet); an error when the node cannot tell.
	TxResult(ctx context.Context, hash []byte) (*coretypes.ResultTx, error)
	Block(ctx context.Context, height int64) (*coretypes.ResultBlock, error)
	BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error)
	Params(ctx context.Context) (types.Params, error)
	// ConsensusLimits returns the consensus block.max_bytes and block.max_gas.
	ConsensusLimits(ctx context.Context) (maxBytes, maxGas int64, err error)
}

// Store records what was sent, by work key (store.WorkKey).
type Store interface {
	Submitted(key string) (bool, error)
	SetPendingBatch(pending map[string]store.Pending) error
	ClearPendingBatch(keys []string) error
	MarkSubmittedBatch(keys []string, txHash string) error
	PendingVotes() (map[string]store.Pending, error)
}

// Metrics is told about votes and transactions (metrics.Sink satisfies it).
type Metrics interface {
	// VotesSent counts the votes broadcast: in the clear, or revealed on a
	// COMMIT_REVEAL task; CommitsSent the commits and RevealsSent the
	// reveals among them.
	VotesSent(n int)
	CommitsSent(n int)
	RevealsSent(n int)
	VotesIncluded(n int)
	VotesRejected(n int)
	VotesDropped(reason string, n int)
	TxRefused(reason string)
	Queue(depth int, oldest time.Time)
	TxsInFlight(n int)
	SubmitterBlocked(reason string)
}

// Vote is one result to submit: on a task by id, or (Event set, TaskID 0)
// on the task of an event a trigger matched, which the vote opens or joins.
// On a COMMIT_REVEAL task it is one of the task's two stages: the commit
// (Commitment set, no result) and then the reveal (Salt set), each its own
// entry with its own key, sent, settled and recorded apart.
type Vote struct {
	TaskID uint64
	Event  *types.EventRef
	Result []byte
	// Failure, when set, makes this a failure vote (Result empty): the
	// component gave no result on the input, for this reason.
	Failure types.FailureReason
	// ExtraGas is added to the transaction's gas for this vote: the service's
	// handler contract runs, at the voter's cost, if the vote completes the task.
	ExtraGas uint64
	// Deadline is the last height at which the vote counts (the task's
	// deadline_height, or an event task's estimated one); 0 when unknown.
	// The queue sends the earliest deadlines first; unknown ones go first.
	Deadline int64
	// Commitment makes the entry a commit on a COMMIT_REVEAL task
	// (types.VoteCommitment of the outcome and salt revealed later).
	Commitment []byte
	// Salt makes the entry a reveal on a COMMIT_REVEAL task: the result or
	// failure with the salt committed to.
	Salt []byte
}

// Key is the vote's work key: the task's (store.WorkKey), or for a commit
// its commit stage's (store.CommitKey).
func (v Vote) Key() string {
	if v.isCommit() {
		return store.CommitKey(v.TaskID)
	}
	return store.WorkKey(v.TaskID, v.Event)
}

func (v Vote) isCommit() bool { return len(v.Commitment) > 0 }
func (v Vote) isReveal() bool { return len(v.Salt) > 0 }

// entry is the vote's entry in MsgSubmitResults.
func (v Vote) entry() types.TaskResult {
	return types.TaskResult{TaskId: v.TaskID, Result: v.Result, Event: v.Event, Failure: v.Failure, Commitment: v.Commitment, Salt: v.Salt}
}

// entryKey is the work key of an entry of MsgSubmitResults (Vote.Key).
func entryKey(r types.TaskResult) string {
	if len(r.Commitment) > 0 {
		return store.CommitKey(r.TaskId)
	}
	return store.WorkKey(r.TaskId, r.Event)
}

// maxCapRetries bounds how often an event vote refused by the per-block cap
// on automatic tasks is sent again.
const maxCapRetries = 10

// capRetryDelay is how long an event vote refused by the per-block cap waits
// before it is queued again (a block or two).
const capRetryDelay = 2 * time.Second

// revealRetryDelay is how long a reveal refused because the commit phase
// was still open waits before it is queued again: about a block. It is
// tried until the chain accepts it, at the latest in the block after the
// task's commit deadline.
const revealRetryDelay = time.Second

// maxSetAside bounds how often a vote refused alone for a reason not
// understood is set aside and tried again before it is dropped.
const maxSetAside = 8

// queued is a vote in the queue and when it was queued.
type queued struct {
	Vote
	at time.Time
}

// Submitter sends votes.
type Submitter struct {
	// Configuration, set by New and its options.
	chain       Chain
	store       Store
	txConfig    client.TxConfig
	keyring     keyring.Keyring
	keyName     string
	address     sdk.AccAddress // the operator, whose votes these are
	signer      sdk.AccAddress // the key that signs: the operator, or its vote key
	chainID     string
	gasPrice    sdk.DecCoins
	gasAdj      float64
	reserve     uint64
	maxVotes    int // the chain's max_votes_per_tx, re-read by refreshLimits
	maxTxBytes  int
	maxInFlight int
	delay       time.Duration
	timeout     int64
	heights     <-chan int64
	metrics     Metrics
	log         *slog.Logger
	paramsEvery time.Duration // how often the chain's limits are read again
	backoffMin  time.Duration // the first wait after a transient refusal
	backoffMax  time.Duration

	// The queue, shared by Enqueue's callers and the Start goroutine, in
	// deadline order (insertQueueLocked). queued holds the keys of the votes
	// in the queue and in flight: Enqueue adds none of them again.
	mu     sync.Mutex
	queue  []queued
	queued map[string]bool
	oldest time.Time // when the longest-waiting vote in the queue was queued
	wake   chan struct{}

	// The pending records of an earlier run, read once by the first Enqueue
	// or Start (recoverPending) into recovering.
	recoverOnce sync.Once
	recoverErr  error

	// Owned by the Start goroutine: only Start and what it calls (sendBatch,
	// submit, settle, resolve, recoverPending, checkRecovering) touch them,
	// so they need no lock.
	acct       account
	lim        limits
	split      int // the batch size after a refusal for size (0: none)
	retry      retryState
	blocked    string // why no vote can be sent ("" when they can)
	blockedLog time.Time
	capHits    map[string]int       // cap refusals per event vote not yet settled
	setAside   map[string]int       // set-asides per vote not yet settled
	later      *delay.Queue[Vote]   // votes waiting to be queued again
	recovering []*flight            // transactions of an earlier run not yet settled
	flights    []*flight            // transactions of this run not yet settled, by sequence
	inFlight   int                  // the TxsInFlight last reported
	noTxIndex  bool                 // /tx failed: inclusion is read from blocks only
	reads      map[int64]*blockRead // blocks read in one settle pass
	head       int64                // the latest height read in this pass
	headRead   bool                 // head was read in this pass
}

// account is the signing account's state, owned by the Start goroutine.
type account struct {
	num, seq   uint64
	known      bool    // num and seq were read from the chain and are trusted
	read       bool    // num was read (it never changes)
	gasBoost   float64 // multiplies simulated gas after an out-of-gas failure
	gasPerVote uint64  // simulated gas per vote of the last batch, to cut batches by gas
}

// retryState is when the queue's head may be sent again after a transient
// refusal.
type retryState struct {
	fails int
	at    time.Time
}

// New returns a submitter signing with keyName from kr.
func New(chain Chain, st Store, txConfig client.TxConfig, kr keyring.Keyring, keyName, chainID string, opts ...Option) (*Submitter, error) {
	if chain == nil || st == nil || txConfig == nil || kr == nil {
		return nil, errors.New("submitter: chain, store, tx config and keyring are required")
	}
	rec, err := kr.Key(keyName)
	if err != nil {
		return nil, fmt.Errorf("signing key %q: %w (import it with 'avsd keys add %s --recover')", keyName, err, keyName)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	s := &Submitter{
		chain: chain, store: st, txConfig: txConfig, keyring: kr, keyName: keyName, address: addr, signer: addr, chainID: chainID,
		gasAdj: 1.5, reserve: DefaultVoteGasReserve, maxVotes: DefaultMaxVotes, maxTxBytes: DefaultMaxTxBytes, maxInFlight: DefaultMaxInFlight,
		delay: 200 * time.Millisecond, timeout: 20, metrics: metrics.Nop(), log: slog.Default(),
		paramsEvery: 5 * time.Minute, backoffMin: time.Second, backoffMax: time.Minute,
		queued: map[string]bool{}, wake: make(chan struct{}, 1),
		acct: account{gasBoost: 1}, capHits: map[string]int{}, setAside: map[string]int{}, later: delay.New[Vote](),
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.maxInFlight < 1 {
		return nil, fmt.Errorf("submitter: max in flight %d must be at least 1", s.maxInFlight)
	}
	if s.maxVotes < 1 || s.gasAdj < 1 {
		return nil, fmt.Errorf("submitter: max votes %d and gas adjustment %v must be at least 1", s.maxVotes, s.gasAdj)
	}
	if s.maxTxBytes < 4<<10 {
		return nil, fmt.Errorf("submitter: max tx bytes %d is below 4 KiB: no vote would fit", s.maxTxBytes)
	}
	s.lim.maxBytes = s.maxTxBytes
	return s, nil
}

// Address is the operator address the votes are for.
func (s *Submitter) Address() sdk.AccAddress { return s.address }

// Signer is the address that signs vote transactions: the operator, or its
// vote key (WithAuthzOperator). Its account's sequence is the one tracked.
func (s *Submitter) Signer() sdk.AccAddress { return s.signer }

// Enqueue adds a vote unless it was already queued, is in flight (also in a
// transaction of an earlier run not yet settled) or was submitted.
func (s *Submitter) Enqueue(v Vote) error {
	if err := s.recoverPending(); err != nil {
		return fmt.Errorf("read pending votes: %w", err)
	}
	key := v.Key()
	done, err := s.store.Submitted(key)
	if err != nil || done {
		return err
	}
	s.mu.Lock()
	if !s.queued[key] {
		s.queued[key] = true
		s.insertQueueLocked(queued{Vote: v, at: time.Now()})
		s.reportQueueLocked()
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// requeue is Enqueue for the submitter's own retries: an error is logged.
func (s *Submitter) requeue(v Vote) {
	if err := s.Enqueue(v); err != nil {
		s.log.Warn("could not queue a vote again (it is redone after a restart)", "work", v.Key(), "err", err)
	}
}

// release forgets that votes are in flight, so that they can be queued again.
func (s *Submitter) release(votes []Vote) {
	s.mu.Lock()
	for _, v := range votes {
		delete(s.queued, v.Key())
	}
	s.mu.Unlock()
}

// hold marks votes as in flight: Enqueue ignores them.
func (s *Submitter) hold(votes []Vote) {
	s.mu.Lock()
	for _, v := range votes {
		s.queued[v.Key()] = true
	}
	s.mu.Unlock()
}

// insertQueueLocked puts q after every vote whose deadline is not later
// (unknown deadlines, 0, first); s.mu is held. Votes mostly come in
// deadline order, so the search ends near the back and little is moved.
func (s *Submitter) insertQueueLocked(q queued) {
	i := len(s.queue)
	for i > 0 && s.queue[i-1].Deadline > q.Deadline {
		i--
	}
	s.queue = slices.Insert(s.queue, i, q)
	if s.oldest.IsZero() || q.at.Before(s.oldest) {
		s.oldest = q.at
	}
}

// reportQueueLocked reports the queue's depth and age; s.mu is held.
func (s *Submitter) reportQueueLocked() {
	if len(s.queue) == 0 {
		s.oldest = time.Time{}
	}
	s.metrics.Queue(len(s.queue), s.oldest)
}

// reportInFlight reports the transactions in flight when their number changed.
func (s *Submitter) reportInFlight() {
	n := len(s.recovering) + len(s.flights)
	if n != s.inFlight {
		s.inFlight = n
		s.metrics.TxsInFlight(n)
	}
}

// Start sends batches until ctx ends. Votes left pending by an earlier run
// are settled alongside: confirmed if their transaction landed, sent again
// once their transaction's timeout height has passed. Votes waiting to be
// sent again wait in a queue this loop drains: nothing runs after Start
// returns (those votes' work stays in the store's inbox and is redone at the
// next start).
func (s *Submitter) Start(ctx context.Context) error {
	if err := s.recoverPending(); err != nil {
		return err
	}
	s.checkRecovering(ctx)
	for {
		poll := false
		select {
		case <-ctx.Done():
			return nil
		case <-s.heights:
		case <-s.wake:
		case <-s.later.Added():
		case <-s.later.Next():
		case <-time.After(s.idle()):
			poll = true
		}
		for _, v := range s.later.Due() {
			s.requeue(v)
		}
		if s.delay > 0 && !poll {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(s.delay):
			}
		}
		// Settled right before sending: the slots they free are used now.
		s.checkRecovering(ctx)
		s.settle(ctx)
		for s.sendBatch(ctx) {
		}
	}
}

// idle is how long Start waits for a signal: a second, pollInterval while
// transactions are in flight, or less when a backoff ends sooner.
func (s *Submitter) idle() time.Duration {
	d := time.Second
	if len(s.flights) > 0 {
		d = pollInterval
	}
	if wait := time.Until(s.retry.at); wait > 0 && wait < d {
		d = wait
	}
	return d
}
