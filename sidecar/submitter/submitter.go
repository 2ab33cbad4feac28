// Package submitter turns results into votes on chain: it batches all the
// votes ready at a block into one MsgSubmitResults transaction signed with
// the operator key, tracks the account sequence (refreshed on mismatch),
// retries out-of-gas with more gas, confirms inclusion, and records every
// vote in the store so that none is ever sent twice.
package submitter

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/avschain/avschain/sidecar/internal/delay"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// DefaultVoteGasReserve is the gas added per vote for the case where the vote
// completes its task (measured at about 82k for three backers; see x/avs/README.md).
const DefaultVoteGasReserve = 100_000

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
	metrics  Metrics
	log      *slog.Logger

	mu      sync.Mutex
	queue   []Vote
	queued  map[string]bool
	capHits map[string]int
	capped  *delay.Queue[Vote]
	wake    chan struct{}
	heights <-chan int64

	accNum, seq uint64
	haveSeq     bool
	gasBoost    float64
}

// Option configures a Submitter.
type Option func(*Submitter) error

// WithGas sets the gas price (e.g. "0.025uavs") and simulation adjustment.
func WithGas(prices string, adjustment float64) Option {
	return func(s *Submitter) error {
		p, err := sdk.ParseDecCoins(prices)
		if err != nil {
			return fmt.Errorf("gas prices %q: %w", prices, err)
		}
		s.gasPrice, s.gasAdj = p, adjustment
		return nil
	}
}

// WithVoteGasReserve adds gas per vote on top of the simulated amount. A vote
// simulated before another operator's lands may be the one that completes
// its task at delivery, which costs far more (the result, the fee payouts):
// without headroom such a transaction runs out of gas and costs a block.
func WithVoteGasReserve(gas uint64) Option {
	return func(s *Submitter) error { s.reserve = gas; return nil }
}

// WithBatchDelay sets how long to wait after a block for more votes.
func WithBatchDelay(d time.Duration) Option {
	return func(s *Submitter) error { s.delay = d; return nil }
}

// WithMaxVotes caps the votes per transaction (the chain's max_votes_per_tx).
func WithMaxVotes(n int) Option {
	return func(s *Submitter) error { s.maxVotes = n; return nil }
}

// WithHeights gives the submitter the new-block signal it batches on.
func WithHeights(ch <-chan int64) Option {
	return func(s *Submitter) error { s.heights = ch; return nil }
}

// WithMetrics reports votes sent and included.
func WithMetrics(m Metrics) Option {
	return func(s *Submitter) error { s.metrics = m; return nil }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(s *Submitter) error { s.log = l; return nil }
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
		gasAdj: 1.5, reserve: DefaultVoteGasReserve, maxVotes: 100, delay: 200 * time.Millisecond, timeout: 20, metrics: nopMetrics{},
		log: slog.Default(), queued: map[string]bool{}, capHits: map[string]int{}, capped: delay.New[Vote](), wake: make(chan struct{}, 1), gasBoost: 1,
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
		s.enqueueDue()
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

// enqueueDue queues again the capped event votes whose wait is over.
func (s *Submitter) enqueueDue() {
	for _, v := range s.capped.Due() {
		if err := s.Enqueue(v); err != nil {
			s.log.Warn("could not queue a capped event vote again", "work", v.Key(), "err", err)
		}
	}
}

// sendBatch sends up to maxVotes queued votes in one transaction and waits for
// it; it reports whether votes remain queued.
func (s *Submitter) sendBatch(ctx context.Context) bool {
	s.mu.Lock()
	n := min(len(s.queue), s.maxVotes)
	var batch []Vote
	for _, v := range s.queue[:n] {
		// A vote queued again after a restart may have been settled since
		// (its earlier transaction landed): never send it twice.
		if done, err := s.store.Submitted(v.Key()); err == nil && done {
			delete(s.queued, v.Key())
			continue
		}
		batch = append(batch, v)
	}
	if len(batch) == 0 {
		s.queue = s.queue[n:]
		more := len(s.queue) > 0
		s.mu.Unlock()
		return more
	}
	s.mu.Unlock()
	err := s.submit(ctx, batch)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn("vote transaction failed; will retry", "votes", len(batch), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		return false
	}
	s.mu.Lock()
	s.queue = s.queue[n:]
	for _, v := range batch {
		delete(s.queued, v.Key())
	}
	more := len(s.queue) > 0
	s.mu.Unlock()
	return more
}

func (s *Submitter) submit(ctx context.Context, batch []Vote) error {
	if !s.haveSeq {
		accNum, seq, err := s.chain.Account(ctx, s.address)
		if err != nil {
			return fmt.Errorf("operator account %s: %w (is it funded?)", s.address, err)
		}
		s.accNum, s.seq, s.haveSeq = accNum, seq, true
	}
	height, err := s.chain.LatestHeight(ctx)
	if err != nil {
		return err
	}
	msg := &types.MsgSubmitResults{Operator: s.address.String()}
	for _, v := range batch {
		msg.Results = append(msg.Results, types.TaskResult{TaskId: v.TaskID, Result: v.Result, Event: v.Event})
	}
	timeoutHeight := height + s.timeout

	// Simulate for gas, then sign for real.
	simBytes, err := s.sign(ctx, msg, 0, timeoutHeight, true)
	if err != nil {
		return err
	}
	used, err := s.chain.Simulate(ctx, simBytes)
	if err != nil {
		if isSequenceMismatch(err) {
			s.haveSeq = false
		}
		return fmt.Errorf("simulate: %w", err)
	}
	gas := uint64(float64(used)*s.gasAdj*s.gasBoost) + s.reserve*uint64(len(batch))
	for _, v := range batch {
		gas += v.ExtraGas
	}
	txBytes, err := s.sign(ctx, msg, gas, timeoutHeight, false)
	if err != nil {
		return err
	}
	hash := txHash(txBytes)
	for _, v := range batch {
		if err := s.store.SetPending(v.Key(), store.Pending{TxHash: hash, TimeoutHeight: timeoutHeight, Result: v.Result, TaskID: v.TaskID, Event: v.Event}); err != nil {
			return err
		}
	}
	res, err := s.chain.BroadcastSync(ctx, txBytes)
	if err != nil {
		// Unknown outcome: the transaction may have reached the mempool. Do not
		// sign the votes again until it is known to have landed or can no
		// longer land (its timeout height has passed).
		s.haveSeq = false
		s.log.Warn("broadcast failed; waiting to learn whether the transaction landed", "tx", hash, "err", err)
		if cerr := s.confirm(ctx, batch, hash, timeoutHeight); cerr != nil {
			return fmt.Errorf("broadcast: %w; then: %v", err, cerr)
		}
		return nil
	}
	if res.Code != 0 {
		for _, v := range batch {
			_ = s.store.ClearPending(v.Key())
		}
		if res.Code == sdkerrors.ErrWrongSequence.ABCICode() && res.Codespace == sdkerrors.RootCodespace {
			s.haveSeq = false
		}
		return fmt.Errorf("CheckTx refused the vote transaction (%s/%d): %s", res.Codespace, res.Code, res.Log)
	}
	s.seq++
	s.metrics.VotesSent(len(batch))
	s.log.Info("votes sent", "votes", len(batch), "tx", hash, "gas", gas)
	return s.confirm(ctx, batch, hash, timeoutHeight)
}

// confirm waits for the transaction to land (or for its timeout height to pass).
func (s *Submitter) confirm(ctx context.Context, batch []Vote, hash string, timeoutHeight int64) error {
	raw, _ := hex.DecodeString(hash)
	for {
		res, err := s.chain.TxResult(ctx, raw)
		if err == nil && res != nil {
			return s.settle(batch, hash, res)
		}
		h, herr := s.chain.LatestHeight(ctx)
		if herr == nil && h > timeoutHeight {
			for _, v := range batch {
				_ = s.store.ClearPending(v.Key())
			}
			s.haveSeq = false
			return fmt.Errorf("transaction %s not included by its timeout height %d", hash, timeoutHeight)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// settle records the outcome of an included transaction.
func (s *Submitter) settle(batch []Vote, hash string, res *coretypes.ResultTx) error {
	if res.TxResult.Code != 0 {
		for _, v := range batch {
			_ = s.store.ClearPending(v.Key())
		}
		if res.TxResult.Code == sdkerrors.ErrOutOfGas.ABCICode() && res.TxResult.Codespace == sdkerrors.RootCodespace {
			s.gasBoost *= 1.5
			return fmt.Errorf("out of gas (used %d of %d): retrying with %.1fx gas", res.TxResult.GasUsed, res.TxResult.GasWanted, s.gasBoost)
		}
		return fmt.Errorf("vote transaction %s failed (%s/%d): %s", hash, res.TxResult.Codespace, res.TxResult.Code, res.TxResult.Log)
	}
	s.gasBoost = 1
	var resp types.MsgSubmitResultsResponse
	if err := unpackResponse(res.TxResult.Data, &resp); err != nil {
		s.log.Warn("could not read the vote outcomes", "tx", hash, "err", err)
	}
	rejected := 0
	var again []Vote
	for i, v := range batch {
		// Outcomes follow the message's results; a vote settled on its own
		// after a restart may have shared its transaction with others.
		if len(resp.Outcomes) == len(batch) && !resp.Outcomes[i].Accepted {
			o := resp.Outcomes[i]
			rejected++
			if v.Event != nil && o.Codespace == types.ModuleName && o.Code == types.ErrAutoTaskLimit.ABCICode() && s.retryCapped(v) {
				// The service opened its per-block share of automatic tasks: a
				// later block has room for this event's task.
				s.log.Info("event vote waits for a block with room for its task", "work", v.Key(), "err", o.Error)
				_ = s.store.ClearPending(v.Key())
				again = append(again, v)
				continue
			}
			s.log.Warn("vote refused by the chain", "work", v.Key(), "task", o.TaskId, "codespace", o.Codespace, "code", o.Code, "err", o.Error)
		}
		if err := s.store.MarkSubmitted(v.Key(), hash); err != nil {
			return err
		}
	}
	for _, v := range again {
		s.capped.Add(v, capRetryDelay)
	}
	s.metrics.VotesIncluded(len(batch) - rejected)
	s.metrics.VotesRejected(rejected)
	s.log.Info("votes included", "votes", len(batch), "refused", rejected, "tx", hash, "height", res.Height)
	return nil
}

// retryCapped counts a cap refusal of an event vote and reports whether the
// vote may be sent again.
func (s *Submitter) retryCapped(v Vote) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.capHits[v.Key()]++
	return s.capHits[v.Key()] <= maxCapRetries
}

// recoverPending settles votes a previous run sent without confirming.
func (s *Submitter) recoverPending(ctx context.Context) error {
	pending, err := s.store.PendingVotes()
	if err != nil || len(pending) == 0 {
		return err
	}
	s.log.Info("settling votes left pending by the last run", "votes", len(pending))
	for key, p := range pending {
		v := Vote{TaskID: p.TaskID, Event: p.Event, Result: p.Result}
		raw, _ := hex.DecodeString(p.TxHash)
		for {
			res, err := s.chain.TxResult(ctx, raw)
			if err == nil && res != nil {
				if err := s.settle([]Vote{v}, p.TxHash, res); err != nil {
					s.log.Warn("pending vote's transaction failed; sending again", "work", key, "err", err)
					_ = s.Enqueue(v)
				}
				break
			}
			h, herr := s.chain.LatestHeight(ctx)
			if herr == nil && h > p.TimeoutHeight {
				_ = s.store.ClearPending(key)
				_ = s.Enqueue(v)
				break
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return nil
}

func (s *Submitter) sign(ctx context.Context, msg sdk.Msg, gas uint64, timeoutHeight int64, simulate bool) ([]byte, error) {
	f := tx.Factory{}.
		WithTxConfig(s.txConfig).
		WithKeybase(s.keyring).
		WithChainID(s.chainID).
		WithAccountNumber(s.accNum).
		WithSequence(s.seq).
		WithTimeoutHeight(uint64(timeoutHeight)).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	if simulate {
		f = f.WithGas(0).WithSimulateAndExecute(true)
	} else {
		f = f.WithGas(gas)
		if !s.gasPrice.IsZero() {
			f = f.WithGasPrices(s.gasPrice.String())
		}
	}
	builder, err := f.BuildUnsignedTx(msg)
	if err != nil {
		return nil, err
	}
	if err := tx.Sign(ctx, f, s.keyName, builder, true); err != nil {
		return nil, fmt.Errorf("sign with %q: %w", s.keyName, err)
	}
	return s.txConfig.TxEncoder()(builder.GetTx())
}

func txHash(txBytes []byte) string {
	return strings.ToUpper(hex.EncodeToString(tmhash(txBytes)))
}

func isSequenceMismatch(err error) bool {
	return strings.Contains(err.Error(), "account sequence mismatch") || errorsmod.IsOf(err, sdkerrors.ErrWrongSequence)
}

type nopMetrics struct{}

func (nopMetrics) VotesSent(int)     {}
func (nopMetrics) VotesIncluded(int) {}
func (nopMetrics) VotesRejected(int) {}
