// Package submitter turns results into votes on chain: it batches all the
// votes ready at a block into one MsgSubmitResults transaction signed with
// the operator key, tracks the account sequence (refreshed on mismatch),
// retries out-of-gas with more gas, confirms inclusion, and records every
// vote in the store so that none is ever sent twice.
//
// The files follow skip-mev/connect oracle/{oracle,options,lifecycle}.go:
// submitter.go (the type, New, Enqueue, Start), options.go, batch.go
// (building, signing and sending a batch) and confirm.go (waiting for a
// transaction and recording its outcome, also after a restart).
package submitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// DefaultVoteGasReserve is the gas added per vote for the case where the vote
// completes its task (measured at about 82k for three backers; see x/avs/README.md).
const DefaultVoteGasReserve = 100_000

// DefaultMaxVotes is the votes per transaction when the chain's
// max_votes_per_tx is not known.
const DefaultMaxVotes = 100

// Chain is what the submitter needs from the chain.
type Chain interface {
	LatestHeight(ctx context.Context) (int64, error)
	Account(ctx context.Context, addr sdk.AccAddress) (accNum, seq uint64, err error)
	Simulate(ctx context.Context, txBytes []byte) (uint64, error)
	BroadcastSync(ctx context.Context, txBytes []byte) (*coretypes.ResultBroadcastTx, error)
	TxResult(ctx context.Context, hash []byte) (*coretypes.ResultTx, error)
}

// Store records what was sent, by work key (store.WorkKey).
type Store interface {
	Submitted(key string) (bool, error)
	SetPending(key string, p store.Pending) error
	ClearPending(key string) error
	MarkSubmitted(key string, txHash string) error
	PendingVotes() (map[string]store.Pending, error)
}

// Metrics is told about votes sent and included.
type Metrics interface {
	VotesSent(n int)
	VotesIncluded(n int)
	VotesRejected(n int)
}

// Vote is one result to submit: on a task by id, or (Event set, TaskID 0)
// on the task of an event a trigger matched, which the vote opens or joins.
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
}

// Key is the vote's work key.
func (v Vote) Key() string { return store.WorkKey(v.TaskID, v.Event) }

// maxCapRetries bounds how often an event vote refused by the per-block cap
// on automatic tasks is sent again.
const maxCapRetries = 10

// capRetryDelay is how long an event vote refused by the per-block cap waits
// before it is queued again (a block or two).
const capRetryDelay = 2 * time.Second

// Submitter sends votes.
type Submitter struct {
	// Configuration, set by New and its options.
	chain    Chain
	store    Store
	txConfig client.TxConfig
	keyring  keyring.Keyring
	keyName  string
	address  sdk.AccAddress
	chainID  string
	gasPrice sdk.DecCoins
	gasAdj   float64
	reserve  uint64
	maxVotes int
	delay    time.Duration
	timeout  int64
	heights  <-chan int64
	metrics  Metrics
	log      *slog.Logger

	// The queue, shared by Enqueue's callers and the Start goroutine.
	mu     sync.Mutex
	queue  []Vote
	queued map[string]bool
	wake   chan struct{}

	// Owned by the Start goroutine: only Start and what it calls (sendBatch,
	// submit, confirm, resolve, recoverPending) touch them, so they need no lock.
	acct    account
	capHits map[string]int // cap refusals per event vote not yet settled
	capped  *delay.Queue[Vote]
}

// account is the operator account's signing state, owned by the Start goroutine.
type account struct {
	num, seq uint64
	known    bool    // num and seq were read from the chain and are trusted
	gasBoost float64 // multiplies simulated gas after an out-of-gas failure
}

// New returns a submitter signing with keyName from kr.
func New(chain Chain, st Store, txConfig client.TxConfig, kr keyring.Keyring, keyName, chainID string, opts ...Option) (*Submitter, error) {
	if chain == nil || st == nil || txConfig == nil || kr == nil {
		return nil, errors.New("submitter: chain, store, tx config and keyring are required")
	}
	rec, err := kr.Key(keyName)
	if err != nil {
		return nil, fmt.Errorf("operator key %q: %w (import it with 'avsd keys add %s --recover')", keyName, err, keyName)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	s := &Submitter{
		chain: chain, store: st, txConfig: txConfig, keyring: kr, keyName: keyName, address: addr, chainID: chainID,
		gasAdj: 1.5, reserve: DefaultVoteGasReserve, maxVotes: DefaultMaxVotes, delay: 200 * time.Millisecond, timeout: 20,
		metrics: metrics.Nop(), log: slog.Default(),
		queued: map[string]bool{}, wake: make(chan struct{}, 1),
		acct: account{gasBoost: 1}, capHits: map[string]int{}, capped: delay.New[Vote](),
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.maxVotes < 1 || s.gasAdj < 1 {
		return nil, fmt.Errorf("submitter: max votes %d and gas adjustment %v must be at least 1", s.maxVotes, s.gasAdj)
	}
	return s, nil
}

// Address is the operator address votes are signed with.
func (s *Submitter) Address() sdk.AccAddress { return s.address }

// Enqueue adds a vote unless it was already queued or submitted.
func (s *Submitter) Enqueue(v Vote) error {
	key := v.Key()
	done, err := s.store.Submitted(key)
	if err != nil || done {
		return err
	}
	s.mu.Lock()
	if !s.queued[key] {
		s.queued[key] = true
		s.queue = append(s.queue, v)
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

// Start sends batches until ctx ends. Votes left pending by an earlier run
// are settled first: confirmed if their transaction landed, sent again once
// their transaction's timeout height has passed. Votes waiting to be sent
// again wait in a queue this loop drains: nothing runs after Start returns
// (those votes' work stays in the store's inbox and is redone at the next start).
func (s *Submitter) Start(ctx context.Context) error {
	if err := s.recoverPending(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.heights:
		case <-s.wake:
		case <-s.capped.Added():
		case <-s.capped.Next():
		case <-time.After(time.Second):
		}
		for _, v := range s.capped.Due() {
			s.requeue(v)
		}
		if s.delay > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(s.delay):
			}
		}
		for s.sendBatch(ctx) {
		}
	}
}
