package keeper_test

import (
	"sort"

	"cosmossdk.io/collections"

	"github.com/avschain/avschain/x/avs/types"
)

// Five operators at threshold 0.6 and spread 1%: the two outliers neither
// move the median nor share the fee, whatever order the votes come in.
func (s *KeeperTestSuite) TestMedianOutliers() {
	testCases := []struct {
		name string
		// votes[i] is op(i+1)'s vote, cast in the order given by order
		votes []string
		order []int
		// the vote, 1-based in casting order, that completes the task
		completesAt int
	}{
		{
			// the median waits for 0.8 of the power (M-6: max(0.6, 2·0.4))
			name:        "votes as listed: the fourth completes, the last outlier comes late",
			votes:       []string{"100", "100.5", "99.8", "500", "0"},
			order:       []int{0, 1, 2, 3, 4},
			completesAt: 4,
		},
		{
			name:        "outliers first: they hold nothing up and the last completes",
			votes:       []string{"100", "100.5", "99.8", "500", "0"},
			order:       []int{3, 4, 0, 1, 2},
			completesAt: 5,
		},
		{
			name:        "interleaved",
			votes:       []string{"100", "100.5", "99.8", "500", "0"},
			order:       []int{1, 3, 0, 4, 2},
			completesAt: 5,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id, ops := s.setupService(medianManifest("", "0.6", "0.01"), 5)
			total := s.bank.Total(denom)
			tid := s.createTask(id)

			for n, i := range tc.order {
				status := s.mustVote(ops[i], tid, tc.votes[i])
				if n+1 < tc.completesAt {
					s.Require().Equal(types.TASK_STATUS_PENDING, status, "vote %d", n+1)
				} else {
					s.Require().Equal(types.TASK_STATUS_COMPLETED, status, "vote %d", n+1)
				}
			}

			task := s.task(tid)
			s.Require().Equal(types.TASK_STATUS_COMPLETED, task.Status)
			s.Require().Equal([]byte("100"), task.Result, "the median vote's own bytes")
			s.Require().Equal(types.Digest([]byte("100")), task.ResultDigest)
			s.Require().Equal(uint64(3), task.PowerFor)

			backers := []string{ops[0], ops[1], ops[2]}
			sort.Strings(backers)
			s.Require().Equal(int64(34), s.earned(backers[0]).Int64())
			s.Require().Equal(int64(33), s.earned(backers[1]).Int64())
			s.Require().Equal(int64(33), s.earned(backers[2]).Int64())
			s.Require().True(s.earned(ops[3]).IsZero(), "500 is an outlier")
			s.Require().True(s.earned(ops[4]).IsZero(), "0 is an outlier")
			s.Require().Equal(s.heldForOperators(), s.moduleBalance(), "the module holds only the operators' claimable rewards")
			s.Require().Equal(total, s.bank.Total(denom))
		})
	}
}

// A result within the spread of a median counts for it even when written
// differently (trailing newline, trailing zeros); the median vote's bytes win.
func (s *KeeperTestSuite) TestMedianEquivalentForms() {
	id, ops := s.setupService(medianManifest("", "1", "0"), 3)
	tid := s.createTask(id)
	s.mustVote(ops[0], tid, "42.000\n")
	s.mustVote(ops[1], tid, " 42")
	s.Require().Equal(types.TASK_STATUS_COMPLETED, s.mustVote(ops[2], tid, "42.0"))
	task := s.task(tid)
	s.Require().Equal(uint64(3), task.PowerFor)
	// equal values are ordered by operator address; the lower median is the second
	byOp := map[string]string{ops[0]: "42.000\n", ops[1]: " 42", ops[2]: "42.0"}
	sorted := append([]string(nil), ops...)
	sort.Strings(sorted)
	s.Require().Equal(byOp[sorted[1]], string(task.Result))
}

func (s *KeeperTestSuite) TestMedianInvalidResult() {
	id, ops := s.setupService(medianManifest("", "0.6", "0.01"), 5)
	tid := s.createTask(id)

	for _, bad := range []string{"abc", "", "  \n", "1e5", "0x10", "NaN", "100 USD", "1.0000000000000000001"} {
		before := s.state()
		o := s.vote(ops[0], tid, bad)
		s.Require().ErrorIs(outcomeErr(o), types.ErrInvalidResult, "%q", bad)
		s.Require().Equal(types.TASK_STATUS_PENDING, o.TaskStatus)
		s.requireUnchanged(before)
	}

	// Rejection is per entry: in one message a bad entry leaves a good one standing.
	t2 := s.createTask(id)
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{Operator: ops[0], Results: []types.TaskResult{
		{TaskId: tid, Result: []byte("one hundred")},
		{TaskId: t2, Result: []byte("100")},
	}})
	s.Require().NoError(err)
	s.Require().Len(res.Outcomes, 2)
	s.Require().ErrorIs(outcomeErr(res.Outcomes[0]), types.ErrInvalidResult)
	s.Require().Equal(types.ErrInvalidResult.ABCICode(), res.Outcomes[0].Code)
	s.Require().True(res.Outcomes[1].Accepted)

	has, err := s.keeper.Votes.Has(s.ctx, collections.Join(tid, ops[0]))
	s.Require().NoError(err)
	s.Require().False(has)
	has, err = s.keeper.Votes.Has(s.ctx, collections.Join(t2, ops[0]))
	s.Require().NoError(err)
	s.Require().True(has)

	// the operator can still vote properly on the task it got wrong
	s.mustVote(ops[0], tid, "100")
}
