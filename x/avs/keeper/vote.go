package keeper

import (
	"bytes"
	"context"
	"sort"

	"github.com/cosmos/gogoproto/proto"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// submitResults judges an operator's vote entries one by one, each in its
// own cached store: a refused entry is reported in its outcome and an
// EventVoteRejected and leaves the others standing. It fails only for what
// concerns all entries: an unregistered operator. A jail does not refuse
// votes: it leaves the operator out of its service's next snapshots, and a
// task is answered by the operators of its own snapshot, jailed since or not.
func (k Keeper) submitResults(ctx context.Context, params types.Params, operator string, results []types.TaskResult) ([]types.ResultOutcome, error) {
	if _, err := k.getOperator(ctx, operator); err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	outcomes := make([]types.ResultOutcome, 0, len(results))
	b := newVoteBatch()
	for _, r := range results {
		cacheCtx, write := sdkCtx.CacheContext()
		var status types.TaskStatus
		b.answer = nil
		err := validateVoteTarget(r)
		if err == nil && r.Event != nil {
			// An event-trigger vote: its task is found, or opened, by reference.
			r.TaskId, err = k.eventTask(cacheCtx, operator, *r.Event)
		}
		switch {
		case err != nil:
		case len(r.Commitment) > 0:
			status, err = k.submitCommit(cacheCtx, b, operator, r)
		default:
			status, err = k.submitVote(cacheCtx, params, b, operator, r)
		}
		outcome := types.ResultOutcome{TaskId: r.TaskId, TaskStatus: status}
		if types.ErrRevealMismatch.Is(err) {
			write() // refused, and its fault stands (checkReveal)
		}
		if err == nil {
			write()
			outcome.Accepted = true
			if b.answer != nil {
				b.answers[*b.answer]++
			}
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
	return outcomes, k.countAnswers(ctx, operator, b.answers)
}

// voteBatch is what the entries of one MsgSubmitResults share: the reads
// they make alike, done once (a stored snapshot never changes, a service's
// rules of one revision neither, unless a handler contract ran), and the
// voter's answers for liveness, counted once per (service, epoch) at the end
// rather than read and written by every entry. Reads served from it cost no
// gas, as they cost the node no store access.
type voteBatch struct {
	services  map[batchKey]types.Service       // (service, revision) -> service as of it
	snapshots map[batchKey]types.PowerSnapshot // (service, epoch)
	answers   map[batchKey]uint32              // (service, epoch) -> answers of accepted entries
	answer    *batchKey                        // the current entry's, counted if it is accepted
}

// batchKey is a service and a revision or epoch (collections.Pair holds
// pointers: no map key).
type batchKey struct{ service, n uint64 }

func newVoteBatch() *voteBatch {
	return &voteBatch{
		services:  map[batchKey]types.Service{},
		snapshots: map[batchKey]types.PowerSnapshot{},
		answers:   map[batchKey]uint32{},
	}
}

func (k Keeper) batchService(ctx context.Context, b *voteBatch, task types.Task) (types.Service, error) {
	key := batchKey{task.ServiceId, task.ServiceRevision}
	if svc, ok := b.services[key]; ok {
		return svc, nil
	}
	svc, err := k.serviceAsOfTask(ctx, task)
	if err == nil {
		b.services[key] = svc
	}
	return svc, err
}

func (k Keeper) batchSnapshot(ctx context.Context, b *voteBatch, task types.Task) (types.PowerSnapshot, error) {
	key := batchKey{task.ServiceId, task.Epoch}
	if snap, ok := b.snapshots[key]; ok {
		return snap, nil
	}
	snap, err := k.Snapshots.Get(ctx, collections.Join(key.service, key.n))
	if err == nil {
		b.snapshots[key] = snap
	}
	return snap, err
}

// countAnswers adds a voter's answers of one transaction to its EpochAnswers,
// in key order.
func (k Keeper) countAnswers(ctx context.Context, operator string, answers map[batchKey]uint32) error {
	keys := make([]batchKey, 0, len(answers))
	for key := range answers {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].service != keys[j].service {
			return keys[i].service < keys[j].service
		}
		return keys[i].n < keys[j].n
	})
	for _, key := range keys {
		if err := k.addAnswers(ctx, key.service, key.n, operator, answers[key]); err != nil {
			return err
		}
	}
	return nil
}

// submitVote records one operator's result for one task and, if it makes the
// quorum, completes the task. It writes nothing when it returns an error.
func (k Keeper) submitVote(ctx context.Context, params types.Params, b *voteBatch, operator string, r types.TaskResult) (types.TaskStatus, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	task, power, err := k.votingTask(ctx, b, operator, r.TaskId)
	if err != nil {
		return task.Status, err
	}
	if uint64(len(r.Result)) > params.MaxResultSize {
		return task.Status, errorsmod.Wrapf(types.ErrResultTooLarge, "%d bytes, max_result_size is %d", len(r.Result), params.MaxResultSize)
	}
	voteKey := collections.Join(task.Id, operator)
	if has, err := k.Votes.Has(ctx, voteKey); err != nil {
		return task.Status, err
	} else if has {
		return task.Status, errorsmod.Wrapf(types.ErrDuplicateVote, "%s on task %d", operator, task.Id)
	}
	svc, err := k.batchService(ctx, b, task)
	if err != nil {
		return task.Status, err
	}
	median := svc.Manifest.Aggregation.Mode == types.AGGREGATION_MODE_MEDIAN
	failure := r.Failure.IsFailure()
	if task.IsCommitReveal() {
		if err := k.checkReveal(ctx, svc, task, operator, r); err != nil {
			return task.Status, err
		}
	} else if len(r.Salt) > 0 {
		return task.Status, errorsmod.Wrapf(types.ErrVoteMode, "task %d is voted in the clear (VOTE_MODE_OPEN): a vote carries no salt", task.Id)
	}
	if median && !failure {
		if _, err := types.ParseNumericResult(r.Result); err != nil {
			return task.Status, err
		}
	}

	inputDigest, err := eventInputDigest(params, task, r)
	if err != nil {
		return task.Status, err
	}

	late := task.Status != types.TASK_STATUS_PENDING
	digest := types.VoteDigest(r.Result, r.Failure)
	vote := types.Vote{TaskId: task.Id, Operator: operator, Digest: digest, Result: r.Result, Power: power, Height: sdkCtx.BlockHeight(), Late: late, Failure: r.Failure, InputDigest: inputDigest}
	if err := k.Votes.Set(ctx, voteKey, vote); err != nil {
		return task.Status, err
	}
	if err := emit(ctx, &types.EventVoteAccepted{TaskId: task.Id, Operator: operator, Digest: digest, Power: power, Late: late, Failure: r.Failure}); err != nil {
		return task.Status, err
	}
	// An answer counts for liveness now; on an event-trigger task, only once
	// it is confirmed (complete counts the votes that confirmed it).
	if !task.Origin.IsEventOrigin() || task.Status == types.TASK_STATUS_COMPLETED || task.Status == types.TASK_STATUS_FAILED {
		b.answer = &batchKey{task.ServiceId, task.Epoch} // counted once per batch (voteBatch)
	}
	if late {
		if task.Status == types.TASK_STATUS_COMPLETED && dissents(svc, task.Result, vote) && inputAgrees(task, vote) {
			return task.Status, k.slashDissenters(ctx, svc, task, []string{operator})
		}
		return task.Status, nil
	}
	if err := k.confirmEventTask(ctx, params, svc, &task, vote); err != nil {
		return task.Status, err
	}
	if r.Event != nil {
		// Only votes that read this vote's input are tallied with it: if it
		// completes the task, its input is the quorum's (M-3).
		task.Input = r.Event.Input
	}

	if task.HandlerContract != "" {
		// if this vote decides the task, a contract runs, and may change
		// the service: read it again for the next entries
		defer clear(b.services)
	}
	if median {
		return k.tallyMedian(ctx, svc, task, inputDigest)
	}
	tally, err := k.countVote(ctx, vote)
	if err != nil {
		return task.Status, err
	}
	if !quorumMet(svc.Manifest.Quorum, tally.Power, tally.Count, task.PowerTotal) {
		return task.Status, nil
	}
	all, err := k.votesWhere(ctx, task.Id, func(v types.Vote) bool { return !v.Late })
	if err != nil {
		return task.Status, err
	}
	key := tallyKey(vote)
	var backers []types.Vote
	for _, v := range all {
		if tallyKey(v) == key {
			backers = append(backers, v)
		}
	}
	if failure {
		return types.TASK_STATUS_FAILED, k.fail(ctx, svc, task, backers, all)
	}
	return types.TASK_STATUS_COMPLETED, k.complete(ctx, svc, task, r.Result, backers, all)
}

// votingTask reads the task an entry (a vote, a commitment or a reveal)
// names and the operator's power in its snapshot: it refuses an unknown
// task, one past its deadline or expired, and an operator outside the
// task's snapshot.
func (k Keeper) votingTask(ctx context.Context, b *voteBatch, operator string, id uint64) (types.Task, uint64, error) {
	task, err := k.Tasks.Get(ctx, id)
	if isNotFound(err) {
		return task, 0, errorsmod.Wrapf(types.ErrTaskNotFound, "task %d", id)
	} else if err != nil {
		return task, 0, err
	}
	if task.Status == types.TASK_STATUS_EXPIRED || sdk.UnwrapSDKContext(ctx).BlockHeight() > task.DeadlineHeight {
		return task, 0, errorsmod.Wrapf(types.ErrVotingClosed, "task %d deadline was height %d", task.Id, task.DeadlineHeight)
	}
	snap, err := k.batchSnapshot(ctx, b, task)
	if err != nil {
		return task, 0, err
	}
	power, ok := powerIn(snap, operator)
	if !ok {
		return task, 0, errorsmod.Wrapf(types.ErrNotOptedIn, "%s was not opted in to service %d when task %d was created", operator, task.ServiceId, task.Id)
	}
	return task, power, nil
}

// countVote adds a vote's power to the tally of its key (tallyKey) and
// returns the tally. Genesis import rebuilds the tallies with it.
func (k Keeper) countVote(ctx context.Context, v types.Vote) (types.Tally, error) {
	key := collections.Join(v.TaskId, tallyKey(v))
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

// tallyMedian recomputes the power-weighted median of the task's votes that
// read input (the empty digest but on event tasks) and completes the task once
// enough power lies within the allowed spread of it; failure votes are
// tallied apart and fail the task once they meet the quorum.
func (k Keeper) tallyMedian(ctx context.Context, svc types.Service, task types.Task, input string) (types.TaskStatus, error) {
	all, err := k.votesWhere(ctx, task.Id, func(v types.Vote) bool { return !v.Late })
	if err != nil {
		return task.Status, err
	}
	var votes, failures []types.Vote
	var failurePower uint64
	for _, v := range all {
		if v.InputDigest != input {
			continue
		}
		if v.Failure.IsFailure() {
			failures = append(failures, v)
			failurePower += v.Power
		} else {
			votes = append(votes, v)
		}
	}
	if quorumMet(svc.Manifest.Quorum, failurePower, uint32(len(failures)), task.PowerTotal) {
		return types.TASK_STATUS_FAILED, k.fail(ctx, svc, task, failures, all)
	}
	if len(votes) == 0 {
		return task.Status, nil
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
	if !types.MedianReady(values, task.PowerTotal, svc.Manifest.Quorum.Threshold) {
		return task.Status, nil // M-6: not yet enough power present to take the median
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
	return types.TASK_STATUS_COMPLETED, k.complete(ctx, svc, task, byOperator[m.Key].Result, backers, all)
}

// votesWhere returns the task's votes that keep returns true for, by operator.
func (k Keeper) votesWhere(ctx context.Context, taskID uint64, keep func(types.Vote) bool) ([]types.Vote, error) {
	var out []types.Vote
	err := k.Votes.Walk(ctx, collections.NewPrefixedPairRange[uint64, string](taskID), func(key collections.Pair[uint64, string], v types.Vote) (bool, error) {
		if v = restoreVote(key.K1(), key.K2(), v); keep(v) {
			out = append(out, v)
		}
		return false, nil
	})
	return out, err
}

// complete accepts result for the task and pays its fee to the backers by power.
func (k Keeper) complete(ctx context.Context, svc types.Service, task types.Task, result []byte, backers, all []types.Vote) error {
	task.Status = types.TASK_STATUS_COMPLETED
	task.Result = bytes.Clone(result)
	task.ResultDigest = types.Digest(result)
	return k.decide(ctx, svc, task, backers, all)
}

// fail ends the task FAILED on a quorum of failure votes and pays its fee to
// them by power, as for a result: they ran the component, and an input the
// component cannot handle is the asker's to pay for (security review H-2).
// The reason recorded is the one with the most power among them (ties: the
// lowest code).
func (k Keeper) fail(ctx context.Context, svc types.Service, task types.Task, backers, all []types.Vote) error {
	task.Status = types.TASK_STATUS_FAILED
	task.Failure = majorityFailure(backers)
	return k.decide(ctx, svc, task, backers, all)
}

// majorityFailure is the failure reason with the most power among votes.
func majorityFailure(votes []types.Vote) types.FailureReason {
	power := map[types.FailureReason]uint64{}
	for _, v := range votes {
		power[v.Failure] += v.Power
	}
	best := types.FAILURE_REASON_UNSPECIFIED
	for r := types.FAILURE_REASON_TRAP; r <= types.FAILURE_REASON_HTTP; r++ {
		if power[r] > power[best] {
			best = r
		}
	}
	return best
}

// decide ends a task COMPLETED or FAILED (task.Status set by the caller):
// queues its fee for the backers (paid at the end of the block), slashes who
// dissented from a result, counts an event task's answers, tells its handler
// and IBC requester. all is every
// vote on the task that is not late.
func (k Keeper) decide(ctx context.Context, svc types.Service, task types.Task, backers, all []types.Vote) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	task.EndedHeight = sdkCtx.BlockHeight()
	operators := make([]string, len(backers))
	for i, b := range backers {
		task.PowerFor += b.Power
		operators[i] = b.Operator
	}
	// The handler is called in this transaction, whose gas pays for it: the
	// deposit goes back to the treasury.
	deposit := task.HandlerDeposit
	task.HandlerDeposit = sdk.NewCoin(deposit.Denom, sdkmath.ZeroInt())
	if err := k.completeEventTask(ctx, svc, &task); err != nil {
		return err
	}
	if err := k.Tasks.Set(ctx, task.Id, task); err != nil {
		return err
	}
	if err := k.toTreasury(ctx, task.ServiceId, deposit); err != nil {
		return err
	}
	// The fee is paid to the backers at the end of the block (PayDecided).
	if !types.IsFree(task.Fee) && len(backers) > 0 {
		if err := k.UnpaidTasks.Set(ctx, task.Id); err != nil {
			return err
		}
	}
	if task.Status == types.TASK_STATUS_COMPLETED {
		if err := k.slashDissenters(ctx, svc, task, dissenters(svc, task.Result, sameInput(task, all))); err != nil {
			return err
		}
	}
	if task.Origin.IsEventOrigin() { // confirmed: its answers count now
		for _, v := range all {
			if err := k.countAnswer(ctx, task.ServiceId, task.Epoch, v.Operator); err != nil {
				return err
			}
		}
	}
	var ev proto.Message = &types.EventTaskCompleted{
		TaskId: task.Id, ServiceId: task.ServiceId, ResultDigest: task.ResultDigest, Result: task.Result,
		PowerFor: task.PowerFor, PowerTotal: task.PowerTotal, Operators: operators,
	}
	if task.Status == types.TASK_STATUS_FAILED {
		ev = &types.EventTaskFailed{
			TaskId: task.Id, ServiceId: task.ServiceId, Reason: task.Failure,
			PowerFor: task.PowerFor, PowerTotal: task.PowerTotal, Operators: operators,
		}
	}
	if err := emit(ctx, ev); err != nil {
		return err
	}
	_, err := k.notifyHandler(ctx, svc, task)
	return err
}
