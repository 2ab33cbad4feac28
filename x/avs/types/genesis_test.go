package types_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs/types"
)

var (
	genOwner     = sdk.AccAddress("genesis-owner").String()
	genOp1       = sdk.AccAddress("genesis-operator-1").String()
	genOp2       = sdk.AccAddress("genesis-operator-2").String()
	genCommitter = sdk.AccAddress("genesis-committer").String()
	genEventRef  = fmt.Sprintf("1/4/%s/0", strings.Repeat("AB", 32))
)

// validGenesis holds one record of every kind, each referring to records
// that exist: service 1 with revision 1, operators 1 and 2 opted in, task 1
// pending (with a vote, its snapshot and its IBC packet), task 2 completed
// and unpaid, task 3 pruned; a pool of two generations, an unbonding entry.
func validGenesis() types.GenesisState {
	zero, one := sdkmath.ZeroInt(), sdkmath.LegacyZeroDec()
	m := validManifest()
	digest := m.ComponentDigest
	return types.GenesisState{
		Params:           types.DefaultParams(),
		Components:       []types.GenesisComponent{{Component: types.Component{Digest: digest}, CodeGzip: []byte{1}}},
		Services:         []types.Service{{Id: 1, Owner: genOwner, Manifest: m, Status: types.SERVICE_STATUS_ACTIVE, Revision: 1}},
		ServiceRevisions: []types.ServiceRevision{{ServiceId: 1, Revision: 1, Manifest: m}},
		NextServiceId:    2,
		Operators: []types.Operator{
			{Address: genOp1, Commission: one},
			{Address: genOp2, Commission: one},
		},
		OptIns:    []types.ServiceOperator{{ServiceId: 1, Operator: genOp1}, {ServiceId: 1, Operator: genOp2}},
		Allowlist: []types.ServiceOperator{{ServiceId: 1, Operator: genOp1}, {ServiceId: 1, Operator: genOp2}},
		Tasks: []types.Task{
			{Id: 1, ServiceId: 1, ServiceRevision: 1, Creator: genOwner, Status: types.TASK_STATUS_PENDING,
				Origin: types.Origin{Kind: types.ORIGIN_KIND_IBC, Ref: "channel-1/1"}},
			{Id: 2, ServiceId: 1, ServiceRevision: 1, Creator: genOwner, Status: types.TASK_STATUS_COMPLETED, Result: []byte("A")},
		},
		NextTaskId: 4,
		Votes: []types.Vote{
			{TaskId: 1, Operator: genOp1, Result: []byte("A"), Digest: types.Digest([]byte("A")), Power: 1},
		},
		Snapshots:       []types.PowerSnapshot{{ServiceId: 1, Powers: []types.OperatorPower{{Operator: genOp1, Power: 1}, {Operator: genOp2, Power: 1}}, Total: 2}},
		Treasuries:      []types.ServiceTreasury{{ServiceId: 1, Amount: sdkmath.NewInt(100)}},
		OperatorRewards: []types.OperatorReward{{Operator: genOp1, Amount: sdkmath.NewInt(5)}},
		UnpaidTasks:     []uint64{2},
		Commitments: []types.Commitment{
			{Committer: genCommitter, Operator: genOp1, ServiceId: 1, Shares: sdkmath.NewInt(100), RewardIndex: one, Unclaimed: zero, Generation: 1},
		},
		Pools: []types.Pool{
			{Operator: genOp1, ServiceId: 1, Total: sdkmath.NewInt(90), Shares: sdkmath.NewInt(100), RewardIndex: one, Outstanding: zero, Generation: 1},
		},
		PoolGenerationEnds: []types.PoolGenerationEnd{{Operator: genOp1, ServiceId: 1, Generation: 0, RewardIndex: one}},
		PendingJoins:       []types.PendingJoin{{Operator: genOp1, ServiceId: 1, Epoch: 0, Generation: 1, RewardIndex: one, Holders: 1}},
		Unbonding: []types.UnbondingEntry{
			{Id: 0, Committer: genCommitter, Operator: genOp1, ServiceId: 1, Shares: sdkmath.NewInt(10), Amount: sdkmath.NewInt(10)},
		},
		NextUnbondingId:  1,
		UnbondingPools:   []types.UnbondingPool{{Operator: genOp1, ServiceId: 1, Total: sdkmath.NewInt(10), Shares: sdkmath.NewInt(10)}},
		EpochAnswers:     []types.EpochAnswersEntry{{ServiceId: 1, Operator: genOp1, Answers: types.EpochAnswers{Answered: 1}}},
		OperatorLiveness: []types.OperatorLivenessEntry{{ServiceId: 1, Operator: genOp1, Liveness: types.OperatorLiveness{WindowTasks: 2, WindowMissed: 1}}},
		PrunedTasks:      []types.PrunedTask{{TaskId: 3, Height: 5}},
		PrunedEventRefs:  []types.PrunedEventRef{{Event: genEventRef, TaskId: 3}},
		RemoteResults:    []types.RemoteResult{{Channel: "channel-0", Sequence: 1, ServiceId: 7, Status: types.REMOTE_STATUS_PENDING}},
		PushedResults:    []types.RemoteResult{{Channel: "channel-0", Sequence: 1, ServiceId: 7, Status: types.REMOTE_STATUS_PUSHED}},
		IbcPackets:       []types.IBCTaskPacket{{TaskId: 1, Packet: channeltypes.Packet{Sequence: 1, DestinationChannel: "channel-1"}}},
	}
}

// TestH2GenesisValidate (review H2) has a row for every refusal of
// GenesisState.Validate: each breaks one rule of a valid genesis that holds a
// record of every kind, and must be refused with ErrInvalidGenesis and its
// own reason.
func TestH2GenesisValidate(t *testing.T) {
	base := validGenesis()
	require.NoError(t, base.Validate(), "the base genesis is valid")
	require.NoError(t, types.DefaultGenesis().Validate())
	other := types.Digest([]byte("another component"))
	dec := sdkmath.LegacyMustNewDecFromStr

	testCases := []struct {
		name     string
		malleate func(gs *types.GenesisState)
		errText  string
	}{
		// params and components
		{"invalid params", func(gs *types.GenesisState) { gs.Params.EpochLength = 0 }, "epoch_length must be positive"},
		{"malformed component digest", func(gs *types.GenesisState) { gs.Components[0].Component.Digest = "XYZ" }, `component digest "XYZ" is not a hex sha256`},
		{"duplicate component", func(gs *types.GenesisState) { gs.Components = append(gs.Components, gs.Components[0]) }, "appears twice"},
		{"component without code", func(gs *types.GenesisState) { gs.Components[0].CodeGzip = nil }, "has no code"},
		{"next_service_id 0", func(gs *types.GenesisState) { gs.NextServiceId = 0 }, "next_service_id and next_task_id start at 1"},
		{"next_task_id 0", func(gs *types.GenesisState) { gs.NextTaskId = 0 }, "next_service_id and next_task_id start at 1"},

		// services and their revisions
		{"service id 0", func(gs *types.GenesisState) { gs.Services[0].Id = 0 }, "service id 0 outside [1, next_service_id 2)"},
		{"service id at next_service_id", func(gs *types.GenesisState) { gs.Services[0].Id = 2 }, "service id 2 outside [1, next_service_id 2)"},
		{"duplicate service", func(gs *types.GenesisState) { gs.Services = append(gs.Services, gs.Services[0]) }, "service 1 appears twice"},
		{"service without owner", func(gs *types.GenesisState) { gs.Services[0].Owner = "" }, "service 1 has no owner"},
		{"service with an invalid manifest", func(gs *types.GenesisState) { gs.Services[0].Manifest.Name = "" }, "service 1: name must be"},
		{"service of an unknown component", func(gs *types.GenesisState) { gs.Services[0].Manifest.ComponentDigest = other }, "service 1 uses unknown component " + other},
		{"service without revision", func(gs *types.GenesisState) { gs.Services[0].Revision = 0 }, "service 1 has no revision"},
		{"pending slash fraction without its time", func(gs *types.GenesisState) { gs.Services[0].PendingSlashFraction = dec("0.5") }, "pending slash_fraction 0.500000000000000000 without its time"},
		{"pending slash fraction above one", func(gs *types.GenesisState) {
			gs.Services[0].PendingSlashFraction, gs.Services[0].PendingSlashAt = dec("1.5"), time.Unix(1, 0)
		}, "pending slash_fraction 1.500000000000000000 is not in ("},
		{"revision of an unknown service", func(gs *types.GenesisState) { gs.ServiceRevisions[0].ServiceId = 9 }, "service revision names unknown service 9"},
		{"revision above the service's", func(gs *types.GenesisState) { gs.ServiceRevisions[0].Revision = 2 }, "revision 2 of service 1 is above the service's revision 1"},
		{"revision 0", func(gs *types.GenesisState) { gs.ServiceRevisions[0].Revision = 0 }, "revision 0 of service 1 is above the service's revision 1, or 0"},
		{"duplicate revision", func(gs *types.GenesisState) {
			gs.ServiceRevisions = append(gs.ServiceRevisions, gs.ServiceRevisions[0])
		}, "service revision 1/1 appears twice"},
		{"revision with an invalid manifest", func(gs *types.GenesisState) { gs.ServiceRevisions[0].Manifest.Name = "" }, "service 1 revision 1: name must be"},
		{"revision of an unknown component", func(gs *types.GenesisState) { gs.ServiceRevisions[0].Manifest.ComponentDigest = other }, "service 1 revision 1 uses unknown component " + other},
		{"current revision not stored", func(gs *types.GenesisState) { gs.ServiceRevisions = nil }, "service 1 revision 1 is not stored"},
		{"current revision not the service's manifest", func(gs *types.GenesisState) { gs.ServiceRevisions[0].Manifest.Name = "other" }, "service 1 revision 1 is not the service's manifest"},

		// operators and the service-operator pairs
		{"operator without address", func(gs *types.GenesisState) { gs.Operators[0].Address = "" }, `operator "" is empty or appears twice`},
		{"duplicate operator", func(gs *types.GenesisState) { gs.Operators[1].Address = genOp1 }, "is empty or appears twice"},
		{"commission above one", func(gs *types.GenesisState) { gs.Operators[0].Commission = dec("1.01") }, "commission 1.010000000000000000 is not in [0, 1]"},
		{"pending commission below zero", func(gs *types.GenesisState) {
			gs.Operators[0].PendingCommission, gs.Operators[0].PendingCommissionAt = dec("-0.1"), time.Unix(1, 0)
		}, "pending commission -0.100000000000000000 is not in [0, 1]"},
		{"opt-in to an unknown service", func(gs *types.GenesisState) { gs.OptIns[0].ServiceId = 9 }, "opt-in entry names unknown service 9"},
		{"opt-in of an unknown operator", func(gs *types.GenesisState) { gs.OptIns[0].Operator = genCommitter }, "opt-in entry names unknown operator " + genCommitter},
		{"duplicate opt-in", func(gs *types.GenesisState) { gs.OptIns[1] = gs.OptIns[0] }, "opt-in entry 1/" + genOp1 + " appears twice"},
		{"allow-list of an unknown service", func(gs *types.GenesisState) { gs.Allowlist[0].ServiceId = 9 }, "allowlist entry names unknown service 9"},
		{"duplicate allow-list entry", func(gs *types.GenesisState) { gs.Allowlist[1] = gs.Allowlist[0] }, "allowlist entry 1/" + genOp1 + " appears twice"},

		// tasks
		{"task id 0", func(gs *types.GenesisState) { gs.Tasks[0].Id = 0 }, "task id 0 outside [1, next_task_id 4)"},
		{"task id at next_task_id", func(gs *types.GenesisState) { gs.Tasks[0].Id = 4 }, "task id 4 outside [1, next_task_id 4)"},
		{"duplicate task", func(gs *types.GenesisState) { gs.Tasks[1].Id = 1 }, "task 1 appears twice"},
		{"task of an unknown service", func(gs *types.GenesisState) { gs.Tasks[0].ServiceId = 9 }, "task 1 names unknown service 9"},
		{"task of a revision not stored", func(gs *types.GenesisState) { gs.Tasks[0].ServiceRevision = 2 }, "task 1 names revision 2 of service 1, which is not stored"},
		{"task without status", func(gs *types.GenesisState) { gs.Tasks[0].Status = types.TASK_STATUS_UNSPECIFIED }, "task 1 has no status"},
		{"task creator not an address", func(gs *types.GenesisState) { gs.Tasks[0].Creator = "nobody" }, `task 1 creator "nobody" is not an address`},
		{"pending task without its snapshot", func(gs *types.GenesisState) { gs.Snapshots[0].Epoch = 1 }, "pending task 1 has no power snapshot for service 1 epoch 0"},

		// treasuries, votes, rewards, payouts
		{"treasury of an unknown service", func(gs *types.GenesisState) { gs.Treasuries[0].ServiceId = 9 }, "treasury names unknown service 9"},
		{"negative treasury", func(gs *types.GenesisState) { gs.Treasuries[0].Amount = sdkmath.NewInt(-1) }, "treasury of service 1 is negative or missing"},
		{"vote on an unknown task", func(gs *types.GenesisState) { gs.Votes[0].TaskId = 9 }, "vote names unknown task 9"},
		{"input digest on a task no event opened", func(gs *types.GenesisState) { gs.Votes[0].InputDigest = types.Digest([]byte("in")) }, "must be a hex sha256 on an event task and empty on another"},
		{"no input digest on an event task", func(gs *types.GenesisState) {
			gs.Tasks[0].Origin = types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: types.EventRefPrefix + "1/2/AB/0"}
		}, `input_digest "" must be a hex sha256 on an event task`},
		{"vote operator not an address", func(gs *types.GenesisState) { gs.Votes[0].Operator = "x" }, `vote on task 1: operator "x" is not an address`},
		{"vote digest not its result's", func(gs *types.GenesisState) { gs.Votes[0].Digest = types.Digest([]byte("B")) }, "is not its result's"},
		{"duplicate vote", func(gs *types.GenesisState) { gs.Votes = append(gs.Votes, gs.Votes[0]) }, "vote 1/" + genOp1 + " appears twice"},
		{"operator reward of no address", func(gs *types.GenesisState) { gs.OperatorRewards[0].Operator = "x" }, `operator reward of "x": not an address`},
		{"duplicate operator reward", func(gs *types.GenesisState) { gs.OperatorRewards = append(gs.OperatorRewards, gs.OperatorRewards[0]) }, "operator reward of " + genOp1 + " appears twice"},
		{"zero operator reward", func(gs *types.GenesisState) { gs.OperatorRewards[0].Amount = sdkmath.ZeroInt() }, "operator reward of " + genOp1 + " must be positive"},
		{"unpaid task that is no task", func(gs *types.GenesisState) { gs.UnpaidTasks = []uint64{9} }, "unpaid task 9 is not a task"},
		{"unpaid task twice", func(gs *types.GenesisState) { gs.UnpaidTasks = []uint64{2, 2} }, "unpaid task 2 appears twice"},
		{"unpaid task still pending", func(gs *types.GenesisState) { gs.UnpaidTasks = []uint64{1} }, "unpaid task 1 is TASK_STATUS_PENDING (settled false)"},
		{"unpaid task already settled", func(gs *types.GenesisState) { gs.Tasks[1].Settled = true }, "unpaid task 2 is TASK_STATUS_COMPLETED (settled true)"},

		// commitments and pools
		{"commitment to an unknown operator", func(gs *types.GenesisState) { gs.Commitments[0].Operator = genCommitter }, "names unknown operator " + genCommitter + " or service 1"},
		{"duplicate commitment", func(gs *types.GenesisState) { gs.Commitments = append(gs.Commitments, gs.Commitments[0]) }, "commitment of " + genCommitter + " to " + genOp1 + "/1 appears twice"},
		{"negative commitment unclaimed", func(gs *types.GenesisState) { gs.Commitments[0].Unclaimed = sdkmath.NewInt(-1) }, "negative or missing shares, unclaimed or reward index"},
		{"commitment pending shares above its shares", func(gs *types.GenesisState) { gs.Commitments[0].PendingShares = sdkmath.NewInt(101) }, "has pending shares 101 outside [0, shares]"},
		{"duplicate generation end", func(gs *types.GenesisState) {
			gs.PoolGenerationEnds = append(gs.PoolGenerationEnds, gs.PoolGenerationEnds[0])
		}, "end of generation 0 of pool " + genOp1 + "/1 appears twice"},
		{"generation end with a negative index", func(gs *types.GenesisState) { gs.PoolGenerationEnds[0].RewardIndex = dec("-1") }, "has a negative reward index"},
		{"duplicate pending join", func(gs *types.GenesisState) { gs.PendingJoins = append(gs.PendingJoins, gs.PendingJoins[0]) }, "pending join " + genOp1 + "/1/0 appears twice"},
		{"pending join without holders", func(gs *types.GenesisState) { gs.PendingJoins[0].Holders = 0 }, "has no holders or a negative reward index"},
		{"duplicate pool", func(gs *types.GenesisState) { gs.Pools = append(gs.Pools, gs.Pools[0]) }, "pool " + genOp1 + "/1 appears twice"},
		{"pool with negative tokens", func(gs *types.GenesisState) { gs.Pools[0].Total = sdkmath.NewInt(-1) }, "pool " + genOp1 + "/1 has negative or missing tokens or shares"},
		{"pool tokens above its shares", func(gs *types.GenesisState) { gs.Pools[0].Total = sdkmath.NewInt(101) }, "holds 101 tokens for 100 shares"},
		{"pool shares not its holders'", func(gs *types.GenesisState) {
			gs.Pools[0].Shares = sdkmath.NewInt(120)
		}, "pool " + genOp1 + "/1 has 120 shares, its holders 100"},
		{"pool with negative outstanding rewards", func(gs *types.GenesisState) { gs.Pools[0].Outstanding = sdkmath.NewInt(-1) }, "negative or missing outstanding rewards or reward index"},
		{"pool pending shares above its shares", func(gs *types.GenesisState) { gs.Pools[0].PendingShares = sdkmath.NewInt(101) }, "pool " + genOp1 + "/1 has pending shares 101"},
		{"commitments without a pool", func(gs *types.GenesisState) { gs.Pools = nil }, "commitments to " + genOp1 + "/1 have no pool"},
		{"commitment of an older generation without its end", func(gs *types.GenesisState) {
			gs.Commitments = append(gs.Commitments, staleCommitment(0))
			gs.PoolGenerationEnds = nil
		}, "commitments to " + genOp1 + "/1 of generation 0: the pool is at generation 1 and that generation has no end"},
		{"commitment of a future generation", func(gs *types.GenesisState) {
			gs.Commitments = append(gs.Commitments, staleCommitment(2))
		}, "commitments to " + genOp1 + "/1 of generation 2: the pool is at generation 1"},

		// unbonding
		{"unbonding id at next_unbonding_id", func(gs *types.GenesisState) { gs.NextUnbondingId = 0 }, "unbonding entry 0 is not below next_unbonding_id 0"},
		{"duplicate unbonding entry", func(gs *types.GenesisState) { gs.Unbonding = append(gs.Unbonding, gs.Unbonding[0]) }, "unbonding entry 0 appears twice"},
		{"unbonding committer not an address", func(gs *types.GenesisState) { gs.Unbonding[0].Committer = "x" }, `unbonding entry 0 committer "x" is not an address`},
		{"unbonding entry with a negative amount", func(gs *types.GenesisState) { gs.Unbonding[0].Amount = sdkmath.NewInt(-1) }, "unbonding entry 0 has negative or missing shares or amount"},
		{"duplicate unbonding pool", func(gs *types.GenesisState) { gs.UnbondingPools = append(gs.UnbondingPools, gs.UnbondingPools[0]) }, "unbonding pool " + genOp1 + "/1/0 appears twice"},
		{"unbonding pool without shares", func(gs *types.GenesisState) { gs.UnbondingPools[0].Shares = sdkmath.ZeroInt() }, "has no shares: it would have been removed"},
		{"unbonding pool tokens above its shares", func(gs *types.GenesisState) { gs.UnbondingPools[0].Total = sdkmath.NewInt(11) }, "unbonding pool " + genOp1 + "/1/0 holds 11 tokens for 10 shares"},

		// snapshots and liveness
		{"snapshot of an unknown service", func(gs *types.GenesisState) {
			gs.Snapshots = append(gs.Snapshots, types.PowerSnapshot{ServiceId: 9})
		}, "snapshot names unknown service 9"},
		{"snapshot total not the sum of its powers", func(gs *types.GenesisState) { gs.Snapshots[0].Total = 3 }, "snapshot 1/0 total 3 is not the sum of its powers 2"},
		{"epoch answers of no address", func(gs *types.GenesisState) { gs.EpochAnswers[0].Operator = "x" }, `epoch answers of service 1 epoch 0: operator "x" is not an address`},
		{"liveness of an unknown operator", func(gs *types.GenesisState) { gs.OperatorLiveness[0].Operator = genCommitter }, "operator liveness 1/" + genCommitter + " names an unknown service or operator, or appears twice"},
		{"duplicate liveness", func(gs *types.GenesisState) {
			gs.OperatorLiveness = append(gs.OperatorLiveness, gs.OperatorLiveness[0])
		}, "operator liveness 1/" + genOp1 + " names an unknown service or operator, or appears twice"},
		{"liveness window missing more than it counted", func(gs *types.GenesisState) { gs.OperatorLiveness[0].Liveness.WindowMissed = 3 }, "window_missed 3 > window_tasks 2"},

		// pruning
		{"tombstone of an id never issued", func(gs *types.GenesisState) { gs.PrunedTasks[0].TaskId = 4 }, "pruned_tasks names task 4 outside [1, next_task_id 4)"},
		{"tombstone of a live task", func(gs *types.GenesisState) { gs.PrunedTasks[0].TaskId = 2 }, "pruned_tasks names task 2, which is not pruned"},
		{"duplicate tombstone", func(gs *types.GenesisState) { gs.PrunedTasks = append(gs.PrunedTasks, gs.PrunedTasks[0]) }, "pruned task 3 appears twice"},
		{"tombstone without height", func(gs *types.GenesisState) { gs.PrunedTasks[0].Height = 0 }, "pruned task 3 has height 0"},
		{"pruned event ref of a live task", func(gs *types.GenesisState) { gs.PrunedEventRefs[0].TaskId = 1 }, "pruned_event_refs names task 1, which is not pruned"},
		{"pruned event ref without event", func(gs *types.GenesisState) { gs.PrunedEventRefs[0].Event = "" }, `pruned event ref "" is empty or appears twice`},
		{"pruned event ref of a live task's event", func(gs *types.GenesisState) {
			gs.Tasks[1].Origin = types.Origin{Kind: types.ORIGIN_KIND_TRIGGER, Ref: types.EventRefPrefix + genEventRef}
		}, fmt.Sprintf("pruned event ref %q is empty or appears twice", genEventRef)},

		// IBC (review H2: checks Validate lacked)
		{"IBC packet of an unknown task", func(gs *types.GenesisState) { gs.IbcPackets[0].TaskId = 9 }, "IBC packet names unknown task 9"},
		{"IBC packet of a task twice", func(gs *types.GenesisState) { gs.IbcPackets = append(gs.IbcPackets, gs.IbcPackets[0]) }, "IBC packet of task 1 appears twice"},
		{"IBC packet of a task not opened by it", func(gs *types.GenesisState) { gs.IbcPackets[0].TaskId = 2 }, `IBC packet channel-1/1 did not open task 2 (origin ORIGIN_KIND_TX "")`},
		{"IBC packet of another sequence", func(gs *types.GenesisState) { gs.IbcPackets[0].Packet.Sequence = 2 }, `IBC packet channel-1/2 did not open task 1 (origin ORIGIN_KIND_IBC "channel-1/1")`},
		{"duplicate remote result", func(gs *types.GenesisState) { gs.RemoteResults = append(gs.RemoteResults, gs.RemoteResults[0]) }, "remote result channel-0/1 appears twice"},
		{"duplicate pushed result", func(gs *types.GenesisState) { gs.PushedResults = append(gs.PushedResults, gs.PushedResults[0]) }, "pushed result channel-0/1 appears twice"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			gs := cloneGenesis(t, base)
			tc.malleate(&gs)
			err := gs.Validate()
			require.ErrorIs(t, err, types.ErrInvalidGenesis)
			require.Contains(t, err.Error(), tc.errText)
		})
	}
}

// staleCommitment is a commitment without shares to genOp1's pool of
// service 1, of a generation of that pool.
func staleCommitment(generation uint64) types.Commitment {
	return types.Commitment{Committer: genOwner, Operator: genOp1, ServiceId: 1, Shares: sdkmath.ZeroInt(),
		RewardIndex: sdkmath.LegacyZeroDec(), Unclaimed: sdkmath.ZeroInt(), Generation: generation}
}

// cloneGenesis deep-copies a genesis state, so that a row's changes stay its own.
func cloneGenesis(t *testing.T, gs types.GenesisState) types.GenesisState {
	t.Helper()
	bz, err := gs.Marshal()
	require.NoError(t, err)
	var out types.GenesisState
	require.NoError(t, out.Unmarshal(bz))
	return out
}
