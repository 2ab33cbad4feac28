package keeper_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// fuzzMaxVotes is max_votes_per_tx in the fuzz world, small so that the
// decoder reaches the limit.
const fuzzMaxVotes = 8

// fuzzReader hands out the fuzz input a byte at a time, zeros once spent.
type fuzzReader struct{ data []byte }

func (r *fuzzReader) next() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fuzzReader) take(n int) []byte {
	n = min(n, len(r.data))
	out := bytes.Clone(r.data[:n])
	r.data = r.data[n:]
	return out
}

// fuzzWorld is a chain with an EXACT service (4 operators, threshold 0.6) and
// a MEDIAN one (3 operators, threshold 0.5, spread 1%), a few paid tasks with
// two deadlines, and signers of every kind.
type fuzzWorld struct {
	s         *KeeperTestSuite
	exact     uint64
	median    uint64
	event     uint64 // EXACT with an event trigger, paid from its treasury
	signers   []string
	totalBank sdkmath.Int
	accepted  map[string]bool // "task/operator" of every accepted vote
}

func newFuzzWorld(t *testing.T) *fuzzWorld {
	s := new(KeeperTestSuite)
	s.SetT(t)
	s.SetupTest()
	p, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	p.MaxVotesPerTx = fuzzMaxVotes
	s.Require().NoError(s.keeper.Params.Set(s.ctx, p))

	m := defaultManifest("")
	m.Quorum.Threshold = dec("0.6")
	exact, ops := s.setupService(m, 4)
	median := s.createService(medianManifest("", "0.6", "0.01"))
	for _, op := range ops[:3] {
		s.optIn(op, median)
	}
	em := defaultManifest("")
	em.Quorum.Threshold = dec("0.6")
	em.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	event := s.createService(em)
	for _, op := range ops[:3] {
		s.optIn(op, event)
	}
	funder := s.fund("funder", 5*defaultFee)
	_, err = s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: funder, ServiceId: event, Amount: stake(5 * defaultFee)})
	s.Require().NoError(err)
	op5 := s.registerOperator("op5") // registered, opted in nowhere
	w := &fuzzWorld{s: s, exact: exact, median: median, event: event, accepted: map[string]bool{}}
	w.payTask(exact, 100)
	w.payTask(exact, 137)
	w.payTask(median, 100)
	w.payTask(median, 101)
	s.ctx = s.ctx.WithBlockHeight(40)
	w.payTask(exact, 100)
	w.payTask(median, 100)
	// op6 opts in after the snapshot: it is in no task's snapshot of this epoch.
	op6 := s.registerOperator("op6")
	s.optIn(op6, exact)
	s.optIn(op6, median)
	w.signers = append(append([]string(nil), ops...), op5, op6, addr("nobody"), "op1")
	w.totalBank = s.bank.Total(denom).Amount
	return w
}

// payTask opens a task on the service paying fee.
func (w *fuzzWorld) payTask(service uint64, fee int64) {
	_, err := w.s.msgServer.CreateTask(w.s.ctx, &types.MsgCreateTask{
		Creator: w.s.creator(), ServiceId: service, Input: []byte("input"), Fee: sdk.NewInt64Coin(denom, fee),
	})
	w.s.Require().NoError(err)
}

func (w *fuzzWorld) lastTaskID() uint64 {
	next, err := w.s.keeper.TaskSeq.Peek(w.s.ctx)
	w.s.Require().NoError(err)
	return next - 1
}

// advance runs EndBlock and moves to the next height, n times.
func (w *fuzzWorld) advance(n int) {
	for range n {
		w.s.Require().NoError(w.s.keeper.EndBlocker(w.s.ctx))
		w.s.ctx = w.s.ctx.WithBlockHeight(w.s.ctx.BlockHeight() + 1)
	}
}

// eventRef decodes an event reference: the event service (or, one time in
// eight, the EXACT one, which has no event trigger), a past, present or
// future height, one of four event indexes, one of two inputs.
func (w *fuzzWorld) eventRef(b byte, r *fuzzReader) *types.EventRef {
	svc := w.event
	if b&0x08 != 0 && b&0x04 != 0 && b&0x02 != 0 {
		svc = w.exact
	}
	c := r.next()
	input := []byte(`{"pair":"ATOM/USD"}`)
	if c&0x10 != 0 {
		input = []byte(`{"pair":"OSMO/USD"}`)
	}
	return &types.EventRef{
		ServiceId:  svc,
		Height:     w.s.ctx.BlockHeight() - int64(c&0x03) + int64(b&0x01), // b odd and c&3 == 0: this block, not a past one
		TxHash:     strings.Repeat("AB", 32),
		EventIndex: uint32(c>>2) & 0x03,
		Input:      input,
	}
}

// result decodes one vote's result bytes.
func (w *fuzzWorld) result(r *fuzzReader) []byte {
	switch k := r.next() % 13; k {
	case 0:
		return []byte("A")
	case 1:
		return []byte("B")
	case 2:
		return []byte("100")
	case 3:
		return []byte("100.5")
	case 4:
		return []byte(" 99.5\n")
	case 5:
		return []byte("-100")
	case 6:
		return nil
	case 7: // one byte over max_result_size
		return bytes.Repeat([]byte{'7'}, int(types.DefaultMaxResultSize)+1)
	case 8: // the largest magnitudes a LegacyDec parses
		return []byte(strings.Repeat("9", 77))
	case 9:
		return []byte("-" + strings.Repeat("9", 77))
	case 10: // 1 followed by up to 255 zeros, possibly signed
		sign := ""
		if n := r.next(); n&1 == 1 {
			sign = "-"
		}
		return []byte(sign + "1" + strings.Repeat("0", int(r.next())))
	case 11: // a small decimal from the input
		return []byte(fmt.Sprintf("%d.%02d", int8(r.next()), r.next()%100))
	default: // raw bytes from the input
		return r.take(int(r.next() % 40))
	}
}

// step decodes and delivers one MsgSubmitResults (after, sometimes, blocks
// passing or a new task), then checks the invariants.
func (w *fuzzWorld) step(r *fuzzReader) {
	s := w.s
	h := r.next()
	switch a := r.next(); {
	case a >= 0xC0:
		w.advance(int(a & 0x3f))
	case a >= 0xB0:
		svc := w.exact
		if a&1 == 1 {
			svc = w.median
		}
		w.payTask(svc, 100+int64(a&0x0e))
	}
	msg := &types.MsgSubmitResults{Operator: w.signers[int(h)%len(w.signers)]}
	last := w.lastTaskID()
	for n := int(r.next() % (fuzzMaxVotes + 3)); n > 0; n-- {
		b := r.next()
		if b >= 0xF0 { // a vote on an event the trigger matched, by its reference
			msg.Results = append(msg.Results, types.TaskResult{Event: w.eventRef(b, r), Result: w.result(r)})
			continue
		}
		id := uint64(b) % (last + 3) // 0 and ids past the last are unknown
		msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Result: w.result(r)})
	}

	before := s.state()
	res, err := s.msgServer.SubmitResults(s.ctx, msg)
	if err != nil {
		if codespace, _, _ := errorsmod.ABCIInfo(err, false); codespace != types.ModuleName {
			s.T().Fatalf("message refused with a non-avs error: %v", err)
		}
		s.Require().Nil(res)
		s.requireUnchanged(before)
	} else {
		s.Require().Len(res.Outcomes, len(msg.Results), "one outcome per entry")
		for i, o := range res.Outcomes {
			if msg.Results[i].Event == nil {
				s.Require().Equal(msg.Results[i].TaskId, o.TaskId, "outcome %d out of order", i)
			} else if o.Accepted {
				s.Require().NotZero(o.TaskId, "an accepted event vote names the task it opened or joined")
			}
			if !o.Accepted {
				s.Require().Equal(types.ModuleName, o.Codespace, "entry %d refused with %s", i, o.Error)
				s.Require().NotZero(o.Code)
				continue
			}
			key := fmt.Sprintf("%d/%s", o.TaskId, msg.Operator)
			s.Require().False(w.accepted[key], "second vote accepted: %s", key)
			w.accepted[key] = true
			has, err := s.keeper.Votes.Has(s.ctx, collections.Join(o.TaskId, msg.Operator))
			s.Require().NoError(err)
			s.Require().True(has, "accepted vote %s not stored", key)
		}
	}
	w.checkInvariants()
}

func (w *fuzzWorld) checkInvariants() {
	s := w.s
	s.Require().Equal(w.totalBank.String(), s.bank.Total(denom).Amount.String(), "fee denom supply changed")

	escrow := sdkmath.ZeroInt()
	s.Require().NoError(s.keeper.Tasks.Walk(s.ctx, nil, func(id uint64, t types.Task) (bool, error) {
		unpaid, err := s.keeper.UnpaidTasks.Has(s.ctx, id)
		s.Require().NoError(err)
		if unpaid { // decided in this block: paid at its end
			s.Require().Contains([]types.TaskStatus{types.TASK_STATUS_COMPLETED, types.TASK_STATUS_FAILED}, t.Status)
			escrow = escrow.Add(t.Fee.Amount)
		}
		switch t.Status {
		case types.TASK_STATUS_PENDING:
			escrow = escrow.Add(t.Fee.Amount)
		case types.TASK_STATUS_COMPLETED:
			svc, err := s.keeper.Services.Get(s.ctx, t.ServiceId)
			s.Require().NoError(err)
			need := svc.Manifest.Quorum.Threshold.MulInt64(int64(t.PowerTotal))
			s.Require().True(sdkmath.LegacyNewDec(int64(t.PowerFor)).GTE(need),
				"task %d completed with %d of %d power", id, t.PowerFor, t.PowerTotal)
			s.Require().LessOrEqual(t.PowerFor, t.PowerTotal)
		}
		// votes are keyed by (task, operator): check the key matches the record
		return false, s.keeper.Votes.Walk(s.ctx, collections.NewPrefixedPairRange[uint64, string](id),
			func(k collections.Pair[uint64, string], v types.Vote) (bool, error) {
				// stored compact: what the key says is not repeated
				s.Require().Zero(v.TaskId)
				s.Require().Empty(v.Operator)
				s.Require().Empty(v.Digest)
				v = keeper.RestoreVote(k.K1(), k.K2(), v)
				s.Require().True(w.accepted[fmt.Sprintf("%d/%s", id, v.Operator)], "vote without an accepted entry")
				return false, nil
			})
	}))
	// a paid fee stays in the module account, credited: the operators'
	// commissions and the pools' outstanding rewards
	credited := sdkmath.ZeroInt()
	s.Require().NoError(s.keeper.OperatorRewards.Walk(s.ctx, nil, func(_ string, r sdkmath.Int) (bool, error) {
		credited = credited.Add(r)
		return false, nil
	}))
	s.Require().NoError(s.keeper.Pools.Walk(s.ctx, nil, func(_ collections.Pair[string, uint64], p types.Pool) (bool, error) {
		s.Require().True(p.Total.IsZero(), "the fuzz world commits no stake")
		credited = credited.Add(p.Outstanding)
		return false, nil
	}))
	// and the event service's treasury, which pays its tasks
	s.Require().NoError(s.keeper.Treasuries.Walk(s.ctx, nil, func(_ uint64, t sdkmath.Int) (bool, error) {
		credited = credited.Add(t)
		return false, nil
	}))
	s.Require().Equal(escrow.Add(credited).String(), s.moduleBalance().String(),
		"the module account is not the pending and unpaid fees (%s) plus the credited rewards and treasuries (%s)", escrow, credited)
	s.Require().NoError(s.keeper.CheckModuleBalance(s.ctx))
}

// fuzzStep encodes one step for the seed corpus: signer, action, entries.
func fuzzStep(signer, action byte, entries ...[]byte) []byte {
	out := []byte{signer, action, byte(len(entries))}
	for _, e := range entries {
		out = append(out, e...)
	}
	return out
}

func fuzzSeed(steps ...[]byte) []byte { return bytes.Join(steps, nil) }

// FuzzSubmitResults delivers a few MsgSubmitResults decoded from the input —
// any signer, up to max_votes_per_tx+2 entries on known and unknown tasks,
// results of every shape, blocks passing — and checks after each that: the
// response has one outcome per entry, in order; every refusal is an avs
// error and a refused message changes nothing; the fee denom's supply is
// constant; the module account holds the fees of PENDING and unpaid decided
// tasks plus the rewards credited from paid ones; a COMPLETED task had its
// quorum; no operator has two accepted votes on a task.
func FuzzSubmitResults(f *testing.F) {
	// Tasks 1, 2, 5 are EXACT (4 operators, 3 votes complete), 3, 4, 6 MEDIAN
	// (3 operators, 2 votes within 1% complete). Signers: 0-3 op1-op4, 4 op5
	// (opted in nowhere), 5 op6 (outside the snapshots), 6 unregistered, 7
	// not an address. Results: 0 "A", 1 "B", 2 "100", 3 "100.5", 5 "-100",
	// 6 empty, 7 oversized, 8 and 9 ±(10^77-1), 10 ±10^k.
	e := func(id, kind byte, extra ...byte) []byte { return append([]byte{id, kind}, extra...) }
	f.Add(fuzzSeed(fuzzStep(0, 0, e(1, 0))))
	f.Add(fuzzSeed(fuzzStep(0, 0, e(1, 0), e(2, 1)), fuzzStep(1, 0, e(1, 0), e(2, 0)),
		fuzzStep(2, 0, e(1, 0), e(2, 0)), fuzzStep(3, 0, e(1, 0), e(2, 0), e(1, 1)))) // task 1 completes, a late vote, a duplicate
	f.Add(fuzzSeed(fuzzStep(0, 0, e(3, 2), e(4, 3), e(6, 4)), fuzzStep(1, 0, e(3, 3), e(4, 5), e(6, 2)),
		fuzzStep(2, 0, e(3, 6), e(4, 2), e(6, 11, 3, 7)))) // MEDIAN: 3 and 6 complete, bad numbers refused
	f.Add(fuzzSeed(fuzzStep(0, 0, e(3, 9)), fuzzStep(1, 0, e(3, 8)))) // opposite extreme MEDIAN votes
	f.Add(fuzzSeed(fuzzStep(0, 0, e(3, 10, 1, 59)), fuzzStep(1, 0, e(3, 10, 0, 59)), fuzzStep(2, 0, e(3, 10, 0, 60))))
	f.Add(fuzzSeed(fuzzStep(4, 0, e(1, 0)), fuzzStep(5, 0, e(1, 0)), fuzzStep(6, 0, e(1, 0)), fuzzStep(7, 0, e(1, 0))))
	f.Add(fuzzSeed(fuzzStep(0, 0, e(1, 0), e(1, 0), e(1, 0), e(1, 0), e(1, 0), e(1, 0), e(1, 0), e(1, 0), e(1, 0)))) // too many
	f.Add(fuzzSeed(fuzzStep(0, 0, e(1, 0)), fuzzStep(1, 0xc0|25, e(1, 0), e(5, 0)), fuzzStep(2, 0, e(5, 0))))        // task 1 expired, task 5 still open
	f.Add(fuzzSeed(fuzzStep(0, 0xb1, e(7, 2), e(0, 0), e(9, 0), e(2, 7), e(2, 12, 5, 'h', 'e', 'l', 'l', 'o'))))
	// event votes: op1 opens a task by reference, op2 joins it (quorum), op3
	// votes late; a reference to the EXACT service (no event trigger) and
	// one from a future block are refused
	f.Add(fuzzSeed(fuzzStep(0, 0, []byte{0xF0, 0x01, 0}), fuzzStep(1, 0, []byte{0xF0, 0x01, 0}),
		fuzzStep(2, 0, []byte{0xF0, 0x01, 0}, []byte{0xFE, 0x01, 0}, []byte{0xF1, 0x00, 0})))
	// task 1 completes, then a block ends: its fee is paid, credited to its
	// backers (found by the fuzzer: the escrow check had missed the credit)
	f.Add(fuzzSeed(fuzzStep(0, 0, e(1, 0)), fuzzStep(1, 0, e(1, 0)), fuzzStep(2, 0, e(1, 0)), fuzzStep(3, 0xc1, e(1, 0))))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 512 {
			return
		}
		w := newFuzzWorld(t)
		r := &fuzzReader{data: data}
		for i := 0; i < 8 && len(r.data) > 0; i++ {
			w.step(r)
		}
	})
}

// Found by FuzzSubmitResults: two MEDIAN votes of opposite sign near the
// LegacyDec limit (2^256) made WithinSpread's subtraction overflow and panic,
// so one operator voting -(10^77-1) first froze the task for every honest
// voter (and failed their whole batch). Such magnitudes are now refused.
func (s *KeeperTestSuite) TestSubmitResultsMedianMagnitudeBound() {
	id, ops := s.setupService(medianManifest("", "0.6", "0.01"), 3)
	tid := s.createTask(id)
	huge := strings.Repeat("9", 77)
	for _, bad := range []string{"-" + huge, huge, "1" + strings.Repeat("0", 60), "-1" + strings.Repeat("0", 60)} {
		s.Require().ErrorIs(outcomeErr(s.vote(ops[0], tid, bad)), types.ErrInvalidResult, bad)
	}
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], tid, "-"+strings.Repeat("9", 60)))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[1], tid, strings.Repeat("9", 60)))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, strings.Repeat("9", 60)+".5"))
}
