package keeper_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

const (
	propertySeed      = 0x5eed_a75
	propertySequences = 200
	propertySteps     = 30
	// propertyFresh sequences more run from seeds drawn anew each run (in
	// the subtest's name and the log), so that runs over time reach
	// sequences the fixed seeds never do.
	propertyFresh = 5
)

// TestStakeProperty runs random sequences of commits, uncommits, paid and
// treasury tasks, votes (some wrong, some late), blocks (deadlines, unbonding
// maturity, jailing), withdrawals, funding and unjails, and checks after every
// step that the module account holds exactly what it owes
// (CheckModuleBalance), that no token is created or destroyed (burned ones
// stay at the burn address), that no amount is negative, that every pool's
// total is the sum of its commitments and that its outstanding rewards cover
// what its committers may withdraw. Rerun one sequence with
// AVS_PROPERTY_SEED=<seed>. Besides the fixed seeds, propertyFresh new ones
// run each time, printed.
func TestStakeProperty(t *testing.T) {
	seeds := make([]uint64, propertySequences)
	for i := range seeds {
		seeds[i] = propertySeed + uint64(i)
	}
	for range propertyFresh {
		seed := rand.Uint64()
		t.Logf("fresh seed %d: rerun it alone with AVS_PROPERTY_SEED=%d", seed, seed)
		seeds = append(seeds, seed)
	}
	if env := os.Getenv("AVS_PROPERTY_SEED"); env != "" {
		seed, err := strconv.ParseUint(env, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{seed}
	}
	eventTasks := map[types.TaskStatus]int{} // how far event-opened tasks got, over all seeds
	done := map[string]int{}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			w := newPropertyWorld(t, seed)
			for step := range propertySteps {
				desc := w.step()
				if !w.check() {
					t.Fatalf("seed %d (AVS_PROPERTY_SEED=%d): invariant broken after step %d: %s\nsteps:\n%s", seed, seed, step, desc, w.log())
				}
			}
			w.drain()
			if !w.check() {
				t.Fatalf("seed %d (AVS_PROPERTY_SEED=%d): invariant broken after the drain\nsteps:\n%s", seed, seed, w.log())
			}
			for k, n := range w.done {
				done[k] += n
			}
			for _, id := range w.tasks {
				if task := w.s.task(id); task.ServiceId == w.event {
					eventTasks[task.Status]++
				}
			}
		})
	}
	if len(seeds) > 1 {
		// the generator reaches the event path: tasks opened by reference
		// that completed, and some that expired
		t.Logf("event-opened tasks by final status: %v", eventTasks)
		require.Positive(t, eventTasks[types.TASK_STATUS_COMPLETED])
		require.Positive(t, eventTasks[types.TASK_STATUS_EXPIRED])
		// and pauses, resumes and epoch length changes went through
		t.Logf("actions done: %v", done)
		for _, k := range []string{"SERVICE_STATUS_PAUSED", "SERVICE_STATUS_ACTIVE", "params"} {
			require.Positive(t, done[k], k)
		}
	}
}

type propertyWorld struct {
	t        *testing.T
	s        *KeeperTestSuite
	rng      *rand.Rand
	services []uint64 // EXACT EQUAL slashing 0.2; MEDIAN STAKE slashing 0.1
	event    uint64   // EXACT EQUAL slashing 0.2, opened by event votes, paid by its treasury
	ops      []string
	accounts []string // committers, funders and task creators
	tasks    []uint64
	total    sdkmath.Int
	steps    []string
	done     map[string]int // actions that went through, by kind
}

func newPropertyWorld(t *testing.T, seed uint64) *propertyWorld {
	s := new(KeeperTestSuite)
	s.SetT(t)
	s.SetupTest()
	s.startClock()
	s.setParams(func(p *types.Params) {
		p.EpochLength = 10
		p.LivenessWindow, p.JailThreshold = 5, 3
		p.UnbondingTime = 20 * time.Second
		p.JailCooldown = 15 * time.Second
	})
	w := &propertyWorld{t: t, s: s, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), done: map[string]int{}}

	exact := defaultManifest("")
	exact.TaskTimeout = 4
	exact.SlashFraction = dec("0.2")
	median := medianManifest("", "0.6", "0.01")
	median.Quorum.Weighting = types.WEIGHTING_STAKE
	median.Aggregation.SlashableSpread = dec("0.05")
	median.TaskTimeout = 6
	median.SlashFraction = dec("0.1")
	median.FeePerTask = stake(37)
	w.services = []uint64{s.createService(exact), s.createService(median)}
	event := exact
	event.Quorum.Threshold = dec("0.6")
	event.Triggers = []types.Trigger{eventTrigger("wasm-price_request")}
	w.event = s.createService(event)

	for i, c := range []string{"0", "0.1", "0.5", "1"} {
		op := s.registerWithCommission(fmt.Sprintf("pop%d", i), c)
		s.bank.Fund(accFromString(op), sdk.NewCoins(stake(5_000)))
		for _, id := range append([]uint64{w.event}, w.services...) {
			s.optIn(op, id)
		}
		w.ops = append(w.ops, op)
	}
	for i := range 4 {
		w.accounts = append(w.accounts, s.fund(fmt.Sprintf("acct%d", i), 20_000))
	}
	_, err := s.msgServer.FundService(s.ctx, &types.MsgFundService{Funder: w.accounts[3], ServiceId: w.event, Amount: stake(3_000)})
	s.Require().NoError(err)
	// some stake behind every operator in the STAKE service to start with
	for i, op := range w.ops {
		s.commit(w.accounts[i], op, w.services[1], int64(50+100*i))
	}
	w.total = s.bank.Total(denom).Amount
	w.s.Require().True(w.check())
	return w
}

func (w *propertyWorld) pick(n int) int { return w.rng.IntN(n) }

func (w *propertyWorld) anyone() string {
	all := append(append([]string(nil), w.accounts...), w.ops...)
	return all[w.pick(len(all))]
}

func (w *propertyWorld) amount() sdk.Coin {
	switch w.pick(12) {
	case 0:
		return stake(0)
	case 1:
		return stake(1_000_000) // more than anyone holds
	default:
		return stake(int64(1 + w.pick(700)))
	}
}

// run applies one message atomically, as a transaction would: on error the
// store and the bank are left as they were.
func (w *propertyWorld) run(f func(ctx sdk.Context) error) error {
	bank := make(map[string]sdk.Coins, len(w.s.bank.Balances))
	for k, v := range w.s.bank.Balances {
		bank[k] = v
	}
	cache, write := w.s.ctx.CacheContext()
	if err := f(cache); err != nil {
		w.s.bank.Balances = bank
		return err
	}
	write()
	return nil
}

func (w *propertyWorld) step() string {
	s := w.s
	var desc string
	var err error
	switch k := w.pick(100); {
	case k < 14: // commit
		msg := &types.MsgCommit{Committer: w.anyone(), Operator: w.ops[w.pick(len(w.ops))], ServiceId: w.services[w.pick(2)], Amount: w.amount()}
		desc = fmt.Sprintf("commit %s to op%d svc %d", msg.Amount, w.opIndex(msg.Operator), msg.ServiceId)
		err = w.run(func(ctx sdk.Context) error { _, err := s.msgServer.Commit(ctx, msg); return err })
	case k < 24: // uncommit
		msg := &types.MsgUncommit{Committer: w.anyone(), Operator: w.ops[w.pick(len(w.ops))], ServiceId: w.services[w.pick(2)], Amount: w.amount()}
		if list := w.commitments(); len(list) > 0 && w.pick(4) != 0 {
			// mostly an existing commitment: all of it, part, or one too many
			c := list[w.pick(len(list))]
			msg.Committer, msg.Operator, msg.ServiceId = c.Committer, c.Operator, c.ServiceId
			msg.Amount = sdk.NewCoin(denom, w.value(c).QuoRaw(int64(1+w.pick(3))).AddRaw(int64(w.pick(3))))
		}
		desc = fmt.Sprintf("uncommit %s from op%d svc %d", msg.Amount, w.opIndex(msg.Operator), msg.ServiceId)
		err = w.run(func(ctx sdk.Context) error { _, err := s.msgServer.Uncommit(ctx, msg); return err })
	case k < 36: // paid task
		id := w.services[w.pick(2)]
		fee := s.serviceOf(id).Manifest.FeePerTask.AddAmount(sdkmath.NewInt(int64(w.pick(60))))
		msg := &types.MsgCreateTask{Creator: w.accounts[w.pick(len(w.accounts))], ServiceId: id, Input: []byte("in"), Fee: fee}
		desc = fmt.Sprintf("task on svc %d paying %s", id, fee)
		err = w.run(func(ctx sdk.Context) error {
			res, err := s.msgServer.CreateTask(ctx, msg)
			if err == nil {
				w.tasks = append(w.tasks, res.TaskId)
			}
			return err
		})
	case k < 42: // treasury task
		id := w.services[w.pick(2)]
		desc = fmt.Sprintf("treasury task on svc %d", id)
		err = w.run(func(ctx sdk.Context) error {
			task, ok, err := s.keeper.CreateTaskFromTreasury(ctx, id, []byte("in"), trigger)
			if ok {
				w.tasks = append(w.tasks, task.Id)
			} else if err == nil {
				desc += " (skipped)"
			}
			return err
		})
	case k < 66: // vote on a task by its id
		if len(w.tasks) == 0 {
			return "vote: no task"
		}
		// mostly a task still open to votes; every operator votes, in a
		// random order, with a probability
		tid := w.tasks[w.pick(len(w.tasks))]
		if open := w.openTasks(); len(open) > 0 && w.pick(5) != 0 {
			tid = open[w.pick(len(open))]
		}
		task := s.task(tid)
		desc = fmt.Sprintf("task %d (%s):", tid, task.Status)
		if !w.voteRound(&desc, task.ServiceId, types.TaskResult{TaskId: tid}) {
			return desc
		}
		desc += fmt.Sprintf(" => %s", s.task(tid).Status)
	case k < 72: // votes on an event the trigger matched, by its reference
		ref := &types.EventRef{
			ServiceId: w.event, Height: s.ctx.BlockHeight() - int64(w.pick(3)),
			TxHash: strings.Repeat("AB", 32), EventIndex: uint32(w.pick(3)), Input: []byte(`{"pair":"ATOM/USD"}`),
		}
		desc = fmt.Sprintf("event h%d #%d:", ref.Height, ref.EventIndex)
		if !w.voteRound(&desc, w.event, types.TaskResult{Event: ref}) {
			return desc
		}
	case k < 84: // blocks
		n := 1 + w.pick(4)
		desc = fmt.Sprintf("%d blocks", n)
		for range n {
			s.Require().NoError(s.keeper.EndBlocker(s.ctx))
			s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1).WithBlockTime(s.ctx.BlockTime().Add(time.Duration(1+w.pick(5)) * time.Second))
		}
	case k < 92: // withdraw
		who := w.anyone()
		desc = "withdraw"
		err = w.run(func(ctx sdk.Context) error {
			res, err := s.msgServer.WithdrawRewards(ctx, &types.MsgWithdrawRewards{Committer: who})
			if err == nil {
				desc += " " + res.Amount.String()
			}
			return err
		})
	case k < 95: // fund
		msg := &types.MsgFundService{Funder: w.accounts[w.pick(len(w.accounts))], ServiceId: w.services[w.pick(2)], Amount: w.amount()}
		desc = fmt.Sprintf("fund svc %d with %s", msg.ServiceId, msg.Amount)
		err = w.run(func(ctx sdk.Context) error { _, err := s.msgServer.FundService(ctx, msg); return err })
	case k < 97: // the owner pauses or resumes a service: open tasks run on, new ones are refused
		id := w.services[w.pick(2)]
		status := types.SERVICE_STATUS_PAUSED
		if s.serviceOf(id).Status == types.SERVICE_STATUS_PAUSED {
			status = types.SERVICE_STATUS_ACTIVE
		}
		desc = fmt.Sprintf("svc %d -> %s", id, status)
		err = w.run(func(ctx sdk.Context) error {
			_, err := s.msgServer.SetServiceStatus(ctx, &types.MsgSetServiceStatus{Owner: addr("owner"), ServiceId: id, Status: status})
			return err
		})
		if err == nil {
			w.done[status.String()]++
		}
	case k < 98: // governance changes the epoch length (EpochBase moves)
		msg := &types.MsgUpdateParams{Authority: s.keeper.GetAuthority(), Params: s.params()}
		msg.Params.EpochLength = []uint64{7, 10, 13}[w.pick(3)]
		desc = fmt.Sprintf("params: epoch_length %d", msg.Params.EpochLength)
		err = w.run(func(ctx sdk.Context) error { _, err := s.msgServer.UpdateParams(ctx, msg); return err })
		if err == nil {
			w.done["params"]++
		}
	default: // unjail
		op := w.ops[w.pick(len(w.ops))]
		svc := w.services[w.pick(2)]
		desc = fmt.Sprintf("unjail op%d in svc %d", w.opIndex(op), svc)
		err = w.run(func(ctx sdk.Context) error {
			_, err := s.msgServer.Unjail(ctx, &types.MsgUnjail{Operator: op, ServiceId: svc})
			return err
		})
	}
	if err != nil {
		desc += " -> " + err.Error()
	}
	w.steps = append(w.steps, fmt.Sprintf("h%d %s", s.ctx.BlockHeight(), desc))
	return desc
}

// voteRound has every operator, in a random order and each with a
// probability, send one vote: entry with a result for the service. A task
// an event vote opened joins w.tasks. It reports false, with desc told
// what happened, as soon as an invariant breaks.
func (w *propertyWorld) voteRound(desc *string, serviceID uint64, entry types.TaskResult) bool {
	for _, i := range w.rng.Perm(len(w.ops)) {
		if w.pick(3) == 0 {
			continue
		}
		op, vote := w.ops[i], entry
		vote.Result = []byte(w.result(serviceID))
		*desc += fmt.Sprintf(" op%d %q", i, vote.Result)
		err := w.run(func(ctx sdk.Context) error {
			res, err := w.s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: op, Results: []types.TaskResult{vote}})
			switch {
			case err != nil:
			case !res.Outcomes[0].Accepted:
				*desc += " refused(" + res.Outcomes[0].Error + ")"
			case vote.Event != nil && !slices.Contains(w.tasks, res.Outcomes[0].TaskId):
				w.tasks = append(w.tasks, res.Outcomes[0].TaskId)
				*desc += fmt.Sprintf(" opened %d", res.Outcomes[0].TaskId)
			}
			return err
		})
		if err != nil {
			*desc += " -> " + err.Error()
		}
		if !w.check() {
			return false
		}
	}
	return true
}

// value is what a commitment's shares are worth.
func (w *propertyWorld) value(c types.Commitment) sdkmath.Int {
	v, err := w.s.keeper.CommitmentValue(w.s.ctx, c)
	w.s.Require().NoError(err)
	return v
}

// commitments lists every commitment holding shares.
func (w *propertyWorld) commitments() []types.Commitment {
	var out []types.Commitment
	w.s.Require().NoError(w.s.keeper.CommitmentsByPool.Walk(w.s.ctx, nil, func(_ collections.Triple[string, uint64, string], c types.Commitment) (bool, error) {
		if c.Shares.IsPositive() {
			out = append(out, c)
		}
		return false, nil
	}))
	return out
}

// openTasks lists the tasks whose deadline has not passed.
func (w *propertyWorld) openTasks() []uint64 {
	var out []uint64
	for _, id := range w.tasks {
		if w.s.task(id).DeadlineHeight >= w.s.ctx.BlockHeight() {
			out = append(out, id)
		}
	}
	return out
}

func (w *propertyWorld) result(serviceID uint64) string {
	if serviceID == w.services[0] || serviceID == w.event {
		return []string{"A", "A", "A", "B", "C"}[w.pick(5)]
	}
	return []string{"100", "100", "100.5", "99.6", "103", "130"}[w.pick(6)]
}

func (w *propertyWorld) opIndex(op string) int {
	for i, o := range w.ops {
		if o == op {
			return i
		}
	}
	return -1
}

func (w *propertyWorld) log() string {
	out := ""
	for i, st := range w.steps {
		out += fmt.Sprintf("  %2d %s\n", i, st)
	}
	return out
}

// check reports the invariants, failing the test with the reason.
func (w *propertyWorld) check() bool {
	s := w.s
	ctx := s.ctx
	fail := func(format string, args ...any) bool {
		w.t.Errorf(format, args...)
		return false
	}
	if err := s.keeper.CheckModuleBalance(ctx); err != nil {
		return fail("%s", err)
	}
	if got := s.bank.Total(denom).Amount; !got.Equal(w.total) {
		return fail("bank total %s, was %s", got, w.total)
	}
	for a, c := range s.bank.Balances {
		if c.IsAnyNegative() {
			return fail("negative balance %s at %s", c, a)
		}
	}
	// (collections.Pair holds pointers: key the maps by string)
	poolKey := func(op string, id uint64) string { return fmt.Sprintf("%s/%d", op, id) }
	sums := map[string]sdkmath.Int{}
	values := map[string]sdkmath.Int{}
	counts := map[string]int64{}
	pending := map[string]sdkmath.Int{}
	pools := map[string]types.Pool{}
	if err := s.keeper.Pools.Walk(ctx, nil, func(k collections.Pair[string, uint64], p types.Pool) (bool, error) {
		pools[poolKey(k.K1(), k.K2())] = p
		return false, nil
	}); err != nil {
		return fail("%s", err)
	}
	ok := true
	if err := s.keeper.CommitmentsByPool.Walk(ctx, nil, func(k collections.Triple[string, uint64, string], c types.Commitment) (bool, error) {
		if c.Shares.IsNegative() || c.Unclaimed.IsNegative() {
			ok = fail("negative commitment %+v", c)
		}
		pk := poolKey(k.K1(), k.K2())
		p, found := pools[pk]
		if !found {
			ok = fail("commitment %+v has no pool", c)
			return true, nil
		}
		if sums[pk].IsNil() {
			sums[pk], values[pk], pending[pk] = sdkmath.ZeroInt(), sdkmath.ZeroInt(), sdkmath.ZeroInt()
		}
		if c.Generation != p.Generation {
			ok = fail("commitment %+v of generation %d, its pool is at %d (no pool is slashed to nothing here)", c, c.Generation, p.Generation)
		}
		sums[pk] = sums[pk].Add(c.Shares)
		v, err := s.keeper.CommitmentValue(ctx, c)
		if err != nil {
			return true, err
		}
		values[pk] = values[pk].Add(v)
		counts[pk]++
		d := p.RewardIndex.Sub(c.RewardIndex)
		if d.IsNegative() {
			ok = fail("commitment %+v is ahead of its pool's index %s", c, p.RewardIndex)
		}
		owed, err := s.keeper.PendingRewards(ctx, c)
		if err != nil {
			return true, err
		}
		pending[pk] = pending[pk].Add(owed)
		return false, nil
	}); err != nil {
		return fail("%s", err)
	}
	for k, p := range pools {
		if p.Total.IsNegative() || p.Shares.IsNegative() || p.Outstanding.IsNegative() {
			ok = fail("negative pool %+v", p)
		}
		sum, value := sums[k], values[k]
		if sum.IsNil() {
			sum, value = sdkmath.ZeroInt(), sdkmath.ZeroInt()
		}
		if !p.Shares.Equal(sum) {
			ok = fail("pool %v has %s shares, its commitments %s", k, p.Shares, sum)
		}
		// Σ value == tokens but for each value's rounding down (< 1 each)
		if value.GT(p.Total) || p.Total.Sub(value).GT(sdkmath.NewInt(max(counts[k]-1, 0))) {
			ok = fail("pool %v holds %s tokens, its %d commitments are worth %s", k, p.Total, counts[k], value)
		}
		if owed := pending[k]; !owed.IsNil() && owed.GT(p.Outstanding) {
			ok = fail("pool %v owes %s in rewards and holds %s", k, owed, p.Outstanding)
		}
	}
	if err := s.keeper.Unbonding.Walk(ctx, nil, func(_ uint64, e types.UnbondingEntry) (bool, error) {
		if e.Shares.IsNegative() || e.Amount.IsNegative() {
			ok = fail("negative unbonding entry %+v", e)
		}
		return false, nil
	}); err != nil {
		return fail("%s", err)
	}
	if err := s.keeper.CheckShares(ctx); err != nil {
		ok = fail("%s", err)
	}
	if err := s.keeper.Treasuries.Walk(ctx, nil, func(id uint64, t sdkmath.Int) (bool, error) {
		if t.IsNegative() {
			ok = fail("negative treasury %s of service %d", t, id)
		}
		return false, nil
	}); err != nil {
		return fail("%s", err)
	}
	return ok
}

// drain ends every task, withdraws every reward, uncommits everything and
// lets it mature: the module account is left with the treasuries and the
// rounding dust of the pools only.
func (w *propertyWorld) drain() {
	s := w.s
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 10).WithBlockTime(s.ctx.BlockTime().Add(time.Minute))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	var list []types.Commitment
	s.Require().NoError(s.keeper.CommitmentsByPool.Walk(s.ctx, nil, func(_ collections.Triple[string, uint64, string], c types.Commitment) (bool, error) {
		list = append(list, c)
		return false, nil
	}))
	for _, c := range list {
		if !c.Shares.IsPositive() {
			continue
		}
		// the value, or one more when the shares are worth a fraction
		// more: either takes every share
		v := w.value(c).Int64()
		if _, err := s.msgServer.Uncommit(s.ctx, &types.MsgUncommit{Committer: c.Committer, Operator: c.Operator, ServiceId: c.ServiceId, Amount: stake(v + 1)}); err != nil {
			s.Require().ErrorIs(err, types.ErrInsufficientStake)
			s.uncommit(c.Committer, c.Operator, c.ServiceId, v)
		}
	}
	for _, a := range append(append([]string(nil), w.accounts...), w.ops...) {
		_, err := s.msgServer.WithdrawRewards(s.ctx, &types.MsgWithdrawRewards{Committer: a})
		if err != nil {
			s.Require().ErrorIs(err, types.ErrNoRewards)
		}
	}
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1).WithBlockTime(s.ctx.BlockTime().Add(time.Hour))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
	s.Require().Empty(keys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys), "every commitment is gone")
	s.Require().Empty(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByTime))
	b, err := s.keeper.ExpectedModuleBalance(s.ctx)
	s.Require().NoError(err)
	s.Require().True(b.Commitments.IsZero())
	s.Require().True(b.Unbonding.IsZero())
	s.Require().True(b.Escrow.IsZero())
	// dust: less than one token per reward paid into a pool, bounded loosely
	s.Require().True(b.Rewards.LTE(sdkmath.NewInt(int64(len(w.tasks)*4))), "dust %s for %d tasks", b.Rewards, len(w.tasks))
}
