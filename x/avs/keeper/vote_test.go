package keeper_test

import (
	"bytes"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	"github.com/avschain/avschain/x/avs/types"
)

// Failures that concern the whole message refuse it outright.
func (s *KeeperTestSuite) TestSubmitResultsMessageChecks() {
	var (
		tid uint64
		ops []string
	)
	entries := func(n int) []types.TaskResult {
		out := make([]types.TaskResult, n)
		for i := range out {
			out[i] = types.TaskResult{TaskId: tid, Result: []byte("A")}
		}
		return out
	}
	setMaxVotes := func(n uint32) {
		p, err := s.keeper.Params.Get(s.ctx)
		s.Require().NoError(err)
		p.MaxVotesPerTx = n
		s.Require().NoError(s.keeper.Params.Set(s.ctx, p))
	}
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgSubmitResults)
		expErr   *errorsmod.Error
	}{
		{name: "success: one entry", malleate: func(*types.MsgSubmitResults) {}},
		{
			name: "success: exactly max_votes_per_tx entries",
			malleate: func(msg *types.MsgSubmitResults) {
				setMaxVotes(3)
				msg.Results = entries(3)
			},
		},
		{
			name:     "failure: unregistered operator",
			malleate: func(msg *types.MsgSubmitResults) { msg.Operator = addr("nobody") },
			expErr:   types.ErrOperatorNotFound,
		},
		{
			name:     "failure: operator is not an address",
			malleate: func(msg *types.MsgSubmitResults) { msg.Operator = "op1" },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: no results",
			malleate: func(msg *types.MsgSubmitResults) { msg.Results = nil },
			expErr:   types.ErrTooManyResults,
		},
		{
			name: "failure: more than max_votes_per_tx results",
			malleate: func(msg *types.MsgSubmitResults) {
				setMaxVotes(3)
				msg.Results = entries(4)
			},
			expErr: types.ErrTooManyResults,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			var id uint64
			id, ops = s.exactService("0.75", 0, 4)
			tid = s.createTask(id)
			msg := &types.MsgSubmitResults{Operator: ops[0], Results: entries(1)}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			res, err := s.msgServer.SubmitResults(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Nil(res)
				s.requireUnchanged(before)
				s.Require().Empty(ctx.EventManager().Events())
				return
			}
			s.Require().NoError(err)
			s.Require().Len(res.Outcomes, len(msg.Results))
			s.Require().True(res.Outcomes[0].Accepted)
			for _, o := range res.Outcomes[1:] {
				s.Require().ErrorIs(outcomeErr(o), types.ErrDuplicateVote)
			}
		})
	}
}

// Each entry is judged on its own: a bad one between two good ones is
// reported in the response and an event, and the good ones stand.
func (s *KeeperTestSuite) TestSubmitResultsEntryChecks() {
	var (
		ops        []string
		t1, t2, t3 uint64
	)
	maxResult := types.DefaultParams().MaxResultSize
	testCases := []struct {
		name string
		// bad returns the middle entry and may change state first
		bad     func() types.TaskResult
		expErr  *errorsmod.Error
		expCode uint32
	}{
		{
			name:    "unknown task",
			bad:     func() types.TaskResult { return types.TaskResult{TaskId: 999, Result: []byte("A")} },
			expErr:  types.ErrTaskNotFound,
			expCode: 20,
		},
		{
			name: "result over max_result_size",
			bad: func() types.TaskResult {
				return types.TaskResult{TaskId: t2, Result: bytes.Repeat([]byte{'A'}, int(maxResult)+1)}
			},
			expErr:  types.ErrResultTooLarge,
			expCode: 24,
		},
		{
			name: "already voted",
			bad: func() types.TaskResult {
				s.mustVote(ops[0], t2, "A")
				return types.TaskResult{TaskId: t2, Result: []byte("A")}
			},
			expErr:  types.ErrDuplicateVote,
			expCode: 21,
		},
		{
			name: "task of a service the operator is not in",
			bad: func() types.TaskResult {
				other := s.createService(defaultManifest(types.Digest(validWasm())))
				s.optIn(s.registerOperator("solo"), other)
				return types.TaskResult{TaskId: s.createTask(other), Result: []byte("A")}
			},
			expErr:  types.ErrNotOptedIn,
			expCode: 15,
		},
		{
			name: "voting closed",
			bad: func() types.TaskResult {
				s.ctx = s.ctx.WithBlockHeight(15)
				m := defaultManifest(types.Digest(validWasm()))
				m.TaskTimeout = 1
				short := s.createService(m)
				s.optIn(ops[0], short)
				t := s.createTask(short)
				s.ctx = s.ctx.WithBlockHeight(17)
				return types.TaskResult{TaskId: t, Result: []byte("A")}
			},
			expErr:  types.ErrVotingClosed,
			expCode: 22,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			var id uint64
			id, ops = s.exactService("0.75", 0, 4)
			t1, t2, t3 = s.createTask(id), s.createTask(id), s.createTask(id)
			bad := tc.bad()
			before := s.state()

			ctx := s.withEvents()
			res, err := s.msgServer.SubmitResults(ctx, &types.MsgSubmitResults{Operator: ops[0], Results: []types.TaskResult{
				{TaskId: t1, Result: []byte("A")}, bad, {TaskId: t3, Result: []byte("A")},
			}})
			s.Require().NoError(err)
			s.Require().Len(res.Outcomes, 3)
			s.Require().True(res.Outcomes[0].Accepted)
			s.Require().True(res.Outcomes[2].Accepted)
			o := res.Outcomes[1]
			s.Require().False(o.Accepted)
			s.Require().Equal(bad.TaskId, o.TaskId)
			s.Require().Equal(types.ModuleName, o.Codespace)
			s.Require().Equal(tc.expCode, o.Code)
			s.Require().Equal(tc.expErr.ABCICode(), o.Code)
			s.Require().NotEmpty(o.Error)
			s.Require().ErrorIs(outcomeErr(o), tc.expErr)

			for _, t := range []uint64{t1, t3} {
				v, err := s.keeper.Votes.Get(s.ctx, collections.Join(t, ops[0]))
				s.Require().NoError(err)
				s.Require().Equal([]byte("A"), v.Result)
			}
			// nothing but the two good votes and their tallies changed
			after := s.state()
			s.Require().Len(after.Genesis.Votes, len(before.Genesis.Votes)+2)
			after.Genesis.Votes, before.Genesis.Votes = nil, nil
			s.Require().Len(after.Tallies, len(before.Tallies)+2)
			after.Tallies, before.Tallies = nil, nil
			// ... and the voter's answers in the tasks' epoch (liveness)
			after.Genesis.EpochAnswers, before.Genesis.EpochAnswers = nil, nil
			// in the raw store too: nothing of the refused entry
			s.Require().Equal([]string{"epoch_answers", "tallies", "votes"}, changedCollections(before.Store, after.Store))
			after.Store, before.Store = nil, nil
			s.Require().Equal(before, after)

			rejected := s.typedEvents(ctx, &types.EventVoteRejected{})
			s.Require().Len(rejected, 1)
			ev := rejected[0].(*types.EventVoteRejected)
			s.Require().Equal(&types.EventVoteRejected{
				TaskId: bad.TaskId, Operator: ops[0], Codespace: types.ModuleName, Code: tc.expCode, Reason: o.Error,
			}, ev)
			s.Require().Len(s.typedEvents(ctx, &types.EventVoteAccepted{}), 2)
		})
	}
}
