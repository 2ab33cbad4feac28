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
	m.VotesIncluded(2)
	m.VotesRejected(1)
	m.EventsMatched(4)
	m.Height(17)

	page := m.Status()
	require.EqualValues(t, 2, page.TasksSeen)
	require.EqualValues(t, 1, page.TasksExecuted)
	require.EqualValues(t, 1, page.TasksFailed)
	require.EqualValues(t, 2, page.VotesIncluded)
	require.EqualValues(t, 17, page.Height)
	require.False(t, page.LastBlockSeen.IsZero())

	families, err := m.Gatherer().Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			switch {
			case s.GetCounter() != nil:
				got[f.GetName()] += s.GetCounter().GetValue()
			case s.GetGauge() != nil:
				got[f.GetName()] += s.GetGauge().GetValue()
			}
		}
	}
	require.Equal(t, map[string]float64{
		"avs_sidecar_tasks_seen_total":     2,
		"avs_sidecar_tasks_executed_total": 1,
		"avs_sidecar_tasks_failed_total":   1,
		"avs_sidecar_votes_sent_total":     3,
		"avs_sidecar_votes_included_total": 2,
		"avs_sidecar_votes_rejected_total": 1,
		"avs_sidecar_events_matched_total": 4,
		"avs_sidecar_block_height":         17,
	}, got)
}
