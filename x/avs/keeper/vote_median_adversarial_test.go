package keeper_test

import (
	"fmt"

	"github.com/avschain/avschain/x/avs/types"
)

// MEDIAN under inputs a test review found untested: power-weighted medians,
// a median of zero, negative values, and an even split. Every expectation is
// worked by hand in the row's comment.
func (s *KeeperTestSuite) TestMedianAdversarial() {
	type vote struct {
		op     int
		result string
	}
	testCases := []struct {
		name      string
		weighting types.Weighting
		stakes    []int64 // each operator's one committer, 1000 when nil
		votes     []vote
		// the vote (1-based) that completes the task; 0: none does
		completesAt int
		result      string // the median's value (numerically)
		powerFor    uint64
		slashed     []int // operators whose committer lost 10%
	}{
		{
			// total 8000; the median waits for 0.8 of it (6400), so for op1.
			// Sorted 100 (1000) ×3, 200 (5000): 200 is where the cumulative
			// power passes half. Only op1 is within 1% of 200: 5000/8000 =
			// 0.625 ≥ 0.6, and the three that agree with each other lose.
			name: "STAKE: the heavy operator's value is the median", weighting: types.WEIGHTING_STAKE,
			stakes:      []int64{5000, 1000, 1000, 1000},
			votes:       []vote{{1, "100"}, {2, "100"}, {3, "100"}, {0, "200"}},
			completesAt: 4, result: "200", powerFor: 5000, slashed: []int{1, 2, 3},
		},
		{
			// the same votes, the stake the other way: 100 decides with 7000
			name: "STAKE: the light operator's outlier moves nothing", weighting: types.WEIGHTING_STAKE,
			stakes:      []int64{1000, 3000, 2000, 2000},
			votes:       []vote{{1, "100"}, {2, "100"}, {3, "100"}, {0, "200"}},
			completesAt: 3, result: "100", powerFor: 7000, slashed: []int{0},
		},
		{
			// a relative spread around 0 is 0: after four votes the lower
			// median is 0 and only the three exact zeros ("0.0" is one)
			// agree, 3/5 = 0.6; 0.001 and the late -0.001 lose and are slashed
			name: "EQUAL: a median of 0 takes only exact zeros", weighting: types.WEIGHTING_EQUAL,
			votes:       []vote{{0, "0"}, {1, "0.0"}, {2, "0"}, {3, "0.001"}, {4, "-0.001"}},
			completesAt: 4, result: "0", powerFor: 3, slashed: []int{3, 4},
		},
		{
			// after four: -100.5 -100 -99.8 50, lower median -100 (1% is 1):
			// three agree; 50 and the late -150 are beyond 5% and slashed
			name: "EQUAL: a negative median with a spread", weighting: types.WEIGHTING_EQUAL,
			votes:       []vote{{0, "-100"}, {1, "-100.5"}, {2, "-99.8"}, {3, "50"}, {4, "-150"}},
			completesAt: 4, result: "-100", powerFor: 3, slashed: []int{3, 4},
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			m := medianManifest("", "0.6", "0.01")
			m.Quorum.Weighting = tc.weighting
			m.Aggregation.SlashableSpread = dec("0.05")
			if tc.weighting == types.WEIGHTING_EQUAL {
				m.Aggregation.SlashableSpread = dec("0.01")
			}
			m.SlashFraction = dec("0.1")
			m.TaskTimeout = 20
			n := len(tc.stakes)
			if n == 0 {
				n = 5
			}
			id, ops := s.setupService(m, n)
			committers := make([]string, n)
			stakes := make([]int64, n)
			for i, op := range ops {
				stakes[i] = 1000
				if tc.stakes != nil {
					stakes[i] = tc.stakes[i]
				}
				committers[i] = s.fundAndCommit(fmt.Sprintf("c%d", i), op, id, stakes[i])
			}
			tid := s.createTask(id)
			for i, v := range tc.votes {
				status := s.mustVote(ops[v.op], tid, v.result)
				if tc.completesAt == 0 || i+1 < tc.completesAt {
					s.Require().Equal(types.TASK_STATUS_PENDING, status, "vote %d", i+1)
				} else {
					s.Require().Equal(types.TASK_STATUS_COMPLETED, status, "vote %d", i+1)
				}
			}
			task := s.task(tid)
			slashed := map[int]bool{}
			for _, i := range tc.slashed {
				slashed[i] = true
			}
			if tc.completesAt > 0 {
				got, err := types.ParseNumericResult(task.Result)
				s.Require().NoError(err)
				s.Require().True(dec(tc.result).Equal(got), "median %s, want %s", got, tc.result)
				s.Require().Equal(tc.powerFor, task.PowerFor)
			}
			for i, op := range ops {
				want := stakes[i]
				if slashed[i] {
					want -= stakes[i] / 10
				}
				s.Require().Equal(want, s.committed(op, id, committers[i]), "operator %d's committer", i+1)
			}
			s.requireBalanced()
		})
	}
}

// An even split that the lower median cannot carry: four equal operators,
// 10 10 20 20. The median waits for every vote (max(0.51, 0.98)); the lower
// median 10 has 2/4 = 0.5 < 0.51. The task stays pending to its deadline and
// expires: nobody is paid and nobody slashed, whichever half was right.
func (s *KeeperTestSuite) TestMedianEvenSplitDecidesNothing() {
	m := medianManifest("", "0.51", "0.01")
	m.SlashFraction = dec("0.1")
	m.TaskTimeout = 5
	id, ops := s.setupService(m, 4)
	committers := make([]string, len(ops))
	for i, op := range ops {
		committers[i] = s.fundAndCommit(fmt.Sprintf("c%d", i), op, id, 1000)
	}
	creator := s.creator()
	before := s.balance(creator)
	tid := s.createTask(id)
	for i, v := range []string{"10", "20", "10", "20"} {
		s.Require().Equal(types.TASK_STATUS_PENDING, s.mustVote(ops[i], tid, v), "vote %d", i+1)
	}
	s.endBlockAt(s.task(tid).DeadlineHeight)
	s.Require().Equal(types.TASK_STATUS_EXPIRED, s.task(tid).Status)
	s.Require().Equal(before, s.balance(creator), "the fee came back")
	for i, op := range ops {
		s.Require().Equal(int64(1000), s.committed(op, id, committers[i]), "operator %d", i+1)
		s.Require().True(s.earned(op).IsZero(), "operator %d earned nothing", i+1)
	}
	s.Require().True(s.bank.Burned(denom).IsZero())
	s.requireBalanced()
}
