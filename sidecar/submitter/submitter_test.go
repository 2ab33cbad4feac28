package submitter

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/x/avs/types"
)

const (
	testChainID = "avschain-test"
	keyName     = "operator"
	simGas      = 100_000
)

// sentTx is a broadcast transaction as the fake chain decoded it.
type sentTx struct {
	hash     string
	msg      *types.MsgSubmitResults
	sequence uint64
	accNum   uint64
	gas      uint64
	timeout  uint64
}

// fakeChain implements Chain. Broadcasts succeed and are included at once
// unless checkTx or deliverTx say otherwise.
type fakeChain struct {
	t   *testing.T
	enc chain.Encoding

	mu           sync.Mutex
	height       int64
	accNum, seq  uint64
	accountCalls int
	simulated    []sentTx
	broadcast    []sentTx
	included     map[string]*coretypes.ResultTx
	// checkTx is the CheckTx result of the n-th broadcast (from 0).
	checkTx func(n int, tx sentTx) (code uint32, codespace string)
	// deliverTx is the DeliverTx code of the n-th accepted broadcast; when it
	// returns (0, ""), the tx succeeds.
	deliverTx func(n int, tx sentTx) (code uint32, codespace string)
	// outcome, when set, gives the outcome of each result of a successful
	// transaction; nil accepts the result.
	outcome  func(r types.TaskResult) *types.ResultOutcome
	accepted int
}

func newFakeChain(t *testing.T, enc chain.Encoding) *fakeChain {
	return &fakeChain{t: t, enc: enc, height: 10, accNum: 7, seq: 5, included: map[string]*coretypes.ResultTx{}}
}

// decode reads a vote transaction; it runs on the submitter's goroutine, so
// it reports problems with t.Errorf rather than stopping the goroutine.
func (c *fakeChain) decode(txBytes []byte) (sentTx, error) {
	fail := func(format string, args ...any) (sentTx, error) {
		err := fmt.Errorf(format, args...)
		c.t.Errorf("fake chain: %v", err)
		return sentTx{}, err
	}
	tx, err := c.enc.TxConfig.TxDecoder()(txBytes)
	if err != nil {
		return fail("decode tx: %w", err)
	}
	msgs := tx.GetMsgs()
	if len(msgs) != 1 {
		return fail("%d messages, want one per vote transaction", len(msgs))
	}
	msg, ok := msgs[0].(*types.MsgSubmitResults)
	if !ok {
		return fail("message is %T", msgs[0])
	}
	sigTx, ok := tx.(authsigning.SigVerifiableTx)
	if !ok {
		return fail("tx %T has no signatures", tx)
	}
	sigs, err := sigTx.GetSignaturesV2()
	if err != nil || len(sigs) != 1 {
		return fail("signatures %v: %v", sigs, err)
	}
	feeTx, ok := tx.(sdk.FeeTx)
	if !ok {
		return fail("tx %T has no fee", tx)
	}
	timeoutTx, ok := tx.(sdk.TxWithTimeoutHeight)
	if !ok {
		return fail("tx %T has no timeout height", tx)
	}
	return sentTx{hash: fmt.Sprintf("%X", cmttypes.Tx(txBytes).Hash()), msg: msg, sequence: sigs[0].Sequence, gas: feeTx.GetGas(), timeout: timeoutTx.GetTimeoutHeight()}, nil
}

func (c *fakeChain) LatestHeight(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.height, nil
}

func (c *fakeChain) Account(_ context.Context, _ sdk.AccAddress) (uint64, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accountCalls++
	return c.accNum, c.seq, nil
}

func (c *fakeChain) Simulate(_ context.Context, txBytes []byte) (uint64, error) {
	tx, err := c.decode(txBytes)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.simulated = append(c.simulated, tx)
	return simGas, nil
}

func (c *fakeChain) BroadcastSync(_ context.Context, txBytes []byte) (*coretypes.ResultBroadcastTx, error) {
	tx, err := c.decode(txBytes)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.broadcast)
	c.broadcast = append(c.broadcast, tx)
	if c.checkTx != nil {
		if code, space := c.checkTx(n, tx); code != 0 {
			return &coretypes.ResultBroadcastTx{Code: code, Codespace: space, Log: "refused by the fake"}, nil
		}
	}
	res := abci.ExecTxResult{GasWanted: int64(tx.gas), GasUsed: int64(tx.gas) / 2}
	if c.deliverTx != nil {
		res.Code, res.Codespace = c.deliverTx(c.accepted, tx)
	}
	c.accepted++
	c.seq++ // included, even when it failed
	if res.Code == 0 {
		res.Data = c.msgData(tx.msg)
	} else {
		res.GasUsed = res.GasWanted + 1
	}
	c.height++
	c.included[tx.hash] = &coretypes.ResultTx{Height: c.height, TxResult: res, Tx: txBytes}
	return &coretypes.ResultBroadcastTx{Hash: []byte(tx.hash)}, nil
}

func (c *fakeChain) msgData(msg *types.MsgSubmitResults) []byte {
	var resp types.MsgSubmitResultsResponse
	for _, r := range msg.Results {
		if c.outcome != nil {
			if o := c.outcome(r); o != nil {
				resp.Outcomes = append(resp.Outcomes, *o)
				continue
			}
		}
		resp.Outcomes = append(resp.Outcomes, types.ResultOutcome{TaskId: r.TaskId, Accepted: true})
	}
	anyResp, err := codectypes.NewAnyWithValue(&resp)
	if err != nil {
		c.t.Errorf("pack response: %v", err)
		return nil
	}
	bz, err := proto.Marshal(&sdk.TxMsgData{MsgResponses: []*codectypes.Any{anyResp}})
	if err != nil {
		c.t.Errorf("marshal response: %v", err)
	}
	return bz
}

func (c *fakeChain) TxResult(_ context.Context, hash []byte) (*coretypes.ResultTx, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res, ok := c.included[strings.ToUpper(hex.EncodeToString(hash))]; ok {
		return res, nil
	}
	return nil, errors.New("tx not found")
}

func (c *fakeChain) broadcasts() []sentTx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentTx(nil), c.broadcast...)
}

func (c *fakeChain) accounts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accountCalls
}

type countMetrics struct {
	mu                       sync.Mutex
	sent, included, rejected int
}

func (m *countMetrics) VotesSent(n int)     { m.mu.Lock(); m.sent += n; m.mu.Unlock() }
func (m *countMetrics) VotesIncluded(n int) { m.mu.Lock(); m.included += n; m.mu.Unlock() }
func (m *countMetrics) VotesRejected(n int) { m.mu.Lock(); m.rejected += n; m.mu.Unlock() }

type fixture struct {
	enc   chain.Encoding
	chain *fakeChain
	store *store.Store
	sub   *Submitter
}

func newFixture(t *testing.T, st *store.Store, opts ...Option) *fixture {
	t.Helper()
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	kr := keyring.NewInMemory(enc.Codec)
	_, _, err = kr.NewMnemonic(keyName, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	if st == nil {
		st = store.OpenMemory()
	}
	fc := newFakeChain(t, enc)
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	sub, err := New(fc, st, enc.TxConfig, kr, keyName, testChainID, opts...)
	require.NoError(t, err)
	return &fixture{enc: enc, chain: fc, store: st, sub: sub}
}

// start runs the submitter until the test ends.
func (f *fixture) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.sub.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("submitter did not stop")
		}
	})
}

func (f *fixture) waitSubmitted(t *testing.T, ids ...uint64) {
	t.Helper()
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, strconv.FormatUint(id, 10))
	}
	f.waitKeys(t, keys...)
}

// waitKeys waits until the votes with these work keys are recorded as submitted.
func (f *fixture) waitKeys(t *testing.T, keys ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, k := range keys {
			if ok, err := f.store.Submitted(k); err != nil || !ok {
				return false
			}
		}
		return true
	}, 15*time.Second, 20*time.Millisecond, "votes %v submitted", keys)
}

func (f *fixture) queueLen() int {
	f.sub.mu.Lock()
	defer f.sub.mu.Unlock()
	return len(f.sub.queue)
}

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
	require.EqualValues(t, simGas*1.5+5*DefaultVoteGasReserve, tx.gas, "simulated gas times the adjustment, plus a reserve per vote")
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
			f.chain.seq = 9
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
	require.EqualValues(t, simGas*1.5+DefaultVoteGasReserve, sent[0].gas)
	require.EqualValues(t, simGas*1.5*1.5+DefaultVoteGasReserve, sent[1].gas, "retried with 1.5x more gas")
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
	require.EqualValues(t, simGas*1.5+DefaultVoteGasReserve, sent[2].gas)
}

func TestRestartSettlesPendingVotes(t *testing.T) {
	st := store.OpenMemory()
	f := newFixture(t, st, WithBatchDelay(10*time.Millisecond))

	// Task 10's transaction was included while the sidecar was down.
	includedTx := []byte("an included vote transaction")
	includedHash := fmt.Sprintf("%X", cmttypes.Tx(includedTx).Hash())
	f.chain.included[includedHash] = &coretypes.ResultTx{Height: 8, Tx: includedTx, TxResult: abci.ExecTxResult{
		Data: f.chain.msgData(&types.MsgSubmitResults{Results: []types.TaskResult{{TaskId: 10}}}),
	}}
	require.NoError(t, st.SetPending("10", store.Pending{TxHash: includedHash, TimeoutHeight: 30, Result: []byte("100")}))
	// Task 11's transaction never landed and the chain (at 10) is past its
	// timeout height 5.
	require.NoError(t, st.SetPending("11", store.Pending{TxHash: fmt.Sprintf("%X", cmttypes.Tx("lost").Hash()), TimeoutHeight: 5, Result: []byte("121")}))

	// What Start does first, called directly: no other goroutine runs.
	ctx := context.Background()
	require.NoError(t, f.sub.recoverPending(ctx))
	require.Equal(t, 1, f.queueLen(), "only the lost vote is queued again")
	require.False(t, f.sub.sendBatch(ctx), "one batch sends it")
	require.False(t, f.sub.sendBatch(ctx), "nothing is left to send")
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

func TestExtraGasForHandlerServices(t *testing.T) {
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond))
	f.start(t)
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("16"), ExtraGas: 1_000_000}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("4")}))
	f.waitSubmitted(t, 1, 2)
	sent := f.chain.broadcasts()
	require.Len(t, sent, 1)
	require.EqualValues(t, simGas*1.5+2*DefaultVoteGasReserve+1_000_000, sent[0].gas,
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

func TestEventVoteRefusedByCapIsSentAgain(t *testing.T) {
	metrics := &countMetrics{}
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(metrics))
	capped := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 2, Input: []byte("in")}
	refused := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 3, Input: []byte("in")}
	cappedKey, refusedKey := store.WorkKey(0, &capped), store.WorkKey(0, &refused)
	capCode := types.ErrAutoTaskLimit.ABCICode()

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
