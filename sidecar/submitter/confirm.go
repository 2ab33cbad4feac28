package submitter

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/avschain/avschain/x/avs/types"
)

// pollInterval is how often a transaction's inclusion is checked.
const pollInterval = 300 * time.Millisecond

// errNotIncluded: the chain passed the transaction's timeout height without
// including it, so it can no longer land.
var errNotIncluded = errors.New("not included by its timeout height")

// waitIncluded polls for the transaction with this hash until it is included,
// its timeout height has passed (errNotIncluded) or ctx ends.
func (s *Submitter) waitIncluded(ctx context.Context, hash []byte, timeoutHeight int64) (*coretypes.ResultTx, error) {
	for {
		res, err := s.chain.TxResult(ctx, hash)
		if err == nil && res != nil {
			return res, nil
		}
		if h, err := s.chain.LatestHeight(ctx); err == nil && h > timeoutHeight {
			return nil, errNotIncluded
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// confirm waits for the transaction of batch to land and records its outcome.
func (s *Submitter) confirm(ctx context.Context, batch []Vote, hash []byte, timeoutHeight int64) error {
	res, err := s.waitIncluded(ctx, hash, timeoutHeight)
	if errors.Is(err, errNotIncluded) {
		s.clearPending(batch)
		s.acct.known = false
		return fmt.Errorf("transaction %X not included by its timeout height %d", hash, timeoutHeight)
	}
	if err != nil {
		return err
	}
	return s.resolve(batch, hash, res)
}

// resolve records the outcome of an included transaction: each accepted or
// finally refused vote is submitted; an event vote refused by the per-block
// cap on automatic tasks is set aside to be sent again.
func (s *Submitter) resolve(batch []Vote, hash []byte, res *coretypes.ResultTx) error {
	if res.TxResult.Code != 0 {
		s.clearPending(batch)
		if res.TxResult.Code == sdkerrors.ErrOutOfGas.ABCICode() && res.TxResult.Codespace == sdkerrors.RootCodespace {
			s.acct.gasBoost *= 1.5
			return fmt.Errorf("out of gas (used %d of %d): retrying with %.1fx gas", res.TxResult.GasUsed, res.TxResult.GasWanted, s.acct.gasBoost)
		}
		return fmt.Errorf("vote transaction %X failed (%s/%d): %s", hash, res.TxResult.Codespace, res.TxResult.Code, res.TxResult.Log)
	}
	s.acct.gasBoost = 1
	var resp types.MsgSubmitResultsResponse
	if err := unpackResponse(res.TxResult.Data, &resp); err != nil {
		s.log.Warn("could not read the vote outcomes", "tx", fmt.Sprintf("%X", hash), "err", err)
	}
	rejected := 0
	for i, v := range batch {
		// Outcomes follow the message's results; a vote settled on its own
		// after a restart may have shared its transaction with others.
		if len(resp.Outcomes) == len(batch) && !resp.Outcomes[i].Accepted {
			o := resp.Outcomes[i]
			rejected++
			if v.Event != nil && capped(o) && s.retryCapped(v) {
				// The service opened its per-block share of event tasks, or
				// this operator opened its one event task of the service in
				// this block: a later block has room for this event's task
				// (or a peer opened it meanwhile, and the vote joins it).
				s.log.Info("event vote waits for a block with room for its task", "work", v.Key(), "err", o.Error)
				s.clearPending([]Vote{v})
				s.capped.Add(v, capRetryDelay)
				continue
			}
			s.log.Warn("vote refused by the chain", "work", v.Key(), "task", o.TaskId, "codespace", o.Codespace, "code", o.Code, "err", o.Error)
		}
		if err := s.store.MarkSubmitted(v.Key(), fmt.Sprintf("%X", hash)); err != nil {
			return err
		}
		delete(s.capHits, v.Key())
	}
	s.metrics.VotesIncluded(len(batch) - rejected)
	s.metrics.VotesRejected(rejected)
	s.log.Info("votes included", "votes", len(batch), "refused", rejected, "tx", fmt.Sprintf("%X", hash), "height", res.Height)
	return nil
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
	for _, v := range batch {
		if err := s.store.ClearPending(v.Key()); err != nil {
			s.log.Warn("could not clear a pending vote", "work", v.Key(), "err", err)
		}
	}
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
		hash, err := hex.DecodeString(p.TxHash)
		if err != nil {
			s.log.Warn("pending vote has an unreadable tx hash: waiting for its timeout height", "work", key, "tx", p.TxHash)
		}
		res, err := s.waitIncluded(ctx, hash, p.TimeoutHeight)
		switch {
		case errors.Is(err, errNotIncluded):
			s.clearPending([]Vote{v})
			s.requeue(v)
		case err != nil:
			return nil // ctx ended
		default:
			if err := s.resolve([]Vote{v}, hash, res); err != nil {
				s.log.Warn("pending vote's transaction failed; sending again", "work", key, "err", err)
				s.requeue(v)
			}
		}
	}
	return nil
}

// unpackResponse reads the first message response of a DeliverTx result.
func unpackResponse(data []byte, out proto.Message) error {
	var txMsgData sdk.TxMsgData
	if err := proto.Unmarshal(data, &txMsgData); err != nil {
		return err
	}
	if len(txMsgData.MsgResponses) == 0 {
		return nil
	}
	return proto.Unmarshal(txMsgData.MsgResponses[0].Value, out)
}
