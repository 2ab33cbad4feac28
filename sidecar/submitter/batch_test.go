package submitter

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

func TestBatchesVotesIntoOneTx(t *testing.T) {
	metrics := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(200*time.Millisecond), WithMetrics(metrics))
	f.start(t)
	for id := uint64(1); id <= 5; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte{byte('0' + id)}}))
	}
	f.waitSubmitted(t, 1, 2, 3, 4, 5)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 1, "one transaction for the five votes")
	tx := sent[0]
	require.Equal(t, f.sub.Address().String(), tx.msg.Operator)
	require.Len(t, tx.msg.Results, 5)
	for i, r := range tx.msg.Results {
		require.EqualValues(t, i+1, r.TaskId)
		require.Equal(t, []byte{byte('1' + i)}, r.Result)
	}
	require.EqualValues(t, 5, tx.sequence, "signed with the account's sequence")
	require.EqualValues(t, simGas*1.5+ReservedVotes*DefaultVoteGasReserve+5*VoteGasMargin, tx.gas,
		"simulated gas times the adjustment, plus a reserve for the first votes and a margin per vote")
	require.EqualValues(t, 10+20, tx.timeout, "timeout height: latest + 20")
	pending, err := f.store.PendingVotes()
	require.NoError(t, err)
	require.Empty(t, pending)
	metrics.mu.Lock()
	require.Equal(t, [3]int{5, 5, 0}, [3]int{metrics.sent, metrics.included, metrics.rejected})
	metrics.mu.Unlock()

	// Enqueueing a submitted task does nothing: the queue stays empty, so
	// there is nothing to send.
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 3, Result: []byte("3")}))
	require.Zero(t, f.queueLen())
	require.Len(t, f.chain.broadcasts(), 1)

	// A queued task is queued once.
	f2 := newFixture(t, nil)
	require.NoError(t, f2.sub.Enqueue(Vote{TaskID: 9, Result: []byte("a")}))
	require.NoError(t, f2.sub.Enqueue(Vote{TaskID: 9, Result: []byte("a")}))
	require.Equal(t, 1, f2.queueLen())
}

func TestBatchesAtMostMaxVotes(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(100*time.Millisecond), WithMaxVotes(2))
	f.chain.params.MaxVotesPerTx = 2
	for id := uint64(1); id <= 5; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	f.start(t)
	f.waitSubmitted(t, 1, 2, 3, 4, 5)
	sent := f.chain.broadcasts()
	require.Len(t, sent, 3)
	for i, n := range []int{2, 2, 1} {
		require.Len(t, sent[i].msg.Results, n)
		require.EqualValues(t, 5+i, sent[i].sequence, "the sequence advances per transaction")
	}
	require.Equal(t, 1, f.chain.accounts(), "the account is read once")
}

func TestSequenceMismatchRefreshesAccount(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	f.chain.checkTx = func(n int, tx sentTx) (uint32, string) {
		if n == 0 {
			// Someone else used the key: the chain is at sequence 9.
			f.chain.seq, f.chain.checkSeq = 9, 9
			return sdkerrors.ErrWrongSequence.ABCICode(), sdkerrors.RootCodespace
		}
		return 0, ""
	}
	require.EqualValues(t, 32, sdkerrors.ErrWrongSequence.ABCICode())
	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("16")}))
	f.waitSubmitted(t, 1)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 2)
	require.EqualValues(t, 5, sent[0].sequence)
	require.EqualValues(t, 9, sent[1].sequence, "the retry uses the refreshed sequence")
	require.Equal(t, 2, f.chain.accounts(), "the account is read again after the mismatch")
	require.Len(t, sent[1].msg.Results, 1)
}

// A transaction of ours waiting in the mempool (sent by an earlier run, say)
// puts the mempool's sequence ahead of the committed one the account query
// answers: the sequence the mismatch names is used (C1: it looped, reading
// the account again and again, until that transaction landed). The node
// simulates on its mempool's state, so the simulation names it first; with
// a simulation that lags, CheckTx does.
func TestC1SequenceFromMismatch(t *testing.T) {
	for name, simLags := range map[string]bool{"simulation": false, "CheckTx": true} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
			f.chain.mempool = []memTx{{bytes: []byte("an earlier run's vote tx"), foreign: true}}
			f.chain.checkSeq, f.chain.simLags = 6, simLags
			require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("16")}))
			f.start(t)
			f.waitSubmitted(t, 1)
			sent := f.chain.broadcasts()
			require.EqualValues(t, 6, sent[len(sent)-1].sequence)
			if simLags {
				require.Len(t, sent, 2, "refused by CheckTx at 5, then sent at 6")
			} else {
				require.Len(t, sent, 1)
			}
			require.Equal(t, 1, f.chain.accounts(), "the committed sequence is not read again")
		})
	}
}

func TestOutOfGasRetriesWithMoreGas(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	f.chain.deliverTx = func(n int, tx sentTx) (uint32, string) {
		if n == 0 {
			return sdkerrors.ErrOutOfGas.ABCICode(), sdkerrors.RootCodespace
		}
		return 0, ""
	}
	require.EqualValues(t, 11, sdkerrors.ErrOutOfGas.ABCICode())
	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("16")}))
	f.waitSubmitted(t, 1)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 2)
	require.EqualValues(t, simGas*1.5+DefaultVoteGasReserve+VoteGasMargin, sent[0].gas)
	require.EqualValues(t, simGas*1.5*1.5+DefaultVoteGasReserve+VoteGasMargin, sent[1].gas, "retried with 1.5x more gas")
	require.EqualValues(t, 6, sent[1].sequence, "the failed tx used up sequence 5")
	require.Equal(t, 1, f.chain.accounts())
	hash, err := f.store.Submitted("1")
	require.NoError(t, err)
	require.True(t, hash)

	// The boost ends with the successful transaction.
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("4")}))
	f.waitSubmitted(t, 2)
	sent = f.chain.broadcasts()
	require.Len(t, sent, 3)
	require.EqualValues(t, simGas*1.5+DefaultVoteGasReserve+VoteGasMargin, sent[2].gas)
}

func TestExtraGasForHandlerServices(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("16"), ExtraGas: 1_000_000}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("4")}))
	f.waitSubmitted(t, 1, 2)
	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	require.EqualValues(t, simGas*1.5+2*DefaultVoteGasReserve+2*VoteGasMargin+1_000_000, sent[0].gas,
		"a vote on a service with a handler reserves the handler's gas")
}

func TestEventVoteSentByReference(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	f.start(t)
	ref := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 2, Input: []byte(`{"trigger":"event"}`)}
	vote := Vote{Event: &ref, Result: []byte("42")}
	key := store.WorkKey(0, &ref)
	require.Equal(t, "event/3/17/AB12/2", key)
	require.Equal(t, key, vote.Key())
	require.NoError(t, f.sub.Enqueue(vote))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 5, Result: []byte("25")}))
	f.waitKeys(t, key, "5")

	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	require.Equal(t, []types.TaskResult{
		{TaskId: 0, Result: []byte("42"), Event: &ref},
		{TaskId: 5, Result: []byte("25")},
	}, sent[0].msg.Results)
	zero, err := f.store.Submitted("0")
	require.NoError(t, err)
	require.False(t, zero, "an event vote is not recorded as task 0")
	pending, err := f.store.PendingVotes()
	require.NoError(t, err)
	require.Empty(t, pending)

	// Enqueueing it again, or the same event with another input, does nothing.
	require.NoError(t, f.sub.Enqueue(vote))
	again := ref
	again.Input = []byte("other")
	require.NoError(t, f.sub.Enqueue(Vote{Event: &again, Result: []byte("42")}))
	require.Zero(t, f.queueLen())
}

// writeCountStore counts the store's synced writes.
type writeCountStore struct {
	Store
	mu     sync.Mutex
	writes int
}

func (s *writeCountStore) count() { s.mu.Lock(); s.writes++; s.mu.Unlock() }

func (s *writeCountStore) SetPendingBatch(p map[string]store.Pending) error {
	s.count()
	return s.Store.SetPendingBatch(p)
}

func (s *writeCountStore) ClearPendingBatch(k []string) error {
	s.count()
	return s.Store.ClearPendingBatch(k)
}

func (s *writeCountStore) MarkSubmittedBatch(k []string, h string) error {
	s.count()
	return s.Store.MarkSubmittedBatch(k, h)
}

// A transaction of five votes costs two synced store writes (pending, then
// submitted), not two per vote (M7).
func TestM7OneStoreWritePerTx(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	st := &writeCountStore{Store: f.store}
	f.sub.store = st
	for id := uint64(1); id <= 5; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	require.False(t, f.sub.sendBatch(context.Background()))
	f.sub.settle(context.Background())
	f.waitSubmitted(t, 1, 2, 3, 4, 5)
	st.mu.Lock()
	defer st.mu.Unlock()
	require.Equal(t, 2, st.writes)
}

// max_votes_per_tx is read from the chain at the first batch (WithMaxVotes
// is the value until then), again every paramsEvery, and at once after the
// chain refuses a batch for its number of results (M8).
func TestM8ParamsReread(t *testing.T) {
	f := newFixture(t, nil, WithMaxVotes(10))
	f.chain.params.MaxVotesPerTx = 2
	f.chain.simulate = func(tx sentTx) error {
		if uint32(len(tx.msg.Results)) > f.chain.params.MaxVotesPerTx { // f.chain.mu is held
			return fmt.Errorf("rpc error: code = Unknown desc = failed to execute message; message index: 0: %d results, expected 1 to max_votes_per_tx (%d): %s",
				len(tx.msg.Results), f.chain.params.MaxVotesPerTx, types.ErrTooManyResults.Error())
		}
		return nil
	}
	ctx := context.Background()
	enqueue := func(ids ...uint64) {
		for _, id := range ids {
			require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
		}
	}
	sizes := func() []int {
		var n []int
		for _, tx := range f.chain.broadcasts() {
			n = append(n, len(tx.msg.Results))
		}
		return n
	}

	enqueue(1, 2, 3)
	require.True(t, f.sub.sendBatch(ctx))
	require.False(t, f.sub.sendBatch(ctx))
	require.Equal(t, []int{2, 1}, sizes(), "read at the first batch")

	// Governance raises it: read again after paramsEvery.
	f.chain.mu.Lock()
	f.chain.params.MaxVotesPerTx = 4
	f.chain.mu.Unlock()
	enqueue(4, 5, 6, 7)
	for f.sub.sendBatch(ctx) {
	}
	require.Equal(t, []int{2, 1, 2, 2}, sizes(), "not read again before paramsEvery")
	f.sub.lim.readAt = time.Now().Add(-f.sub.paramsEvery)
	enqueue(8, 9, 10, 11)
	require.False(t, f.sub.sendBatch(ctx))
	require.Equal(t, []int{2, 1, 2, 2, 4}, sizes())

	// Governance lowers it: the refusal (too many results) reads it at once.
	f.chain.mu.Lock()
	f.chain.params.MaxVotesPerTx = 1
	calls := f.chain.paramsCalls
	f.chain.mu.Unlock()
	enqueue(12, 13, 14)
	for f.sub.sendBatch(ctx) {
	}
	f.sub.settle(ctx)
	f.waitSubmitted(t, 12, 13, 14)
	f.chain.mu.Lock()
	require.Equal(t, calls+1, f.chain.paramsCalls)
	f.chain.mu.Unlock()
	require.Equal(t, 1, f.sub.maxVotes)
	all := sizes()
	require.Equal(t, []int{1, 1, 1}, all[len(all)-3:])
}

// The gas reserve for a vote that completes its task at delivery is paid for
// at most ReservedVotes votes, not for every vote of the batch (M10).
func TestM10ReserveForFirstVotesOnly(t *testing.T) {
	f := newFixture(t, nil)
	for id := uint64(1); id <= 50; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	require.False(t, f.sub.sendBatch(context.Background()))
	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	require.EqualValues(t, simGas*1.5+3*DefaultVoteGasReserve+50*VoteGasMargin, sent[0].gas)
	require.Less(t, sent[0].gas, uint64(50*DefaultVoteGasReserve)/4)
}

// With a vote key (M9) the keyring key signs an authz MsgExec of the
// operator's MsgSubmitResults, the operator pays the fee through its
// allowance, the vote key's account signs (sequence), and the outcomes are
// read from inside the MsgExecResponse.
func TestM9VoteKeySignsMsgExec(t *testing.T) {
	operator := sdk.AccAddress(bytes.Repeat([]byte{7}, 20))
	m := &countMetrics{}
	f := newFixture(t, nil, WithAuthzOperator(operator), WithMetrics(m), WithGas("0.025uavs", 1.5))
	rec, err := f.kr.Key(keyName)
	require.NoError(t, err)
	voteKey, err := rec.GetAddress()
	require.NoError(t, err)
	require.Equal(t, operator, f.sub.Address())
	require.Equal(t, voteKey, f.sub.Signer())

	f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
		if r.TaskId == 2 {
			return &types.ResultOutcome{TaskId: 2, Codespace: types.ModuleName, Code: types.ErrVotingClosed.ABCICode(), Error: "closed"}
		}
		return nil
	}
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("a")}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("b")}))
	require.False(t, f.sub.sendBatch(context.Background()))
	f.sub.settle(context.Background())
	f.waitSubmitted(t, 1, 2)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	tx := sent[0]
	require.True(t, tx.exec, "wrapped in MsgExec")
	require.Equal(t, voteKey.String(), tx.grantee)
	require.Equal(t, voteKey.String(), tx.signer)
	require.Equal(t, operator.String(), tx.msg.Operator)
	require.Equal(t, operator.String(), tx.granter, "the operator pays the fee")
	f.chain.mu.Lock()
	require.Equal(t, []string{voteKey.String()}, f.chain.accountAddrs, "the vote key's sequence")
	f.chain.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, [2]int{1, 1}, [2]int{m.included, m.rejected}, "outcomes read from the MsgExecResponse")

	// Free gas: no fee, so no allowance is needed.
	free := newFixture(t, nil, WithAuthzOperator(operator))
	require.NoError(t, free.sub.Enqueue(Vote{TaskID: 1, Result: []byte("a")}))
	require.False(t, free.sub.sendBatch(context.Background()))
	sent = free.chain.broadcasts()
	require.Len(t, sent, 1)
	require.True(t, sent[0].exec)
	require.Empty(t, sent[0].granter)
}
