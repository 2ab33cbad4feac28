package submitter

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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
	"github.com/cosmos/cosmos-sdk/x/authz"

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
	exec     bool   // the message came wrapped in an authz MsgExec
	grantee  string // MsgExec's grantee
	signer   string // the address of the signature's public key
	granter  string // the fee granter
	sequence uint64
	gas      uint64
	timeout  uint64
	size     int
}

// memTx is a transaction in the fake chain's mempool.
type memTx struct {
	bytes   []byte
	tx      sentTx
	foreign bool // another client's transaction of the same account
}

// fakeChain implements Chain. Broadcasts succeed and are included at once,
// in a block of their own, unless the hooks say otherwise (or hold is set:
// then they wait in the mempool until produce). Like the SDK it checks the
// sequence in simulation and CheckTx against the mempool's state (the
// committed sequence plus the transactions waiting), and again at delivery,
// where a transaction with a used sequence fails; like x/avs it refuses a
// second vote of the operator on the same work as a duplicate.
type fakeChain struct {
	t   *testing.T
	enc chain.Encoding

	mu          sync.Mutex
	height      int64
	advance     int64 // each LatestHeight call moves the chain this many blocks on
	accNum, seq uint64
	// checkSeq is the sequence the mempool expects: seq plus the
	// transactions of the account waiting in it.
	checkSeq uint64
	hold     bool // broadcasts wait in the mempool until produce
	mempool  []memTx
	// simLags makes the simulation check the committed sequence (a node
	// whose mempool does not hold the transactions in flight).
	simLags bool
	voted   map[string]bool // work keys counted on chain
	// duplicates counts the votes refused as duplicates.
	duplicates   int
	accountCalls int
	accountAddrs []string
	simulated    []sentTx
	broadcast    []sentTx
	included     map[string]*coretypes.ResultTx
	blocks       map[int64]cmttypes.Txs
	results      map[int64][]*abci.ExecTxResult
	params       types.Params
	paramsCalls  int
	maxBytes     int64 // consensus block.max_bytes
	maxGas       int64 // consensus block.max_gas
	// txIndexErr, when set, is what /tx answers (an indexer turned off);
	// txIndexLags makes /tx never know a transaction.
	txIndexErr  error
	txIndexLags bool
	txCalls     int
	// Reads of the latest height, blocks and block results.
	latestCalls, blockCalls, resultsCalls int
	// simulate, when set, refuses a simulation with an error (the text a
	// gRPC Simulate error carries).
	simulate func(tx sentTx) error
	// broadcastErr, when set, fails the n-th broadcast (from 0) with an RPC
	// error; the transaction does not reach the mempool.
	broadcastErr func(n int, tx sentTx) error
	// afterInclude, when set, fails the n-th broadcast with an RPC error
	// after the transaction was included (it reached the mempool).
	afterInclude func(n int) error
	// checkTx is the CheckTx result of the n-th broadcast (from 0), with
	// checkLog as its log.
	checkTx  func(n int, tx sentTx) (code uint32, codespace string)
	checkLog string
	// deliverTx is the DeliverTx code of the n-th accepted broadcast; when it
	// returns (0, ""), the tx succeeds.
	deliverTx func(n int, tx sentTx) (code uint32, codespace string)
	// outcome, when set, gives the outcome of each result of a successful
	// transaction; nil accepts the result.
	outcome  func(r types.TaskResult) *types.ResultOutcome
	accepted int
}

func newFakeChain(t *testing.T, enc chain.Encoding) *fakeChain {
	return &fakeChain{
		t: t, enc: enc, height: 10, accNum: 7, seq: 5, checkSeq: 5, voted: map[string]bool{}, included: map[string]*coretypes.ResultTx{},
		blocks: map[int64]cmttypes.Txs{}, results: map[int64][]*abci.ExecTxResult{},
		params: types.DefaultParams(), maxBytes: 22020096, maxGas: -1,
	}
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
	out := sentTx{hash: fmt.Sprintf("%X", cmttypes.Tx(txBytes).Hash()), size: len(txBytes)}
	if exec, ok := msgs[0].(*authz.MsgExec); ok {
		inner, err := exec.GetMessages()
		if err != nil || len(inner) != 1 {
			return fail("MsgExec messages %v: %v", inner, err)
		}
		out.exec, out.grantee, msgs = true, exec.Grantee, inner
	}
	msg, ok := msgs[0].(*types.MsgSubmitResults)
	if !ok {
		return fail("message is %T", msgs[0])
	}
	out.msg = msg
	sigTx, ok := tx.(authsigning.SigVerifiableTx)
	if !ok {
		return fail("tx %T has no signatures", tx)
	}
	sigs, err := sigTx.GetSignaturesV2()
	if err != nil || len(sigs) != 1 {
		return fail("signatures %v: %v", sigs, err)
	}
	out.sequence, out.signer = sigs[0].Sequence, sdk.AccAddress(sigs[0].PubKey.Address()).String()
	feeTx, ok := tx.(sdk.FeeTx)
	if !ok {
		return fail("tx %T has no fee", tx)
	}
	out.gas = feeTx.GetGas()
	if g := feeTx.FeeGranter(); len(g) > 0 {
		out.granter = sdk.AccAddress(g).String()
	}
	timeoutTx, ok := tx.(sdk.TxWithTimeoutHeight)
	if !ok {
		return fail("tx %T has no timeout height", tx)
	}
	out.timeout = timeoutTx.GetTimeoutHeight()
	return out, nil
}

func (c *fakeChain) LatestHeight(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latestCalls++
	c.height += c.advance
	return c.height, nil
}

func (c *fakeChain) setHeight(h int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.height = h
}

func (c *fakeChain) Account(_ context.Context, addr sdk.AccAddress) (uint64, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accountCalls++
	c.accountAddrs = append(c.accountAddrs, addr.String())
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
	if c.simulate != nil {
		if err := c.simulate(tx); err != nil {
			return 0, err
		}
	}
	want := c.checkSeq
	if c.simLags {
		want = c.seq
	}
	if tx.sequence != want {
		return 0, fmt.Errorf("rpc error: code = Unknown desc = %s", mismatch(want, tx.sequence))
	}
	return simGas, nil
}

// mismatch is the SDK's text for a wrong sequence.
func mismatch(want, got uint64) string {
	return fmt.Sprintf("account sequence mismatch, expected %d, got %d: incorrect account sequence", want, got)
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
	if c.broadcastErr != nil {
		if err := c.broadcastErr(n, tx); err != nil {
			return nil, err
		}
	}
	if c.checkTx != nil {
		if code, space := c.checkTx(n, tx); code != 0 {
			log := c.checkLog
			if log == "" {
				log = "refused by the fake"
			}
			return &coretypes.ResultBroadcastTx{Code: code, Codespace: space, Log: log}, nil
		}
	}
	if tx.sequence != c.checkSeq {
		return &coretypes.ResultBroadcastTx{Code: sdkerrors.ErrWrongSequence.ABCICode(), Codespace: sdkerrors.RootCodespace,
			Log: mismatch(c.checkSeq, tx.sequence)}, nil
	}
	c.checkSeq++
	c.mempool = append(c.mempool, memTx{bytes: txBytes, tx: tx})
	if !c.hold {
		c.produceLocked()
	}
	if c.afterInclude != nil {
		if err := c.afterInclude(n); err != nil {
			return nil, err
		}
	}
	return &coretypes.ResultBroadcastTx{Hash: []byte(tx.hash)}, nil
}

// produce makes a block of the mempool's transactions.
func (c *fakeChain) produce() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.produceLocked()
}

func (c *fakeChain) produceLocked() {
	c.height++
	txs := cmttypes.Txs{cmttypes.Tx("another operator's tx")}
	results := []*abci.ExecTxResult{{}}
	for _, m := range c.mempool {
		res := c.deliverLocked(m)
		txs = append(txs, m.bytes)
		results = append(results, res)
		if !m.foreign {
			c.included[m.tx.hash] = &coretypes.ResultTx{Height: c.height, TxResult: *res, Tx: m.bytes}
		}
	}
	c.blocks[c.height], c.results[c.height] = txs, results
	c.mempool = nil
	c.checkSeq = c.seq
}

// deliverLocked runs a transaction in a block: a used sequence fails it in
// the ante handler (the sequence is not consumed); otherwise it is
// consumed, even when the transaction fails.
func (c *fakeChain) deliverLocked(m memTx) *abci.ExecTxResult {
	if m.foreign {
		c.seq++
		return &abci.ExecTxResult{}
	}
	tx := m.tx
	res := &abci.ExecTxResult{GasWanted: int64(tx.gas), GasUsed: int64(tx.gas) / 2}
	if tx.sequence != c.seq {
		res.Code, res.Codespace, res.Log = sdkerrors.ErrWrongSequence.ABCICode(), sdkerrors.RootCodespace, mismatch(c.seq, tx.sequence)
		return res
	}
	if c.deliverTx != nil {
		res.Code, res.Codespace = c.deliverTx(c.accepted, tx)
	}
	c.accepted++
	c.seq++
	if res.Code == 0 {
		res.Data = c.msgData(tx)
	} else {
		res.GasUsed = res.GasWanted + 1
	}
	return res
}

// evict drops the mempool's transactions from the i-th on (a node restart,
// a recheck that failed): the ones after it no longer pass recheck either.
func (c *fakeChain) evict(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mempool = c.mempool[:i]
	c.checkSeq = c.seq + uint64(i)
}

// msgData is a successful vote transaction's DeliverTx data: the outcomes,
// wrapped in a MsgExecResponse when a vote key signed an authz MsgExec.
func (c *fakeChain) msgData(tx sentTx) []byte {
	var resp types.MsgSubmitResultsResponse
	for _, r := range tx.msg.Results {
		if c.outcome != nil {
			if o := c.outcome(r); o != nil {
				resp.Outcomes = append(resp.Outcomes, *o)
				continue
			}
		}
		key := entryKey(r)
		if c.voted[key] {
			c.duplicates++
			resp.Outcomes = append(resp.Outcomes, types.ResultOutcome{TaskId: r.TaskId, Codespace: types.ModuleName,
				Code: types.ErrDuplicateVote.ABCICode(), Error: "duplicate vote"})
			continue
		}
		c.voted[key] = true
		resp.Outcomes = append(resp.Outcomes, types.ResultOutcome{TaskId: r.TaskId, Accepted: true})
	}
	var msgResp proto.Message = &resp
	if tx.exec {
		inner, err := proto.Marshal(&resp)
		if err != nil {
			c.t.Errorf("marshal response: %v", err)
		}
		msgResp = &authz.MsgExecResponse{Results: [][]byte{inner}}
	}
	anyResp, err := codectypes.NewAnyWithValue(msgResp)
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

// TxResult answers as chain.Client does: nil when the index does not know
// the transaction.
func (c *fakeChain) TxResult(_ context.Context, hash []byte) (*coretypes.ResultTx, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.txCalls++
	if c.txIndexErr != nil {
		return nil, c.txIndexErr
	}
	if res, ok := c.included[strings.ToUpper(hex.EncodeToString(hash))]; ok && !c.txIndexLags {
		return res, nil
	}
	return nil, nil
}

func (c *fakeChain) Block(_ context.Context, height int64) (*coretypes.ResultBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blockCalls++
	if height > c.height {
		return nil, fmt.Errorf("height %d must be less than or equal to the current blockchain height %d", height, c.height)
	}
	return &coretypes.ResultBlock{Block: &cmttypes.Block{Header: cmttypes.Header{Height: height}, Data: cmttypes.Data{Txs: c.blocks[height]}}}, nil
}

func (c *fakeChain) BlockResults(_ context.Context, height int64) (*coretypes.ResultBlockResults, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resultsCalls++
	if height > c.height {
		return nil, fmt.Errorf("height %d must be less than or equal to the current blockchain height %d", height, c.height)
	}
	return &coretypes.ResultBlockResults{Height: height, TxsResults: c.results[height]}, nil
}

func (c *fakeChain) Params(context.Context) (types.Params, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paramsCalls++
	return c.params, nil
}

func (c *fakeChain) ConsensusLimits(context.Context) (int64, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxBytes, c.maxGas, nil
}

func (c *fakeChain) broadcasts() []sentTx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentTx(nil), c.broadcast...)
}

// reads returns the calls made to the chain for confirmations: /tx, the
// latest height, blocks and block results.
func (c *fakeChain) reads() [4]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return [4]int{c.txCalls, c.latestCalls, c.blockCalls, c.resultsCalls}
}

func (c *fakeChain) accounts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accountCalls
}

// nopMetrics gives the fakes below the Metrics methods they do not count.
type nopMetrics struct{}

func (nopMetrics) VotesDropped(string, int) {}
func (nopMetrics) TxRefused(string)         {}
func (nopMetrics) Queue(int, time.Time)     {}
func (nopMetrics) TxsInFlight(int)          {}
func (nopMetrics) SubmitterBlocked(string)  {}
func (nopMetrics) VotesSent(int)            {}
func (nopMetrics) CommitsSent(int)          {}
func (nopMetrics) RevealsSent(int)          {}
func (nopMetrics) VotesIncluded(int)        {}
func (nopMetrics) VotesRejected(int)        {}

// countMetrics counts what it is told.
type countMetrics struct {
	mu                       sync.Mutex
	sent, included, rejected int
	commits, reveals         int
	dropped                  map[string]int
	refused                  map[string]int
	blocked                  []string // every SubmitterBlocked report
	inFlight                 []int    // every TxsInFlight report
	depth                    int      // the last Queue depth
	depths                   int      // Queue reports
}

func (m *countMetrics) VotesSent(n int)     { m.mu.Lock(); m.sent += n; m.mu.Unlock() }
func (m *countMetrics) CommitsSent(n int)   { m.mu.Lock(); m.commits += n; m.mu.Unlock() }
func (m *countMetrics) RevealsSent(n int)   { m.mu.Lock(); m.reveals += n; m.mu.Unlock() }
func (m *countMetrics) VotesIncluded(n int) { m.mu.Lock(); m.included += n; m.mu.Unlock() }
func (m *countMetrics) VotesRejected(n int) { m.mu.Lock(); m.rejected += n; m.mu.Unlock() }
func (m *countMetrics) VotesDropped(reason string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dropped == nil {
		m.dropped = map[string]int{}
	}
	m.dropped[reason] += n
}

func (m *countMetrics) TxRefused(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refused == nil {
		m.refused = map[string]int{}
	}
	m.refused[reason]++
}

func (m *countMetrics) Queue(depth int, _ time.Time) {
	m.mu.Lock()
	m.depth, m.depths = depth, m.depths+1
	m.mu.Unlock()
}

func (m *countMetrics) TxsInFlight(n int) {
	m.mu.Lock()
	m.inFlight = append(m.inFlight, n)
	m.mu.Unlock()
}
func (m *countMetrics) SubmitterBlocked(reason string) {
	m.mu.Lock()
	m.blocked = append(m.blocked, reason)
	m.mu.Unlock()
}

type fixture struct {
	enc   chain.Encoding
	kr    keyring.Keyring
	chain *fakeChain
	store *store.Store
	sub   *Submitter
}

func newFixture(t *testing.T, st *store.Store, opts ...Option) *fixture {
	t.Helper()
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	chain.RegisterVoteKeyInterfaces(enc.Registry)
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
	// Retries after a refusal come at once: the tests count them.
	sub.backoffMin, sub.backoffMax = time.Millisecond, 20*time.Millisecond
	return &fixture{enc: enc, kr: kr, chain: fc, store: st, sub: sub}
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

// flush does what Start does, on the test's goroutine: send what is queued
// and settle the transactions in flight, until nothing is left.
func (f *fixture) flush(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for range 100 {
		for f.sub.sendBatch(ctx) {
		}
		f.sub.settle(ctx)
		if len(f.sub.flights) == 0 && f.queueLen() == 0 {
			return
		}
		time.Sleep(time.Until(f.sub.retry.at)) // a backoff after a refusal
	}
	t.Fatalf("not flushed: %d in flight, %d queued", len(f.sub.flights), f.queueLen())
}

func (f *fixture) queueLen() int {
	f.sub.mu.Lock()
	defer f.sub.mu.Unlock()
	return len(f.sub.queue)
}

// lateStore counts the store calls made after closed is set.
type lateStore struct {
	Store
	closed atomic.Bool
	late   atomic.Int32
}

func (s *lateStore) touch() {
	if s.closed.Load() {
		s.late.Add(1)
	}
}

func (s *lateStore) Submitted(k string) (bool, error) { s.touch(); return s.Store.Submitted(k) }
func (s *lateStore) SetPendingBatch(p map[string]store.Pending) error {
	s.touch()
	return s.Store.SetPendingBatch(p)
}

func (s *lateStore) ClearPendingBatch(k []string) error {
	s.touch()
	return s.Store.ClearPendingBatch(k)
}

func (s *lateStore) MarkSubmittedBatch(k []string, h string) error {
	s.touch()
	return s.Store.MarkSubmittedBatch(k, h)
}

func (s *lateStore) PendingVotes() (map[string]store.Pending, error) {
	s.touch()
	return s.Store.PendingVotes()
}

// rejectMetrics closes rejected at the first refused vote.
type rejectMetrics struct {
	nopMetrics
	once     sync.Once
	rejected chan struct{}
}

func (*rejectMetrics) VotesSent(int)     {}
func (*rejectMetrics) VotesIncluded(int) {}
func (m *rejectMetrics) VotesRejected(n int) {
	if n > 0 {
		m.once.Do(func() { close(m.rejected) })
	}
}

// An event vote refused by the per-block cap waits to be sent again; when
// Start returns first, nothing touches the store afterwards (run() closes it
// right then). synctest's clock: the sleep moves past the retry delay at once.
func TestNothingRunsAfterStartReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &rejectMetrics{rejected: make(chan struct{})}
		f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
		st := &lateStore{Store: f.store}
		f.sub.store = st
		f.chain.outcome = func(r types.TaskResult) *types.ResultOutcome {
			return &types.ResultOutcome{Codespace: types.ModuleName, Code: types.ErrAutoTaskLimit.ABCICode(), Error: "cap"}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.sub.Start(ctx) }()
		ref := types.EventRef{ServiceId: 3, Height: 17, TxHash: "AB12", EventIndex: 2, Input: []byte("in")}
		require.NoError(t, f.sub.Enqueue(Vote{Event: &ref, Result: []byte("c")}))
		<-m.rejected // refused by the cap: set aside to be sent again

		cancel()
		require.NoError(t, <-done)
		st.closed.Store(true)
		time.Sleep(10 * time.Second)
		require.Zero(t, st.late.Load(), "the store was used after Start returned")
		require.Len(t, f.chain.broadcasts(), 1)
	})
}
