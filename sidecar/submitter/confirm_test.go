package submitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/server"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

// A vote included on chain shows on /status, as node wires the one sink to
// every part. (The old wiring copied only the pipeline's reports to the
// status page: votes_included stayed 0.)
func TestIncludedVoteShowsOnStatus(t *testing.T) {
	m := metrics.New()
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	srv, err := server.New("127.0.0.1:0", m)
	require.NoError(t, err)

	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("1")}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("4")}))
	require.False(t, f.sub.sendBatch(context.Background()), "one batch")
	f.sub.settle(context.Background())

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var page struct {
		VotesIncluded uint64 `json:"votes_included"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	require.EqualValues(t, 2, page.VotesIncluded)
}

func TestRestartSettlesPendingVotes(t *testing.T) {
	st := store.OpenMemory()
	f := newFixture(t, st, WithBatchDelay(10*time.Millisecond))

	// Task 10's transaction was included while the sidecar was down.
	includedTx := []byte("an included vote transaction")
	includedHash := fmt.Sprintf("%X", cmttypes.Tx(includedTx).Hash())
	f.chain.included[includedHash] = &coretypes.ResultTx{Height: 8, Tx: includedTx, TxResult: abci.ExecTxResult{
		Data: f.chain.msgData(sentTx{msg: &types.MsgSubmitResults{Results: []types.TaskResult{{TaskId: 10}}}}),
	}}
	require.NoError(t, st.SetPending("10", store.Pending{TxHash: includedHash, TimeoutHeight: 30, Result: []byte("100")}))
	// Task 11's transaction never landed and the chain (at 10) is past its
	// timeout height 5.
	require.NoError(t, st.SetPending("11", store.Pending{TxHash: fmt.Sprintf("%X", cmttypes.Tx("lost").Hash()), TimeoutHeight: 5, Result: []byte("121")}))

	// What Start does, called directly: no other goroutine runs.
	ctx := context.Background()
	require.NoError(t, f.sub.recoverPending())
	require.Zero(t, f.queueLen(), "pending votes are held until their transaction is settled")
	f.sub.checkRecovering(ctx)
	require.Empty(t, f.sub.recovering)
	require.Equal(t, 1, f.queueLen(), "only the lost vote is queued again")
	require.False(t, f.sub.sendBatch(ctx), "one batch sends it")
	require.False(t, f.sub.sendBatch(ctx), "nothing is left to send")
	f.sub.settle(ctx)
	f.waitSubmitted(t, 10, 11)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 1, "only the lost vote is sent again, once")
	require.Equal(t, []types.TaskResult{{TaskId: 11, Result: []byte("121")}}, sent[0].msg.Results)

	st10, err := st.Submitted("10")
	require.NoError(t, err)
	require.True(t, st10)
	pending, err := st.PendingVotes()
	require.NoError(t, err)
	require.Empty(t, pending)
}

// An event vote refused by a per-block cap on opening event tasks, the
// service's or the operator's (M-3), is sent again.
func TestEventVoteRefusedByCapIsSentAgain(t *testing.T) {
	for name, code := range map[string]uint32{
		"service cap":  types.ErrAutoTaskLimit.ABCICode(),
		"operator cap": types.ErrEventOpenLimit.ABCICode(),
	} {
		t.Run(name, func(t *testing.T) { eventVoteRefusedByCapIsSentAgain(t, code) })
	}
}

func eventVoteRefusedByCapIsSentAgain(t *testing.T, capCode uint32) {
	metrics := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(metrics))
	capped := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 2, Input: []byte("in")}
	refused := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 3, Input: []byte("in")}
	cappedKey, refusedKey := store.WorkKey(0, &capped), store.WorkKey(0, &refused)

	var capHits int // guarded by f.chain.mu, as outcome runs under it
	f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
		switch {
		case r.Event != nil && r.Event.Key() == capped.Key() && capHits == 0:
			capHits++
			return &types.ResultOutcome{Codespace: types.ModuleName, Code: capCode, Error: "cap"}
		case r.Event != nil && r.Event.Key() == refused.Key():
			return &types.ResultOutcome{Codespace: types.ModuleName, Code: types.ErrVotingClosed.ABCICode(), Error: "closed"}
		case r.TaskId == 2:
			// The cap code on a vote by task id is final.
			return &types.ResultOutcome{TaskId: 2, Codespace: types.ModuleName, Code: capCode, Error: "cap"}
		}
		return nil
	}
	var submittedAtResend *bool
	f.chain.checkTx = func(n int, tx sentTx) (uint32, string) {
		if n == 1 {
			ok, err := f.store.Submitted(cappedKey)
			if err != nil {
				t.Errorf("read the store: %v", err)
			}
			submittedAtResend = &ok
		}
		return 0, ""
	}

	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("1")}))
	require.NoError(t, f.sub.Enqueue(Vote{Event: &capped, Result: []byte("c")}))
	require.NoError(t, f.sub.Enqueue(Vote{Event: &refused, Result: []byte("r")}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("2")}))
	f.waitKeys(t, "1", "2", refusedKey)
	f.waitKeys(t, cappedKey)

	sent := f.chain.broadcasts()
	require.Len(t, sent, 2, "the capped vote is sent once more, alone")
	require.Len(t, sent[0].msg.Results, 4)
	require.Equal(t, []types.TaskResult{{Result: []byte("c"), Event: &capped}}, sent[1].msg.Results)
	f.chain.mu.Lock()
	require.NotNil(t, submittedAtResend)
	require.False(t, *submittedAtResend, "the capped vote was not recorded as submitted before it was sent again")
	require.Equal(t, 1, capHits)
	f.chain.mu.Unlock()

	metrics.mu.Lock()
	require.Equal(t, [3]int{5, 2, 3}, [3]int{metrics.sent, metrics.included, metrics.rejected})
	metrics.mu.Unlock()
	pending, err := f.store.PendingVotes()
	require.NoError(t, err)
	require.Empty(t, pending)
}

// A node without a tx index answers /tx with an error. Inclusion is then read
// from the blocks (C2): the votes are recorded once, nothing is sent again,
// and /tx is not asked again and again.
func TestC2ConfirmsWithoutTxIndex(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	f.chain.txIndexErr = errors.New("transaction indexing is disabled")
	f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
		if r.TaskId == 2 {
			return &types.ResultOutcome{TaskId: 2, Codespace: types.ModuleName, Code: types.ErrDuplicateVote.ABCICode(), Error: "duplicate"}
		}
		return nil
	}
	f.start(t)
	for id := uint64(1); id <= 3; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	f.waitSubmitted(t, 1, 2, 3)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 4, Result: []byte("x")}))
	f.waitSubmitted(t, 4)

	require.Len(t, f.chain.broadcasts(), 2, "nothing sent again")
	f.chain.mu.Lock()
	require.Zero(t, f.chain.txCalls, "this run's transactions are found in the blocks, /tx is not asked")
	f.chain.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, [2]int{3, 1}, [2]int{m.included, m.rejected}, "the outcomes come from the block's results")
}

// Transactions in flight are confirmed from the blocks, each block read
// once for all of them, its results once, the latest height once a pass and
// not once a transaction; /tx is not asked. (The submitter used to ask /tx
// and the latest height for each transaction at every pass, and without a tx
// index read a block's results once for each of its transactions.)
func TestConfirmReadsEachBlockOnceForAllFlights(t *testing.T) {
	for name, noIndex := range map[string]bool{"tx index": false, "no tx index": true} {
		t.Run(name, func(t *testing.T) {
			f, m := inFlightFixture(t)
			if noIndex {
				f.chain.txIndexErr = errors.New("transaction indexing is disabled")
			}
			ctx := context.Background()
			f.enqueue(t, 1, 2, 3, 4, 5, 6, 7, 8)
			for f.sub.sendBatch(ctx) {
			}
			require.Len(t, f.chain.broadcasts(), 4, "four transactions in flight")
			require.Equal(t, [4]int{0, 1, 0, 0}, f.chain.reads(), "one latest height for the four transactions sent in one pass")

			f.sub.settle(ctx)
			require.Equal(t, [4]int{0, 2, 0, 0}, f.chain.reads(), "no new block: nothing read but the latest height")

			f.chain.produce() // one block holds the four
			f.sub.settle(ctx)
			require.Equal(t, [4]int{0, 3, 1, 1}, f.chain.reads(), "the new block and its results read once for the four")
			f.waitSubmitted(t, 1, 2, 3, 4, 5, 6, 7, 8)
			m.mu.Lock()
			require.Equal(t, 8, m.included)
			m.mu.Unlock()

			f.sub.settle(ctx)
			require.Equal(t, [4]int{0, 3, 1, 1}, f.chain.reads(), "nothing in flight: nothing read")
		})
	}
}

// An index lags behind the blocks: a transaction it does not know may have
// landed. Once the timeout height has passed, the blocks say so, and the
// votes are not sent again.
func TestC2LaggingIndexReadsBlocksAtTimeout(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	f.chain.txIndexLags = true
	f.chain.advance = 5
	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("x")}))
	f.waitSubmitted(t, 1)
	require.Len(t, f.chain.broadcasts(), 1, "not sent again")
}

// A vote's pending record keeps its handler gas and failure reason: sent
// again after a restart, the vote still carries them (L2).
func TestL2RecoverPendingKeepsExtraGas(t *testing.T) {
	st := store.OpenMemory()
	f := newFixture(t, st, WithBatchDelay(10*time.Millisecond))
	require.NoError(t, st.SetPendingBatch(map[string]store.Pending{
		"5": {TxHash: fmt.Sprintf("%X", cmttypes.Tx("lost").Hash()), TimeoutHeight: 5, SentHeight: 1, TaskID: 5, ExtraGas: 1_000_000},
		"6": {TxHash: fmt.Sprintf("%X", cmttypes.Tx("lost").Hash()), TimeoutHeight: 5, SentHeight: 1, TaskID: 6, Failure: types.FailureReason(2)},
	}))
	f.start(t)
	f.waitSubmitted(t, 5, 6)
	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	require.Equal(t, []types.TaskResult{{TaskId: 5}, {TaskId: 6, Failure: types.FailureReason(2)}}, sent[0].msg.Results)
	require.EqualValues(t, simGas*1.5+2*DefaultVoteGasReserve+2*VoteGasMargin+1_000_000, sent[0].gas, "the handler's gas is reserved again")
}

// A pending record whose transaction never went out (killed between the
// record and the broadcast) waits for its timeout height, but new votes are
// sent meanwhile (L3); then the pending vote is sent again.
func TestL3PendingDoesNotBlockNewVotes(t *testing.T) {
	st := store.OpenMemory()
	f := newFixture(t, st, WithBatchDelay(10*time.Millisecond))
	require.NoError(t, st.SetPendingBatch(map[string]store.Pending{
		"10": {TxHash: fmt.Sprintf("%X", cmttypes.Tx("never sent").Hash()), TimeoutHeight: 1000, SentHeight: 9, TaskID: 10, Result: []byte("a")},
	}))
	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 10, Result: []byte("a")}), "the pipeline's replay queues the pending vote again")
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 11, Result: []byte("b")}))
	f.waitSubmitted(t, 11)
	ok, err := st.Submitted("10")
	require.NoError(t, err)
	require.False(t, ok, "the pending vote waits for its transaction's timeout height")

	f.chain.setHeight(1001)
	f.waitSubmitted(t, 10)
	sent := f.chain.broadcasts()
	require.Len(t, sent, 2)
	require.Equal(t, []types.TaskResult{{TaskId: 11, Result: []byte("b")}}, sent[0].msg.Results, "held, the pending vote is not sent with the new one")
	require.Equal(t, []types.TaskResult{{TaskId: 10, Result: []byte("a")}}, sent[1].msg.Results)
}

// Broadcast errors that say the transaction never reached the mempool are
// retried at once, not after its timeout height (L3, C1): the fake chain
// stands still, so waiting for the timeout height would never end.
func TestL3BroadcastErrorsThatNeverReachedTheMempool(t *testing.T) {
	for name, tc := range map[string]struct {
		err    error
		reason string
	}{
		"mempool full":       {errors.New("mempool is full: number of txs 5000 (max: 5000), total txs bytes 10 (max: 1073741824)"), "mempool_full"},
		"connection refused": {errors.New(`post failed: Post "http://127.0.0.1:26657": dial tcp 127.0.0.1:26657: connect: connection refused`), "connection_refused"},
	} {
		t.Run(name, func(t *testing.T) {
			m := &countMetrics{}
			f := newFixture(t, nil, WithBatchDelay(time.Millisecond), WithMetrics(m))
			f.chain.broadcastErr = func(n int, _ sentTx) error {
				if n < 2 {
					return tc.err
				}
				return nil
			}
			require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("x")}))
			f.start(t)
			f.waitSubmitted(t, 1)
			require.Len(t, f.chain.broadcasts(), 3)
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Equal(t, map[string]int{tc.reason: 2}, m.refused)
		})
	}
}

// "tx already exists in cache" means the transaction is in the mempool (or a
// block): it is waited for, not signed again.
func TestL3TxInCacheIsWaitedFor(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(time.Millisecond))
	f.chain.afterInclude = func(n int) error {
		if n == 0 {
			return errors.New("tx already exists in cache")
		}
		return nil
	}
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("x")}))
	f.start(t)
	f.waitSubmitted(t, 1)
	require.Len(t, f.chain.broadcasts(), 1, "not signed and sent again")
}
