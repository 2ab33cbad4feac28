package submitter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/server"
)

// A vote included on chain shows on /status, as node wires the one sink to
// every part. (The old wiring copied only the pipeline's reports to the
// status page: votes_included stayed 0.)
func TestIncludedVoteShowsOnStatus(t *testing.T) {
	m := metrics.New()
	f := newFixture(t, nil, WithBatchDelay(10*time.Millisecond), WithMetrics(m))
	srv, err := server.New("127.0.0.1:0", m)
	require.NoError(t, err)

	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 1, Result: []byte("1")}))
	require.NoError(t, f.sub.Enqueue(Vote{TaskID: 2, Result: []byte("4")}))
	require.False(t, f.sub.sendBatch(context.Background()), "one batch, sent and confirmed")

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var page struct {
		VotesIncluded uint64 `json:"votes_included"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	require.EqualValues(t, 2, page.VotesIncluded)
}
