package submitter

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/avschain/avschain/x/avs/types"
)

// tooLargeErr is CometBFT's mempool refusing a transaction over its
// max_tx_bytes: an RPC error, not a CheckTx code.
func tooLargeErr(max, n int) error {
	return fmt.Errorf("error on broadcastTxSync: Tx too large. Max size is %d, but got %d", max, n)
}

// The review's reproduction: 70 votes of 16 KiB (max_result_size) make a
// 1.1 MiB batch, over the default mempool max_tx_bytes of 1 MiB. The old
// submitter sent it, waited for its timeout height, and sent it again,
// forever. Now batches are cut below the byte cap.
func TestC1BatchesCutByBytes(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	f.chain.broadcastErr = func(_ int, tx sentTx) error {
		if tx.size > 1<<20 {
			return tooLargeErr(1<<20, tx.size)
		}
		return nil
	}
	f.chain.advance = 1 // the chain moves on while the submitter waits
	var ids []uint64
	for id := uint64(1); id <= 70; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: bytes.Repeat([]byte{'r'}, 16<<10)}))
		ids = append(ids, id)
	}
	f.start(t)
	f.waitSubmitted(t, ids...)

	votes := 0
	for _, tx := range f.chain.broadcasts() {
		require.LessOrEqual(t, tx.size, DefaultMaxTxBytes, "no transaction above the byte cap")
		votes += len(tx.msg.Results)
	}
	require.Equal(t, 70, votes, "each vote sent once")
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Zero(t, m.depth, "the queue is empty and reported so")
}

// A node whose mempool max_tx_bytes is below the submitter's cap refuses a
// batch as too large: the batch is halved until it fits, without waiting
// for a timeout height (the error says it never reached the mempool).
func TestC1TxTooLargeSplitsBatch(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	const mempoolMax = 100 << 10
	f.chain.broadcastErr = func(_ int, tx sentTx) error {
		if tx.size > mempoolMax {
			return tooLargeErr(mempoolMax, tx.size)
		}
		return nil
	}
	var ids []uint64
	for id := uint64(1); id <= 20; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: bytes.Repeat([]byte{'r'}, 16<<10)}))
		ids = append(ids, id)
	}
	f.start(t)
	f.waitSubmitted(t, ids...)

	var landed int
	for _, tx := range f.chain.broadcasts() {
		if tx.size <= mempoolMax {
			landed += len(tx.msg.Results)
		}
	}
	require.Equal(t, 20, landed, "every vote landed once")
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Positive(t, m.refused["tx_too_large"])
}

// A vote the chain refuses for what it is (its task's voting closed) fails
// the simulation of every batch it is in: the batch is split until the vote
// is alone, then the vote is dropped (recorded submitted, counted) and the
// others land.
func TestC1PermanentVoteErrorDropsVote(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	f.chain.simulate = func(tx sentTx) error {
		if slices.ContainsFunc(tx.msg.Results, func(r types.TaskResult) bool { return r.TaskId == 3 }) {
			return errors.New("rpc error: code = Unknown desc = failed to execute message; message index: 0: task 3 deadline was height 5: " +
				types.ErrVotingClosed.Error() + " with gas used: '1234'")
		}
		return nil
	}
	for id := uint64(1); id <= 5; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	f.start(t)
	f.waitSubmitted(t, 1, 2, 3, 4, 5)

	for _, tx := range f.chain.broadcasts() {
		for _, r := range tx.msg.Results {
			require.NotEqualValues(t, 3, r.TaskId, "the refused vote is never broadcast")
		}
	}
	require.Eventually(t, func() bool { return f.queueLen() == 0 }, 5*time.Second, 10*time.Millisecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, map[string]int{"avs/22": 1}, m.dropped)
	require.Equal(t, 4, m.included)
}

// A vote refused alone for a reason the submitter does not understand is set
// aside and tried again later while the votes behind it go on; after
// maxSetAside tries it is dropped.
func TestC1UnknownRefusalSetsVoteAside(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(time.Millisecond), WithMetrics(m))
	tries := 0 // guarded by f.chain.mu
	f.chain.simulate = func(tx sentTx) error {
		if slices.ContainsFunc(tx.msg.Results, func(r types.TaskResult) bool { return r.TaskId == 2 }) {
			if len(tx.msg.Results) == 1 {
				tries++
			}
			return errors.New("rpc error: code = Unknown desc = something new")
		}
		return nil
	}
	for id := uint64(1); id <= 3; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	f.start(t)
	f.waitSubmitted(t, 1, 3)
	f.waitSubmitted(t, 2)

	f.chain.mu.Lock()
	require.Equal(t, maxSetAside+1, tries, "tried alone, set aside maxSetAside times, then dropped")
	f.chain.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, map[string]int{"simulate": 1}, m.dropped)
	require.Equal(t, 2, m.included)
}

// Insufficient funds or fee is a loud state: SubmitterBlocked names it until
// a transaction lands again, and the votes wait (with backoff) rather than
// being dropped.
func TestC1InsufficientFundsIsLoud(t *testing.T) {
	for name, code := range map[string]uint32{
		"funds": sdkerrors.ErrInsufficientFunds.ABCICode(),
		"fee":   sdkerrors.ErrInsufficientFee.ABCICode(),
	} {
		t.Run(name, func(t *testing.T) {
			m := &countMetrics{}
			f := newFixture(t, nil, WithBatchDelay(time.Millisecond), WithMetrics(m))
			f.chain.checkTx = func(n int, tx sentTx) (uint32, string) {
				if n < 3 {
					return code, sdkerrors.RootCodespace
				}
				return 0, ""
			}
			require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("x")}))
			f.start(t)
			f.waitSubmitted(t, 1)

			require.Len(t, f.chain.broadcasts(), 4)
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Equal(t, 3, m.refused[fmt.Sprintf("sdk/%d", code)])
			require.Len(t, m.blocked, 2, "blocked once (the reason did not change), then cleared: %q", m.blocked)
			require.Contains(t, m.blocked[0], "insufficient "+name)
			require.Empty(t, m.blocked[1], "cleared when a transaction lands")
			require.Empty(t, m.dropped)
		})
	}
}

// Gas above the consensus block.max_gas is refused by CheckTx
// (ErrInvalidGasLimit) whatever the batch: batches are cut below it.
func TestC1GasOverBlockMaxSplits(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	const maxGas = 2_000_000
	f.chain.maxGas = maxGas
	f.chain.checkTx = func(n int, tx sentTx) (uint32, string) {
		if tx.gas > maxGas {
			return sdkerrors.ErrInvalidGasLimit.ABCICode(), sdkerrors.RootCodespace
		}
		return 0, ""
	}
	var ids []uint64
	for id := uint64(1); id <= 6; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x"), ExtraGas: 500_000}))
		ids = append(ids, id)
	}
	f.start(t)
	f.waitSubmitted(t, ids...)
	votes := 0
	for _, tx := range f.chain.broadcasts() {
		require.LessOrEqual(t, tx.gas, uint64(maxGas))
		votes += len(tx.msg.Results)
	}
	require.Equal(t, 6, votes)
}

// The queue's depth and the transactions in flight are reported as they
// change.
func TestC1ReportsQueueAndInFlight(t *testing.T) {
	m := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	for id := uint64(1); id <= 3; id++ {
		require.NoError(t, f.sub.Enqueue(Vote{TaskID: id, Result: []byte("x")}))
	}
	m.mu.Lock()
	require.Equal(t, 3, m.depth)
	m.mu.Unlock()
	f.start(t)
	f.waitSubmitted(t, 1, 2, 3)
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.depth == 0 && len(m.inFlight) >= 2 && m.inFlight[len(m.inFlight)-1] == 0
	}, 5*time.Second, 10*time.Millisecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Equal(t, []int{1, 0}, m.inFlight)
}

// Every refusal is classified: a table of what the chain and CometBFT answer.
func TestC1Classify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      *refusal
		kind   kind
		reason string
	}{
		{"mempool full (RPC error)", classifyErr(stageBroadcast, errors.New("mempool is full: number of txs 5000 (max: 5000), total txs bytes 1 (max: 2)")), transient, "mempool_full"},
		{"tx too large (RPC error)", classifyErr(stageBroadcast, tooLargeErr(1<<20, 2<<20)), tooLarge, "tx_too_large"},
		{"tx in cache (RPC error)", classifyErr(stageBroadcast, errors.New("tx already exists in cache")), landing, "tx_in_cache"},
		{"connection refused", classifyErr(stageBroadcast, errors.New(`post failed: Post "http://127.0.0.1:26657": dial tcp 127.0.0.1:26657: connect: connection refused`)), transient, "connection_refused"},
		{"broadcast timeout", classifyErr(stageBroadcast, errors.New("context deadline exceeded")), landing, "timeout"},
		{"simulate: too many results", classifyErr(stageSimulate, errors.New("5 results, expected 1 to max_votes_per_tx (3): "+types.ErrTooManyResults.Error())), tooLarge, "avs/26"},
		{"simulate: duplicate vote", classifyErr(stageSimulate, errors.New("x on task 3: "+types.ErrDuplicateVote.Error())), badVote, "avs/21"},
		{"simulate: no grant", classifyErr(stageSimulate, errors.New("failed to get grant with given granter: authorization not found")), blocked, "authz"},
		{"simulate: no fee allowance", classifyErr(stageSimulate, errors.New("avs1op does not allow to pay fees for avs1key: fee-grant not found: not found")), blocked, "feegrant"},
		{"simulate: not registered", classifyErr(stageSimulate, errors.New("avs1op: "+types.ErrOperatorNotFound.Error())), blocked, "avs/13"},
		{"CheckTx: sequence", classifyCode(sdkerrors.RootCodespace, 32, "account sequence mismatch"), transient, "sdk/32"},
		{"CheckTx: funds", classifyCode(sdkerrors.RootCodespace, 5, "0uavs is smaller than 10uavs"), blocked, "sdk/5"},
		{"CheckTx: fee", classifyCode(sdkerrors.RootCodespace, 13, "got 0uavs, required 10uavs"), blocked, "sdk/13"},
		{"CheckTx: max gas", classifyCode(sdkerrors.RootCodespace, 41, "tx gas limit exceeds block max gas"), tooLarge, "sdk/41"},
		{"CheckTx: mempool full", classifyCode(sdkerrors.RootCodespace, 20, ""), transient, "sdk/20"},
		{"DeliverTx: out of gas", classifyCode(sdkerrors.RootCodespace, 11, ""), transient, "sdk/11"},
		{"DeliverTx: voting closed", classifyCode(types.ModuleName, types.ErrVotingClosed.ABCICode(), ""), badVote, "avs/22"},
		{"DeliverTx: authz", classifyCode("authz", 2, "authorization not found"), blocked, "authz/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.kind, tc.r.kind)
			require.Equal(t, tc.reason, tc.r.reason)
			if tc.kind == blocked {
				require.NotEmpty(t, tc.r.state)
			}
		})
	}
}
