package submitter

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/x/feegrant"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/x/authz"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// kind is what a refusal means for the votes refused.
type kind int

const (
	// transient: the same batch is sent again after a backoff.
	transient kind = iota
	// blocked: the account cannot pay or vote; loud, retried with backoff.
	blocked
	// tooLarge: refused for its size or gas: the batch is halved; a vote
	// alone is dropped.
	tooLarge
	// badVote: refused for one of its votes: the batch is halved to find
	// it; the vote alone is dropped.
	badVote
	// unknown: not understood: the batch is halved; a vote alone is set
	// aside and tried again later (maxSetAside times, then dropped).
	unknown
	// landing: the transaction may be in a mempool: wait for it.
	landing
)

// refusal is a vote transaction refused (or lost) and what it means.
type refusal struct {
	kind kind
	// reason labels the refusal in metrics: "sdk/13", "avs/22",
	// "mempool_full", "tx_too_large", "connection_refused", …
	reason string
	err    error
	// state, for blocked, is what SubmitterBlocked reports.
	state    string
	resync   bool   // read the account's number and sequence again
	expected uint64 // the sequence the chain expects, when it said so
	// mempool: expected is the sequence the mempool or the block expects
	// (CheckTx, DeliverTx), not a simulation's: it may move the sequence
	// below this run's transactions in flight.
	mempool  bool
	params   bool // read the chain's limits again
	outOfGas bool // send again with more gas
	now      bool // send again without backoff
}

func (r *refusal) Error() string { return r.reason + ": " + r.err.Error() }

// avsVoteErrors are x/avs errors that refuse a vote for what it is: sent
// again, it is refused again.
var avsVoteErrors = []*errorsmod.Error{
	types.ErrVotingClosed, types.ErrDuplicateVote, types.ErrNotOptedIn, types.ErrTaskNotFound,
	types.ErrTaskPruned, types.ErrResultTooLarge, types.ErrInvalidResult, types.ErrInvalidFailure,
	types.ErrInvalidEventRef, types.ErrOperatorJailed, types.ErrServiceNotFound, types.ErrServicePaused,
	types.ErrVoteMode, types.ErrCommitClosed, types.ErrNoCommitment, types.ErrRevealMismatch,
}

// classifyCode reads a CheckTx or DeliverTx code.
func classifyCode(codespace string, code uint32, log string) *refusal {
	reason := fmt.Sprintf("%s/%d", codespace, code)
	if codespace == types.ModuleName {
		reason = fmt.Sprintf("avs/%d", code)
	}
	r := &refusal{kind: unknown, reason: reason, err: fmt.Errorf("%s/%d: %s", codespace, code, log)}
	is := func(e *errorsmod.Error) bool { return codespace == e.Codespace() && code == e.ABCICode() }
	switch {
	case is(sdkerrors.ErrWrongSequence), is(sdkerrors.ErrInvalidSequence):
		r.kind, r.resync, r.now, r.expected = transient, true, true, expectedSequence(log)
	case is(sdkerrors.ErrOutOfGas):
		r.kind, r.outOfGas, r.now = transient, true, true
	case is(sdkerrors.ErrMempoolIsFull), is(sdkerrors.ErrTxTimeoutHeight):
		r.kind = transient
	case is(sdkerrors.ErrTxInMempoolCache):
		r.kind = landing
	case is(sdkerrors.ErrTxTooLarge), is(sdkerrors.ErrInvalidGasLimit):
		r.kind = tooLarge
	case is(sdkerrors.ErrInsufficientFunds):
		r.kind, r.state = blocked, "insufficient funds: "+log
	case is(sdkerrors.ErrInsufficientFee):
		r.kind, r.state = blocked, "insufficient fee (raise gas_prices to the node's minimum): "+log
	case is(sdkerrors.ErrUnknownAddress):
		r.kind, r.state, r.resync = blocked, "account not found (fund it): "+log, true
	case is(sdkerrors.ErrUnauthorized):
		// A signature refused (wrong account number or chain id) or an
		// authz grant refusing the message.
		r.kind, r.state, r.resync = blocked, "unauthorized: "+log, true
	case is(sdkerrors.ErrNotFound) && strings.Contains(log, "fee-grant"):
		r.kind, r.state = blocked, "no fee allowance from the operator to the vote key: "+log
	case codespace == authz.ModuleName:
		r.kind, r.state = blocked, "the vote key's authz grant refuses the vote: "+log
	case codespace == feegrant.ModuleName:
		r.kind, r.state = blocked, "the operator's fee allowance refuses the fee: "+log
	case is(types.ErrTooManyResults):
		r.kind, r.params = tooLarge, true
	case is(types.ErrRevealTooEarly):
		// A later block accepts the reveal.
		r.kind = transient
	case is(types.ErrOperatorNotFound):
		r.kind, r.state = blocked, "operator not registered: "+log
	case codespace == types.ModuleName:
		for _, e := range avsVoteErrors {
			if is(e) {
				r.kind = badVote
			}
		}
	}
	return r
}

// Where an error (not a code) came from.
const (
	stageAccount = iota
	stageSimulate
	stageBroadcast
)

// classifyErr reads an error from the account query, the simulation (a gRPC
// status whose message carries the SDK error's text) or the broadcast (a
// CometBFT RPC error: the mempool refused before CheckTx).
func classifyErr(stage int, err error) *refusal {
	msg := err.Error()
	r := &refusal{kind: unknown, reason: "error", err: err}
	has := func(s string) bool { return strings.Contains(strings.ToLower(msg), strings.ToLower(s)) }
	hasErr := func(e *errorsmod.Error) bool { return strings.Contains(msg, e.Error()) }
	switch {
	case errors.Is(err, context.DeadlineExceeded), status.Code(err) == codes.DeadlineExceeded, has("timeout"), has("deadline exceeded"):
		r.kind, r.reason = transient, "timeout"
		if stage == stageBroadcast {
			// It may have reached the mempool.
			r.kind = landing
		}
	case has("connection refused"), has("no such host"), status.Code(err) == codes.Unavailable:
		r.kind, r.reason = transient, "connection_refused"
	case has("mempool is full"):
		r.kind, r.reason = transient, "mempool_full"
	case has("tx too large"), has("tx size is too big"):
		r.kind, r.reason = tooLarge, "tx_too_large"
	case has("tx already exists in cache"):
		r.kind, r.reason = landing, "tx_in_cache"
	case isSequenceMismatch(err):
		r.kind, r.reason, r.resync, r.now, r.expected = transient, "sequence", true, true, expectedSequence(msg)
	case hasErr(sdkerrors.ErrInsufficientFunds):
		r.kind, r.reason, r.state = blocked, "sdk/5", "insufficient funds: "+msg
	case hasErr(sdkerrors.ErrInsufficientFee):
		r.kind, r.reason, r.state = blocked, "sdk/13", "insufficient fee (raise gas_prices to the node's minimum): "+msg
	case has("fee-grant not found"), has("does not allow to pay fees"), hasErr(feegrant.ErrFeeLimitExpired), hasErr(feegrant.ErrFeeLimitExceeded):
		r.kind, r.reason, r.state = blocked, "feegrant", "no usable fee allowance from the operator to the vote key: "+msg
	case hasErr(authz.ErrNoAuthorizationFound), hasErr(authz.ErrAuthorizationExpired):
		r.kind, r.reason, r.state = blocked, "authz", "the vote key has no authz grant for MsgSubmitResults: "+msg
	case hasErr(types.ErrOperatorNotFound):
		r.kind, r.reason, r.state = blocked, fmt.Sprintf("avs/%d", types.ErrOperatorNotFound.ABCICode()), "operator not registered: "+msg
	case hasErr(types.ErrTooManyResults):
		r.kind, r.reason, r.params = tooLarge, fmt.Sprintf("avs/%d", types.ErrTooManyResults.ABCICode()), true
	case stage == stageAccount && status.Code(err) == codes.NotFound:
		r.kind, r.reason, r.state = blocked, "account_not_found", "the signing account does not exist (fund it): "+msg
	case stage == stageAccount:
		r.kind, r.reason = transient, "account"
	case stage == stageBroadcast:
		// Unknown outcome: the transaction may have reached the mempool.
		r.kind, r.reason = landing, "broadcast"
	default:
		r.reason = "simulate"
		for _, e := range avsVoteErrors {
			if hasErr(e) {
				r.kind, r.reason = badVote, fmt.Sprintf("avs/%d", e.ABCICode())
				break
			}
		}
	}
	return r
}

// expectedSequence reads the sequence a mismatch names ("account sequence
// mismatch, expected 6, got 5"), 0 when it names none. It is the mempool's:
// ahead of the committed one while a transaction of ours waits there (one
// sent by an earlier run, say).
func expectedSequence(log string) uint64 {
	m := expectedSeq.FindStringSubmatch(log)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

var expectedSeq = regexp.MustCompile(`sequence mismatch, expected (\d+)`)

func isSequenceMismatch(err error) bool {
	return strings.Contains(err.Error(), "account sequence mismatch") || errorsmod.IsOf(err, sdkerrors.ErrWrongSequence)
}

// learn takes in what a refusal says about the account and the limits.
func (s *Submitter) learn(r *refusal) {
	s.metrics.TxRefused(r.reason)
	if r.resync {
		s.acct.known = false
	}
	if r.expected > 0 && s.acct.read {
		switch {
		case r.expected >= s.acct.seq || s.activeFlights() == 0:
			s.acct.seq, s.acct.known = r.expected, true
		case r.mempool:
			// The node's mempool no longer holds this run's transactions
			// from r.expected on (evicted, or never received): they may still
			// land from another node's mempool until their timeout height, so
			// their votes wait for that; new votes take the sequence. Only one
			// transaction per sequence can land.
			for _, f := range s.flights {
				if f.seq >= r.expected {
					f.stale = true
				}
			}
			s.log.Warn("the mempool lost vote transactions in flight; their votes wait for their timeout height",
				"expected", r.expected, "next", s.acct.seq)
			s.acct.seq, s.acct.known = r.expected, true
		default:
			// A simulation on a state behind this run's transactions in flight
			// (simulate retried at its sequence already), or a delivery result
			// read after newer transactions went out: keep ours, CheckTx
			// corrects it.
			s.acct.known = true
		}
	}
	if r.params {
		s.lim.due = true
	}
	if r.outOfGas {
		s.acct.gasBoost *= 1.5
	}
}

// verdict is what is done with the votes of a refused transaction.
type verdict int

const (
	retryBatch verdict = iota // send the votes again (after the backoff)
	splitBatch                // send them again in smaller batches
	setAside                  // the one vote is tried again later
	dropVote                  // the one vote is dropped
)

// judge decides what a refusal of batch means for its votes, after learn.
func (s *Submitter) judge(batch []Vote, r *refusal) verdict {
	switch r.kind {
	case transient, landing:
		s.log.Warn("vote transaction refused; will retry", "votes", len(batch), "reason", r.reason, "err", r.err, "more_gas", r.outOfGas)
		return retryBatch
	case blocked:
		s.block(r)
		return retryBatch
	}
	if len(batch) > 1 {
		s.split = len(batch) / 2
		s.log.Info("vote transaction refused; splitting it", "votes", len(batch), "next", s.split, "reason", r.reason, "err", r.err)
		return splitBatch
	}
	v := batch[0]
	if r.kind == unknown && s.setAside[v.Key()] < maxSetAside {
		s.setAside[v.Key()]++
		wait := min(s.backoffMax, s.backoffMin<<s.setAside[v.Key()])
		s.log.Warn("vote refused for a reason not understood; trying it again later", "work", v.Key(), "in", wait, "reason", r.reason, "err", r.err)
		s.later.Add(v, wait)
		return setAside
	}
	s.drop(v, r)
	return dropVote
}

// refused acts on a refusal of batch before it reached the mempool: the
// votes of used (the queue's front) that were not yet submitted. It reports
// whether to send again at once.
func (s *Submitter) refused(batch, used []Vote, r *refusal) bool {
	s.learn(r)
	switch s.judge(batch, r) {
	case retryBatch:
		return s.backoff(r.now && r.kind != blocked)
	case splitBatch:
		return true
	}
	return s.dequeue(used, nil)
}

// flightFailed acts on a transaction of this run that failed at delivery or
// can no longer land: its votes, out of the queue, are queued again (or set
// aside, or dropped when alone). It reports whether the votes are to be sent
// again after a backoff, and whether at once (settle backs off once for all
// the flights of a pass).
func (s *Submitter) flightFailed(f *flight, r *refusal) (retry, now bool) {
	s.learn(r)
	v := s.judge(f.votes, r)
	s.release(f.votes)
	if v == retryBatch || v == splitBatch {
		for _, vote := range f.votes {
			s.requeue(vote)
		}
	}
	return v == retryBatch, r.now && r.kind != blocked
}

// drop records a vote the chain refuses for good as submitted, so that it
// is never sent again.
func (s *Submitter) drop(v Vote, r *refusal) {
	key := v.Key()
	delete(s.setAside, key)
	delete(s.capHits, key)
	s.metrics.VotesDropped(r.reason, 1)
	s.log.Warn("vote dropped: the chain refuses it", "work", key, "reason", r.reason, "err", r.err)
	keys := []string{key}
	if v.isCommit() {
		// No commitment, no reveal: the task is given up.
		keys = append(keys, store.WorkKey(v.TaskID, nil))
	}
	if err := s.store.MarkSubmittedBatch(keys, "dropped: "+r.reason); err != nil {
		s.log.Warn("could not record a dropped vote (it is tried again after a restart)", "work", key, "err", err)
	}
}

// backoff delays the next send by a capped exponential of the refusals in a
// row, and reports whether to send again at once: only when now and for the
// first refusal in a row (a sequence resync, more gas), so that a refusal
// that recurs never loops hot.
func (s *Submitter) backoff(now bool) bool {
	s.retry.fails++
	if now && s.retry.fails == 1 {
		s.retry.at = time.Time{}
		return true
	}
	d := s.backoffMax
	if s.retry.fails < 20 {
		d = min(s.backoffMax, s.backoffMin<<(s.retry.fails-1))
	}
	s.retry.at = time.Now().Add(d)
	return false
}

// block reports that no vote can be sent, and why; logged at most once a
// minute.
func (s *Submitter) block(r *refusal) {
	if r.state != s.blocked {
		s.blocked = r.state
		s.metrics.SubmitterBlocked(r.state)
	}
	if time.Since(s.blockedLog) >= time.Minute {
		s.blockedLog = time.Now()
		s.log.Error("no vote can be sent until this is fixed", "reason", r.state, "signer", s.signer, "operator", s.address)
	}
}

// unblock clears the blocked state once a transaction lands.
func (s *Submitter) unblock() {
	s.retry = retryState{}
	if s.blocked != "" {
		s.blocked = ""
		s.metrics.SubmitterBlocked("")
		s.log.Info("vote transactions land again")
	}
}
