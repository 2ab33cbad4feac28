package keeper

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// CreateTask opens a task on a service. payer (may be nil for a free task)
// pays fee into escrow. It is the one way tasks are made: by MsgCreateTask
// today, by contracts, IBC packets and triggers later.
func (k Keeper) CreateTask(ctx sdk.Context, serviceID uint64, input []byte, creator string, payer sdk.AccAddress, fee sdk.Coin, origin types.Origin) (types.Task, error) {
	return k.createTask(ctx, serviceID, input, creator, payer, fee, origin, false)
}

// CreateTaskFromTreasury opens a task that no account pays for (a trigger, an
// IBC packet): its fee_per_task comes from the service treasury. When the
// treasury cannot pay, no task is created and EventTaskSkipped says so; the
// returned bool reports whether a task was created.
func (k Keeper) CreateTaskFromTreasury(ctx sdk.Context, serviceID uint64, input []byte, origin types.Origin) (types.Task, bool, error) {
	svc, err := k.getService(ctx, serviceID)
	if err != nil {
		return types.Task{}, false, err
	}
	fee := svc.Manifest.FeePerTask
	if !types.IsFree(fee) {
		t, err := k.treasury(ctx, serviceID)
		if err != nil {
			return types.Task{}, false, err
		}
		if t.LT(fee.Amount) {
			reason := fmt.Sprintf("treasury %s%s cannot pay the fee %s", t, fee.Denom, fee)
			return types.Task{}, false, emit(ctx, &types.EventTaskSkipped{ServiceId: serviceID, Reason: reason})
		}
	}
	creator, err := k.addressCodec.BytesToString(authtypes.NewModuleAddress(types.ModuleName))
	if err != nil {
		return types.Task{}, false, err
	}
	task, err := k.createTask(ctx, serviceID, input, creator, nil, fee, origin, true)
	if err != nil {
		return types.Task{}, false, err
	}
	return task, true, nil
}

func (k Keeper) createTask(ctx sdk.Context, serviceID uint64, input []byte, creator string, payer sdk.AccAddress, fee sdk.Coin, origin types.Origin, fromTreasury bool) (types.Task, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Task{}, err
	}
	if uint64(len(input)) > params.MaxInputSize {
		return types.Task{}, errorsmod.Wrapf(types.ErrInputTooLarge, "%d bytes, max_input_size is %d", len(input), params.MaxInputSize)
	}
	svc, err := k.getService(ctx, serviceID)
	if err != nil {
		return types.Task{}, err
	}
	if svc.Status != types.SERVICE_STATUS_ACTIVE {
		return types.Task{}, errorsmod.Wrapf(types.ErrServicePaused, "service %d", serviceID)
	}
	if fee.Denom == "" && (fee.Amount.IsNil() || fee.Amount.IsZero()) {
		fee = sdk.Coin{Denom: svc.Manifest.FeePerTask.Denom, Amount: sdkmath.ZeroInt()}
	}
	if !types.IsFree(fee) {
		if err := fee.Validate(); err != nil {
			return types.Task{}, errorsmod.Wrapf(types.ErrInvalidFee, "%s", err)
		}
	}
	if want := svc.Manifest.FeePerTask; !types.IsFree(want) {
		if fee.Denom != want.Denom || fee.Amount.LT(want.Amount) {
			return types.Task{}, errorsmod.Wrapf(types.ErrInsufficientFee, "service %d asks %s per task, got %s", serviceID, want, fee)
		}
	}
	// Fees reward committers, whose rewards are kept and paid in the stake
	// denom: a fee in another denom (possible on a free service) is refused.
	if !types.IsFree(fee) && fee.Denom != params.StakeDenom {
		return types.Task{}, errorsmod.Wrapf(types.ErrWrongDenom, "fee %s: fees are paid in the stake denom %s", fee, params.StakeDenom)
	}

	epoch := epochOf(ctx.BlockHeight(), params.EpochLength)
	snap, fresh, err := k.snapshot(ctx, svc, epoch)
	if err != nil {
		return types.Task{}, err
	}
	if snap.Total == 0 {
		return types.Task{}, errorsmod.Wrapf(types.ErrNoOperators, "service %d has no opted-in operator to run the task", serviceID)
	}
	switch {
	case types.IsFree(fee):
	case fromTreasury:
		t, err := k.treasury(ctx, serviceID)
		if err != nil {
			return types.Task{}, err
		}
		if t.LT(fee.Amount) {
			return types.Task{}, errorsmod.Wrapf(types.ErrTreasuryEmpty, "service %d", serviceID)
		}
		if err := k.Treasuries.Set(ctx, serviceID, t.Sub(fee.Amount)); err != nil {
			return types.Task{}, err
		}
	case payer == nil:
		return types.Task{}, errorsmod.Wrap(types.ErrInvalidFee, "a paid task needs a payer")
	default:
		if err := k.bank.SendCoinsFromAccountToModule(ctx, payer, types.ModuleName, sdk.NewCoins(fee)); err != nil {
			return types.Task{}, err
		}
	}

	if fresh {
		if err := k.saveSnapshot(ctx, snap); err != nil {
			return types.Task{}, err
		}
	}
	id, err := k.TaskSeq.Next(ctx)
	if err != nil {
		return types.Task{}, err
	}
	task := types.Task{
		Id:              id,
		ServiceId:       serviceID,
		Input:           input,
		Creator:         creator,
		Origin:          origin,
		CreatedHeight:   ctx.BlockHeight(),
		CreatedTime:     ctx.BlockTime(),
		DeadlineHeight:  ctx.BlockHeight() + int64(svc.Manifest.TimeoutOr(params.DefaultTaskTimeout)),
		Status:          types.TASK_STATUS_PENDING,
		Fee:             fee,
		Epoch:           epoch,
		PowerTotal:      snap.Total,
		ComponentDigest: svc.Manifest.ComponentDigest,
		PaidByTreasury:  fromTreasury,
	}
	if err := k.Tasks.Set(ctx, id, task); err != nil {
		return types.Task{}, err
	}
	if err := k.TasksByDeadline.Set(ctx, collections.Join(task.DeadlineHeight, id)); err != nil {
		return types.Task{}, err
	}
	return task, emit(ctx, &types.EventTaskCreated{
		TaskId: id, ServiceId: serviceID, Creator: creator, ComponentDigest: task.ComponentDigest,
		DeadlineHeight: task.DeadlineHeight, Fee: fee, Epoch: epoch,
	})
}

// submitVote records one operator's result for one task and, if it makes the
// quorum, completes the task. It writes nothing when it returns an error.
func (k Keeper) submitVote(ctx sdk.Context, params types.Params, operator string, r types.TaskResult) (types.TaskStatus, error) {
	task, err := k.Tasks.Get(ctx, r.TaskId)
	if isNotFound(err) {
		return 0, errorsmod.Wrapf(types.ErrTaskNotFound, "task %d", r.TaskId)
	} else if err != nil {
		return 0, err
	}
	if task.Status == types.TASK_STATUS_EXPIRED || ctx.BlockHeight() > task.DeadlineHeight {
		return task.Status, errorsmod.Wrapf(types.ErrVotingClosed, "task %d deadline was height %d", task.Id, task.DeadlineHeight)
	}
	if uint64(len(r.Result)) > params.MaxResultSize {
		return task.Status, errorsmod.Wrapf(types.ErrResultTooLarge, "%d bytes, max_result_size is %d", len(r.Result), params.MaxResultSize)
	}
	snap, err := k.Snapshots.Get(ctx, collections.Join(task.ServiceId, task.Epoch))
	if err != nil {
		return task.Status, err
	}
	power, ok := powerIn(snap, operator)
	if !ok {
		return task.Status, errorsmod.Wrapf(types.ErrNotOptedIn, "%s was not opted in to service %d when task %d was created", operator, task.ServiceId, task.Id)
	}
	voteKey := collections.Join(task.Id, operator)
	if has, err := k.Votes.Has(ctx, voteKey); err != nil {
		return task.Status, err
	} else if has {
		return task.Status, errorsmod.Wrapf(types.ErrDuplicateVote, "%s on task %d", operator, task.Id)
	}
	svc, err := k.getService(ctx, task.ServiceId)
	if err != nil {
		return task.Status, err
	}
	median := svc.Manifest.Aggregation.Mode == types.AGGREGATION_MODE_MEDIAN
	if median {
		if _, err := types.ParseNumericResult(r.Result); err != nil {
			return task.Status, err
		}
	}

	late := task.Status != types.TASK_STATUS_PENDING
	digest := types.Digest(r.Result)
	vote := types.Vote{TaskId: task.Id, Operator: operator, Digest: digest, Result: r.Result, Power: power, Height: ctx.BlockHeight(), Late: late}
	if err := k.Votes.Set(ctx, voteKey, vote); err != nil {
		return task.Status, err
	}
	if err := emit(ctx, &types.EventVoteAccepted{TaskId: task.Id, Operator: operator, Digest: digest, Power: power, Late: late}); err != nil {
		return task.Status, err
	}
	if late {
		if task.Status == types.TASK_STATUS_COMPLETED && lost(svc, task.Result, vote) {
			return task.Status, k.slashLosers(ctx, svc, task, []string{operator})
		}
		return task.Status, nil
	}

	if median {
		return k.tallyMedian(ctx, svc, task)
	}
	tally, err := k.countVote(ctx, vote)
	if err != nil {
		return task.Status, err
	}
	if !quorumMet(svc.Manifest.Quorum, tally.Power, tally.Count, task.PowerTotal) {
		return task.Status, nil
	}
	backers, err := k.votesWhere(ctx, task.Id, func(v types.Vote) bool { return v.Digest == digest })
	if err != nil {
		return task.Status, err
	}
	return types.TASK_STATUS_COMPLETED, k.complete(ctx, svc, task, r.Result, backers)
}

// countVote adds a vote's power to the tally of its digest and returns the
// tally. Genesis import rebuilds the tallies with it.
func (k Keeper) countVote(ctx context.Context, v types.Vote) (types.Tally, error) {
	key := collections.Join(v.TaskId, v.Digest)
	tally, err := k.Tallies.Get(ctx, key)
	if err != nil && !isNotFound(err) {
		return tally, err
	}
	tally.Power += v.Power
	tally.Count++
	return tally, k.Tallies.Set(ctx, key, tally)
}

func quorumMet(q types.Quorum, power uint64, count uint32, total uint64) bool {
	minOps := q.MinOperators
	if minOps == 0 {
		minOps = 1
	}
	return count >= minOps && types.MeetsThreshold(power, total, q.Threshold)
}

// tallyMedian recomputes the power-weighted median of the task's votes and
// completes the task once enough power lies within the allowed spread of it.
func (k Keeper) tallyMedian(ctx sdk.Context, svc types.Service, task types.Task) (types.TaskStatus, error) {
	votes, err := k.votesWhere(ctx, task.Id, func(v types.Vote) bool { return !v.Late })
	if err != nil {
		return task.Status, err
	}
	values := make([]types.WeightedValue, 0, len(votes))
	byOperator := make(map[string]types.Vote, len(votes))
	for _, v := range votes {
		d, err := types.ParseNumericResult(v.Result)
		if err != nil {
			return task.Status, err
		}
		values = append(values, types.WeightedValue{Key: v.Operator, Value: d, Power: v.Power})
		byOperator[v.Operator] = v
	}
	m := values[types.WeightedMedian(values)]
	spread := svc.Manifest.Aggregation.AllowedSpread
	var power uint64
	var backers []types.Vote
	for _, v := range values {
		if types.WithinSpread(v.Value, m.Value, spread) {
			power += v.Power
			backers = append(backers, byOperator[v.Key])
		}
	}
	if !quorumMet(svc.Manifest.Quorum, power, uint32(len(backers)), task.PowerTotal) {
		return task.Status, nil
	}
	return types.TASK_STATUS_COMPLETED, k.complete(ctx, svc, task, byOperator[m.Key].Result, backers)
}

// votesWhere returns the task's votes that keep returns true for, by operator.
func (k Keeper) votesWhere(ctx sdk.Context, taskID uint64, keep func(types.Vote) bool) ([]types.Vote, error) {
	var out []types.Vote
	err := k.Votes.Walk(ctx, collections.NewPrefixedPairRange[uint64, string](taskID), func(_ collections.Pair[uint64, string], v types.Vote) (bool, error) {
		if keep(v) {
			out = append(out, v)
		}
		return false, nil
	})
	return out, err
}

// complete accepts result for the task and pays its fee to the backers by power.
func (k Keeper) complete(ctx sdk.Context, svc types.Service, task types.Task, result []byte, backers []types.Vote) error {
	task.Status = types.TASK_STATUS_COMPLETED
	task.Result = bytes.Clone(result)
	task.ResultDigest = types.Digest(result)
	task.EndedHeight = ctx.BlockHeight()
	operators := make([]string, len(backers))
	for i, b := range backers {
		task.PowerFor += b.Power
		operators[i] = b.Operator
	}
	if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
		return err
	}
	if err := k.payBackers(ctx, task.ServiceId, task.Fee, backers); err != nil {
		return err
	}
	all, err := k.votesWhere(ctx, task.Id, func(v types.Vote) bool { return !v.Late })
	if err != nil {
		return err
	}
	if err := k.slashLosers(ctx, svc, task, losers(svc, result, all)); err != nil {
		return err
	}
	if err := emit(ctx, &types.EventTaskCompleted{
		TaskId: task.Id, ServiceId: task.ServiceId, ResultDigest: task.ResultDigest, Result: task.Result,
		PowerFor: task.PowerFor, PowerTotal: task.PowerTotal, Operators: operators,
	}); err != nil {
		return err
	}
	return k.notifyHandler(ctx, svc, task)
}

// notifyHandler tells whoever waits for the task's end: the service's handler
// contract, and over IBC the chain that requested it and the result channels.
func (k Keeper) notifyHandler(ctx sdk.Context, svc types.Service, task types.Task) error {
	if err := k.callHandler(ctx, svc.Manifest.HandlerContract, task); err != nil {
		return err
	}
	return k.ibcTaskEnded(ctx, svc, task)
}

// payBackers splits fee among backers by power, rounding down; the remainder
// goes to the first backer in address order, so no token is left behind. Each
// share is paid through reward: the operator's commission, the rest to its
// committers.
func (k Keeper) payBackers(ctx sdk.Context, serviceID uint64, fee sdk.Coin, backers []types.Vote) error {
	if types.IsFree(fee) || len(backers) == 0 {
		return nil
	}
	sorted := append([]types.Vote(nil), backers...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Operator < sorted[j].Operator })
	var total uint64
	for _, b := range sorted {
		total += b.Power
	}
	shares := make([]sdkmath.Int, len(sorted))
	paid := sdkmath.ZeroInt()
	for i, b := range sorted {
		shares[i] = fee.Amount.Mul(sdkmath.NewIntFromUint64(b.Power)).Quo(sdkmath.NewIntFromUint64(total))
		paid = paid.Add(shares[i])
	}
	shares[0] = shares[0].Add(fee.Amount.Sub(paid))
	for i, b := range sorted {
		if err := k.reward(ctx, b.Operator, serviceID, sdk.NewCoin(fee.Denom, shares[i])); err != nil {
			return err
		}
	}
	return nil
}

// losers returns the operators whose (non-late) votes lost against the
// accepted result: another digest (EXACT), or beyond the slashable spread of
// the median (MEDIAN).
func losers(svc types.Service, result []byte, votes []types.Vote) []string {
	var out []string
	for _, v := range votes {
		if lost(svc, result, v) {
			out = append(out, v.Operator)
		}
	}
	return out
}

func lost(svc types.Service, result []byte, v types.Vote) bool {
	if svc.Manifest.Aggregation.Mode != types.AGGREGATION_MODE_MEDIAN {
		return v.Digest != types.Digest(result)
	}
	m, err1 := types.ParseNumericResult(result)
	x, err2 := types.ParseNumericResult(v.Result)
	if err1 != nil || err2 != nil {
		return true
	}
	return !types.WithinSpread(x, m, svc.Manifest.Aggregation.SlashableSpreadOrAllowed())
}

// slashLosers slashes the operators whose votes lost, if the service slashes.
func (k Keeper) slashLosers(ctx sdk.Context, svc types.Service, task types.Task, operators []string) error {
	if len(operators) == 0 || !svc.Manifest.Slashes() {
		return nil
	}
	for _, op := range operators {
		if err := k.slash(ctx, op, svc, task); err != nil {
			return err
		}
	}
	return nil
}

// ExpireTasks settles every task whose deadline is at or below the current
// height: a PENDING one expires (fee refunded, handler told), and for every
// task the operators of its snapshot are counted for liveness (missed or not),
// jailing those that missed too many. It walks the deadline index only, never
// all tasks.
func (k Keeper) ExpireTasks(ctx sdk.Context) error {
	rng := new(collections.Range[collections.Pair[int64, uint64]]).
		EndInclusive(collections.Join(ctx.BlockHeight(), uint64(1<<64-1)))
	var due []collections.Pair[int64, uint64]
	if err := k.TasksByDeadline.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		due = append(due, key)
		return false, nil
	}); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := k.settleDeadline(ctx, params, key.K2()); err != nil {
			return err
		}
		if err := k.TasksByDeadline.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

func (k Keeper) settleDeadline(ctx sdk.Context, params types.Params, id uint64) error {
	task, err := k.Tasks.Get(ctx, id)
	if err != nil {
		return err
	}
	if task.Settled {
		return nil
	}
	if task.Status == types.TASK_STATUS_PENDING {
		if err := k.expire(ctx, &task); err != nil {
			return err
		}
	}
	snap, err := k.Snapshots.Get(ctx, collections.Join(task.ServiceId, task.Epoch))
	if err != nil {
		return err
	}
	// An event-trigger task that expired was never confirmed: the event may
	// not exist, and not voting on it is what an honest operator does. It
	// counts for no one's liveness (else one operator could jail its peers
	// with references to events that never happened).
	unconfirmed := task.Status == types.TASK_STATUS_EXPIRED && task.Origin.IsEventOrigin()
	var missed []string
	for _, p := range snap.Powers {
		voted, err := k.Votes.Has(ctx, collections.Join(task.Id, p.Operator))
		if err != nil {
			return err
		}
		if unconfirmed {
			continue
		}
		if !voted {
			missed = append(missed, p.Operator)
		}
		if err := k.countLiveness(ctx, params, p.Operator, !voted); err != nil {
			return err
		}
	}
	task.Settled = true
	if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
		return err
	}
	if task.Status == types.TASK_STATUS_EXPIRED {
		if err := emit(ctx, &types.EventTaskExpired{TaskId: task.Id, ServiceId: task.ServiceId, PowerTotal: task.PowerTotal, Missed: missed, Refund: task.Fee}); err != nil {
			return err
		}
		svc, err := k.getService(ctx, task.ServiceId)
		if err != nil {
			return err
		}
		return k.notifyHandler(ctx, svc, task)
	}
	return nil
}

// expire ends a PENDING task and refunds its fee to whoever paid it.
func (k Keeper) expire(ctx sdk.Context, task *types.Task) error {
	task.Status = types.TASK_STATUS_EXPIRED
	task.EndedHeight = ctx.BlockHeight()
	if err := k.Tasks.Set(ctx, task.Id, *task); err != nil {
		return err
	}
	if types.IsFree(task.Fee) {
		return nil
	}
	if task.PaidByTreasury {
		t, err := k.treasury(ctx, task.ServiceId)
		if err != nil {
			return err
		}
		return k.Treasuries.Set(ctx, task.ServiceId, t.Add(task.Fee.Amount))
	}
	creator, err := k.accAddress("creator", task.Creator)
	if err != nil {
		return err
	}
	return k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, creator, sdk.NewCoins(task.Fee))
}

// countLiveness records one task of an operator's liveness window; missing
// jail_threshold tasks within liveness_window jails it until its cooldown.
func (k Keeper) countLiveness(ctx sdk.Context, params types.Params, operator string, missed bool) error {
	op, err := k.Operators.Get(ctx, operator)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	op.WindowTasks++
	if missed {
		op.Missed++
		op.WindowMissed++
	}
	if !op.Jailed && op.WindowMissed >= params.JailThreshold {
		op.Jailed = true
		op.JailedUntil = ctx.BlockTime().Add(params.JailCooldown)
		if err := emit(ctx, &types.EventOperatorJailed{Operator: operator, Missed: op.WindowMissed, Window: op.WindowTasks, JailedUntil: op.JailedUntil}); err != nil {
			return err
		}
		op.WindowTasks, op.WindowMissed = 0, 0
	}
	if op.WindowTasks >= params.LivenessWindow {
		op.WindowTasks, op.WindowMissed = 0, 0
	}
	return k.Operators.Set(ctx, operator, op)
}
