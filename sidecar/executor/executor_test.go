package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// Memory limits: the Go runtime needs at least 39 pages, the Rust square 17.
const (
	goPages   = 512
	rustPages = 32
)

var (
	blockTime = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

	// cacheDir is one compilation cache for every executor of the package's
	// tests, so each component is compiled once per `go test` run.
	cacheDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "executor-test-cache-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func repoFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	require.NoError(t, err)
	return b
}

func newExecutor(t testing.TB, opts ...executor.Option) *executor.Executor {
	t.Helper()
	opts = append([]executor.Option{
		executor.WithCacheDir(cacheDir),
		executor.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, opts...)
	e, err := executor.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close(context.Background())) })
	return e
}

func job(id uint64, input string, l executor.Limits) executor.Job {
	return executor.Job{
		TaskID: id, ServiceID: 3, ChainID: "avschain-test", BlockHeight: 42, BlockTime: blockTime,
		Input: []byte(input), Limits: l,
	}
}

func limits(pages uint32) executor.Limits {
	return executor.Limits{Time: 10 * time.Second, MemoryPages: pages, OutputBytes: 1024}
}

// The hand-assembled modules are valid components: WASI commands importing
// only from wasi_snapshot_preview1.
func TestTestModulesAreValidComponents(t *testing.T) {
	for name, code := range map[string][]byte{
		"fixed output": avstest.FixedOutput("hello"),
		"loop":         avstest.Loop(),
		"memory hog":   avstest.MemoryHog(),
		"trap":         avstest.Trap(),
		"exit":         avstest.Exit(3),
		"max memory":   avstest.ModuleWithBody(nil, avstest.WithMemoryMax(1, 2), avstest.WithLocals(2)),
	} {
		imports, err := wasmbin.Validate(code)
		require.NoError(t, err, name)
		require.Equal(t, []string{"wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.proc_exit"}, imports, name)
	}
}

func TestRunSquare(t *testing.T) {
	e := newExecutor(t)
	for name, tc := range map[string]struct {
		path  string
		pages uint32
	}{
		"go":   {"components/square/square.wasm", goPages},
		"rust": {"components/square-rust/square-rust.wasm", rustPages},
	} {
		t.Run(name, func(t *testing.T) {
			wasm := repoFile(t, tc.path)
			for in, want := range map[string]string{"4": "16", " -12\n": "144", "123456789123456789": "15241578780673678515622620750190521"} {
				res, err := e.Run(context.Background(), job(1, in, limits(tc.pages)), wasm)
				require.NoError(t, err, "input %q", in)
				require.Equal(t, want, string(res.Output), "input %q", in)
				require.Positive(t, res.Duration)
			}
			// Input that is not an integer: the component exits 1, no result.
			_, err := e.Run(context.Background(), job(2, "four", limits(tc.pages)), wasm)
			require.ErrorIs(t, err, executor.ErrExit)
		})
	}
}

func TestRunConcurrent(t *testing.T) {
	e := newExecutor(t)
	wasm := repoFile(t, "components/square-rust/square-rust.wasm")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.Run(context.Background(), job(uint64(i), fmt.Sprint(i), limits(rustPages)), wasm)
			if err == nil && string(res.Output) != fmt.Sprint(i*i) {
				err = fmt.Errorf("%d squared: got %q", i, res.Output)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestRunTimeLimit(t *testing.T) {
	e := newExecutor(t)
	l := limits(16)
	l.Time = 200 * time.Millisecond
	// ErrTimeout is the time limit's deadline firing: no wall-clock bound
	// (tests review M1); a loop that were never interrupted fails the test
	// at go test's timeout.
	for range 2 {
		res, err := e.Run(context.Background(), job(1, "", l), avstest.Loop())
		require.ErrorIs(t, err, executor.ErrTimeout)
		require.NotErrorIs(t, err, context.Canceled)
		reason, ok := executor.FailureReason(err)
		require.True(t, ok)
		require.Equal(t, types.FAILURE_REASON_TIME, reason)
		require.Empty(t, res.Output)
	}
	// The executor (and the runtime the loop ran in) still works.
	res, err := e.Run(context.Background(), job(2, "4", limits(rustPages)), repoFile(t, "components/square-rust/square-rust.wasm"))
	require.NoError(t, err)
	require.Equal(t, "16", string(res.Output))
	res, err = e.Run(context.Background(), job(3, "", limits(16)), avstest.FixedOutput("still here"))
	require.NoError(t, err)
	require.Equal(t, "still here", string(res.Output))
}

func TestRunCanceled(t *testing.T) {
	e := newExecutor(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := e.Run(ctx, job(1, "", limits(16)), avstest.Loop())
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, executor.ErrTimeout)
}

// TestRunMemoryLimit: the memory hog grows its memory a page at a time
// until memory.grow fails, then traps. ErrMemory on that trap is the proof
// that it reached the limit (the executor says so only when the memory is
// at its maximum, with nothing on stderr here), and the allocator never
// hands out more than the limit (memory_internal_test.go). No heap
// statistics: they measure the GC and the machine (tests review M1).
func TestRunMemoryLimit(t *testing.T) {
	e := newExecutor(t)
	l := limits(256)          // 16 MiB
	l.Time = 30 * time.Second // the memory limit must stop it, not the clock
	for range 5 {
		_, err := e.Run(context.Background(), job(1, "", l), avstest.MemoryHog())
		require.ErrorIs(t, err, executor.ErrMemory, "it grew its memory to the limit")
		require.ErrorIs(t, err, executor.ErrTrap, "then trapped (unreachable)")
		require.NotErrorIs(t, err, executor.ErrTimeout, "the memory limit stopped it, not the 30s clock")
		reason, ok := executor.FailureReason(err)
		require.True(t, ok)
		require.Equal(t, types.FAILURE_REASON_MEMORY, reason)
	}

	// A module whose initial memory is over the limit does not instantiate.
	_, err := e.Run(context.Background(), job(2, "", limits(16)), avstest.ModuleWithBody(nil, avstest.WithMemory(17)))
	require.ErrorIs(t, err, executor.ErrMemory, "initial memory over the limit")
	require.ErrorIs(t, err, executor.ErrInstantiate)
	// A Go component under its runtime's minimum (44 pages) is the same
	// case: its memory section is over the limit (tests review L2: it was
	// any error).
	_, err = e.Run(context.Background(), job(3, "4", limits(16)), repoFile(t, "components/square/square.wasm"))
	require.ErrorIs(t, err, executor.ErrMemory)
	require.ErrorIs(t, err, executor.ErrInstantiate)
	require.ErrorContains(t, err, "over limit of 16 pages")
	reason, ok := executor.FailureReason(err)
	require.True(t, ok)
	require.Equal(t, types.FAILURE_REASON_MEMORY, reason)

	// Still usable.
	res, err := e.Run(context.Background(), job(4, "", limits(16)), avstest.FixedOutput("ok"))
	require.NoError(t, err)
	require.Equal(t, "ok", string(res.Output))
}

func TestRunTrapAndExit(t *testing.T) {
	e := newExecutor(t)
	_, err := e.Run(context.Background(), job(1, "", limits(16)), avstest.Trap())
	require.ErrorIs(t, err, executor.ErrTrap)

	_, err = e.Run(context.Background(), job(1, "", limits(16)), avstest.Exit(3))
	require.ErrorIs(t, err, executor.ErrExit)
	require.Contains(t, err.Error(), "exit code 3")

	res, err := e.Run(context.Background(), job(1, "", limits(16)), avstest.Exit(0))
	require.NoError(t, err, "proc_exit(0) is success")
	require.Empty(t, res.Output)
}

func TestRunOutputLimit(t *testing.T) {
	e := newExecutor(t)
	l := limits(16)
	l.OutputBytes = 64

	res, err := e.Run(context.Background(), job(1, "", l), avstest.FixedOutput(strings.Repeat("x", 64)))
	require.NoError(t, err, "exactly at the limit")
	require.Len(t, res.Output, 64)

	_, err = e.Run(context.Background(), job(1, "", l), avstest.FixedOutput(strings.Repeat("x", 65)))
	require.ErrorIs(t, err, executor.ErrOutputTooLarge)

	// A Go component hitting the limit.
	l.MemoryPages = goPages
	l.OutputBytes = 8
	_, err = e.Run(context.Background(), job(1, "123456789", l), repoFile(t, "components/square/square.wasm"))
	require.ErrorIs(t, err, executor.ErrOutputTooLarge)

	// A job without time or output limits is the caller's mistake, not the
	// component's failure: no vote (tests review L2: it was any error).
	for _, bad := range []executor.Limits{{MemoryPages: 16}, {MemoryPages: 16, Time: time.Second}, {MemoryPages: 16, OutputBytes: 8}} {
		_, err = e.Run(context.Background(), job(1, "", bad), avstest.FixedOutput("x"))
		require.EqualError(t, err, "job needs a positive time and output limit", "%+v", bad)
		_, ok := executor.FailureReason(err)
		require.False(t, ok, "%+v", bad)
	}
}

func TestHTTPFetchAllowList(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"price": 123.450}`)
	}))
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")

	// The server is on loopback: the operator must allow it as a private
	// host (a devnet's), or http_fetch refuses it (TestH5FetchLoopbackRefused).
	e := newExecutor(t, executor.WithPrivateHosts([]string{"127.0.0.1"}))
	wasm := repoFile(t, "components/price-oracle/price-oracle.wasm")
	run := func(allow ...string) (executor.Result, error) {
		l := limits(goPages)
		l.HTTPAllowList = allow
		j := job(1, "", l)
		j.Config = map[string]string{"PRICE_URL": srv.URL + "/price", "PRICE_FIELD": "price"}
		return e.Run(context.Background(), j, wasm)
	}

	for _, allow := range [][]string{nil, {"example.com"}, {"127.0.0.1:1"}, {"localhost"}} {
		_, err := run(allow...)
		require.ErrorIs(t, err, executor.ErrExit, "allow-list %q", allow)
		require.Zero(t, requests.Load(), "allow-list %q: no request may reach the server", allow)
	}

	for i, allow := range [][]string{{"127.0.0.1"}, {"example.com", "127.0.0.1:" + port}} {
		res, err := run(allow...)
		require.NoError(t, err, "allow-list %q", allow)
		require.Equal(t, "123.45", string(res.Output))
		require.EqualValues(t, i+1, requests.Load())
		require.NotEmpty(t, res.Logs, "the component logs through avs.log")
	}

	// A fetch that fails on the server's side makes the component's failure
	// an HTTP failure (not held against the operator), where a host refused
	// by the allow-list above is the component's own EXIT.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer broken.Close()
	l := limits(goPages)
	l.HTTPAllowList = []string{"127.0.0.1"}
	j := job(2, "", l)
	j.Config = map[string]string{"PRICE_URL": broken.URL + "/price", "PRICE_FIELD": "price"}
	_, err := e.Run(context.Background(), j, wasm)
	require.ErrorIs(t, err, executor.ErrHTTP)
	reason, ok := executor.FailureReason(err)
	require.True(t, ok)
	require.Equal(t, types.FAILURE_REASON_HTTP, reason)
}

type probeOutput struct {
	Env     map[string]string `json:"env"`
	Now     string            `json:"now"`
	Rand    string            `json:"rand"`
	Args    []string          `json:"args"`
	FSError bool              `json:"fs_error"`
}

// buildProbe builds testdata/probe for wasip1.
func buildProbe(t testing.TB) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "probe.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/probe")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "build probe: %s", msg)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}

func TestDeterministicEnvironment(t *testing.T) {
	wasm := buildProbe(t)
	_, err := wasmbin.Validate(wasm)
	require.NoError(t, err)

	e := newExecutor(t)
	run := func(id uint64) probeOutput {
		l := limits(goPages)
		l.OutputBytes = 4096
		j := job(id, "", l)
		j.Config = map[string]string{"FOO": "bar", "PRICE_FIELD": "a.b"}
		res, err := e.Run(context.Background(), j, wasm)
		require.NoError(t, err)
		var p probeOutput
		require.NoError(t, json.Unmarshal(res.Output, &p), "%s", res.Output)
		return p
	}

	p := run(7)
	require.Equal(t, map[string]string{
		"FOO":              "bar",
		"PRICE_FIELD":      "a.b",
		"AVS_TASK_ID":      "7",
		"AVS_SERVICE_ID":   "3",
		"AVS_CHAIN_ID":     "avschain-test",
		"AVS_BLOCK_HEIGHT": "42",
		"AVS_BLOCK_TIME":   "2025-06-01T12:00:00.123456789Z",
	}, p.Env, "exactly the AVS_* variables and the service config, nothing of the host")
	require.Equal(t, blockTime.Format(time.RFC3339Nano), p.Now, "time.Now reads the block time")
	require.Equal(t, []string{"component"}, p.Args)
	require.True(t, p.FSError, "no filesystem")
	require.Len(t, p.Rand, 64)

	again := run(7)
	require.Equal(t, p.Rand, again.Rand, "same task id, same random bytes")
	require.Equal(t, p.Now, again.Now)

	other := run(8)
	require.NotEqual(t, p.Rand, other.Rand, "another task id, other random bytes")
	require.Equal(t, "8", other.Env["AVS_TASK_ID"])

	// An event trigger's run has no task id: the event's input seeds it.
	event := func(input string) probeOutput {
		l := limits(goPages)
		l.OutputBytes = 4096
		res, err := e.Run(context.Background(), job(0, input, l), wasm)
		require.NoError(t, err)
		var p probeOutput
		require.NoError(t, json.Unmarshal(res.Output, &p), "%s", res.Output)
		return p
	}
	a, b := event(`{"trigger":"event","event_index":1}`), event(`{"trigger":"event","event_index":2}`)
	require.NotEqual(t, a.Rand, b.Rand, "another event, other random bytes")
	require.Equal(t, a.Rand, event(`{"trigger":"event","event_index":1}`).Rand, "the same event, the same random bytes")
	require.Equal(t, "0", a.Env["AVS_TASK_ID"])
}

// TestM12CompiledModulesBounded: a sidecar that meets many components over
// months keeps at most WithMaxCompiled of them compiled in memory, the least
// recently used closed first; a closed one is compiled again when needed.
func TestM12CompiledModulesBounded(t *testing.T) {
	e := newExecutor(t, executor.WithMaxCompiled(2))
	outputs := []string{"a", "b", "c"}
	run := func(out string) {
		t.Helper()
		res, err := e.Run(context.Background(), job(1, "", limits(1)), avstest.FixedOutput(out))
		require.NoError(t, err)
		require.Equal(t, out, string(res.Output))
	}
	for _, out := range outputs {
		run(out)
		require.LessOrEqual(t, executor.CompiledCount(e), 2)
	}
	require.Equal(t, 2, executor.CompiledCount(e))
	run("a") // evicted, compiled again
	require.Equal(t, 2, executor.CompiledCount(e))

	// Runs of a module in flight keep it: eight runs at once of two
	// modules with room for one still all succeed.
	e = newExecutor(t, executor.WithMaxCompiled(1))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			out := outputs[i%2]
			res, err := e.Run(context.Background(), job(uint64(i+1), "", limits(1)), avstest.FixedOutput(out))
			if err == nil && string(res.Output) != out {
				err = fmt.Errorf("run %d printed %q, want %q", i, res.Output, out)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, executor.CompiledCount(e))
}
