package keeper_test

import (
	"bytes"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/avschain/avschain/x/avs/types"
)

func (s *KeeperTestSuite) TestCreateTask() {
	var (
		id   uint64
		ops  []string
		poor = addr("poor")
	)
	maxInput := types.DefaultParams().MaxInputSize
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgCreateTask)
		expErr   *errorsmod.Error
		// a refused task that still took the epoch's power snapshot
		// success only
		expDeadline int64
		expEscrow   int64
		expTotal    uint64
	}{
		{name: "success: exact fee", malleate: func(*types.MsgCreateTask) {}, expDeadline: 30, expEscrow: defaultFee, expTotal: 2},
		{
			name:        "success: more than the fee, all escrowed",
			malleate:    func(msg *types.MsgCreateTask) { msg.Fee = sdk.NewInt64Coin(denom, 250) },
			expDeadline: 30, expEscrow: 250, expTotal: 2,
		},
		{
			name:        "success: input of exactly max_input_size",
			malleate:    func(msg *types.MsgCreateTask) { msg.Input = bytes.Repeat([]byte{'x'}, int(maxInput)) },
			expDeadline: 30, expEscrow: defaultFee, expTotal: 2,
		},
		{
			name: "success: service without a timeout takes default_task_timeout",
			malleate: func(msg *types.MsgCreateTask) {
				m := defaultManifest(types.Digest(validWasm()))
				id2 := s.createService(m)
				s.optIn(ops[0], id2)
				msg.ServiceId = id2
			},
			expDeadline: 10 + int64(types.DefaultTaskTimeout), expEscrow: defaultFee, expTotal: 1,
		},
		{
			name: "success: free service, no fee given",
			malleate: func(msg *types.MsgCreateTask) {
				m := defaultManifest(types.Digest(validWasm()))
				m.FeePerTask = sdk.Coin{}
				id2 := s.createService(m)
				s.optIn(ops[0], id2)
				msg.ServiceId, msg.Fee, msg.Creator = id2, sdk.Coin{}, poor
			},
			expDeadline: 60, expEscrow: 0, expTotal: 1,
		},
		{
			name: "failure: paused service",
			malleate: func(*types.MsgCreateTask) {
				_, err := s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: addr("owner"), ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
				s.Require().NoError(err)
			},
			expErr: types.ErrServicePaused,
		},
		{
			name:     "failure: input one byte over max_input_size",
			malleate: func(msg *types.MsgCreateTask) { msg.Input = bytes.Repeat([]byte{'x'}, int(maxInput)+1) },
			expErr:   types.ErrInputTooLarge,
		},
		{
			name:     "failure: fee below the service's",
			malleate: func(msg *types.MsgCreateTask) { msg.Fee = sdk.NewInt64Coin(denom, defaultFee-1) },
			expErr:   types.ErrInsufficientFee,
		},
		{
			name:     "failure: fee in another denom",
			malleate: func(msg *types.MsgCreateTask) { msg.Fee = sdk.NewInt64Coin("uatom", 1_000) },
			expErr:   types.ErrInsufficientFee,
		},
		{
			name:     "failure: no fee for a paid service",
			malleate: func(msg *types.MsgCreateTask) { msg.Fee = sdk.Coin{} },
			expErr:   types.ErrInsufficientFee,
		},
		{
			name:     "failure: negative fee",
			malleate: func(msg *types.MsgCreateTask) { msg.Fee = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-100)} },
			expErr:   types.ErrInvalidFee,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgCreateTask) { msg.ServiceId = 99 },
			expErr:   types.ErrServiceNotFound,
		},
		{
			name: "failure: service without operators",
			malleate: func(msg *types.MsgCreateTask) {
				msg.ServiceId = s.createService(defaultManifest(types.Digest(validWasm())))
			},
			expErr: types.ErrNoOperators,
		},
		{
			name: "failure: every operator opted out",
			malleate: func(*types.MsgCreateTask) {
				s.optOut(ops[0], id)
				s.optOut(ops[1], id)
			},
			expErr: types.ErrNoOperators,
		},
		{
			name:     "failure: creator cannot pay",
			malleate: func(msg *types.MsgCreateTask) { msg.Creator = poor },
			expErr:   sdkerrors.ErrInsufficientFunds,
		},
		{
			name:     "failure: creator is not an address",
			malleate: func(msg *types.MsgCreateTask) { msg.Creator = "creator" },
			expErr:   types.ErrInvalidAddress,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			m := defaultManifest("")
			m.TaskTimeout = 20
			id, ops = s.setupService(m, 2)
			msg := &types.MsgCreateTask{Creator: s.creator(), ServiceId: id, Input: []byte("hello"), Fee: sdk.NewInt64Coin(denom, defaultFee)}
			tc.malleate(msg)
			before := s.state()
			total := s.bank.Total(denom)
			creatorBefore := sdkmath.ZeroInt()
			if tc.expErr == nil {
				creatorBefore = s.balance(msg.Creator)
			}
			moduleBefore := s.moduleBalance()

			ctx := s.withEvents()
			res, err := s.msgServer.CreateTask(ctx, msg)
			s.Require().Equal(total, s.bank.Total(denom), "tokens are moved, never made or burnt")
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Nil(res)
				// Nothing is written, the power snapshot included: callers
				// outside a transaction (triggers) must not fix an epoch's
				// operator set with a task that was never created.
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			s.Require().Equal(uint64(1), res.TaskId)
			s.Require().Equal(tc.expDeadline, res.DeadlineHeight)

			task := s.task(res.TaskId)
			s.Require().Equal(msg.ServiceId, task.ServiceId)
			s.Require().Equal(msg.Input, task.Input)
			s.Require().Equal(msg.Creator, task.Creator)
			s.Require().Equal(types.Origin{Kind: types.ORIGIN_KIND_TX}, task.Origin)
			s.Require().Equal(int64(10), task.CreatedHeight)
			s.Require().True(s.ctx.BlockTime().Equal(task.CreatedTime))
			s.Require().Equal(tc.expDeadline, task.DeadlineHeight)
			s.Require().Equal(types.TASK_STATUS_PENDING, task.Status)
			s.Require().Equal(tc.expEscrow, task.Fee.Amount.Int64())
			s.Require().Equal(uint64(0), task.Epoch)
			s.Require().Equal(tc.expTotal, task.PowerTotal)
			s.Require().Equal(types.Digest(validWasm()), task.ComponentDigest)
			s.Require().Empty(task.Result)

			s.Require().Equal(creatorBefore.SubRaw(tc.expEscrow), s.balance(msg.Creator))
			s.Require().Equal(moduleBefore.AddRaw(tc.expEscrow), s.moduleBalance())

			for _, has := range []func() (bool, error){
				func() (bool, error) {
					return s.keeper.TasksByDeadline.Has(s.ctx, collections.Join(task.DeadlineHeight, task.Id))
				},
				func() (bool, error) {
					return has(s, s.keeper.Tasks.Indexes.ByService, task.ServiceId, task.Id)
				},
				func() (bool, error) {
					return has(s, s.keeper.Tasks.Indexes.ByServiceStatus, collections.Join(task.ServiceId, int32(types.TASK_STATUS_PENDING)), task.Id)
				},
			} {
				ok, err := has()
				s.Require().NoError(err)
				s.Require().True(ok)
			}
			evs := s.typedEvents(ctx, &types.EventTaskCreated{})
			s.Require().Len(evs, 1)
			ev := evs[0].(*types.EventTaskCreated)
			s.Require().Equal(task.Id, ev.TaskId)
			s.Require().Equal(task.DeadlineHeight, ev.DeadlineHeight)
			s.Require().True(task.Fee.Amount.Equal(ev.Fee.Amount))
			// What a sidecar runs the task with, without Query/Task.
			if len(msg.Input) <= types.MaxEventInputBytes {
				s.Require().True(ev.InputInEvent)
				s.Require().Equal(msg.Input, ev.Input)
			} else {
				s.Require().False(ev.InputInEvent, "an input over MaxEventInputBytes is left to Query/Task")
				s.Require().Empty(ev.Input)
			}
			s.Require().Equal(task.Epoch, ev.Epoch)
			s.Require().Equal(task.ServiceRevision, ev.ServiceRevision)
			s.Require().NotZero(ev.ServiceRevision)
			s.Require().Equal(task.Origin, ev.Origin)
			s.Require().True(task.CreatedTime.Equal(ev.CreatedTime))
			s.Require().Equal(task.ComponentDigest, ev.ComponentDigest)
		})
	}
}

// TestTaskCreatedEventInput: the event carries the input up to
// MaxEventInputBytes, an empty one included (input_in_event tells it from a
// missing one); a longer input is left to Query/Task.
func (s *KeeperTestSuite) TestTaskCreatedEventInput() {
	for _, tc := range []struct {
		name    string
		input   []byte
		inEvent bool
	}{
		{name: "empty", input: nil, inEvent: true},
		{name: "at the bound", input: bytes.Repeat([]byte("a"), types.MaxEventInputBytes), inEvent: true},
		{name: "over the bound", input: bytes.Repeat([]byte("a"), types.MaxEventInputBytes+1), inEvent: false},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			m := defaultManifest("")
			m.TaskTimeout = 20
			id, _ := s.setupService(m, 1)
			ctx := s.withEvents()
			res, err := s.msgServer.CreateTask(ctx, &types.MsgCreateTask{
				Creator: s.creator(), ServiceId: id, Input: tc.input, Fee: sdk.NewInt64Coin(denom, defaultFee),
			})
			s.Require().NoError(err)
			evs := s.typedEvents(ctx, &types.EventTaskCreated{})
			s.Require().Len(evs, 1)
			ev := evs[0].(*types.EventTaskCreated)
			s.Require().Equal(res.TaskId, ev.TaskId)
			s.Require().Equal(tc.inEvent, ev.InputInEvent)
			if tc.inEvent {
				s.Require().Len(ev.Input, len(tc.input))
				s.Require().Equal(string(tc.input), string(ev.Input))
			} else {
				s.Require().Empty(ev.Input)
				s.Require().Equal(tc.input, s.task(res.TaskId).Input, "the task keeps its whole input")
			}
		})
	}
}

// Task ids count up across services and the deadline follows the height.
func (s *KeeperTestSuite) TestCreateTaskIdsAndDeadlines() {
	m := defaultManifest("")
	m.TaskTimeout = 7
	id, _ := s.setupService(m, 1)
	s.Require().Equal(uint64(1), s.createTask(id))
	s.ctx = s.ctx.WithBlockHeight(42)
	t2 := s.createTask(id)
	s.Require().Equal(uint64(2), t2)
	s.Require().Equal(int64(49), s.task(t2).DeadlineHeight)
	s.Require().Equal(int64(42), s.task(t2).CreatedHeight)
}

// Rewards are accounted (pool outstanding, withdrawals) in the stake denom,
// so a task fee in another denom must be refused, also on a free service,
// where no fee_per_task pins the denom: a tip of 1000uatom must not credit
// 1000 to its committers' pool, which they could withdraw as 1000uavs out of
// other committers' stake.
func (s *KeeperTestSuite) TestFeeInAnotherDenomRefused() {
	m := defaultManifest("")
	m.FeePerTask = sdk.Coin{}
	m.TaskTimeout = 20
	id, ops := s.setupService(m, 1)
	alice := s.fundAndCommit("alice", ops[0], id, 100)
	s.fundAndCommit("bob", ops[0], s.createService(defaultManifest(types.Digest(validWasm()))), 5000)
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)
	s.bank.Fund(acc("creator"), sdk.NewCoins(sdk.NewInt64Coin("uatom", 1000)))

	before := s.stakeState()
	_, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: sdk.NewInt64Coin("uatom", 1000),
	})
	s.Require().ErrorIs(err, types.ErrWrongDenom)
	s.requireStakeUnchanged(before)

	// a tip in the stake denom is fine and rewards the committers
	res, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: id, Input: []byte("x"), Fee: stake(1000),
	})
	s.Require().NoError(err)
	s.mustVote(ops[0], res.TaskId, "A")
	s.Require().Equal(int64(1000), s.pendingRewards(alice))
	s.requireBalanced()
}

// MsgCreateTasks opens one task per input, with consecutive ids, one escrow of
// fee × inputs and one event per task; it creates all or none.
func (s *KeeperTestSuite) TestCreateTasks() {
	maxInput := types.DefaultParams().MaxInputSize
	inputs := [][]byte{[]byte("a"), []byte("bb"), []byte("ccc")}
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgCreateTasks)
		expErr   *errorsmod.Error
	}{
		{name: "success", malleate: func(*types.MsgCreateTasks) {}},
		{name: "failure: no input", malleate: func(msg *types.MsgCreateTasks) { msg.Inputs = nil }, expErr: types.ErrTooManyTasks},
		{
			name: "failure: more inputs than max_tasks_per_msg",
			malleate: func(msg *types.MsgCreateTasks) {
				p := s.params()
				p.MaxTasksPerMsg = 2
				s.Require().NoError(s.keeper.Params.Set(s.ctx, p))
			},
			expErr: types.ErrTooManyTasks,
		},
		{
			name:     "failure: the last input over max_input_size",
			malleate: func(msg *types.MsgCreateTasks) { msg.Inputs[2] = bytes.Repeat([]byte{'x'}, int(maxInput)+1) },
			expErr:   types.ErrInputTooLarge,
		},
		{
			name:     "failure: fee per task below the service's",
			malleate: func(msg *types.MsgCreateTasks) { msg.FeePerTask = sdk.NewInt64Coin(denom, defaultFee-1) },
			expErr:   types.ErrInsufficientFee,
		},
		{
			name: "failure: creator can pay two of the three",
			malleate: func(msg *types.MsgCreateTasks) {
				msg.Creator = addr("poor")
				s.bank.Fund(acc("poor"), sdk.NewCoins(sdk.NewInt64Coin(denom, 2*defaultFee)))
			},
			expErr: sdkerrors.ErrInsufficientFunds,
		},
		{name: "failure: creator is not an address", malleate: func(msg *types.MsgCreateTasks) { msg.Creator = "creator" }, expErr: types.ErrInvalidAddress},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			m := defaultManifest("")
			m.TaskTimeout = 20
			id, _ := s.setupService(m, 2)
			first := s.createTask(id) // ids go on from the sequence
			msg := &types.MsgCreateTasks{Creator: s.creator(), ServiceId: id, Inputs: slices.Clone(inputs), FeePerTask: sdk.NewInt64Coin(denom, defaultFee)}
			tc.malleate(msg)
			before, moduleBefore := s.state(), s.moduleBalance()
			creatorBefore := sdkmath.ZeroInt()
			if tc.expErr == nil {
				creatorBefore = s.balance(msg.Creator)
			}

			ctx := s.withEvents()
			res, err := s.msgServer.CreateTasks(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Nil(res)
				s.requireUnchanged(before)
				s.Require().Equal(moduleBefore, s.moduleBalance())
				return
			}
			s.Require().NoError(err)
			s.Require().Equal([]uint64{first + 1, first + 2, first + 3}, res.TaskIds)
			s.Require().Equal(int64(30), res.DeadlineHeight)
			for i, tid := range res.TaskIds {
				task := s.task(tid)
				s.Require().Equal(inputs[i], task.Input)
				s.Require().Equal(msg.Creator, task.Creator)
				s.Require().Equal(types.TASK_STATUS_PENDING, task.Status)
				s.Require().Equal(int64(defaultFee), task.Fee.Amount.Int64())
				s.Require().Equal(int64(30), task.DeadlineHeight)
			}
			s.Require().Equal(creatorBefore.SubRaw(3*defaultFee), s.balance(msg.Creator))
			s.Require().Equal(moduleBefore.AddRaw(3*defaultFee), s.moduleBalance())
			evs := s.typedEvents(ctx, &types.EventTaskCreated{})
			s.Require().Len(evs, 3)
			for i, ev := range evs {
				s.Require().Equal(res.TaskIds[i], ev.(*types.EventTaskCreated).TaskId)
				s.Require().Equal(inputs[i], ev.(*types.EventTaskCreated).Input)
			}
			counts, err := s.keeper.EpochTasks.Get(s.ctx, collections.Join(id, uint64(0)))
			s.Require().NoError(err)
			s.Require().Equal(uint64(4), counts.Open, "the epoch counts every task open")
			next, err := s.keeper.TaskSeq.Peek(s.ctx)
			s.Require().NoError(err)
			s.Require().Equal(first+4, next)
			s.requireBalanced()
		})
	}
}
