package metrics_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/metrics"
)

// Every report reaches Prometheus and /status together: /status once showed
// votes_included 0 forever because only the pipeline's reports reached it.
func TestSinkFeedsPrometheusAndStatus(t *testing.T) {
	m := metrics.New()
	m.TaskSeen()
	m.TaskSeen()
	m.TaskExecuted(time.Millisecond)
	m.TaskFailed("timeout")
	m.VotesSent(3)
	m.CommitsSent(2)
	m.RevealsSent(1)
	m.VotesIncluded(2)
	m.VotesRejected(1)
	m.EventsMatched(4)
	m.ChainHead(20)
	m.Height(17)
	m.VotesDropped("avs/21", 2)
	m.TxRefused("mempool_full")
	m.Queue(5, time.Unix(1000, 0))
	m.TxsInFlight(2)
	m.SubmitterBlocked("insufficient funds")
	m.FailOver("rpc", "timeout")
	m.RPCCall("rpc", "block_results")
	m.RPCCall("rpc", "block_results")
	m.RPCCall("grpc", "cosmos.tx.v1beta1.Service/Simulate")
	m.BlocksSkipped(3)
	m.WorkRetried()
	m.WorkGivenUp("deadline")
	m.WorkPruned(6)
	m.HostCalls("http_fetch", 7, 1)
	m.Account(900, "uavs", []uint64{2}, 4, 50)

	page := m.Status()
	require.EqualValues(t, 2, page.TasksSeen)
	require.EqualValues(t, 1, page.TasksExecuted)
	require.EqualValues(t, 1, page.TasksFailed)
	require.EqualValues(t, 2, page.VotesIncluded)
	require.EqualValues(t, 17, page.Height)
	require.False(t, page.LastBlockSeen.IsZero())
	require.EqualValues(t, 20, page.ChainHead)
	require.Equal(t, "insufficient funds", page.SubmitterBlocked)
	require.Equal(t, 5, page.QueueDepth)
	require.Equal(t, []uint64{2}, page.JailedServices)
	require.True(t, page.AccountRead)
	require.False(t, page.LastIncluded.IsZero())

	families, err := m.Gatherer().Gather()
	require.NoError(t, err)
	got := map[string]float64{} // what is not zero
	for _, f := range families {
		for _, s := range f.GetMetric() {
			switch {
			case s.GetCounter() != nil:
				got[f.GetName()] += s.GetCounter().GetValue()
			case s.GetGauge() != nil && s.GetGauge().GetValue() != 0:
				got[f.GetName()] += s.GetGauge().GetValue()
			}
		}
	}
	require.Equal(t, map[string]float64{
		"avs_sidecar_tasks_seen_total":                    2,
		"avs_sidecar_tasks_executed_total":                1,
		"avs_sidecar_tasks_failed_total":                  1,
		"avs_sidecar_votes_sent_total":                    3,
		"avs_sidecar_commits_sent_total":                  2,
		"avs_sidecar_reveals_sent_total":                  1,
		"avs_sidecar_votes_included_total":                2,
		"avs_sidecar_votes_rejected_total":                1,
		"avs_sidecar_events_matched_total":                4,
		"avs_sidecar_block_height":                        17,
		"avs_sidecar_chain_head":                          20,
		"avs_sidecar_lag_blocks":                          3,
		"avs_sidecar_votes_dropped_total":                 2,
		"avs_sidecar_tx_refused_total":                    1,
		"avs_sidecar_vote_queue_depth":                    5,
		"avs_sidecar_vote_queue_oldest_timestamp_seconds": 1000,
		"avs_sidecar_txs_in_flight":                       2,
		"avs_sidecar_submitter_blocked":                   1,
		"avs_sidecar_fail_overs_total":                    1,
		"avs_sidecar_rpc_calls_total":                     3,
		"avs_sidecar_blocks_skipped_total":                3,
		"avs_sidecar_work_retried_total":                  1,
		"avs_sidecar_work_given_up_total":                 1,
		"avs_sidecar_work_pruned_total":                   6,
		"avs_sidecar_host_calls_total":                    7,
		"avs_sidecar_host_calls_failed_total":             1,
		"avs_sidecar_balance":                             900,
		"avs_sidecar_jailed_services":                     1,
		"avs_sidecar_missed_votes":                        4,
		"avs_sidecar_jail_threshold":                      50,
	}, got)
}
