package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/store/types"

	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// pruneService sets task_retention_blocks to retention and creates an EXACT
// EQUAL service (threshold 0.5, timeout 5) with 3 operators.
func (s *KeeperTestSuite) pruneService(retention uint64) (uint64, []string) {
	s.setParams(func(p *types.Params) { p.TaskRetentionBlocks = retention })
	m := defaultManifest("")
	m.TaskTimeout = 5
	return s.setupService(m, 3)
}

// votesOf and talliesOf count what x/avs keeps of a task's votes and tallies.
func (s *KeeperTestSuite) votesOf(id uint64) int {
	n := 0
	s.Require().NoError(s.keeper.Votes.Walk(s.ctx, collections.NewPrefixedPairRange[uint64, string](id),
		func(collections.Pair[uint64, string], types.Vote) (bool, error) { n++; return false, nil }))
	return n
}

func (s *KeeperTestSuite) talliesOf(id uint64) int {
	n := 0
	s.Require().NoError(s.keeper.Tallies.Walk(s.ctx, collections.NewPrefixedPairRange[uint64, string](id),
		func(collections.Pair[uint64, string], types.Tally) (bool, error) { n++; return false, nil }))
	return n
}

// L-9: nothing was ever deleted. A task settled at its deadline D is kept
// until D + task_retention_blocks, then deleted with its votes, tallies and
// index entries; the Task query says it was pruned and when, then (once the
// tombstone expired, another task_retention_blocks later) that it was pruned
// long ago; an id never issued is "not found". Another task's state is left
// alone.
func (s *KeeperTestSuite) TestL9SettledTaskPrunedAfterRetention() {
	const retention = 10
	id, ops := s.pruneService(retention)
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "A")
	s.mustVote(ops[1], tid, "B")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "A"))
	d := s.task(tid).DeadlineHeight
	s.Require().Equal(3, s.votesOf(tid))
	s.Require().Equal(2, s.talliesOf(tid))

	s.endBlockAt(d)
	s.Require().True(s.task(tid).Settled)
	s.schedulePrune(tid)
	other := s.createTask(id) // never settled here
	s.mustVote(ops[0], other, "A")

	s.Require().Empty(s.pruneAt(d+retention-1), "not before D + task_retention_blocks")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(tid).Status)
	s.Require().Equal(3, s.votesOf(tid))

	s.Require().Equal([]uint64{tid}, s.pruneAt(d+retention))
	has, err := s.keeper.Tasks.Has(s.ctx, tid)
	s.Require().NoError(err)
	s.Require().False(has)
	s.Require().Zero(s.votesOf(tid))
	s.Require().Zero(s.talliesOf(tid))
	for _, k := range multiKeys(s, s.ctx, s.keeper.Tasks.Indexes.ByService) {
		s.Require().NotEqual(tid, k.K2(), "service index entry left")
	}
	for _, k := range multiKeys(s, s.ctx, s.keeper.Tasks.Indexes.ByServiceStatus) {
		s.Require().NotEqual(tid, k.K2(), "status index entry left")
	}
	for _, k := range keys(s, s.ctx, s.keeper.TasksByDeadline) {
		s.Require().NotEqual(tid, k.K2(), "deadline index entry left")
	}
	s.Require().Empty(keys(s, s.ctx, s.keeper.PruneQueue))
	s.Require().Equal(1, s.votesOf(other), "another task keeps its votes")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(other).Status)

	pruned := fmt.Sprintf("task %d was pruned at height %d", tid, d+retention)
	s.Require().Contains(s.taskQueryErr(tid), pruned)
	s.Require().ErrorIs(outcomeErr(s.vote(ops[2], tid, "A")), types.ErrTaskNotFound)

	// the tombstone lasts task_retention_blocks, then expires
	s.Require().Empty(s.pruneAt(d + 2*retention - 1))
	s.Require().Contains(s.taskQueryErr(tid), pruned)
	s.Require().Empty(s.pruneAt(d + 2*retention))
	s.Require().Contains(s.taskQueryErr(tid), fmt.Sprintf("task %d was pruned more than task_retention_blocks ago", tid))
	s.Require().Empty(keys(s, s.ctx, s.keeper.PrunedTasksByExpiry))
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Empty(gs.PrunedTasks)

	never := other + 1
	msg := s.taskQueryErr(never)
	s.Require().Contains(msg, fmt.Sprintf("task %d not found", never))
	s.Require().NotContains(msg, "pruned")
	s.Require().Contains(s.taskQueryErr(0), "not found")
	s.requireBalanced()
}

// L-9 budget: 1,000 tasks due in one block with max_prunes_per_block 300 are
// pruned over 4 blocks (300, 300, 300, 100), in task order, each once; their
// tombstones expire task_retention_blocks after each was pruned, under the
// same budget.
func (s *KeeperTestSuite) TestL9PruneBudgetCarriesOverInOrder() {
	const (
		retention = 20
		n         = 1000
		budget    = 300
	)
	id, _ := s.pruneService(retention)
	s.setParams(func(p *types.Params) { p.MaxPrunesPerBlock = budget; p.MaxSettlementsPerBlock = n })
	s.bank.Fund(acc("creator"), sdk.NewCoins(sdk.NewInt64Coin(denom, n*defaultFee)))
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = s.createTask(id)
	}
	d := s.task(ids[0]).DeadlineHeight
	s.Require().Equal(d, s.task(ids[n-1]).DeadlineHeight)
	s.endBlockAt(d)
	s.schedulePrune(ids...)
	s.Require().Len(keys(s, s.ctx, s.keeper.PruneQueue), n)

	s.Require().Empty(s.pruneAt(d + retention - 1))
	var got []uint64
	for b, want := range []int{300, 300, 300, 100} {
		h := d + retention + int64(b)
		batch := s.pruneAt(h)
		s.Require().Len(batch, want, "block %d", b)
		got = append(got, batch...)
		s.Require().Len(keys(s, s.ctx, s.keeper.PruneQueue), n-len(got))
		s.Require().Contains(s.taskQueryErr(batch[0]), fmt.Sprintf("pruned at height %d", h))
	}
	s.Require().Equal(ids, got, "in order, each once")
	s.Require().Empty(s.pruneAt(d+retention+4), "nothing left, nothing twice")
	s.Require().Len(keys(s, s.ctx, s.keeper.PrunedTasksByExpiry), n)
	s.requireBalanced()

	// tombstones: the first 300 expire at d+2r, and so on
	s.Require().Empty(s.pruneAt(d + 2*retention - 1))
	for b, left := range []int{700, 400, 100, 0} {
		s.Require().Empty(s.pruneAt(d + 2*retention + int64(b)))
		s.Require().Len(keys(s, s.ctx, s.keeper.PrunedTasksByExpiry), left)
		first := ids[300*b]
		s.Require().Contains(s.taskQueryErr(first), "more than task_retention_blocks ago")
		if left > 0 {
			s.Require().Contains(s.taskQueryErr(ids[n-left]), "was pruned at height")
		}
	}
	tombstones, err := s.keeper.PrunedTasks.Iterate(s.ctx, nil)
	s.Require().NoError(err)
	s.Require().False(tombstones.Valid(), "every tombstone expired")
	s.Require().NoError(tombstones.Close())
}

// max_prunes_per_block counts store entries, not tasks: a task with more
// votes and tallies than the budget keeps its place at the head of the queue
// with what is left of it, goes on in the next block, and the tasks behind it
// wait.
func (s *KeeperTestSuite) TestL9PruneBudgetCountsVotesAndTallies() {
	const retention = 10
	id, ops := s.pruneService(retention)
	s.setParams(func(p *types.Params) { p.MaxPrunesPerBlock = 4 })
	big := s.createTask(id)
	s.mustVote(ops[0], big, "A")
	s.mustVote(ops[1], big, "B")
	s.mustVote(ops[2], big, "A") // 3 votes, 2 tallies, the task: 6 entries
	small := s.createTask(id)    // 1 entry
	d := s.task(big).DeadlineHeight
	s.endBlockAt(d)
	s.schedulePrune(big, small)

	s.Require().Empty(s.pruneAt(d + retention))
	s.Require().Zero(s.votesOf(big))
	s.Require().Equal(1, s.talliesOf(big), "4 entries: 3 votes and a tally")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.task(big).Status)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(small).Status)
	s.Require().Equal([]collections.Pair[int64, uint64]{collections.Join(d+retention, big), collections.Join(d+retention, small)},
		keys(s, s.ctx, s.keeper.PruneQueue))

	s.Require().Equal([]uint64{big, small}, s.pruneAt(d+retention+1))
	s.Require().Zero(s.talliesOf(big))
	s.Require().Empty(keys(s, s.ctx, s.keeper.PruneQueue))
}

// Task pruning and tombstone expiry share max_prunes_per_block, oldest height
// first: a task due later waits for tombstones due earlier.
func (s *KeeperTestSuite) TestL9PruneAndExpirySharedBudgetInHeightOrder() {
	const retention = 10
	id, _ := s.pruneService(retention)
	s.setParams(func(p *types.Params) { p.MaxPrunesPerBlock = 2 })
	early := []uint64{s.createTask(id), s.createTask(id)}
	d1 := s.task(early[0]).DeadlineHeight
	s.endBlockAt(d1)
	s.schedulePrune(early...)
	s.Require().Equal(early, s.pruneAt(d1+retention)) // tombstones expire at d1+2r
	late := s.createTask(id)
	d2 := s.task(late).DeadlineHeight
	s.endBlockAt(d2)
	s.schedulePrune(late)
	s.Require().Greater(d2+retention, d1+2*retention-1, "the test needs the task due after the tombstones")

	// at d2+r both tombstones (due d1+2r) and the task are due: 2 fit
	h := d2 + retention
	s.Require().Empty(s.pruneAt(h), "the older tombstones take the budget")
	s.Require().Empty(keys(s, s.ctx, s.keeper.PrunedTasksByExpiry))
	s.Require().Equal(s.task(late).Id, late)
	s.Require().Equal([]uint64{late}, s.pruneAt(h+1))
}

// A task whose IBC acknowledgement is still owed (its packet is in
// IBCPackets) is not pruned: the acknowledgement carries its outcome. Its
// entry moves task_retention_blocks later, costing one unit of budget.
func (s *KeeperTestSuite) TestL9PruneWaitsForOwedIBCAck() {
	const retention = 10
	id, _ := s.pruneService(retention)
	tid := s.createTask(id)
	d := s.task(tid).DeadlineHeight
	s.Require().NoError(s.keeper.IBCPackets.Set(s.ctx, tid, channeltypes.Packet{Sequence: 7, DestinationChannel: "channel-0"}))
	s.endBlockAt(d)
	s.schedulePrune(tid)

	s.Require().Empty(s.pruneAt(d + retention))
	s.Require().Equal(tid, s.task(tid).Id)
	s.Require().Equal([]collections.Pair[int64, uint64]{collections.Join(d+2*retention, tid)}, keys(s, s.ctx, s.keeper.PruneQueue))

	s.Require().NoError(s.keeper.IBCPackets.Remove(s.ctx, tid)) // acknowledged
	s.Require().Empty(s.pruneAt(d + 2*retention - 1))
	s.Require().Equal([]uint64{tid}, s.pruneAt(d+2*retention))
}

// A stale or repeated prune entry (the task is already gone) is dropped: it
// neither fails the block nor rewrites the tombstone.
func (s *KeeperTestSuite) TestL9PruneEntryOfGoneTaskIsDropped() {
	const retention = 10
	id, _ := s.pruneService(retention)
	tid := s.createTask(id)
	task := s.task(tid)
	s.endBlockAt(task.DeadlineHeight)
	s.schedulePrune(tid)
	s.schedulePrune(tid) // same height: one entry
	s.Require().Len(keys(s, s.ctx, s.keeper.PruneQueue), 1)
	h := task.DeadlineHeight + retention
	s.Require().Equal([]uint64{tid}, s.pruneAt(h))

	// an entry for the pruned task at a later height, as a changed
	// task_retention_blocks would give
	s.setParams(func(p *types.Params) { p.TaskRetentionBlocks = retention + 1 })
	s.Require().NoError(s.keeper.SchedulePrune(s.ctx, s.params(), task))
	s.Require().Empty(s.pruneAt(h + 1))
	s.Require().Empty(keys(s, s.ctx, s.keeper.PruneQueue))
	at, err := s.keeper.PrunedTasks.Get(s.ctx, tid)
	s.Require().NoError(err)
	s.Require().Equal(h, at, "the tombstone keeps the height the task was pruned at")
}

// Pruning an event-trigger task keeps its event reference: the same event
// cannot open a second task (and charge the treasury again) once the first
// is gone, also across a genesis export and import.
func (s *KeeperTestSuite) TestL9PrunedEventTaskCannotBeReopened() {
	const retention = 10
	s.setParams(func(p *types.Params) { p.TaskRetentionBlocks = retention })
	id, ops := s.eventService(10, 3)
	r := ref(id, 9, 0)
	out := s.eventVote(ops[0], r, "12.5")
	s.Require().True(out.Accepted, out.Error)
	s.Require().True(s.eventVote(ops[1], r, "12.5").Accepted)
	tid := out.TaskId
	d := s.task(tid).DeadlineHeight
	s.endBlockAt(d)
	s.schedulePrune(tid)
	s.Require().Equal([]uint64{tid}, s.pruneAt(d+retention))

	treasury, err := s.keeper.Treasuries.Get(s.ctx, id)
	s.Require().NoError(err)
	next, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	again := s.eventVote(ops[2], r, "12.5")
	s.Require().False(again.Accepted)
	s.Require().ErrorIs(outcomeErr(again), types.ErrTaskNotFound)
	after, err := s.keeper.TaskSeq.Peek(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal(next, after, "no task opened")
	left, err := s.keeper.Treasuries.Get(s.ctx, id)
	s.Require().NoError(err)
	s.Require().Equal(treasury, left)

	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal([]types.PrunedEventRef{{Event: r.Key(), TaskId: tid}}, gs.PrunedEventRefs)
	e := s.newEnv()
	s.Require().NoError(e.keeper.InitGenesis(e.ctx, gs))
	got, err := e.keeper.Tasks.Indexes.ByEvent.Refs.Get(e.ctx, r.Key())
	s.Require().NoError(err)
	s.Require().Equal(tid, got)
}

// Pruning state survives a genesis export and import: the tombstones are
// exported, the prune queue and the tombstones' expiry are rebuilt (from the
// settled tasks and the tombstones), and a second export is the first.
func (s *KeeperTestSuite) TestL9PruningGenesisRoundTrip() {
	const retention = 10
	id, ops := s.pruneService(retention)
	gone := s.createTask(id)
	s.mustVote(ops[0], gone, "A")
	s.mustVote(ops[1], gone, "A")
	d := s.task(gone).DeadlineHeight
	s.endBlockAt(d)
	s.schedulePrune(gone)
	s.Require().Equal([]uint64{gone}, s.pruneAt(d+retention))
	settled := s.createTask(id) // settled, waiting to be pruned
	d2 := s.task(settled).DeadlineHeight
	s.endBlockAt(d2)
	s.schedulePrune(settled)
	s.createTask(id) // open: in neither queue

	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Equal([]types.PrunedTask{{TaskId: gone, Height: d + retention}}, gs.PrunedTasks)
	e := s.newEnv()
	s.Require().NoError(e.keeper.InitGenesis(e.ctx, gs))
	again, err := e.keeper.ExportGenesis(e.ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, again)
	s.Require().Equal(keys(s, s.ctx, s.keeper.PruneQueue), keys(s, e.ctx, e.keeper.PruneQueue))
	s.Require().Equal([]collections.Pair[int64, uint64]{collections.Join(d2+retention, settled)}, keys(s, e.ctx, e.keeper.PruneQueue))
	s.Require().Equal(keys(s, s.ctx, s.keeper.PrunedTasksByExpiry), keys(s, e.ctx, e.keeper.PrunedTasksByExpiry))
	s.Require().Len(keys(s, e.ctx, e.keeper.PrunedTasksByExpiry), 1)
}

// Genesis refuses tombstones and pruned event references that name a task
// still there, an id never issued, or one twice.
func (s *KeeperTestSuite) TestL9PruningGenesisValidate() {
	base := func() *types.GenesisState {
		gs := types.DefaultGenesis()
		gs.NextTaskId = 5
		return gs
	}
	testCases := []struct {
		name     string
		malleate func(*types.GenesisState)
		ok       bool
	}{
		{"tombstone", func(gs *types.GenesisState) { gs.PrunedTasks = []types.PrunedTask{{TaskId: 3, Height: 40}} }, true},
		{"tombstone of an id never issued", func(gs *types.GenesisState) { gs.PrunedTasks = []types.PrunedTask{{TaskId: 5, Height: 40}} }, false},
		{"tombstone of id 0", func(gs *types.GenesisState) { gs.PrunedTasks = []types.PrunedTask{{TaskId: 0, Height: 40}} }, false},
		{"tombstone twice", func(gs *types.GenesisState) {
			gs.PrunedTasks = []types.PrunedTask{{TaskId: 3, Height: 40}, {TaskId: 3, Height: 41}}
		}, false},
		{"tombstone without height", func(gs *types.GenesisState) { gs.PrunedTasks = []types.PrunedTask{{TaskId: 3}} }, false},
		{"event ref", func(gs *types.GenesisState) {
			gs.PrunedEventRefs = []types.PrunedEventRef{{Event: "1/9/AB/0", TaskId: 2}}
		}, true},
		{"event ref twice", func(gs *types.GenesisState) {
			gs.PrunedEventRefs = []types.PrunedEventRef{{Event: "1/9/AB/0", TaskId: 2}, {Event: "1/9/AB/0", TaskId: 3}}
		}, false},
		{"empty event ref", func(gs *types.GenesisState) { gs.PrunedEventRefs = []types.PrunedEventRef{{TaskId: 2}} }, false},
		{"event ref of an id never issued", func(gs *types.GenesisState) {
			gs.PrunedEventRefs = []types.PrunedEventRef{{Event: "1/9/AB/0", TaskId: 9}}
		}, false},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			gs := base()
			tc.malleate(gs)
			err := gs.Validate()
			if tc.ok {
				s.Require().NoError(err)
			} else {
				s.Require().ErrorIs(err, types.ErrInvalidGenesis)
			}
		})
	}

	// a tombstone of a task still there
	id, _ := s.pruneService(10)
	tid := s.createTask(id)
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	gs.PrunedTasks = []types.PrunedTask{{TaskId: tid, Height: 40}}
	s.Require().ErrorIs(gs.Validate(), types.ErrInvalidGenesis)
	gs.PrunedTasks = nil
	gs.PrunedEventRefs = []types.PrunedEventRef{{Event: "x", TaskId: tid}}
	s.Require().ErrorIs(gs.Validate(), types.ErrInvalidGenesis)
}

// BenchmarkPruneTasks measures one block's PruneTasks with more due than
// max_prunes_per_block (default) entries, the tasks having v votes and v
// tallies each (v = max_snapshot_operators is the most a task can have: every
// operator of the snapshot voting a different result). The budget counts
// entries, so the block's cost stays flat whatever v is. The state is
// committed to an IAVL store first; a block runs on a cache of it, as
// FinalizeBlock does, and the time includes writing and committing the
// deletions. It reports the gas a metered context would charge.
//
//	go test ./x/avs/keeper/ -run '^$' -bench BenchmarkPruneTasks -benchtime 10x
func BenchmarkPruneTasks(b *testing.B) {
	for _, v := range []int{0, 10, 100} {
		b.Run(fmt.Sprintf("votes=%d", v), func(b *testing.B) {
			key := storetypes.NewKVStoreKey(types.StoreKey)
			tc := testutil.DefaultContextWithDB(b, key, storetypes.NewTransientStoreKey("transient_bench"))
			ctx := tc.Ctx.WithBlockHeight(10)
			cdc := moduletestutil.MakeTestEncodingConfig(avs.AppModuleBasic{}).Codec
			k := keeper.NewKeeper(cdc, runtime.NewKVStoreService(key), bech32, avstest.NewBank(), addrOf(authtypes.NewModuleAddress("gov")))
			require.NoError(b, k.InitGenesis(ctx, types.DefaultGenesis()))
			params := types.DefaultParams()
			budget := int(params.MaxPrunesPerBlock)
			perBlock := budget/(1+2*v) + 1 // a little more than the budget
			next := uint64(1)
			fill := func() {
				for range perBlock {
					t := types.Task{Id: next, ServiceId: 1, Status: types.TASK_STATUS_COMPLETED, DeadlineHeight: 10, Settled: true}
					require.NoError(b, k.Tasks.Set(ctx, t.Id, t))
					for i := range v {
						op, digest := fmt.Sprintf("operator%03d", i), fmt.Sprintf("digest%03d", i)
						require.NoError(b, k.Votes.Set(ctx, collections.Join(t.Id, op), types.Vote{TaskId: t.Id, Operator: op, Digest: digest}))
						require.NoError(b, k.Tallies.Set(ctx, collections.Join(t.Id, digest), types.Tally{Power: 1, Count: 1}))
					}
					require.NoError(b, k.SchedulePrune(ctx, params, t))
					next++
				}
				tc.CMS.Commit()
			}
			h := 10 + int64(params.TaskRetentionBlocks)
			var gas uint64
			pruned := 0
			b.ResetTimer()
			for n := range b.N {
				b.StopTimer()
				fill()
				cache := tc.CMS.CacheMultiStore()
				block := ctx.WithMultiStore(cache).WithBlockHeight(h + int64(n)).
					WithGasMeter(storetypes.NewInfiniteGasMeter()).WithEventManager(sdk.NewEventManager())
				b.StartTimer()
				require.NoError(b, k.PruneTasks(block, params))
				cache.Write()
				tc.CMS.Commit()
				b.StopTimer()
				gas = max(gas, block.GasMeter().GasConsumed())
				pruned += len(block.EventManager().Events())
				b.StartTimer()
			}
			require.Positive(b, gas)
			b.ReportMetric(float64(gas), "maxgas/block")
			b.ReportMetric(float64(pruned)/float64(b.N), "tasks/block")
		})
	}
}
