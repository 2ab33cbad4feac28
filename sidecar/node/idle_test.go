package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/server"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeIdleChain answers the idle check's two queries from fields.
type fakeIdleChain struct {
	registered bool
	ids        []uint64
	live       []types.OperatorLiveness
	standing   map[uint64]chain.Standing
	err        error
	asked      []uint64 // services whose standing was read
}

func (f *fakeIdleChain) OperatorInfo(context.Context, string) (bool, []uint64, []types.OperatorLiveness, error) {
	return f.registered, f.ids, f.live, f.err
}

func (f *fakeIdleChain) OperatorStanding(_ context.Context, id uint64, _ string) (chain.Standing, error) {
	f.asked = append(f.asked, id)
	return f.standing[id], f.err
}

// TestIdleReasons: each reason the sidecar can be idle for, with the hint
// that names the command to run, and the active case.
func TestIdleReasons(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	jailed := types.OperatorLiveness{Jailed: true, JailedUntil: until}
	for _, tc := range []struct {
		name     string
		chain    fakeIdleChain
		only     map[uint64]bool
		want     metrics.Idleness
		wantHint []string
	}{
		{
			name:     "not registered",
			chain:    fakeIdleChain{},
			want:     metrics.Idleness{Reason: metrics.IdleNotRegistered},
			wantHint: []string{"avsd tx avs register-operator"},
		},
		{
			name:     "registered, opted in to nothing",
			chain:    fakeIdleChain{registered: true},
			want:     metrics.Idleness{Reason: metrics.IdleNotOptedIn},
			wantHint: []string{"avsd tx avs opt-in <service-id>", "from the epoch after the opt-in"},
		},
		{
			name: "opted in only to services the services setting leaves out",
			chain: fakeIdleChain{registered: true, ids: []uint64{1, 2}, live: make([]types.OperatorLiveness, 2),
				standing: map[uint64]chain.Standing{1: {InSnapshot: true, Taken: true, Power: 1}}},
			only:     map[uint64]bool{7: true},
			want:     metrics.Idleness{Reason: metrics.IdleNotOptedIn},
			wantHint: []string{"opted in to services [1 2]", "services setting [7]"},
		},
		{
			name:     "jailed on every service",
			chain:    fakeIdleChain{registered: true, ids: []uint64{3, 4}, live: []types.OperatorLiveness{jailed, jailed}},
			want:     metrics.Idleness{Reason: metrics.IdleJailed, JailedUntil: until},
			wantHint: []string{"jailed on services [3 4]", "after 2030-01-02T03:04:05Z: avsd tx avs unjail <service-id>"},
		},
		{
			name: "opted in after the epoch's snapshot: counts from the next epoch",
			chain: fakeIdleChain{registered: true, ids: []uint64{5}, live: make([]types.OperatorLiveness, 1),
				standing: map[uint64]chain.Standing{5: {Epoch: 41, Taken: true, Power: 1}}},
			want:     metrics.Idleness{Reason: metrics.IdleNoPower, PowerFromEpoch: 42},
			wantHint: []string{"from epoch 42, at most 100 blocks away", "nothing to do but wait"},
		},
		{
			name: "no stake: no power in any snapshot",
			chain: fakeIdleChain{registered: true, ids: []uint64{5, 6}, live: []types.OperatorLiveness{{}, jailed},
				standing: map[uint64]chain.Standing{5: {Epoch: 41}}},
			want:     metrics.Idleness{Reason: metrics.IdleNoPower},
			wantHint: []string{"no power in services [5]", "avsd tx avs commit <operator address> <service-id> <amount>", "jailed on services [6]"},
		},
		{
			name: "in the current snapshot",
			chain: fakeIdleChain{registered: true, ids: []uint64{5, 6}, live: make([]types.OperatorLiveness, 2),
				standing: map[uint64]chain.Standing{5: {Epoch: 41, Taken: true, Power: 1, InSnapshot: true}, 6: {Epoch: 41, Taken: true}}},
			want: metrics.Idleness{Reason: metrics.IdleOK, Services: []uint64{5}},
		},
		{
			name: "snapshot not taken yet, power now: the epoch's first task takes it in",
			chain: fakeIdleChain{registered: true, ids: []uint64{5}, live: make([]types.OperatorLiveness, 1),
				standing: map[uint64]chain.Standing{5: {Epoch: 41, Power: 7}}},
			want: metrics.Idleness{Reason: metrics.IdleOK, Services: []uint64{5}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkIdle(context.Background(), &tc.chain, "avs1op", tc.only, 100)
			require.NoError(t, err)
			hint := got.Hint
			got.Hint = ""
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.want.Reason == metrics.IdleOK, hint == "", "a hint exactly when idle: %q", hint)
			for _, w := range tc.wantHint {
				require.Contains(t, hint, w)
			}
		})
	}
}

// TestIdleCheckSkipsFilteredAndJailedServices: the power of a service the
// sidecar does not run, or is jailed on, is not read.
func TestIdleCheckSkipsFilteredAndJailedServices(t *testing.T) {
	c := &fakeIdleChain{registered: true, ids: []uint64{1, 2, 3}, live: []types.OperatorLiveness{{}, {Jailed: true}, {}}}
	_, err := checkIdle(context.Background(), c, "avs1op", map[uint64]bool{2: true, 3: true}, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{3}, c.asked)
}

// logLines is a slog handler's output split in lines.
func logLines(buf *bytes.Buffer) []string {
	s := strings.TrimSpace(buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestIdleWatchLogsOnChangeAndShowsStatus: one log line at the first check
// and one per change, none while the reason stands; /status and
// avs_sidecar_idle follow every check; a failed read keeps the last state.
func TestIdleWatchLogsOnChangeAndShowsStatus(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	m := metrics.New()
	c := &fakeIdleChain{registered: true}
	w := &idleWatch{chain: c, operator: "avs1op", metrics: m, log: slog.New(slog.NewTextHandler(&buf, nil))}
	srv, err := server.New("127.0.0.1:0", m)
	require.NoError(t, err)
	h := srv.Handler()

	// Not opted in: one warning, shown on /status and in the gauge.
	require.NoError(t, w.check(ctx))
	require.NoError(t, w.check(ctx))
	lines := logLines(&buf)
	require.Len(t, lines, 1, "no repeated line while the reason stands")
	require.Contains(t, lines[0], "level=WARN")
	require.Contains(t, lines[0], "reason=not_opted_in")
	require.Contains(t, lines[0], "avsd tx avs opt-in")

	status := getStatus(t, h)
	require.Equal(t, "idle", status["state"])
	require.Equal(t, "not_opted_in", status["idle_reason"])
	require.Contains(t, status["hint"], "avsd tx avs opt-in")
	require.Equal(t, map[string]float64{"ok": 0, "not_registered": 0, "not_opted_in": 1, "jailed": 0, "no_power": 0}, idleGauge(t, h))

	// Opted in after the snapshot: a new reason, a new line.
	c.ids, c.live = []uint64{5}, make([]types.OperatorLiveness, 1)
	c.standing = map[uint64]chain.Standing{5: {Epoch: 9, Taken: true, Power: 1}}
	require.NoError(t, w.check(ctx))
	lines = logLines(&buf)
	require.Len(t, lines, 2)
	require.Contains(t, lines[1], "reason=no_power")
	require.Contains(t, lines[1], "from epoch 10")
	status = getStatus(t, h)
	require.Equal(t, "no_power", status["idle_reason"])
	require.EqualValues(t, 10, status["power_from_epoch"])
	require.EqualValues(t, 1, idleGauge(t, h)["no_power"])
	require.EqualValues(t, 0, idleGauge(t, h)["not_opted_in"])

	// A failed read: no line about the state, the last state stands.
	c.err = errors.New("unavailable")
	require.Error(t, w.check(ctx))
	lines = logLines(&buf)
	require.Len(t, lines, 3)
	require.Contains(t, lines[2], "could not check")
	require.Equal(t, "no_power", getStatus(t, h)["idle_reason"])
	c.err = nil

	// In the next epoch's snapshot: active, one info line, idle fields gone.
	c.standing = map[uint64]chain.Standing{5: {Epoch: 10, Taken: true, Power: 1, InSnapshot: true}}
	require.NoError(t, w.check(ctx))
	require.NoError(t, w.check(ctx))
	lines = logLines(&buf)
	require.Len(t, lines, 4)
	require.Contains(t, lines[3], "level=INFO")
	require.Contains(t, lines[3], "services=[5]")
	status = getStatus(t, h)
	require.Equal(t, "active", status["state"])
	require.NotContains(t, status, "idle_reason")
	require.NotContains(t, status, "hint")
	require.NotContains(t, status, "power_from_epoch")
	require.Equal(t, []any{5.0}, status["active_services"])
	require.Equal(t, map[string]float64{"ok": 1, "not_registered": 0, "not_opted_in": 0, "jailed": 0, "no_power": 0}, idleGauge(t, h))
}

// TestIdleWatchRunChecksEveryNBlocks: run checks at start and then once
// every `every` blocks of the heights it is told, not at each block.
func TestIdleWatchRunChecksEveryNBlocks(t *testing.T) {
	c := &countingIdleChain{calls: make(chan struct{}, 100)}
	w := &idleWatch{chain: c, operator: "avs1op", metrics: metrics.Nop(), log: slog.New(slog.DiscardHandler)}
	heights := make(chan int64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, heights, 10)
	}()
	<-c.calls // the check at start
	for h := int64(100); h <= 125; h++ {
		heights <- h // unbuffered: taken by run before the next is sent
	}
	cancel()
	<-done
	// Heights 100..125 from a first seen 100: checks at 110 and 120.
	require.Len(t, c.calls, 2)
}

// countingIdleChain signals each idle check (one OperatorInfo each).
type countingIdleChain struct{ calls chan struct{} }

func (c *countingIdleChain) OperatorInfo(context.Context, string) (bool, []uint64, []types.OperatorLiveness, error) {
	c.calls <- struct{}{}
	return false, nil, nil, nil
}

func (c *countingIdleChain) OperatorStanding(context.Context, uint64, string) (chain.Standing, error) {
	return chain.Standing{}, nil
}

func getStatus(t *testing.T, h http.Handler) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var page map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	return page
}

// idleGauge reads avs_sidecar_idle by reason from /metrics.
func idleGauge(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	got := map[string]float64{}
	for _, m := range idleLine.FindAllStringSubmatch(rec.Body.String(), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		got[m[1]] = v
	}
	return got
}

var idleLine = regexp.MustCompile(`(?m)^avs_sidecar_idle\{reason="([a-z_]+)"\} (\S+)$`)
