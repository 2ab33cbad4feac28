package keeper_test

import (
	"bytes"
	"crypto/sha256"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/types"
)

// Commit and reveal (issue #20): every rule of x/avs/keeper/commit_reveal.go.

// crService is a COMMIT_REVEAL EXACT service of n EQUAL operators at a 0.51
// threshold (3 of 4 decide), commit phase at most 3 blocks, timeout 10.
func (s *KeeperTestSuite) crService(n int, edit func(*types.ServiceManifest)) (uint64, []string) {
	m := defaultManifest("")
	m.VoteMode = types.VOTE_MODE_COMMIT_REVEAL
	m.CommitBlocks = 3
	m.TaskTimeout = 10
	if edit != nil {
		edit(&m)
	}
	return s.setupService(m, n)
}

// salt is a fixed 32-byte salt per operator.
func salt(op string) []byte {
	h := sha256.Sum256([]byte("salt/" + op))
	return h[:]
}

// submit sends one entry and returns its outcome.
func (s *KeeperTestSuite) submit(operator string, r types.TaskResult) types.ResultOutcome {
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: operator, Results: []types.TaskResult{r}})
	s.Require().NoError(err)
	s.Require().Len(res.Outcomes, 1)
	s.payDecided()
	return res.Outcomes[0]
}

// commitTo commits operator to result (or failure) on the task with its salt.
func (s *KeeperTestSuite) commitTo(operator string, taskID uint64, result string, failure types.FailureReason) types.ResultOutcome {
	c := types.VoteCommitment(s.ctx.ChainID(), taskID, operator, []byte(result), failure, salt(operator))
	return s.submit(operator, types.TaskResult{TaskId: taskID, Commitment: c})
}

// reveal reveals result (or failure) with the operator's salt.
func (s *KeeperTestSuite) reveal(operator string, taskID uint64, result string, failure types.FailureReason) types.ResultOutcome {
	var res []byte
	if result != "" {
		res = []byte(result)
	}
	return s.submit(operator, types.TaskResult{TaskId: taskID, Result: res, Failure: failure, Salt: salt(operator)})
}

func (s *KeeperTestSuite) requireAccepted(o types.ResultOutcome) types.TaskStatus {
	s.T().Helper()
	s.Require().True(o.Accepted, "entry refused: %s", o.Error)
	return o.TaskStatus
}

func (s *KeeperTestSuite) nextBlock() { s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1) }

func (s *KeeperTestSuite) TestCommitRevealDecidesOnReveals() {
	id, ops := s.crService(5, func(m *types.ServiceManifest) { m.Quorum.Threshold = dec("0.6") }) // 3 of 5
	tid := s.createTask(id)
	created := s.task(tid)
	s.Require().Equal(created.CreatedHeight+3, created.CommitDeadlineHeight)
	s.Require().True(created.IsCommitReveal())

	s.nextBlock()
	h := s.ctx.BlockHeight()
	s.Require().ErrorIs(outcomeErr(s.vote(ops[0], tid, "A")), types.ErrVoteMode, "a vote in the clear is refused")
	s.Require().ErrorIs(outcomeErr(s.reveal(ops[0], tid, "A", 0)), types.ErrRevealTooEarly)
	ctx := s.withEvents()
	s.ctx = ctx
	for _, op := range ops[:2] {
		s.Require().Equal(types.TASK_STATUS_PENDING, s.requireAccepted(s.commitTo(op, tid, "A", 0)))
	}
	s.Require().ErrorIs(outcomeErr(s.commitTo(ops[0], tid, "A", 0)), types.ErrDuplicateVote)
	s.Require().Zero(s.task(tid).CommitsClosedHeight, "2 of 5 do not close the commit phase")
	s.requireAccepted(s.commitTo(ops[2], tid, "A", 0))
	task := s.task(tid)
	s.Require().Equal(h, task.CommitsClosedHeight, "3 of 5 meet the quorum: the phase closes")
	s.Require().Equal(uint64(3), task.CommitPower)
	s.Require().Equal(uint32(3), task.CommitCount)
	s.Require().Len(s.typedEvents(ctx, &types.EventVoteCommitted{}), 3)
	closed := s.typedEvents(ctx, &types.EventCommitsClosed{})
	s.Require().Len(closed, 1)
	s.Require().Equal(&types.EventCommitsClosed{TaskId: tid, Height: h, CommitPower: 3, CommitCount: 3}, closed[0])

	// the rest of the closing block still commits (no reveal is in yet);
	// no reveal in it
	s.requireAccepted(s.commitTo(ops[3], tid, "A", 0))
	task = s.task(tid)
	s.Require().Equal(h, task.CommitsClosedHeight, "closed once")
	s.Require().Equal(uint64(4), task.CommitPower)
	s.Require().Len(s.typedEvents(ctx, &types.EventCommitsClosed{}), 1)
	s.Require().ErrorIs(outcomeErr(s.reveal(ops[0], tid, "A", 0)), types.ErrRevealTooEarly)

	s.nextBlock()
	s.Require().ErrorIs(outcomeErr(s.commitTo(ops[4], tid, "A", 0)), types.ErrCommitClosed, "a commitment after the closing block")
	s.Require().ErrorIs(outcomeErr(s.reveal(ops[4], tid, "A", 0)), types.ErrNoCommitment, "a reveal without a commitment")
	s.Require().Equal(types.TASK_STATUS_PENDING, s.requireAccepted(s.reveal(ops[0], tid, "A", 0)))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.requireAccepted(s.reveal(ops[1], tid, "A", 0)))
	before := s.earned(ops[0])
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.requireAccepted(s.reveal(ops[2], tid, "A", 0)))
	task = s.task(tid)
	s.Require().Equal([]byte("A"), task.Result)
	s.Require().Equal(uint64(3), task.PowerFor)
	s.Require().Equal(before.AddRaw(defaultFee/3), s.earned(ops[0]), "the fee is paid to the three revealers")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.requireAccepted(s.reveal(ops[3], tid, "A", 0)), "a late reveal, as a late vote")
	s.Require().ErrorIs(outcomeErr(s.reveal(ops[0], tid, "A", 0)), types.ErrDuplicateVote)
	has, err := s.keeper.VoteCommits.Has(s.ctx, collections.Join(tid, ops[0]))
	s.Require().NoError(err)
	s.Require().False(has, "a reveal spends its commitment")
	s.requireBalanced()
}

// A commitment never revealed by the deadline is a miss; the revealers
// answered.
func (s *KeeperTestSuite) TestCommitRevealUnrevealedCommitmentIsAMiss() {
	id, ops := s.crService(4, nil)
	tid := s.createTask(id)
	s.nextBlock()
	for _, op := range ops {
		if op == ops[3] {
			continue
		}
		s.requireAccepted(s.commitTo(op, tid, "A", 0))
	}
	s.nextBlock()
	for _, op := range ops[:2] {
		s.requireAccepted(s.reveal(op, tid, "A", 0))
	}
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(tid).Status, "2 of 4 revealed: no quorum")
	s.endBlockAt(s.task(tid).DeadlineHeight)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(tid).Status)
	s.Require().Zero(s.liveness(id, ops[0]).Missed)
	s.Require().Zero(s.liveness(id, ops[1]).Missed)
	s.Require().Equal(uint64(1), s.liveness(id, ops[2]).Missed, "committed, never revealed: a miss")
	s.Require().Equal(uint64(1), s.liveness(id, ops[3]).Missed, "never committed: a miss")
}

// A reveal that does not match its commitment is a fault: refused, slashed
// where the service slashes, and the commitment spent.
func (s *KeeperTestSuite) TestCommitRevealMismatchIsSlashed() {
	id, ops := s.crService(4, func(m *types.ServiceManifest) { m.SlashFraction = dec("0.1") })
	committers := make([]string, len(ops))
	for i, op := range ops {
		committers[i] = s.fundAndCommit("c"+op[len(op)-4:], op, id, 1000)
	}
	tid := s.createTask(id)
	s.nextBlock()
	for _, op := range ops[:3] {
		s.requireAccepted(s.commitTo(op, tid, "A", 0))
	}
	s.nextBlock()
	ctx := s.withEvents()
	s.ctx = ctx
	o := s.reveal(ops[2], tid, "B", 0) // committed to A
	s.Require().ErrorIs(outcomeErr(o), types.ErrRevealMismatch)
	s.Require().Equal(int64(900), s.pool(ops[2], id).Total.Int64(), "slashed by slash_fraction 0.1")
	s.Require().Equal(int64(1000), s.pool(ops[0], id).Total.Int64())
	evs := s.slashedEvents(ctx)
	s.Require().Len(evs, 1)
	s.Require().Equal(ops[2], evs[0].Operator)
	s.Require().ErrorIs(outcomeErr(s.reveal(ops[2], tid, "A", 0)), types.ErrNoCommitment, "the commitment is spent: no second try")
	s.requireBalanced()

	// a salt that is not the committed one is the same fault
	o = s.submit(ops[1], types.TaskResult{TaskId: tid, Result: []byte("A"), Salt: bytes.Repeat([]byte{7}, 32)})
	s.Require().ErrorIs(outcomeErr(o), types.ErrRevealMismatch)
	s.Require().Equal(int64(900), s.pool(ops[1], id).Total.Int64())
}

// The commit phase runs to commit_deadline_height when the commitments do not
// meet the quorum; reveals open the block after.
func (s *KeeperTestSuite) TestCommitRevealPhaseEndsAtCommitDeadline() {
	id, ops := s.crService(4, nil)
	tid := s.createTask(id)
	task := s.task(tid)
	s.nextBlock()
	s.requireAccepted(s.commitTo(ops[0], tid, "A", 0))
	s.ctx = s.ctx.WithBlockHeight(task.CommitDeadlineHeight)
	s.requireAccepted(s.commitTo(ops[1], tid, "A", 0))
	s.Require().ErrorIs(outcomeErr(s.reveal(ops[0], tid, "A", 0)), types.ErrRevealTooEarly, "open until commit_deadline_height")
	s.nextBlock()
	s.Require().ErrorIs(outcomeErr(s.commitTo(ops[2], tid, "A", 0)), types.ErrCommitClosed)
	s.Require().Zero(s.task(tid).CommitsClosedHeight, "closed by its deadline, not by a quorum")
	s.requireAccepted(s.reveal(ops[0], tid, "A", 0))
	s.requireAccepted(s.reveal(ops[1], tid, "A", 0))
	s.Require().Equal(types.TASK_STATUS_PENDING, s.task(tid).Status, "2 of 4 revealed")
}

// MEDIAN and failure votes are tallied from the reveals as they are from
// votes in the clear.
func (s *KeeperTestSuite) TestCommitRevealMedianAndFailures() {
	s.Run("median", func() {
		s.SetupTest()
		id, ops := s.crService(4, func(m *types.ServiceManifest) {
			m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec("0.01")}
		})
		tid := s.createTask(id)
		s.nextBlock()
		values := []string{"100", "100.5", "99.8"}
		for i, v := range values {
			s.Require().Zero(s.task(tid).CommitsClosedHeight, "a MEDIAN at 0.51 is taken over 0.98 of the power: all four")
			s.requireAccepted(s.commitTo(ops[i], tid, v, 0))
		}
		s.requireAccepted(s.commitTo(ops[3], tid, "250", 0))
		s.Require().NotZero(s.task(tid).CommitsClosedHeight)
		s.nextBlock()
		s.requireAccepted(s.reveal(ops[3], tid, "250", 0))
		s.requireAccepted(s.reveal(ops[0], tid, values[0], 0))
		s.requireAccepted(s.reveal(ops[1], tid, values[1], 0))
		s.Require().Equal(types.TASK_STATUS_COMPLETED, s.requireAccepted(s.reveal(ops[2], tid, values[2], 0)))
		s.Require().Equal("100", string(s.task(tid).Result))
	})
	s.Run("failures", func() {
		s.SetupTest()
		id, ops := s.crService(4, nil)
		tid := s.createTask(id)
		s.nextBlock()
		for _, op := range ops[:3] {
			s.requireAccepted(s.commitTo(op, tid, "", types.FAILURE_REASON_TRAP))
		}
		other := s.createTask(id)
		s.nextBlock()
		s.requireAccepted(s.reveal(ops[0], tid, "", types.FAILURE_REASON_TRAP))
		s.requireAccepted(s.reveal(ops[1], tid, "", types.FAILURE_REASON_TRAP))
		s.Require().Equal(types.TASK_STATUS_FAILED, s.requireAccepted(s.reveal(ops[2], tid, "", types.FAILURE_REASON_TRAP)))
		s.Require().Equal(types.FAILURE_REASON_TRAP, s.task(tid).Failure)

		s.requireAccepted(s.commitTo(ops[0], other, "", types.FAILURE_REASON_TRAP))
		s.ctx = s.ctx.WithBlockHeight(s.task(other).CommitDeadlineHeight + 1)
		s.Require().ErrorIs(outcomeErr(s.reveal(ops[0], other, "", types.FAILURE_REASON_EXIT)), types.ErrRevealMismatch,
			"the failure reason is part of the commitment")
	})
}

// Entries that do not fit their task's vote mode are refused.
func (s *KeeperTestSuite) TestCommitRevealEntriesFitTheVoteMode() {
	crID, crOps := s.crService(4, nil)
	openID := s.createService(defaultManifest(s.serviceOf(crID).Manifest.ComponentDigest))
	s.allow(crOps[0], openID)
	s.optIn(crOps[0], openID)
	open := s.createTask(openID)
	s.Require().False(s.task(open).IsCommitReveal())
	s.nextBlock()
	s.Require().ErrorIs(outcomeErr(s.commitTo(crOps[0], open, "A", 0)), types.ErrVoteMode, "a commitment on an OPEN task")
	s.Require().ErrorIs(outcomeErr(s.reveal(crOps[0], open, "A", 0)), types.ErrVoteMode, "a salt on an OPEN task")

	tid := s.createTask(crID)
	s.nextBlock()
	for name, r := range map[string]types.TaskResult{
		"short commitment":          {TaskId: tid, Commitment: []byte("short")},
		"commitment with a result":  {TaskId: tid, Commitment: salt("x"), Result: []byte("A")},
		"commitment with a failure": {TaskId: tid, Commitment: salt("x"), Failure: types.FAILURE_REASON_TRAP},
		"commitment with a salt":    {TaskId: tid, Commitment: salt("x"), Salt: salt("x")},
	} {
		s.Require().ErrorIs(outcomeErr(s.submit(crOps[0], types.TaskResult(r))), types.ErrVoteMode, name)
	}
	s.Require().ErrorIs(outcomeErr(s.submit(crOps[0], types.TaskResult{TaskId: 999, Commitment: salt("x")})), types.ErrTaskNotFound)
	s.requireAccepted(s.commitTo(crOps[0], tid, "A", 0))
	s.ctx = s.ctx.WithBlockHeight(s.task(tid).CommitDeadlineHeight + 1)
	o := s.submit(crOps[0], types.TaskResult{TaskId: tid, Result: []byte("A"), Salt: []byte("short")})
	s.Require().ErrorIs(outcomeErr(o), types.ErrVoteMode, "a short salt")
	outsider := s.registerOperator("outsider")
	s.ctx = s.ctx.WithBlockHeight(s.task(tid).CreatedHeight + 1)
	s.Require().ErrorIs(outcomeErr(s.commitTo(outsider, tid, "A", 0)), types.ErrNotOptedIn)
	s.ctx = s.ctx.WithBlockHeight(s.task(tid).DeadlineHeight + 1)
	s.Require().ErrorIs(outcomeErr(s.reveal(crOps[0], tid, "A", 0)), types.ErrVotingClosed, "no reveal after the deadline")
}

// An export taken mid-phase imports: the commitments and the phase carry
// over, and the reveals decide the task on the imported chain.
func (s *KeeperTestSuite) TestCommitRevealGenesisMidPhase() {
	id, ops := s.crService(4, nil)
	tid := s.createTask(id)
	s.nextBlock()
	for _, op := range ops[:3] {
		s.requireAccepted(s.commitTo(op, tid, "A", 0))
	}
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	s.Require().Len(gs.VoteCommits, 3)
	s.Require().NoError(gs.Validate())

	e := s.newEnv()
	for a, c := range s.bank.Balances {
		e.bank.Balances[a] = c
	}
	s.Require().NoError(e.keeper.InitGenesis(e.ctx, gs))
	again, err := e.keeper.ExportGenesis(e.ctx)
	s.Require().NoError(err)
	s.Require().Equal(gs, again)

	// the imported chain takes the reveals
	s.keeper, s.msgServer, s.bank = e.keeper, e.msgServer, e.bank
	s.ctx = e.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1).WithChainID(s.ctx.ChainID())
	s.requireAccepted(s.reveal(ops[0], tid, "A", 0))
	s.requireAccepted(s.reveal(ops[1], tid, "A", 0))
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.requireAccepted(s.reveal(ops[2], tid, "A", 0)))

	bad := *gs
	bad.VoteCommits = append([]types.VoteCommit(nil), gs.VoteCommits...)
	bad.VoteCommits[0].Commitment = []byte("short")
	s.Require().ErrorContains(bad.Validate(), "commitment of 5 bytes")
	bad.VoteCommits = append([]types.VoteCommit(nil), gs.VoteCommits...)
	bad.VoteCommits = append(bad.VoteCommits, gs.VoteCommits[0])
	s.Require().ErrorContains(bad.Validate(), "appears twice")
	bad.VoteCommits = []types.VoteCommit{gs.VoteCommits[0]}
	bad.VoteCommits[0].TaskId = 12345
	s.Require().ErrorContains(bad.Validate(), "vote commit names unknown task 12345")
}

// A commitment never revealed is deleted with its task when the task is
// pruned.
func (s *KeeperTestSuite) TestCommitRevealUnrevealedCommitmentPrunedWithTask() {
	const retention = 10
	s.setParams(func(p *types.Params) { p.TaskRetentionBlocks = retention })
	id, ops := s.crService(4, nil)
	tid := s.createTask(id)
	s.nextBlock()
	s.requireAccepted(s.commitTo(ops[0], tid, "A", 0))
	d := s.task(tid).DeadlineHeight
	s.endBlockAt(d)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(tid).Status)
	s.schedulePrune(tid)
	s.Require().Equal([]uint64{tid}, s.pruneAt(d+retention))
	has, err := s.keeper.VoteCommits.Has(s.ctx, collections.Join(tid, ops[0]))
	s.Require().NoError(err)
	s.Require().False(has, "the commitment went with its task")
}
