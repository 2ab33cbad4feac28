package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
)

var hostcalls = struct {
	once sync.Once
	wasm []byte
	err  error
}{}

// hostcallsWasm builds testdata/hostcalls for wasip1 once per test binary.
func hostcallsWasm(t testing.TB) []byte {
	t.Helper()
	hostcalls.once.Do(func() {
		out := filepath.Join(cacheDir, "hostcalls.wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/hostcalls")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			hostcalls.err = fmt.Errorf("build hostcalls: %v: %s", err, msg)
			return
		}
		hostcalls.wasm, hostcalls.err = os.ReadFile(out)
	})
	require.NoError(t, hostcalls.err)
	return hostcalls.wasm
}

type hostcallsOutput struct {
	HTTP  []int64 `json:"http"`
	Query []int64 `json:"query"`
}

// runHostcalls runs the hostcalls component with urls and queries chain
// queries, allowing allow.
func runHostcalls(t *testing.T, e *executor.Executor, urls []string, queries int, fail bool, allow ...string) (hostcallsOutput, error) {
	t.Helper()
	l := limits(goPages)
	l.OutputBytes = 4096
	l.HTTPAllowList = allow
	j := job(1, "", l)
	j.Config = map[string]string{"HC_URLS": strings.Join(urls, ","), "HC_QUERIES": fmt.Sprint(queries)}
	if fail {
		j.Config["HC_FAIL"] = "1"
	}
	res, err := e.Run(context.Background(), j, hostcallsWasm(t))
	var out hostcallsOutput
	if len(res.Output) > 0 {
		require.NoError(t, json.Unmarshal(res.Output, &out), "%s", res.Output)
	}
	return out, err
}

// countingServer serves body on every path and counts requests by path.
type countingServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newCountingServer(t *testing.T, body []byte) *countingServer {
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.RequestURI())
		s.mu.Unlock()
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func (s *countingServer) hostPort() string { return strings.TrimPrefix(s.URL, "http://") }

// priceJob is a price-oracle job fetching url.
func priceJob(url string, allow ...string) executor.Job {
	l := limits(goPages)
	l.HTTPAllowList = allow
	j := job(1, "", l)
	j.Config = map[string]string{"PRICE_URL": url, "PRICE_FIELD": "price"}
	return j
}

// TestH5FetchLoopbackRefused: a service that allow-lists a loopback address
// reaches nothing on the operator's machine unless the operator allows that
// host to be private (WithPrivateHosts). The component sees "not allowed"
// (-1) and the run's failure is HTTP: whether a target is refused depends
// on the operator's resolver and private hosts, never slashable.
func TestH5FetchLoopbackRefused(t *testing.T) {
	srv := newCountingServer(t, []byte(`{"price": 7}`))
	wasm := repoFile(t, "components/price-oracle/price-oracle.wasm")
	j := priceJob(srv.URL+"/price", srv.hostPort())

	for _, private := range [][]string{nil, {"127.0.0.1:1"}, {"localhost"}, {"example.com"}} {
		e := newExecutor(t, executor.WithPrivateHosts(private))
		_, err := e.Run(context.Background(), j, wasm)
		require.ErrorIs(t, err, executor.ErrExit, "private hosts %q", private)
		require.ErrorIs(t, err, executor.ErrHTTP, "private hosts %q", private)
		require.Contains(t, err.Error(), "not allowed", "private hosts %q: the component saw -1", private)
		require.Empty(t, srv.requests(), "private hosts %q: nothing reached the server", private)
	}

	for _, private := range [][]string{{"127.0.0.1"}, {srv.hostPort()}} {
		e := newExecutor(t, executor.WithPrivateHosts(private))
		res, err := e.Run(context.Background(), j, wasm)
		require.NoError(t, err, "private hosts %q", private)
		require.Equal(t, "7", string(res.Output))
	}
	require.Len(t, srv.requests(), 2)
}

// TestH5NameResolvingToLoopbackRefused: the address policy applies to the
// address a name resolves to, not to the name: "localhost" on the
// allow-list reaches 127.0.0.1 only if the operator made it private.
func TestH5NameResolvingToLoopbackRefused(t *testing.T) {
	srv := newCountingServer(t, []byte(`{"price": 8}`))
	_, port, _ := strings.Cut(srv.hostPort(), ":")
	wasm := repoFile(t, "components/price-oracle/price-oracle.wasm")
	j := priceJob("http://localhost:"+port+"/price", "localhost")

	e := newExecutor(t, executor.WithPrivateHosts([]string{"127.0.0.1"}))
	_, err := e.Run(context.Background(), j, wasm)
	require.ErrorIs(t, err, executor.ErrHTTP)
	require.Contains(t, err.Error(), "not allowed")
	require.Empty(t, srv.requests(), "localhost resolves to loopback: refused")

	e = newExecutor(t, executor.WithPrivateHosts([]string{"localhost:" + port}))
	res, err := e.Run(context.Background(), j, wasm)
	require.NoError(t, err)
	require.Equal(t, "8", string(res.Output))
	require.Len(t, srv.requests(), 1)
}

// TestH5RedirectRechecked: each redirect hop is checked against the
// service's allow-list and the address policy, and at most five are
// followed.
func TestH5RedirectRechecked(t *testing.T) {
	b := newCountingServer(t, []byte(`{"price": 9}`))
	_, portB, _ := strings.Cut(b.hostPort(), ":")
	var a *httptest.Server
	a = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/to-b":
			http.Redirect(w, r, b.URL+"/secret", http.StatusFound)
		case r.URL.Path == "/to-b-by-name":
			http.Redirect(w, r, "http://localhost:"+portB+"/secret", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			var n int
			_, _ = fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
			if n == 0 {
				_, _ = w.Write([]byte(`{"price": 10}`))
				return
			}
			http.Redirect(w, r, fmt.Sprintf("%s/hop/%d", a.URL, n-1), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer a.Close()
	hostA := strings.TrimPrefix(a.URL, "http://")
	wasm := repoFile(t, "components/price-oracle/price-oracle.wasm")
	e := newExecutor(t, executor.WithPrivateHosts([]string{"127.0.0.1"}))

	// A is allowed, B is not: the hop to B is refused.
	_, err := e.Run(context.Background(), priceJob(a.URL+"/to-b", hostA), wasm)
	require.ErrorIs(t, err, executor.ErrHTTP)
	require.Contains(t, err.Error(), "not allowed")
	require.Empty(t, b.requests(), "the redirect to a host off the allow-list was not followed")

	// B is allowed by name, but its name resolves to loopback and only
	// 127.0.0.1 is private: refused by the address policy.
	_, err = e.Run(context.Background(), priceJob(a.URL+"/to-b-by-name", hostA, "localhost"), wasm)
	require.ErrorIs(t, err, executor.ErrHTTP)
	require.Empty(t, b.requests())

	// Both allowed: followed.
	res, err := e.Run(context.Background(), priceJob(a.URL+"/to-b", hostA, b.hostPort()), wasm)
	require.NoError(t, err)
	require.Equal(t, "9", string(res.Output))
	require.Equal(t, []string{"/secret"}, b.requests())

	// Five hops are followed, six are not.
	res, err = e.Run(context.Background(), priceJob(a.URL+"/hop/5", hostA), wasm)
	require.NoError(t, err)
	require.Equal(t, "10", string(res.Output))
	_, err = e.Run(context.Background(), priceJob(a.URL+"/hop/6", hostA), wasm)
	require.ErrorIs(t, err, executor.ErrHTTP)
}

// TestH4HTTPBodyBytesBounded: a run reads at most HTTPBytes of http_fetch
// bodies (then -4, and the run's failure is HTTP), and the executor keeps
// only the last body, for the retry with a larger buffer: a URL fetched
// again after another one is fetched again.
func TestH4HTTPBodyBytesBounded(t *testing.T) {
	srv := newCountingServer(t, make([]byte, executor.MaxHostResponse))
	e := newExecutor(t, executor.WithPrivateHosts([]string{"127.0.0.1"}),
		executor.WithHostCallLimits(executor.HostCallLimits{HTTPBytes: 3 * executor.MaxHostResponse}))

	var urls []string
	for i := range 5 {
		urls = append(urls, fmt.Sprintf("%s/big?i=%d", srv.URL, i))
	}
	out, err := runHostcalls(t, e, urls, 0, false, srv.hostPort())
	require.NoError(t, err)
	mib := int64(executor.MaxHostResponse)
	require.Equal(t, []int64{mib, mib, mib, -4, -4}, out.HTTP, "the fourth MiB is over the run's budget")
	require.Len(t, srv.requests(), 3, "one request per fetch: the larger-buffer retry is served from the cache")

	_, err = runHostcalls(t, e, urls, 0, true, srv.hostPort())
	require.ErrorIs(t, err, executor.ErrHTTP, "a run failing after the budget ran out fails for HTTP")
	reason, ok := executor.FailureReason(err)
	require.True(t, ok)
	require.Equal(t, types.FAILURE_REASON_HTTP, reason)

	small := newCountingServer(t, []byte(strings.Repeat("x", 100)))
	a, b := small.URL+"/a", small.URL+"/b"
	out, err = runHostcalls(t, e, []string{a, a, b, a}, 0, false, small.hostPort())
	require.NoError(t, err)
	require.Equal(t, []int64{100, 100, 100, 100}, out.HTTP)
	require.Equal(t, []string{"/a", "/b", "/a"}, small.requests(), "only the last URL's body is kept")
}

// serviceQuerier answers Query/Service and counts the queries.
type serviceQuerier struct{ calls atomic.Int32 }

func (q *serviceQuerier) ABCIQuery(_ context.Context, _ string, _ []byte, _ int64) ([]byte, error) {
	q.calls.Add(1)
	resp := types.QueryServiceResponse{Service: types.Service{Id: 7, Owner: "avs1owner", Manifest: types.ServiceManifest{Name: strings.Repeat("n", 40)}}}
	return resp.Marshal()
}

// failingQuerier is a node that does not answer.
type failingQuerier struct{}

func (failingQuerier) ABCIQuery(context.Context, string, []byte, int64) ([]byte, error) {
	return nil, errors.New("post failed: connection refused")
}

// TestM3ChainQueryWithoutANodeIsAnHTTPFailure: a component that fails
// because its chain_query found no node to answer failed for a reason of
// this operator's, which may pass: the run's failure is HTTP (retried by
// the pipeline within the deadline, never slashed), not the exit code
// every operator would share.
func TestM3ChainQueryWithoutANodeIsAnHTTPFailure(t *testing.T) {
	e := newExecutor(t, executor.WithQuerier(failingQuerier{}))
	_, err := runHostcalls(t, e, nil, 1, true)
	require.ErrorIs(t, err, executor.ErrHTTP)
	reason, ok := executor.FailureReason(err)
	require.True(t, ok)
	require.Equal(t, types.FAILURE_REASON_HTTP, reason)

	// A call the component got wrong (a URL that is not http) is the
	// component's failure, the same on every operator: EXIT.
	e = newExecutor(t, executor.WithQuerier(&serviceQuerier{}))
	_, err = runHostcalls(t, e, []string{"ftp://not-http"}, 0, true)
	require.ErrorIs(t, err, executor.ErrExit)
	require.NotErrorIs(t, err, executor.ErrHTTP)
}

// TestM5HostCallCaps: a run makes at most HTTPCalls http_fetch requests and
// QueryCalls chain queries (the larger-buffer retry of the last one is not
// counted); past them the call returns -1 and reaches nothing.
func TestM5HostCallCaps(t *testing.T) {
	srv := newCountingServer(t, []byte(strings.Repeat("y", 50)))
	q := &serviceQuerier{}
	e := newExecutor(t, executor.WithPrivateHosts([]string{"127.0.0.1"}), executor.WithQuerier(q),
		executor.WithHostCallLimits(executor.HostCallLimits{HTTPCalls: 3, QueryCalls: 2}))
	var urls []string
	for i := range 5 {
		urls = append(urls, fmt.Sprintf("%s/p?i=%d", srv.URL, i))
	}
	out, err := runHostcalls(t, e, urls, 4, false, srv.hostPort())
	require.NoError(t, err)
	require.Equal(t, []int64{50, 50, 50, -1, -1}, out.HTTP)
	require.Len(t, srv.requests(), 3)
	require.Len(t, out.Query, 4)
	require.Positive(t, out.Query[0])
	require.Equal(t, out.Query[0], out.Query[1])
	require.Equal(t, []int64{-1, -1}, out.Query[2:])
	require.EqualValues(t, 2, q.calls.Load(), "the larger-buffer retry is served from the last answer")

	// The defaults: 16 requests, 64 queries.
	e = newExecutor(t, executor.WithPrivateHosts([]string{"127.0.0.1"}), executor.WithQuerier(q))
	urls = urls[:0]
	for i := range 17 {
		urls = append(urls, fmt.Sprintf("%s/d?i=%d", srv.URL, i))
	}
	q.calls.Store(0)
	out, err = runHostcalls(t, e, urls, 65, false, srv.hostPort())
	require.NoError(t, err)
	require.EqualValues(t, 50, out.HTTP[15])
	require.EqualValues(t, -1, out.HTTP[16])
	require.Positive(t, out.Query[63])
	require.EqualValues(t, -1, out.Query[64])
	require.EqualValues(t, 64, q.calls.Load())
	require.Equal(t, executor.HostCallLimits{HTTPCalls: 16, QueryCalls: 64, HTTPBytes: 4 << 20}, executor.DefaultHostCallLimits)
}

// recordingHandler keeps the records logged at Warn and above.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

type hostCallReport struct {
	kind         string
	made, failed int
}

type fakeMetrics struct {
	mu      sync.Mutex
	reports []hostCallReport
}

func (m *fakeMetrics) HostCalls(kind string, made, failed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reports = append(m.reports, hostCallReport{kind, made, failed})
}

// TestM4OneSummaryLinePerRun: refused and failed host calls are counted and
// told once at the end of the run (one log line, one metrics report per
// kind), however many there were.
func TestM4OneSummaryLinePerRun(t *testing.T) {
	h := &recordingHandler{}
	m := &fakeMetrics{}
	e := newExecutor(t, executor.WithLogger(slog.New(h)), executor.WithMetrics(m))
	urls := make([]string, 50)
	for i := range urls {
		urls[i] = "http://off-the-list.example/x"
	}
	out, err := runHostcalls(t, e, urls, 3, false, "prices.example.org")
	require.NoError(t, err)
	require.Len(t, out.HTTP, 50)
	require.Len(t, out.Query, 3, "no querier: every query fails")

	require.Len(t, h.recs, 1, "one line for the run")
	attrs := map[string]string{}
	h.recs[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	require.Equal(t, "50", attrs["http_fetch_failed"])
	require.Equal(t, "50", attrs["http_fetch_calls"])
	require.Equal(t, "3", attrs["chain_query_failed"])
	require.Contains(t, attrs["first_failure"], "off-the-list.example")

	require.ElementsMatch(t, []hostCallReport{{"http_fetch", 50, 50}, {"chain_query", 3, 3}, {"log", 0, 0}}, m.reports)
}

// TestL8HugeTableRefused: wazero allocates a table's minimum size at
// instantiation (8 bytes an element, up to 2^27 elements: 1 GiB), outside
// the memory limit; the executor refuses a table over MaxTableElements
// before compiling it.
func TestL8HugeTableRefused(t *testing.T) {
	e := newExecutor(t)
	_, err := e.Run(context.Background(), job(1, "", limits(16)), withTable(t, avstest.FixedOutput("small"), 1000))
	require.NoError(t, err, "a small table runs")
	_, err = e.Run(context.Background(), job(1, "", limits(16)), withTable(t, avstest.FixedOutput("huge"), 10_000_000))
	require.ErrorIs(t, err, executor.ErrMemory)
	require.Contains(t, err.Error(), "table")
}

// withTable inserts a table section (funcref, min elements, no maximum)
// into a module that has none.
func withTable(t *testing.T, wasm []byte, min uint32) []byte {
	t.Helper()
	leb := func(v uint32) []byte {
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	body := append([]byte{1, 0x70, 0x00}, leb(min)...)
	section := append(append([]byte{4}, leb(uint32(len(body)))...), body...)
	off := 8
	for off < len(wasm) {
		id := wasm[off]
		size, n := uint32(0), 0
		for shift := 0; ; shift += 7 {
			c := wasm[off+1+n]
			size |= uint32(c&0x7f) << shift
			n++
			if c&0x80 == 0 {
				break
			}
		}
		require.NotEqual(t, byte(4), id, "the module has a table already")
		if id > 4 && id != 0 {
			return append(append(append([]byte(nil), wasm[:off]...), section...), wasm[off:]...)
		}
		off += 1 + n + int(size)
	}
	t.Fatal("no section after the table's place")
	return nil
}

// TestM3CancelledRunIsNeverAVote: when the caller's context is cancelled
// during a run (the sidecar shutting down), Run's error wraps
// context.Canceled and names no failure reason, whatever the component did
// with the host call that failed because of it. wazero notices a
// cancellation asynchronously, so the component may exit 1 first: the
// "lost race" row pins that order with a context whose Err is set but
// whose Done channel wazero watches never closes.
func TestM3CancelledRunIsNeverAVote(t *testing.T) {
	wasm := repoFile(t, "components/price-oracle/price-oracle.wasm")
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, func())
	}{
		{"cancelled", func() (context.Context, func()) { return context.WithCancel(context.Background()) }},
		{"lost race", func() (context.Context, func()) {
			c := &errOnlyContext{Context: context.Background()}
			return c, func() { c.cancelled.Store(true) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				cancel()
				return nil, errors.New("connection reset by shutdown")
			})}
			e := newExecutor(t, executor.WithHTTPClient(client))
			_, err := e.Run(ctx, priceJob("https://prices.example.org/p", "prices.example.org"), wasm)
			require.ErrorIs(t, err, context.Canceled)
			_, vote := executor.FailureReason(err)
			require.False(t, vote, "no vote for a cancelled run: %v", err)
		})
	}
}

// errOnlyContext reports Canceled once cancelled is set, but its Done
// channel (Background's) never closes.
type errOnlyContext struct {
	context.Context
	cancelled atomic.Bool
}

func (c *errOnlyContext) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
