package submitter

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/authz"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// pollInterval is how often a transaction's inclusion is checked.
const pollInterval = 300 * time.Millisecond

// maxReadFailures is how many times reading a block past a transaction's
// timeout height may fail (pruned, or a node that lacks it) before the
// transaction is taken as lost: its votes are sent again, which is safe (a
// vote already counted is refused as a duplicate, then recorded).
const maxReadFailures = 10

// errNotIncluded: the chain passed the transaction's timeout height without
// including it, so it can no longer land.
var errNotIncluded = errors.New("not included by its timeout height")

// flight is a vote transaction sent and not yet settled.
type flight struct {
	votes   []Vote
	hash    []byte
	from    int64  // the first height that can include it
	timeout int64  // its timeout height: no later block includes it
	scanned int64  // the last height read for it
	fails   int    // block reads failed past the timeout height
	seq     uint64 // the sequence it was signed with (this run's flights)
	// stale: CheckTx expected a sequence at or below seq, so the node's
	// mempool does not hold it; it still may land (another node's mempool)
	// until its timeout height, but it no longer counts toward maxInFlight.
	stale bool
	// recovered: a transaction of an earlier run, found by /tx first.
	recovered bool
}

// blockRead is what one settle pass read of a block: its transactions'
// positions by hash and, once one of them is wanted, its results; or the
// error reading it. Each block is asked for once a pass, however many
// transactions are looked for in it.
type blockRead struct {
	txs     cmttypes.Txs
	index   map[string]int // by the transaction's hash
	results *coretypes.ResultBlockResults
	err     error
}

// height returns the chain's latest height, read once a pass: settle begins
// a pass, and the transactions sent after it take their heights from the
// same read.
func (s *Submitter) height(ctx context.Context) (int64, error) {
	if s.headRead {
		return s.head, nil
	}
	h, err := s.chain.LatestHeight(ctx)
	if err != nil {
		return 0, err
	}
	s.head, s.headRead = h, true
	return h, nil
}

// check looks once for f's transaction in the blocks up to latest: its
// result when it was included, errNotIncluded when it can no longer be, nil
// when not known yet. The blocks from f.from to the timeout height are read
// (C2: no tx index needed), each once: a block read for one transaction
// serves the others in the same pass, and the node is asked for a block's
// results only when it holds one of them (the watcher has read them already;
// chain.Client shares the answer). A transaction of an earlier run is asked
// for by /tx first, while the node answers it, as the blocks it may be in
// can be many or pruned; its blocks are read when /tx does not answer (no
// tx index), and once its timeout height has passed (an index lags behind
// the blocks).
func (s *Submitter) check(ctx context.Context, f *flight, latest int64) (*coretypes.ResultTx, error) {
	if f.recovered && !s.noTxIndex {
		if len(f.hash) > 0 {
			res, err := s.chain.TxResult(ctx, f.hash)
			if err == nil && res != nil {
				return res, nil
			}
			if err != nil && ctx.Err() == nil {
				s.noTxIndex = true
				s.log.Info("the node does not answer /tx; confirming votes by reading blocks", "err", err)
			}
		}
		if !s.noTxIndex && latest <= f.timeout {
			return nil, nil
		}
	}
	f.scanned = max(f.scanned, f.from-1)
	for h := f.scanned + 1; h <= min(latest, f.timeout); h++ {
		res, err := s.findTx(ctx, h, f.hash)
		if err != nil {
			if latest > f.timeout {
				if f.fails++; f.fails >= maxReadFailures {
					s.log.Warn("cannot read the blocks that may hold a vote transaction; taking it as lost", "tx", fmt.Sprintf("%X", f.hash), "height", h, "err", err)
					return nil, errNotIncluded
				}
			}
			return nil, nil
		}
		if res != nil {
			return res, nil
		}
		f.scanned = h
	}
	if f.scanned >= f.timeout {
		return nil, errNotIncluded
	}
	return nil, nil
}

// findTx returns the result of the transaction with this hash in the block
// at height, or nil when the block does not hold it.
func (s *Submitter) findTx(ctx context.Context, height int64, hash []byte) (*coretypes.ResultTx, error) {
	b := s.reads[height]
	if b == nil {
		b = s.readBlock(ctx, height)
		if s.reads != nil && ctx.Err() == nil {
			s.reads[height] = b
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	i, ok := b.index[string(hash)]
	if !ok {
		return nil, nil
	}
	if b.results == nil {
		results, err := s.chain.BlockResults(ctx, height)
		if err != nil {
			return nil, err
		}
		b.results = results
	}
	if i >= len(b.results.TxsResults) || b.results.TxsResults[i] == nil {
		return nil, fmt.Errorf("block %d: no result for transaction %d", height, i)
	}
	return &coretypes.ResultTx{Hash: hash, Height: height, Index: uint32(i), TxResult: *b.results.TxsResults[i], Tx: b.txs[i]}, nil
}

// readBlock reads a block and hashes its transactions.
func (s *Submitter) readBlock(ctx context.Context, height int64) *blockRead {
	block, err := s.chain.Block(ctx, height)
	switch {
	case err != nil:
		return &blockRead{err: err}
	case block == nil || block.Block == nil:
		return &blockRead{err: fmt.Errorf("block %d: empty answer", height)}
	}
	b := &blockRead{txs: block.Block.Txs, index: make(map[string]int, len(block.Block.Txs))}
	for i, tx := range b.txs {
		if _, dup := b.index[string(tx.Hash())]; !dup {
			b.index[string(tx.Hash())] = i
		}
	}
	return b
}

// settle checks each transaction of this run in flight once: a landed one
// is resolved, a failed or lost one's votes are queued again (flightFailed).
// The flights are independent: each is found by its own hash, and a block
// read for one serves the others in the same pass.
func (s *Submitter) settle(ctx context.Context) {
	s.headRead = false // a new pass
	if len(s.flights) == 0 {
		return
	}
	latest, err := s.height(ctx)
	if err != nil {
		return // the flights are checked at the next pass
	}
	s.reads = map[int64]*blockRead{}
	defer func() { s.reads = nil }()
	var left []*flight
	failed, now := false, true
	fail := func(f *flight, r *refusal) {
		if retry, at := s.flightFailed(f, r); retry {
			failed, now = true, now && at
		}
	}
	defer func() {
		if failed {
			s.backoff(now)
		}
	}()
	for i, f := range s.flights {
		res, err := s.check(ctx, f, latest)
		switch {
		case ctx.Err() != nil:
			left = append(left, s.flights[i:]...)
			s.flights = left
			s.reportInFlight()
			return
		case errors.Is(err, errNotIncluded):
			s.clearPending(f.votes)
			fail(f, &refusal{kind: transient, reason: "not_included", resync: true, now: true,
				err: fmt.Errorf("transaction %X not included by its timeout height %d", f.hash, f.timeout)})
		case res == nil:
			left = append(left, f)
		default:
			if r := s.resolve(f.votes, f.hash, res); r != nil {
				fail(f, r)
				continue
			}
			s.release(f.votes)
			if s.split > 0 {
				if s.split *= 2; s.split >= s.maxVotes {
					s.split = 0
				}
			}
		}
	}
	s.flights = left
	s.reportInFlight()
}

// activeFlights is the number of this run's transactions in flight that
// count toward maxInFlight: those the node's mempool is taken to hold.
func (s *Submitter) activeFlights() int {
	n := 0
	for _, f := range s.flights {
		if !f.stale {
			n++
		}
	}
	return n
}

// windowFull reports whether maxInFlight transactions are in flight.
func (s *Submitter) windowFull() bool { return s.activeFlights() >= s.maxInFlight }

// resolve records the outcome of an included transaction: each accepted or
// finally refused vote is submitted; an event vote refused by the per-block
// cap on automatic tasks is set aside to be sent again. A failed
// transaction's votes are cleared and the refusal returned.
func (s *Submitter) resolve(batch []Vote, hash []byte, res *coretypes.ResultTx) *refusal {
	if res.TxResult.Code != 0 {
		s.clearPending(batch)
		r := classifyCode(res.TxResult.Codespace, res.TxResult.Code, res.TxResult.Log)
		if r.outOfGas {
			r.err = fmt.Errorf("out of gas (used %d of %d): %w", res.TxResult.GasUsed, res.TxResult.GasWanted, r.err)
		}
		r.err = fmt.Errorf("vote transaction %X failed: %w", hash, r.err)
		return r
	}
	s.acct.gasBoost = 1
	s.unblock()
	var resp types.MsgSubmitResultsResponse
	if err := unpackResponse(res.TxResult.Data, &resp); err != nil {
		s.log.Warn("could not read the vote outcomes", "tx", fmt.Sprintf("%X", hash), "err", err)
	}
	outcomes := s.outcomesByKey(batch, res.Tx, resp.Outcomes)
	rejected := 0
	var done, retry []string
	for _, v := range batch {
		if o, ok := outcomes[v.Key()]; ok && !o.Accepted {
			switch {
			case v.isCommit() && isAvs(o, types.ErrDuplicateVote):
				// Committed already (an earlier transaction of ours whose
				// outcome a restart lost): the reveal follows as planned.
				s.log.Info("commit already on chain", "work", v.Key(), "task", o.TaskId)
				done = append(done, v.Key())
				continue
			case v.isReveal() && isAvs(o, types.ErrRevealTooEarly):
				// The commit phase had not closed at that block: a later
				// block accepts the reveal (by the task's commit deadline).
				s.log.Info("reveal came before the commit phase closed; sending it again at a later block", "work", v.Key(), "task", o.TaskId)
				retry = append(retry, v.Key())
				s.later.Add(v, revealRetryDelay)
				continue
			}
			rejected++
			if v.Event != nil && capped(o) && s.retryCapped(v) {
				// The service opened its per-block share of event tasks, or
				// this operator opened its one event task of the service in
				// this block: a later block has room for this event's task
				// (or a peer opened it meanwhile, and the vote joins it).
				s.log.Info("event vote waits for a block with room for its task", "work", v.Key(), "err", o.Error)
				retry = append(retry, v.Key())
				s.later.Add(v, capRetryDelay)
				continue
			}
			switch {
			case v.isCommit():
				// The task is lost for this operator (the commit phase closed
				// before its commit, say): its reveal is never sent.
				s.log.Warn("commit refused by the chain: no reveal will follow, the task is lost for this operator",
					"work", v.Key(), "task", o.TaskId, "codespace", o.Codespace, "code", o.Code, "err", o.Error)
				done = append(done, store.WorkKey(v.TaskID, nil))
			case v.isReveal() && isAvs(o, types.ErrRevealMismatch):
				s.log.Error("REVEAL DOES NOT MATCH THE COMMITMENT: the chain counts it a fault and slashes where the service slashes; the store's salt or outcome of this task differs from what was committed (a restored or shared data_dir?)",
					"work", v.Key(), "task", o.TaskId, "err", o.Error)
			default:
				s.log.Warn("vote refused by the chain", "work", v.Key(), "task", o.TaskId, "codespace", o.Codespace, "code", o.Code, "err", o.Error)
			}
		}
		done = append(done, v.Key())
		delete(s.capHits, v.Key())
		delete(s.setAside, v.Key())
	}
	if len(retry) > 0 {
		if err := s.store.ClearPendingBatch(retry); err != nil {
			s.log.Warn("could not clear pending votes", "votes", len(retry), "err", err)
		}
	}
	if err := s.store.MarkSubmittedBatch(done, fmt.Sprintf("%X", hash)); err != nil {
		// The votes are settled again after a restart (a vote sent twice is
		// refused as a duplicate).
		s.log.Warn("could not record votes as submitted", "votes", len(done), "err", err)
	}
	s.metrics.VotesIncluded(len(batch) - rejected)
	s.metrics.VotesRejected(rejected)
	s.log.Info("votes included", "votes", len(batch), "refused", rejected, "tx", fmt.Sprintf("%X", hash), "height", res.Height)
	return nil
}

// outcomesByKey matches the outcomes of a transaction to work keys. The
// outcomes follow the message's results, read from the transaction itself
// (after a restart a transaction's votes are settled without their order);
// when it cannot be read, they follow batch if the counts agree.
func (s *Submitter) outcomesByKey(batch []Vote, txBytes []byte, outcomes []types.ResultOutcome) map[string]types.ResultOutcome {
	out := map[string]types.ResultOutcome{}
	var keys []string
	if msg := s.decodeVotes(txBytes); msg != nil && len(msg.Results) == len(outcomes) {
		for _, r := range msg.Results {
			keys = append(keys, entryKey(r))
		}
	} else if len(outcomes) == len(batch) {
		for _, v := range batch {
			keys = append(keys, v.Key())
		}
	}
	for i, k := range keys {
		out[k] = outcomes[i]
	}
	return out
}

// decodeVotes returns the MsgSubmitResults of a vote transaction, nil when
// it cannot be read.
func (s *Submitter) decodeVotes(txBytes []byte) *types.MsgSubmitResults {
	if len(txBytes) == 0 {
		return nil
	}
	tx, err := s.txConfig.TxDecoder()(txBytes)
	if err != nil {
		return nil
	}
	for _, m := range tx.GetMsgs() {
		switch m := m.(type) {
		case *types.MsgSubmitResults:
			return m
		case *authz.MsgExec:
			inner, err := m.GetMessages()
			if err == nil && len(inner) == 1 {
				if msg, ok := inner[0].(*types.MsgSubmitResults); ok {
					return msg
				}
			}
		}
	}
	return nil
}

// isAvs reports whether an outcome is x/avs's error e.
func isAvs(o types.ResultOutcome, e *errorsmod.Error) bool {
	return o.Codespace == e.Codespace() && o.Code == e.ABCICode()
}

// capped reports whether a vote was refused by a per-block cap on opening
// event tasks: the service's (ErrAutoTaskLimit) or the operator's
// (ErrEventOpenLimit).
func capped(o types.ResultOutcome) bool {
	return o.Codespace == types.ModuleName &&
		(o.Code == types.ErrAutoTaskLimit.ABCICode() || o.Code == types.ErrEventOpenLimit.ABCICode())
}

// retryCapped counts a cap refusal of an event vote and reports whether the
// vote may be sent again.
func (s *Submitter) retryCapped(v Vote) bool {
	s.capHits[v.Key()]++
	return s.capHits[v.Key()] <= maxCapRetries
}

// clearPending forgets the pending records of votes whose transaction can no
// longer land; a failure is logged (the vote is then settled again after a
// restart, which is safe).
func (s *Submitter) clearPending(batch []Vote) {
	keys := make([]string, 0, len(batch))
	for _, v := range batch {
		keys = append(keys, v.Key())
	}
	if err := s.store.ClearPendingBatch(keys); err != nil {
		s.log.Warn("could not clear pending votes", "votes", len(keys), "err", err)
	}
}

// recoverPending takes up the votes a previous run sent without confirming:
// one flight per transaction, checked by checkRecovering alongside new votes
// (a transaction that never went out holds back only its own votes, until its
// timeout height). The votes are held: the pipeline's replay does not queue
// them meanwhile. It runs once, at the first Enqueue or Start.
func (s *Submitter) recoverPending() error {
	s.recoverOnce.Do(func() { s.recoverErr = s.loadPending() })
	return s.recoverErr
}

func (s *Submitter) loadPending() error {
	pending, err := s.store.PendingVotes()
	if err != nil || len(pending) == 0 {
		return err
	}
	byTx := map[string]*flight{}
	for _, key := range sortedKeys(pending) {
		p := pending[key]
		f, ok := byTx[p.TxHash]
		if !ok {
			hash, err := hex.DecodeString(p.TxHash)
			if err != nil {
				s.log.Warn("pending vote has an unreadable tx hash: waiting for its timeout height", "work", key, "tx", p.TxHash)
			}
			from := p.SentHeight + 1
			if p.SentHeight == 0 {
				from = max(1, p.TimeoutHeight-s.timeout)
			}
			f = &flight{hash: hash, from: from, timeout: p.TimeoutHeight, recovered: true}
			byTx[p.TxHash] = f
			s.recovering = append(s.recovering, f)
		}
		f.votes = append(f.votes, Vote{TaskID: p.TaskID, Event: p.Event, Result: p.Result, Failure: p.Failure, ExtraGas: p.ExtraGas, Deadline: p.Deadline,
			Commitment: p.Commitment, Salt: p.Salt})
	}
	for _, f := range s.recovering {
		s.hold(f.votes)
	}
	s.log.Info("settling votes left pending by the last run", "votes", len(pending), "txs", len(s.recovering))
	s.reportInFlight()
	return nil
}

// checkRecovering checks each transaction of an earlier run once: a landed
// one is resolved, a lost one's votes are queued again.
func (s *Submitter) checkRecovering(ctx context.Context) {
	if len(s.recovering) == 0 {
		return
	}
	latest, err := s.height(ctx)
	if err != nil {
		return
	}
	s.reads = map[int64]*blockRead{}
	defer func() { s.reads = nil }()
	var left []*flight
	for _, f := range s.recovering {
		res, err := s.check(ctx, f, latest)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errNotIncluded):
			s.clearPending(f.votes)
		case res == nil:
			left = append(left, f)
			continue
		default:
			s.acct.known = false // the sequence it used is spent
			r := s.resolve(f.votes, f.hash, res)
			if r == nil {
				s.release(f.votes)
				continue
			}
			s.log.Warn("a pending vote transaction failed; sending its votes again", "tx", fmt.Sprintf("%X", f.hash), "err", r)
		}
		s.release(f.votes)
		for _, v := range f.votes {
			s.requeue(v)
		}
	}
	s.recovering = left
	s.reportInFlight()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// unpackResponse reads the vote outcomes of a DeliverTx result: the first
// message response, or for a vote key's authz MsgExec, the first response
// it carries (MsgExecResponse.Results holds each inner message's response,
// marshalled as is).
func unpackResponse(data []byte, out proto.Message) error {
	var txMsgData sdk.TxMsgData
	if err := proto.Unmarshal(data, &txMsgData); err != nil {
		return err
	}
	if len(txMsgData.MsgResponses) == 0 {
		return nil
	}
	resp := txMsgData.MsgResponses[0]
	if resp.TypeUrl != sdk.MsgTypeURL(&authz.MsgExecResponse{}) {
		return proto.Unmarshal(resp.Value, out)
	}
	var exec authz.MsgExecResponse
	if err := proto.Unmarshal(resp.Value, &exec); err != nil {
		return err
	}
	if len(exec.Results) == 0 {
		return errors.New("MsgExec answered no result")
	}
	return proto.Unmarshal(exec.Results[0], out)
}
