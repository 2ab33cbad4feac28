package keeper_test

import (
	"time"

	"github.com/avschain/avschain/x/avs/types"
)

// h3Manifest is the review's service: EXACT, EQUAL weighting (admitted by
// allow-list), threshold 0.67, no slashing, task timeout 20.
func h3Manifest() types.ServiceManifest {
	m := defaultManifest("")
	m.Quorum.Threshold = dec("0.67")
	m.SlashFraction = dec("0")
	m.TaskTimeout = 20
	return m
}

// allowlistedService creates an ALLOWLIST service from m with three
// operators admitted and opted in (EQUAL weighting needs an allow-list or a
// minimum self-stake, H-6).
func (s *KeeperTestSuite) allowlistedService(m types.ServiceManifest) (uint64, [3]string) {
	s.startClock()
	s.creator()
	m.Admission = types.ADMISSION_ALLOWLIST
	id := s.createService(m)
	var ops [3]string
	for i, name := range []string{"opA", "opB", "opC"} {
		ops[i] = s.registerOperator(name)
	}
	_, err := s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: id, Add: ops[:]})
	s.Require().NoError(err)
	for _, op := range ops {
		s.optIn(op, id)
	}
	return id, ops
}

// h3Setup creates the review's service with operators A and B (honest, each
// backed by 1000) and C (the owner's), and returns the service, the three
// operators and A's and B's committers.
func (s *KeeperTestSuite) h3Setup() (uint64, [3]string, [2]string) {
	id, ops := s.allowlistedService(h3Manifest())
	committers := [2]string{s.fundAndCommit("alice", ops[0], id, 1000), s.fundAndCommit("bob", ops[1], id, 1000)}
	return id, ops, committers
}

func (s *KeeperTestSuite) service(id uint64) types.Service {
	svc, err := s.keeper.Services.Get(s.ctx, id)
	s.Require().NoError(err)
	return svc
}

// H-3: the owner used to change the rules of tasks already open. The
// review's attack: after A and B voted "16" on T, the owner lowers the
// threshold, raises slash_fraction to 1 and has C vote "17"; T completed with
// 17 and A's and B's committers lost everything. Now T keeps the rules it was
// created under: C's vote does not complete it, nobody is slashed. New tasks
// get the new quorum at once, the raised slash_fraction only later.
func (s *KeeperTestSuite) TestH3RulesFixedAtTaskCreation() {
	testCases := []struct {
		name string
		// update changes the manifest after A and B voted on T
		update func(s *KeeperTestSuite, id uint64, m types.ServiceManifest)
		// expNew: the status a new task reaches on C's single "17" vote
		expNew types.TaskStatus
	}{
		{
			// The review's update. It goes through the keeper, below the
			// msg server's manifest checks (which may refuse thresholds ≤ 0.5,
			// M-6): what is tested is that T does not see it, whatever the
			// owner may set.
			name: "review: threshold 1e-18, min_operators 1, slash_fraction 1",
			update: func(s *KeeperTestSuite, id uint64, m types.ServiceManifest) {
				m.Quorum.Threshold, m.Quorum.MinOperators, m.SlashFraction = dec("0.000000000000000001"), 1, dec("1")
				s.Require().NoError(s.keeper.UpdateService(s.ctx, addr("owner"), id, m))
			},
			expNew: types.TASK_STATUS_COMPLETED,
		},
		{
			// A change valid under any threshold rule: MEDIAN with a wide
			// spread would have accepted 16 with C's 17 as a third backer.
			name: "EXACT to MEDIAN with a 10% spread and slash_fraction 1",
			update: func(s *KeeperTestSuite, id uint64, m types.ServiceManifest) {
				m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec("0.1")}
				m.SlashFraction = dec("1")
				s.updateManifest(id, m)
			},
			expNew: types.TASK_STATUS_PENDING, // one vote of three is below 0.67 in any mode
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, ops, committers := s.h3Setup()
			t := s.createTask(id)
			s.Require().Equal(uint64(1), s.task(t).ServiceRevision)
			s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[0], t, "16"))
			s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[1], t, "16")) // 2 of 3 < 0.67

			tc.update(s, id, s.service(id).Manifest)
			s.ctx = s.withEvents()
			ctx := s.ctx
			s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[2], t, "17"), "T is tallied under its own rules")
			s.Require().Empty(s.slashedEvents(ctx))
			s.Require().Equal(int64(1000), s.committed(ops[0], id, committers[0]))
			s.Require().Equal(int64(1000), s.committed(ops[1], id, committers[1]))
			s.Require().Equal(uint64(1), s.task(t).ServiceRevision)

			svc := s.service(id)
			s.Require().Equal(uint64(2), svc.Revision)
			s.Require().True(svc.Manifest.SlashFraction.IsZero(), "the raise waits: the new revision keeps slash_fraction 0")
			s.Require().Equal(dec("1"), svc.PendingSlashFraction)
			s.Require().Equal(s.ctx.BlockTime().Add(s.params().UnbondingTime), svc.PendingSlashAt)

			// A task created now has the new quorum and aggregation, not yet
			// the raised slash_fraction.
			t2 := s.createTask(id)
			s.Require().Equal(uint64(2), s.task(t2).ServiceRevision)
			s.Require().Equal(tc.expNew, s.mustVote(ops[2], t2, "17"))
			s.mustVote(ops[0], t2, "16")
			s.Require().Empty(s.slashedEvents(ctx))
			s.Require().Equal(int64(1000), s.committed(ops[0], id, committers[0]))
		})
	}
}

// H-3: switching EXACT to MEDIAN used to make tallyMedian fail on the
// non-numeric votes already stored, so every later vote on the open tasks was
// refused (and counted as missed). The open task stays EXACT.
func (s *KeeperTestSuite) TestH3ModeSwitchKeepsOldTasksVoting() {
	m := h3Manifest()
	m.Quorum.Threshold = dec("0.6") // 2 of 3
	id, ops := s.allowlistedService(m)
	t := s.createTask(id)
	s.mustVote(ops[0], t, "sixteen")
	m = s.service(id).Manifest
	m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec("0.01")}
	s.updateManifest(id, m)

	s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[2], t, "seventeen"))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], t, "sixteen"))
	s.Require().Equal([]byte("sixteen"), s.task(t).Result)

	// a new task is MEDIAN: a non-numeric vote is refused there
	t2 := s.createTask(id)
	s.Require().ErrorIs(outcomeErr(s.vote(ops[0], t2, "sixteen")), types.ErrInvalidResult)
}

// H-3: a raise of slash_fraction takes effect only for the tasks of an epoch
// whose snapshot is taken unbonding_time after the update, so a committer
// who disagrees can leave first; a cut takes effect at once and cancels a
// pending raise. Each task is slashed at its own revision's fraction.
func (s *KeeperTestSuite) TestH3SlashRaiseWaitsForUnbondingTime() {
	m := defaultManifest("")
	m.TaskTimeout = 20
	m.SlashFraction = dec("0.1")
	id, ops := s.allowlistedService(m)
	m = s.service(id).Manifest
	carol := s.fundAndCommit("carol", ops[2], id, 10000)
	unbonding := s.params().UnbondingTime

	// fractionOf completes a new task with ops[2] dissenting and returns
	// what its revision's slash took from carol's commitment.
	fractionOf := func() (uint64, int64) {
		before := s.committed(ops[2], id, carol)
		t := s.createTask(id)
		s.mustVote(ops[2], t, "B")
		s.mustVote(ops[0], t, "A")
		s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[1], t, "A"))
		return s.task(t).ServiceRevision, before - s.committed(ops[2], id, carol)
	}
	rev, cut := fractionOf()
	s.Require().Equal(uint64(1), rev)
	s.Require().Equal(int64(1000), cut) // 0.1 of 10000

	// raise to 0.5: pending until now + unbonding_time
	raised := m
	raised.SlashFraction = dec("0.5")
	at := s.ctx.BlockTime().Add(unbonding)
	s.ctx = s.withEvents()
	ctx := s.ctx
	s.updateManifest(id, raised)
	svc := s.service(id)
	s.Require().Equal(uint64(2), svc.Revision)
	s.Require().Equal(dec("0.1"), svc.Manifest.SlashFraction)
	s.Require().Equal(dec("0.5"), svc.PendingSlashFraction)
	s.Require().Equal(at, svc.PendingSlashAt)
	events := s.typedEvents(ctx, &types.EventServiceUpdated{})
	s.Require().Len(events, 1)
	s.Require().Equal(&types.EventServiceUpdated{
		ServiceId: id, ComponentDigest: m.ComponentDigest, Status: types.SERVICE_STATUS_ACTIVE,
		Revision: 2, PendingSlashFraction: dec("0.5").String(), PendingSlashAt: at,
	}, events[0])

	// carol leaves half; the other half stays, at 0.1, until the raise
	s.uncommit(carol, ops[2], id, 4000) // of 9000 left
	rev, cut = fractionOf()
	s.Require().Equal(uint64(2), rev)
	s.Require().Equal(int64(500), cut) // 0.1 of 5000

	// resubmitting the manifest (another field changed) does not restart the clock
	raised.Config = []types.ConfigEntry{{Key: "K", Value: "V"}}
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(time.Hour))
	s.updateManifest(id, raised)
	s.Require().Equal(at, s.service(id).PendingSlashAt)
	s.Require().Equal(uint64(3), s.service(id).Revision)

	// past the time, within the epoch whose snapshot was taken before it:
	// its tasks keep one fraction
	s.ctx = s.ctx.WithBlockTime(at)
	rev, cut = fractionOf()
	s.Require().Equal(uint64(3), rev)
	s.Require().Equal(int64(450), cut) // 0.1 of 4500

	// the first snapshot taken after it: the raise applies, as revision 4
	s.nextEpoch()
	s.ctx = s.withEvents()
	ctx = s.ctx
	rev, cut = fractionOf()
	s.Require().Equal(uint64(4), rev)
	s.Require().Equal(int64(2025), cut) // 0.5 of 4050
	svc = s.service(id)
	s.Require().Equal(dec("0.5"), svc.Manifest.SlashFraction)
	s.Require().True(svc.PendingSlashAt.IsZero())
	s.Require().True(svc.PendingSlashFraction.IsZero())
	events = s.typedEvents(ctx, &types.EventServiceUpdated{})
	s.Require().Len(events, 1)
	s.Require().Equal(uint64(4), events[0].(*types.EventServiceUpdated).Revision)

	// a cut is immediate
	lowered := raised
	lowered.SlashFraction = dec("0.2")
	s.updateManifest(id, lowered)
	rev, cut = fractionOf()
	s.Require().Equal(uint64(5), rev)
	s.Require().Equal(int64(405), cut) // 0.2 of 2025

	// a cut cancels a pending raise
	raised.SlashFraction = dec("0.9")
	s.updateManifest(id, raised)
	s.Require().Equal(dec("0.9"), s.service(id).PendingSlashFraction)
	lowered.SlashFraction = dec("0.1")
	s.updateManifest(id, lowered)
	svc = s.service(id)
	s.Require().Equal(dec("0.1"), svc.Manifest.SlashFraction)
	s.Require().True(svc.PendingSlashAt.IsZero())
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(2 * unbonding))
	s.nextEpoch()
	rev, cut = fractionOf()
	s.Require().Equal(uint64(7), rev)
	s.Require().Equal(int64(162), cut) // 0.1 of 1620

	// a smaller raise while one is pending keeps its time; a larger one
	// starts it again
	raised.SlashFraction = dec("0.6")
	s.updateManifest(id, raised)
	first := s.service(id).PendingSlashAt
	s.ctx = s.ctx.WithBlockTime(s.ctx.BlockTime().Add(time.Hour))
	raised.SlashFraction = dec("0.3")
	s.updateManifest(id, raised)
	s.Require().Equal(first, s.service(id).PendingSlashAt)
	s.Require().Equal(dec("0.3"), s.service(id).PendingSlashFraction)
	raised.SlashFraction = dec("0.4")
	s.updateManifest(id, raised)
	s.Require().Equal(s.ctx.BlockTime().Add(unbonding), s.service(id).PendingSlashAt)
	s.Require().Equal(dec("0.1"), s.service(id).Manifest.SlashFraction)
}

// H-3: every revision's manifest is served by Query/ServiceRevision, and the
// revisions, the tasks' revision and a pending raise survive a genesis
// export and import.
func (s *KeeperTestSuite) TestH3RevisionsQueryAndGenesis() {
	id, ops, _ := s.h3Setup()
	first := s.service(id).Manifest
	t := s.createTask(id)
	s.mustVote(ops[0], t, "16")
	m := first
	m.Config = []types.ConfigEntry{{Key: "PAIR", Value: "ATOM/USD"}}
	m.Limits.TimeMs = 2000
	m.SlashFraction = dec("0.5")
	s.updateManifest(id, m)

	res, err := s.queryServer.ServiceRevision(s.ctx, &types.QueryServiceRevisionRequest{ServiceId: id, Revision: 1})
	s.Require().NoError(err)
	s.Require().Equal(first, res.Manifest)
	res, err = s.queryServer.ServiceRevision(s.ctx, &types.QueryServiceRevisionRequest{ServiceId: id, Revision: 2})
	s.Require().NoError(err)
	s.Require().Equal(uint64(2000), res.Manifest.Limits.TimeMs)
	s.Require().Equal([]types.ConfigEntry{{Key: "PAIR", Value: "ATOM/USD"}}, res.Manifest.Config)
	s.Require().True(res.Manifest.SlashFraction.IsZero(), "the raise is pending")
	_, err = s.queryServer.ServiceRevision(s.ctx, &types.QueryServiceRevisionRequest{ServiceId: id, Revision: 3})
	s.Require().ErrorContains(err, "NotFound")

	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(gs.Validate())
	s.Require().Len(gs.ServiceRevisions, 2)
	s.Require().Equal(uint64(1), gs.Tasks[0].ServiceRevision)

	e := s.newEnv()
	for a, c := range s.bank.Balances { // the same ledger, in its own bank
		e.bank.Balances[a] = c
	}
	ctx := e.ctx.WithBlockTime(s.ctx.BlockTime())
	s.Require().NoError(e.keeper.InitGenesis(ctx, gs))
	again, err := e.keeper.ExportGenesis(ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, again)
	imported, err := e.keeper.Services.Get(ctx, id)
	s.Require().NoError(err)
	s.Require().Equal(dec("0.5"), imported.PendingSlashFraction)
	s.Require().Equal(s.service(id).PendingSlashAt, imported.PendingSlashAt)

	// the imported chain still tallies T under revision 1: B's "16" is 2 of
	// 3 < 0.67, C's too
	_, err = e.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: ops[1], Results: []types.TaskResult{{TaskId: t, Result: []byte("16")}}})
	s.Require().NoError(err)
	task, err := e.keeper.Tasks.Get(ctx, t)
	s.Require().NoError(err)
	s.Require().Equal(types.TASK_STATUS_PENDING, task.Status)

	cases := []struct {
		name  string
		spoil func(gs *types.GenesisState)
		want  string
	}{
		{"task of a revision not stored", func(gs *types.GenesisState) { gs.Tasks[0].ServiceRevision = 7 }, "task 1 names revision 7 of service 1, which is not stored"},
		{"task without a revision", func(gs *types.GenesisState) { gs.Tasks[0].ServiceRevision = 0 }, "task 1 names revision 0"},
		{"revision above the service's", func(gs *types.GenesisState) { gs.ServiceRevisions[1].Revision = 3 }, "revision 3 of service 1 is above the service's revision 2"},
		{"revision of no service", func(gs *types.GenesisState) { gs.ServiceRevisions[0].ServiceId = 9 }, "names unknown service 9"},
		{"revision twice", func(gs *types.GenesisState) { gs.ServiceRevisions[0].Revision = 2 }, "appears twice"},
		{"current revision missing", func(gs *types.GenesisState) { gs.ServiceRevisions = gs.ServiceRevisions[:1] }, "service 1 revision 2 is not stored"},
		{"current revision differs", func(gs *types.GenesisState) { gs.ServiceRevisions[1].Manifest.Limits.TimeMs = 5 }, "is not the service's manifest"},
		{"service without a revision", func(gs *types.GenesisState) { gs.Services[0].Revision = 0 }, "service 1 has no revision"},
		{"pending raise not above the fraction", func(gs *types.GenesisState) { gs.Services[0].PendingSlashFraction = dec("0") }, "pending slash_fraction"},
		{"pending raise above one", func(gs *types.GenesisState) { gs.Services[0].PendingSlashFraction = dec("1.5") }, "pending slash_fraction"},
	}
	for _, tc := range cases {
		s.Run(tc.name, func() { s.requireGenesisRefused(tc.spoil, tc.want) })
	}
}
