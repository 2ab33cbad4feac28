package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/metrics"
)

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String(), rec.Header()
}

func newServer(t *testing.T) (*Server, *metrics.Metrics) {
	t.Helper()
	m := metrics.New()
	s, err := New("127.0.0.1:0", m, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	return s, m
}

func TestHealthz(t *testing.T) {
	s, m := newServer(t)
	h := s.Handler()

	code, body, _ := get(t, h, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code, "no block read yet")
	require.Contains(t, body, "no block read yet")

	m.Height(42)
	code, body, _ = get(t, h, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok: height 42\n", body)

	// A watcher that stopped seeing blocks is unhealthy again.
	m.UpdateStatus(func(p *metrics.StatusPage) { p.LastBlockSeen = time.Now().Add(-s.stale - time.Second) })
	code, body, _ = get(t, h, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "last height 42")
}

func TestMetrics(t *testing.T) {
	s, m := newServer(t)
	m.TaskSeen()
	m.TaskSeen()
	m.TaskExecuted(3 * time.Millisecond)
	m.TaskFailed("timeout")
	m.VotesSent(5)
	m.VotesIncluded(4)
	m.VotesRejected(1)
	m.Height(17)
	m.EventsMatched(2)

	code, body, hdr := get(t, s.Handler(), "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, hdr.Get("Content-Type"), "text/plain")
	for _, line := range []string{
		"avs_sidecar_tasks_seen_total 2",
		"avs_sidecar_tasks_executed_total 1",
		`avs_sidecar_tasks_failed_total{reason="timeout"} 1`,
		"avs_sidecar_votes_sent_total 5",
		"avs_sidecar_votes_included_total 4",
		"avs_sidecar_votes_rejected_total 1",
		"avs_sidecar_execution_seconds_count 1",
		`avs_sidecar_execution_seconds_bucket{le="0.005"} 1`,
		`avs_sidecar_execution_seconds_bucket{le="0.0025"} 0`,
		"avs_sidecar_block_height 17",
		"avs_sidecar_events_matched_total 2",
	} {
		require.Contains(t, body, line+"\n")
	}
	// Only the sidecar's own metrics: a fresh registry, no Go collector.
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "# ") {
			continue
		}
		require.True(t, strings.HasPrefix(l, "avs_sidecar_"), "metric line %q", l)
	}
}

func TestStatus(t *testing.T) {
	s, m := newServer(t)
	started := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	m.UpdateStatus(func(p *metrics.StatusPage) {
		p.Operator, p.ChainID, p.RPCEndpoint = "avs1op", "avschain-test", "http://127.0.0.1:26657"
		p.StartedAt = started
	})
	m.Height(9)
	for range 4 {
		m.TaskSeen()
	}
	for range 3 {
		m.TaskExecuted(time.Millisecond)
	}
	m.TaskFailed("trap")
	// What the submitter reports reaches /status: votes_included was once
	// stuck at 0, as only the pipeline's reports were copied to the page.
	m.VotesIncluded(3)
	code, body, hdr := get(t, s.Handler(), "/status")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/json", hdr.Get("Content-Type"))

	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &raw))
	for _, k := range []string{"operator", "chain_id", "rpc_endpoint", "height", "last_block_seen", "tasks_seen", "tasks_executed", "tasks_failed", "votes_included", "started_at"} {
		require.Contains(t, raw, k)
	}
	var page metrics.StatusPage
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Equal(t, "avs1op", page.Operator)
	require.EqualValues(t, 9, page.Height)
	require.EqualValues(t, 4, page.TasksSeen)
	require.EqualValues(t, 3, page.TasksExecuted)
	require.EqualValues(t, 1, page.TasksFailed)
	require.EqualValues(t, 3, page.VotesIncluded)
	require.True(t, page.StartedAt.Equal(started))
}

func TestStartServesUntilCanceled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	// No logger given: the default one is used.
	s, err := New(addr, metrics.New())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()

	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = http.Get("http://" + addr + "/healthz")
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NoError(t, resp.Body.Close())

	// The address is taken: a second server fails to start.
	s2, err := New(addr, metrics.New())
	require.NoError(t, err)
	require.Error(t, s2.Start(context.Background()))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}

	_, err = New("", metrics.New())
	require.Error(t, err)
}

// TestM11HealthzTellsTheTruth: /healthz is red, with one line saying why and
// what to do, for each state in which the sidecar cannot vote or its votes
// do not count; it used to look only at block freshness.
func TestM11HealthzTellsTheTruth(t *testing.T) {
	old := func(d time.Duration) time.Time { return time.Now().Add(-d) }
	for _, tc := range []struct {
		name     string
		malleate func(p *metrics.StatusPage)
		want     []string
	}{
		{name: "chain head stands still", malleate: func(p *metrics.StatusPage) { p.ChainHead, p.HeadSeen = 42, old(time.Minute) },
			want: []string{"the chain head has not moved for 1m0s (height 42)", "rpc_endpoints"}},
		{name: "watcher reads no block", malleate: func(p *metrics.StatusPage) { p.LastBlockSeen = old(time.Minute) },
			want: []string{"no new block read for 1m0s (last height 42"}},
		{name: "submitter blocked", malleate: func(p *metrics.StatusPage) { p.SubmitterBlocked = "insufficient funds: fund avs1op" },
			want: []string{"no vote can be sent: insufficient funds: fund avs1op"}},
		{name: "queue stuck", malleate: func(p *metrics.StatusPage) {
			p.QueueDepth, p.OldestQueued, p.LastIncluded = 7, old(5*time.Minute), old(4*time.Minute)
		}, want: []string{"7 votes queued, the oldest for 5m0s", "last: 4m0s ago"}},
		{name: "queue stuck, nothing ever included", malleate: func(p *metrics.StatusPage) {
			p.QueueDepth, p.OldestQueued, p.LastIncluded = 1, old(3*time.Minute), time.Time{}
		},
			want: []string{"1 votes queued", "none since start"}},
		{name: "node below the cursor (H3)", malleate: func(p *metrics.StatusPage) { p.ChainHead, p.BelowCursor = 7, 42 },
			want: []string{"the node is at height 7, below block 42 already read", "data_dir"}},
		{name: "jailed", malleate: func(p *metrics.StatusPage) { p.JailedServices = []uint64{2, 5} },
			want: []string{"jailed on services [2 5]", "avsd tx avs unjail"}},
		{name: "balance below floor", malleate: func(p *metrics.StatusPage) { p.AccountRead, p.Balance, p.BalanceDenom = true, 99, "uavs" },
			want: []string{"balance 99uavs is below 100uavs", "fund it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New()
			s, err := New("127.0.0.1:0", m, WithBalanceFloor(100), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			require.NoError(t, err)
			m.Height(42)
			m.ChainHead(42)
			// Healthy: a busy queue that is being included, enough balance.
			m.UpdateStatus(func(p *metrics.StatusPage) {
				p.QueueDepth, p.OldestQueued, p.LastIncluded = 3, old(5*time.Minute), time.Now()
				p.AccountRead, p.Balance = true, 100
			})
			code, body, _ := get(t, s.Handler(), "/healthz")
			require.Equal(t, http.StatusOK, code, body)

			m.UpdateStatus(tc.malleate)
			code, body, _ = get(t, s.Handler(), "/healthz")
			require.Equal(t, http.StatusServiceUnavailable, code)
			require.Equal(t, 1, strings.Count(body, "\n"), "one line: %q", body)
			for _, w := range tc.want {
				require.Contains(t, body, w)
			}
			// /status still shows every field.
			_, status, _ := get(t, s.Handler(), "/status")
			var raw map[string]any
			require.NoError(t, json.Unmarshal([]byte(status), &raw))
			for _, k := range []string{"chain_head", "head_seen", "queue_depth", "submitter_blocked", "jailed_services", "balance", "account_read"} {
				if k == "submitter_blocked" && tc.name != "submitter blocked" || k == "jailed_services" && tc.name != "jailed" {
					continue // omitempty
				}
				require.Contains(t, raw, k)
			}
		})
	}
}
