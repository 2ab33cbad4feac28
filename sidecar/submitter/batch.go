package submitter

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	"github.com/cosmos/cosmos-sdk/x/authz"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// txOverhead bounds the bytes of a vote transaction besides its results:
// the operator, the signer's public key, signature and fee, the authz wrapper.
const txOverhead = 2 << 10

// sendBatch sends one transaction of the votes at the front of the queue
// without waiting for it to land, while fewer than maxInFlight of this run's
// transactions are in flight (settle confirms them); it reports whether to
// go on sending.
func (s *Submitter) sendBatch(ctx context.Context) bool {
	if time.Now().Before(s.retry.at) {
		return false // backing off after a refusal
	}
	if s.windowFull() {
		s.settle(ctx)
		if s.windowFull() {
			return false
		}
	}
	s.refreshLimits(ctx)
	used, batch := s.nextBatch()
	if len(used) == 0 {
		return false
	}
	if len(batch) == 0 {
		return s.dequeue(used, nil)
	}
	f, r := s.submit(ctx, batch)
	if r != nil {
		if ctx.Err() != nil {
			return false
		}
		return s.refused(batch, used, r)
	}
	s.flights = append(s.flights, f)
	s.reportInFlight()
	more := s.dequeue(used, batch)
	return more && ctx.Err() == nil && !s.windowFull()
}

// nextBatch returns the votes at the front of the queue that the next
// transaction takes (used), and of those the ones not yet submitted (batch):
// at most max_votes_per_tx (or the split size), within the byte cap and the
// block's gas.
func (s *Submitter) nextBatch() (used, batch []Vote) {
	n := s.maxVotes
	if s.split > 0 {
		n = min(n, s.split)
	}
	s.mu.Lock()
	head := make([]Vote, 0, min(n, len(s.queue)))
	for _, q := range s.queue[:min(n, len(s.queue))] {
		head = append(head, q.Vote)
	}
	s.mu.Unlock()

	size := txOverhead
	gas := s.reserve * ReservedVotes
	for i, v := range head {
		// A vote queued again after a restart may have been settled since
		// (its earlier transaction landed): never send it twice.
		if done, err := s.store.Submitted(v.Key()); err == nil && done {
			used = head[:i+1]
			continue
		}
		vb := voteBytes(v)
		vg := s.acct.gasPerVote + VoteGasMargin + v.ExtraGas
		if len(batch) > 0 && (size+vb > s.lim.maxBytes || (s.lim.maxGas > 0 && gas+vg > s.lim.maxGas)) {
			break
		}
		size, gas = size+vb, gas+vg
		batch = append(batch, v)
		used = head[:i+1]
	}
	return used, batch
}

// voteBytes bounds a vote's bytes in a transaction: its result entry and
// the entry's tag and length.
func voteBytes(v Vote) int {
	r := v.entry()
	return r.Size() + 8
}

// dequeue removes used (taken from the queue's front by nextBatch) from the
// queue and reports whether votes remain. The votes of sent stay held (in
// flight): Enqueue does not queue them again. Enqueue may have inserted
// votes with earlier deadlines in front meanwhile, so used is removed by key.
func (s *Submitter) dequeue(used, sent []Vote) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	drop := make(map[string]bool, len(used))
	for _, v := range used {
		drop[v.Key()] = true
	}
	s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return drop[q.Key()] })
	for k := range drop {
		delete(s.queued, k)
	}
	for _, v := range sent {
		s.queued[v.Key()] = true
	}
	s.oldest = time.Time{}
	for _, q := range s.queue {
		if s.oldest.IsZero() || q.at.Before(s.oldest) {
			s.oldest = q.at
		}
	}
	s.reportQueueLocked()
	return len(s.queue) > 0
}

// submit simulates, signs and broadcasts one transaction of batch at the
// next sequence, without waiting for it: the flight to confirm, or why it
// was refused (then it cannot land).
func (s *Submitter) submit(ctx context.Context, batch []Vote) (*flight, *refusal) {
	if !s.acct.known {
		num, seq, err := s.chain.Account(ctx, s.signer)
		if err != nil {
			return nil, classifyErr(stageAccount, fmt.Errorf("signing account %s: %w", s.signer, err))
		}
		if s.activeFlights() > 0 && seq < s.acct.seq {
			// The committed sequence lags this run's transactions waiting in
			// the mempool; if they are no longer there, CheckTx names the
			// sequence it expects.
			seq = s.acct.seq
		}
		s.acct.num, s.acct.seq, s.acct.known, s.acct.read = num, seq, true, true
	}
	height, err := s.height(ctx)
	if err != nil {
		return nil, &refusal{kind: transient, reason: "rpc", err: err}
	}
	msg := s.message(batch)
	timeoutHeight := height + s.timeout

	// The simulation measures the gas; the reserve and the votes' extra gas
	// cover what it cannot see (a vote that completes its task on delivery).
	used, r := s.simulate(ctx, msg, timeoutHeight)
	if r != nil {
		return nil, r
	}
	gas := s.gasFor(batch, used)
	if s.lim.maxGas > 0 && gas > s.lim.maxGas {
		if len(batch) > 1 || float64(used)*s.gasAdj > float64(s.lim.maxGas) {
			return nil, &refusal{kind: tooLarge, reason: "gas_over_block_max", err: fmt.Errorf("gas %d is above the block's max_gas %d", gas, s.lim.maxGas)}
		}
		gas = s.lim.maxGas // one vote: its reserve is cut to fit
	}
	seq := s.acct.seq
	txBytes, err := s.sign(ctx, msg, seq, gas, timeoutHeight, false)
	if err != nil {
		return nil, &refusal{kind: blocked, reason: "sign", err: err, state: "cannot sign: " + err.Error()}
	}
	if len(txBytes) > s.lim.maxBytes {
		return nil, &refusal{kind: tooLarge, reason: "tx_too_large", err: fmt.Errorf("%d bytes, the cap is %d", len(txBytes), s.lim.maxBytes)}
	}

	f := &flight{votes: batch, hash: cmttypes.Tx(txBytes).Hash(), from: height + 1, timeout: timeoutHeight, seq: seq}
	if err := s.setPending(f); err != nil {
		return nil, &refusal{kind: transient, reason: "store", err: err}
	}
	res, err := s.chain.BroadcastSync(ctx, txBytes)
	if err != nil {
		r := classifyErr(stageBroadcast, err)
		if r.kind != landing {
			// Certainly not in a mempool: no need to wait for it.
			s.clearPending(batch)
			return nil, r
		}
		// Unknown outcome: the transaction may have reached the mempool. Its
		// votes are not signed again until it is known to have landed or can
		// no longer land (its timeout height has passed). The next sequence is
		// taken to be free; if it is not, CheckTx says which is.
		s.acct.seq++
		s.log.Warn("broadcast failed; waiting to learn whether the transaction landed", "tx", fmt.Sprintf("%X", f.hash), "err", err)
		return f, nil
	}
	if res.Code != 0 {
		r := classifyCode(res.Codespace, res.Code, res.Log)
		if r.kind == landing {
			s.acct.seq++
			return f, nil
		}
		s.clearPending(batch)
		r.mempool = true
		return nil, r
	}
	s.acct.seq++
	commits, reveals := 0, 0
	for _, v := range batch {
		switch {
		case v.isCommit():
			commits++
		case v.isReveal():
			reveals++
		}
	}
	s.metrics.VotesSent(len(batch) - commits)
	if commits > 0 {
		s.metrics.CommitsSent(commits)
	}
	if reveals > 0 {
		s.metrics.RevealsSent(reveals)
	}
	s.log.Info("votes sent", "votes", len(batch)-commits, "commits", commits, "reveals", reveals,
		"tx", fmt.Sprintf("%X", f.hash), "sequence", seq, "gas", gas, "in_flight", s.activeFlights()+1)
	return f, nil
}

// simulate measures msg's gas. The node simulates on its mempool's state
// (the SDK checks the sequence in simulation too), which may not hold this
// run's transactions in flight yet: just after a block, before the mempool
// is checked again, or on a node the broadcasts do not go to. Then the
// simulation is run again at the sequence the node expects: the gas is the
// same, and the broadcast at the next sequence tells whether that one is
// right (CheckTx's answer is the one that moves the sequence down).
func (s *Submitter) simulate(ctx context.Context, msg sdk.Msg, timeoutHeight int64) (uint64, *refusal) {
	seq := s.acct.seq
	for try := 0; ; try++ {
		simBytes, err := s.sign(ctx, msg, seq, 0, timeoutHeight, true)
		if err != nil {
			return 0, &refusal{kind: blocked, reason: "sign", err: err, state: "cannot sign: " + err.Error()}
		}
		used, err := s.chain.Simulate(ctx, simBytes)
		if err == nil {
			return used, nil
		}
		r := classifyErr(stageSimulate, fmt.Errorf("simulate: %w", err))
		if try == 0 && r.reason == "sequence" && r.expected > 0 && r.expected < seq {
			seq = r.expected
			continue
		}
		return 0, r
	}
}

// gasFor is the gas limit of batch: the simulated gas with its adjustment
// (and boost after an out-of-gas failure), the reserve for a vote that
// completes its task at delivery for at most ReservedVotes votes, a margin
// per vote, and the votes' extra gas.
func (s *Submitter) gasFor(batch []Vote, simulated uint64) uint64 {
	s.acct.gasPerVote = uint64(float64(simulated) * s.gasAdj / float64(len(batch)))
	gas := uint64(math.Ceil(float64(simulated) * s.gasAdj * s.acct.gasBoost))
	gas += s.reserve*uint64(min(len(batch), ReservedVotes)) + VoteGasMargin*uint64(len(batch))
	for _, v := range batch {
		gas += v.ExtraGas
	}
	return gas
}

// message is batch's message: MsgSubmitResults for the operator, wrapped in
// an authz MsgExec when a vote key signs.
func (s *Submitter) message(batch []Vote) sdk.Msg {
	msg := &types.MsgSubmitResults{Operator: s.address.String()}
	for _, v := range batch {
		msg.Results = append(msg.Results, v.entry())
	}
	if s.signer.Equals(s.address) {
		return msg
	}
	exec := authz.NewMsgExec(s.signer, []sdk.Msg{msg})
	return &exec
}

// setPending records f's votes as pending, in one write.
func (s *Submitter) setPending(f *flight) error {
	pending := make(map[string]store.Pending, len(f.votes))
	for _, v := range f.votes {
		pending[v.Key()] = store.Pending{
			TxHash: fmt.Sprintf("%X", f.hash), TimeoutHeight: f.timeout, SentHeight: f.from - 1,
			Result: v.Result, TaskID: v.TaskID, Event: v.Event, Failure: v.Failure, ExtraGas: v.ExtraGas, Deadline: v.Deadline,
			Commitment: v.Commitment, Salt: v.Salt,
		}
	}
	return s.store.SetPendingBatch(pending)
}

// sign builds and signs msg with the signing key: for simulation (no gas,
// no fee) or for broadcast. A vote key's fee is paid by the operator's
// allowance (when gas has a price), in simulation too so that a missing
// allowance shows before a fee is spent.
func (s *Submitter) sign(ctx context.Context, msg sdk.Msg, seq, gas uint64, timeoutHeight int64, simulate bool) ([]byte, error) {
	f := tx.Factory{}.
		WithTxConfig(s.txConfig).
		WithKeybase(s.keyring).
		WithChainID(s.chainID).
		WithAccountNumber(s.acct.num).
		WithSequence(seq).
		WithTimeoutHeight(uint64(timeoutHeight)).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	if !s.signer.Equals(s.address) && !s.gasPrice.IsZero() {
		// No fee, no allowance needed.
		f = f.WithFeeGranter(s.address)
	}
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
