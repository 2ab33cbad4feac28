package keeper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/x/avs/types"
)

// feePayer says who pays a new task's fee.
type feePayer int

const (
	// payerAccount: an account pays the fee it offers into escrow.
	payerAccount feePayer = iota
	// payerTreasury: the service treasury pays its fee_per_task.
	payerTreasury
)

// taskSpec is what a new task is made of.
type taskSpec struct {
	serviceID uint64
	input     []byte
	// creator is the account that asked, or the module for an automatic task.
	creator string
	origin  types.Origin
	payer   feePayer
	// account pays fee (payerAccount only; nil for a free task). A treasury
	// always pays the service's fee_per_task.
	account sdk.AccAddress
	fee     sdk.Coin
}

// errTreasuryShort is createTask's answer when the treasury cannot pay a
// payerTreasury task: CreateTaskFromTreasury turns it into EventTaskSkipped.
type errTreasuryShort struct{ reason string }

func (e errTreasuryShort) Error() string { return e.reason }

// CreateTask opens a task an account asks and pays for (MsgCreateTask): payer
// (nil for a free task) pays fee into escrow. Tasks no account pays for come
// from CreateTaskFromTreasury.
func (k Keeper) CreateTask(ctx context.Context, creator string, payer sdk.AccAddress, serviceID uint64, input []byte, fee sdk.Coin) (types.Task, error) {
	return k.createTask(ctx, taskSpec{
		serviceID: serviceID, input: input, creator: creator, origin: types.Origin{Kind: types.ORIGIN_KIND_TX},
		payer: payerAccount, account: payer, fee: fee,
	})
}

// CreateTaskFromTreasury opens a task that no account pays for (a trigger, an
// IBC packet): its fee_per_task comes from the service treasury. When the
// treasury cannot pay, no task is created and EventTaskSkipped says so; the
// returned bool reports whether a task was created.
func (k Keeper) CreateTaskFromTreasury(ctx context.Context, serviceID uint64, input []byte, origin types.Origin) (types.Task, bool, error) {
	creator, err := k.addressCodec.BytesToString(authtypes.NewModuleAddress(types.ModuleName))
	if err != nil {
		return types.Task{}, false, err
	}
	task, err := k.createTask(ctx, taskSpec{serviceID: serviceID, input: input, creator: creator, origin: origin, payer: payerTreasury})
	var short errTreasuryShort
	switch {
	case errors.As(err, &short):
		return types.Task{}, false, emit(ctx, &types.EventTaskSkipped{ServiceId: serviceID, Reason: short.reason})
	case err != nil:
		return types.Task{}, false, err
	}
	return task, true, nil
}

// createTask checks a task against its service, takes its fee (into escrow,
// or out of the treasury) and opens it.
func (k Keeper) createTask(ctx context.Context, spec taskSpec) (types.Task, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	svc, err := k.getService(ctx, spec.serviceID)
	if err != nil {
		return types.Task{}, err
	}
	fee, treasury := spec.fee, sdkmath.ZeroInt()
	if spec.payer == payerTreasury {
		fee = svc.Manifest.FeePerTask
		if treasury, err = k.treasury(ctx, spec.serviceID); err != nil {
			return types.Task{}, err
		}
		if !types.IsFree(fee) && treasury.LT(fee.Amount) {
			return types.Task{}, errTreasuryShort{fmt.Sprintf("treasury %s%s cannot pay the fee %s", treasury, fee.Denom, fee)}
		}
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Task{}, err
	}
	if err := validateInput(params, spec.input); err != nil {
		return types.Task{}, err
	}
	if svc.Status != types.SERVICE_STATUS_ACTIVE {
		return types.Task{}, errorsmod.Wrapf(types.ErrServicePaused, "service %d", spec.serviceID)
	}
	if fee, err = taskFee(params, svc, fee); err != nil {
		return types.Task{}, err
	}

	epoch := epochOf(sdkCtx.BlockHeight(), params.EpochLength)
	snap, fresh, err := k.snapshot(ctx, svc, epoch)
	if err != nil {
		return types.Task{}, err
	}
	if snap.Total == 0 {
		return types.Task{}, errorsmod.Wrapf(types.ErrNoOperators, "service %d has no opted-in operator to run the task", spec.serviceID)
	}
	switch {
	case types.IsFree(fee):
	case spec.payer == payerTreasury:
		if err := k.Treasuries.Set(ctx, spec.serviceID, treasury.Sub(fee.Amount)); err != nil {
			return types.Task{}, err
		}
	case spec.account == nil:
		return types.Task{}, errorsmod.Wrap(types.ErrInvalidFee, "a paid task needs a payer")
	default:
		if err := k.bank.SendCoinsFromAccountToModule(ctx, spec.account, types.ModuleName, sdk.NewCoins(fee)); err != nil {
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
		ServiceId:       spec.serviceID,
		Input:           spec.input,
		Creator:         spec.creator,
		Origin:          spec.origin,
		CreatedHeight:   sdkCtx.BlockHeight(),
		CreatedTime:     sdkCtx.BlockTime(),
		DeadlineHeight:  sdkCtx.BlockHeight() + int64(svc.Manifest.TimeoutOr(params.DefaultTaskTimeout)),
		Status:          types.TASK_STATUS_PENDING,
		Fee:             fee,
		Epoch:           epoch,
		PowerTotal:      snap.Total,
		ComponentDigest: svc.Manifest.ComponentDigest,
		PaidByTreasury:  spec.payer == payerTreasury,
	}
	if err := k.Tasks.Set(ctx, id, task); err != nil {
		return types.Task{}, err
	}
	if err := k.TasksByDeadline.Set(ctx, collections.Join(task.DeadlineHeight, id)); err != nil {
		return types.Task{}, err
	}
	return task, emit(ctx, &types.EventTaskCreated{
		TaskId: id, ServiceId: spec.serviceID, Creator: spec.creator, ComponentDigest: task.ComponentDigest,
		DeadlineHeight: task.DeadlineHeight, Fee: fee, Epoch: epoch,
	})
}

// submitResults judges an operator's vote entries one by one, each in its
// own cached store: a refused entry is reported in its outcome and an
// EventVoteRejected and leaves the others standing. It fails only for what
// concerns all entries: an unregistered or jailed operator.
func (k Keeper) submitResults(ctx context.Context, params types.Params, operator string, results []types.TaskResult) ([]types.ResultOutcome, error) {
	op, err := k.getOperator(ctx, operator)
	if err != nil {
		return nil, err
	}
	if op.Jailed {
		return nil, errorsmod.Wrapf(types.ErrOperatorJailed, "%s", operator)
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	outcomes := make([]types.ResultOutcome, 0, len(results))
	for _, r := range results {
		cacheCtx, write := sdkCtx.CacheContext()
		var status types.TaskStatus
		err := validateVoteTarget(r)
		if err == nil && r.Event != nil {
			// An event-trigger vote: its task is found, or opened, by reference.
			r.TaskId, err = k.eventTask(cacheCtx, *r.Event)
		}
		if err == nil {
			status, err = k.submitVote(cacheCtx, params, operator, r)
		}
		outcome := types.ResultOutcome{TaskId: r.TaskId, TaskStatus: status}
		if err == nil {
			write()
			outcome.Accepted = true
		} else {
			codespace, code, _ := errorsmod.ABCIInfo(err, false)
			outcome.Codespace, outcome.Code, outcome.Error = codespace, code, err.Error()
			if r.Event != nil && (types.ErrAutoTaskLimit.Is(err) || types.ErrTreasuryEmpty.Is(err)) {
				if err := emit(ctx, &types.EventTaskSkipped{ServiceId: r.Event.ServiceId, Reason: "event trigger: " + err.Error()}); err != nil {
					return nil, err
				}
			}
			if err := emit(ctx, &types.EventVoteRejected{
				TaskId: r.TaskId, Operator: operator, Codespace: codespace, Code: code, Reason: err.Error(),
			}); err != nil {
				return nil, err
			}
		}
		outcomes = append(outcomes, outcome)
	}
	return outcomes, nil
}

// submitVote records one operator's result for one task and, if it makes the
// quorum, completes the task. It writes nothing when it returns an error.
func (k Keeper) submitVote(ctx context.Context, params types.Params, operator string, r types.TaskResult) (types.TaskStatus, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	task, err := k.Tasks.Get(ctx, r.TaskId)
	if isNotFound(err) {
		return 0, errorsmod.Wrapf(types.ErrTaskNotFound, "task %d", r.TaskId)
	} else if err != nil {
		return 0, err
	}
	if task.Status == types.TASK_STATUS_EXPIRED || sdkCtx.BlockHeight() > task.DeadlineHeight {
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
	vote := types.Vote{TaskId: task.Id, Operator: operator, Digest: digest, Result: r.Result, Power: power, Height: sdkCtx.BlockHeight(), Late: late}
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
func (k Keeper) tallyMedian(ctx context.Context, svc types.Service, task types.Task) (types.TaskStatus, error) {
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
func (k Keeper) votesWhere(ctx context.Context, taskID uint64, keep func(types.Vote) bool) ([]types.Vote, error) {
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
func (k Keeper) complete(ctx context.Context, svc types.Service, task types.Task, result []byte, backers []types.Vote) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	task.Status = types.TASK_STATUS_COMPLETED
	task.Result = bytes.Clone(result)
	task.ResultDigest = types.Digest(result)
	task.EndedHeight = sdkCtx.BlockHeight()
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
func (k Keeper) notifyHandler(ctx context.Context, svc types.Service, task types.Task) error {
	if err := k.callHandler(ctx, svc.Manifest.HandlerContract, task); err != nil {
		return err
	}
	return k.ibcTaskEnded(ctx, svc, task)
}

// payBackers splits fee among backers by power, rounding down; the remainder
// goes to the first backer in address order, so no token is left behind. Each
// share is paid through reward: the operator's commission, the rest to its
// committers.
func (k Keeper) payBackers(ctx context.Context, serviceID uint64, fee sdk.Coin, backers []types.Vote) error {
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
func (k Keeper) slashLosers(ctx context.Context, svc types.Service, task types.Task, operators []string) error {
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
func (k Keeper) ExpireTasks(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	rng := new(collections.Range[collections.Pair[int64, uint64]]).
		EndInclusive(collections.Join(sdkCtx.BlockHeight(), uint64(1<<64-1)))
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

func (k Keeper) settleDeadline(ctx context.Context, params types.Params, id uint64) error {
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
func (k Keeper) expire(ctx context.Context, task *types.Task) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	task.Status = types.TASK_STATUS_EXPIRED
	task.EndedHeight = sdkCtx.BlockHeight()
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
func (k Keeper) countLiveness(ctx context.Context, params types.Params, operator string, missed bool) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
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
		op.JailedUntil = sdkCtx.BlockTime().Add(params.JailCooldown)
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
