package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/app"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// TestH4SlashOnRealBank (review H4): slashing burns through the real x/bank
// (x/avs's module account must hold the Burner permission), the total supply
// falls by exactly the slash, and the module invariant holds on the real app
// after every block. The dissenter is slashed once at completion and once
// more for a late losing vote, which also cuts its unbonding entry.
func TestH4SlashOnRealBank(t *testing.T) {
	e := newWasmEnv(t)
	m := e.manifest("")
	m.SlashFraction = sdkmath.LegacyMustNewDecFromStr("0.1")
	serviceID := e.createService(m)
	k := e.chain.App.AVSKeeper
	bad := e.operators[2]
	committer := e.chain.Account.String()
	stake := func(n int64) sdk.Coin { return sdk.NewInt64Coin(app.BondDenom, n) }
	requireBalanced := func() {
		t.Helper()
		require.NoError(t, k.CheckModuleBalance(e.chain.Context()))
	}
	supply := func() sdkmath.Int { return e.chain.App.BankKeeper.GetSupply(e.chain.Context(), app.BondDenom).Amount }
	pool := func() sdkmath.Int {
		p, err := k.Pools.Get(e.chain.Context(), collections.Join(bad, serviceID))
		require.NoError(t, err)
		return p.Total
	}
	vote := func(op string, taskID uint64, result string) avstypes.ResultOutcome {
		res, err := e.avs.SubmitResults(e.chain.Context(), &avstypes.MsgSubmitResults{Operator: op, Results: []avstypes.TaskResult{{TaskId: taskID, Result: []byte(result)}}})
		require.NoError(t, err)
		require.True(t, res.Outcomes[0].Accepted, "vote refused: %s", res.Outcomes[0].Error)
		return res.Outcomes[0]
	}

	_, err := e.avs.Commit(e.chain.Context(), &avstypes.MsgCommit{Committer: committer, Operator: bad, ServiceId: serviceID, Amount: stake(1000)})
	require.NoError(t, err)
	e.chain.NextBlock(t)
	requireBalanced()

	first := e.createTask(serviceID, "3")
	second := e.createTask(serviceID, "4")
	// unbonding begun in the tasks' epoch: a slash for either cuts it
	unbond, err := e.avs.Uncommit(e.chain.Context(), &avstypes.MsgUncommit{Committer: committer, Operator: bad, ServiceId: serviceID, Amount: stake(300)})
	require.NoError(t, err)
	entry, err := k.Unbonding.Get(e.chain.Context(), unbond.EntryId)
	require.NoError(t, err)
	require.Equal(t, e.task(first).Epoch, entry.Epoch)
	require.Equal(t, e.task(second).Epoch, entry.Epoch)
	unbondingPool := func() sdkmath.Int {
		u, err := k.UnbondingPools.Get(e.chain.Context(), collections.Join3(bad, serviceID, entry.Epoch))
		require.NoError(t, err)
		return u.Total
	}
	e.chain.NextBlock(t)
	requireBalanced()
	require.Equal(t, sdkmath.NewInt(700), pool())
	require.Equal(t, sdkmath.NewInt(300), unbondingPool())

	// In time: bad dissents, the two others complete the task.
	before := supply()
	vote(bad, first, "10")
	e.complete(first, "9")
	// by hand: 10% of the pool's 700 and of the unbonding 300
	require.Equal(t, before.SubRaw(70+30), supply(), "the slash is burned")
	require.Equal(t, sdkmath.NewInt(630), pool())
	require.Equal(t, sdkmath.NewInt(270), unbondingPool())
	e.chain.NextBlock(t)
	requireBalanced()

	// Late: the task is already decided when bad votes against it.
	e.complete(second, "16")
	e.chain.NextBlock(t)
	before = supply()
	out := vote(bad, second, "17")
	require.Equal(t, avstypes.TASK_STATUS_COMPLETED, out.TaskStatus)
	// by hand: 10% of 630 and of 270
	require.Equal(t, before.SubRaw(63+27), supply(), "the late slash is burned")
	require.Equal(t, sdkmath.NewInt(567), pool())
	require.Equal(t, sdkmath.NewInt(243), unbondingPool())
	entry, err = k.Unbonding.Get(e.chain.Context(), unbond.EntryId)
	require.NoError(t, err)
	worth, err := k.UnbondingValue(e.chain.Context(), entry)
	require.NoError(t, err)
	require.Equal(t, sdkmath.NewInt(243), worth, "the entry alone holds its unbonding pool")
	c, err := k.CommitmentsByPool.Get(e.chain.Context(), collections.Join3(bad, serviceID, committer))
	require.NoError(t, err)
	worth, err = k.CommitmentValue(e.chain.Context(), c)
	require.NoError(t, err)
	require.Equal(t, sdkmath.NewInt(567), worth, "the commitment alone holds the pool")
	e.chain.NextBlock(t)
	requireBalanced()

	// The honest operators' rewards were paid, never cut: two tasks, two
	// backers each, 500 apiece with no stake in their pools.
	for _, op := range e.operators[:2] {
		held, err := k.OperatorRewards.Get(e.chain.Context(), op)
		require.NoError(t, err)
		require.Equal(t, sdkmath.NewInt(1000), held, op)
	}
}
