package chain_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtquery "github.com/cometbft/cometbft/libs/pubsub/query"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// txEvents flattens a transaction's events the way CometBFT's event bus
// does before it matches subscriptions ("type.key" -> values, with
// tm.event).
func txEvents(t *testing.T, evs ...proto.Message) map[string][]string {
	t.Helper()
	out := map[string][]string{"tm.event": {"Tx"}, "tx.height": {"9"}}
	for _, ev := range evs {
		typed, err := sdk.TypedEventToEvent(ev)
		require.NoError(t, err)
		e := abci.Event(typed)
		for _, a := range e.Attributes {
			out[e.Type+"."+a.Key] = append(out[e.Type+"."+a.Key], a.Value)
		}
	}
	return out
}

// TestTaskQueryMatchesOnlyTaskCreations: the websocket subscription for
// tasks is compiled by the CometBFT in go.mod's own query parser (EXISTS
// included), and matches a transaction that created a task but not a vote
// transaction: the node pushes only task creations, not every vote's events.
func TestTaskQueryMatchesOnlyTaskCreations(t *testing.T) {
	q, err := cmtquery.New(chain.QueryTaskCreated)
	require.NoError(t, err)

	fee := &types.EventServiceFunded{ServiceId: 1}
	created, err := q.Matches(txEvents(t, fee, &types.EventTaskCreated{TaskId: 7, ServiceId: 1}))
	require.NoError(t, err)
	require.True(t, created, "a transaction that created a task")

	vote, err := q.Matches(txEvents(t, fee, &types.EventVoteAccepted{TaskId: 7}, &types.EventTaskCompleted{TaskId: 7}))
	require.NoError(t, err)
	require.False(t, vote, "a vote transaction")

	block, err := q.Matches(map[string][]string{"tm.event": {"NewBlockHeader"}, chain.EventTaskCreatedType + ".task_id": {"\"7\""}})
	require.NoError(t, err)
	require.False(t, block, "only transactions")
}
