package submitter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// sendBatch sends up to maxVotes queued votes in one transaction and waits for
// it; it reports whether votes remain queued.
func (s *Submitter) sendBatch(ctx context.Context) bool {
	s.mu.Lock()
	head := slices.Clone(s.queue[:min(len(s.queue), s.maxVotes)])
	s.mu.Unlock()
	var batch []Vote
	for _, v := range head {
		// A vote queued again after a restart may have been settled since
		// (its earlier transaction landed): never send it twice.
		if done, err := s.store.Submitted(v.Key()); err == nil && done {
			continue
		}
		batch = append(batch, v)
	}
	if len(batch) > 0 {
		if err := s.submit(ctx, batch); err != nil {
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
	}
	return s.dequeue(head)
}

// dequeue removes head, the front of the queue, and reports whether votes
// remain. Only the Start goroutine removes votes, so the front is unchanged.
func (s *Submitter) dequeue(head []Vote) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = s.queue[len(head):]
	for _, v := range head {
		delete(s.queued, v.Key())
	}
	return len(s.queue) > 0
}

// submit simulates, signs and broadcasts one transaction of batch, then
// waits for its outcome.
func (s *Submitter) submit(ctx context.Context, batch []Vote) error {
	if !s.acct.known {
		num, seq, err := s.chain.Account(ctx, s.address)
		if err != nil {
			return fmt.Errorf("operator account %s: %w (is it funded?)", s.address, err)
		}
		s.acct.num, s.acct.seq, s.acct.known = num, seq, true
	}
	height, err := s.chain.LatestHeight(ctx)
	if err != nil {
		return err
	}
	msg := &types.MsgSubmitResults{Operator: s.address.String()}
	for _, v := range batch {
		msg.Results = append(msg.Results, types.TaskResult{TaskId: v.TaskID, Result: v.Result, Event: v.Event, Failure: v.Failure})
	}
	timeoutHeight := height + s.timeout

	// The simulation measures the gas; the reserve and the votes' extra gas
	// cover what it cannot see (a vote that completes its task on delivery).
	simBytes, err := s.sign(ctx, msg, 0, timeoutHeight, true)
	if err != nil {
		return err
	}
	used, err := s.chain.Simulate(ctx, simBytes)
	if err != nil {
		if isSequenceMismatch(err) {
			s.acct.known = false
		}
		return fmt.Errorf("simulate: %w", err)
	}
	gas := uint64(float64(used)*s.gasAdj*s.acct.gasBoost) + s.reserve*uint64(len(batch))
	for _, v := range batch {
		gas += v.ExtraGas
	}
	txBytes, err := s.sign(ctx, msg, gas, timeoutHeight, false)
	if err != nil {
		return err
	}
	hash := cmttypes.Tx(txBytes).Hash()
	for _, v := range batch {
		p := store.Pending{TxHash: fmt.Sprintf("%X", hash), TimeoutHeight: timeoutHeight, Result: v.Result, TaskID: v.TaskID, Event: v.Event}
		if err := s.store.SetPending(v.Key(), p); err != nil {
			return err
		}
	}
	res, err := s.chain.BroadcastSync(ctx, txBytes)
	if err != nil {
		// Unknown outcome: the transaction may have reached the mempool. Do not
		// sign the votes again until it is known to have landed or can no
		// longer land (its timeout height has passed).
		s.acct.known = false
		s.log.Warn("broadcast failed; waiting to learn whether the transaction landed", "tx", fmt.Sprintf("%X", hash), "err", err)
		if cerr := s.confirm(ctx, batch, hash, timeoutHeight); cerr != nil {
			return fmt.Errorf("broadcast: %w; then: %v", err, cerr)
		}
		return nil
	}
	if res.Code != 0 {
		s.clearPending(batch)
		if res.Code == sdkerrors.ErrWrongSequence.ABCICode() && res.Codespace == sdkerrors.RootCodespace {
			s.acct.known = false
		}
		return fmt.Errorf("CheckTx refused the vote transaction (%s/%d): %s", res.Codespace, res.Code, res.Log)
	}
	s.acct.seq++
	s.metrics.VotesSent(len(batch))
	s.log.Info("votes sent", "votes", len(batch), "tx", fmt.Sprintf("%X", hash), "gas", gas)
	return s.confirm(ctx, batch, hash, timeoutHeight)
}

// sign builds and signs msg with the operator key: for simulation (no gas,
// no fee) or for broadcast.
func (s *Submitter) sign(ctx context.Context, msg sdk.Msg, gas uint64, timeoutHeight int64, simulate bool) ([]byte, error) {
	f := tx.Factory{}.
		WithTxConfig(s.txConfig).
		WithKeybase(s.keyring).
		WithChainID(s.chainID).
		WithAccountNumber(s.acct.num).
		WithSequence(s.acct.seq).
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

func isSequenceMismatch(err error) bool {
	return strings.Contains(err.Error(), "account sequence mismatch") || errorsmod.IsOf(err, sdkerrors.ErrWrongSequence)
}
