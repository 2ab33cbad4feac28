package components_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// The committed components, built by scripts/build-components.sh.
var components = map[string]string{
	"square":       "square/square.wasm",
	"square-rust":  "square-rust/square-rust.wasm",
	"price-oracle": "price-oracle/price-oracle.wasm",
}

const maxResponse = 1 << 20

// Host return codes of http_fetch and chain_query.
const (
	codeNotAllowed  = -1
	codeFailed      = -2
	codeMalformed   = -3
	codeTooLarge    = -4
	testChainID     = "avschain-test"
	testBlockHeight = 1234
)

var testBlockTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testHost is a minimal implementation of the "avs" host module, following
// the ABI the sidecar implements.
type testHost struct {
	allow  map[string]bool // allowed hostnames for http_fetch
	client *http.Client

	mu   sync.Mutex
	logs []string
}

func (h *testHost) log(_ context.Context, m api.Module, ptr, n uint32) {
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		return
	}
	h.mu.Lock()
	h.logs = append(h.logs, string(b))
	h.mu.Unlock()
}

// reply copies min(len(body), outCap) bytes to outPtr and returns len(body).
func reply(m api.Module, body []byte, outPtr, outCap uint32) int64 {
	n := len(body)
	if n > int(outCap) {
		n = int(outCap)
	}
	if n > 0 && !m.Memory().Write(outPtr, body[:n]) {
		return codeMalformed
	}
	return int64(len(body))
}

func (h *testHost) httpFetch(ctx context.Context, m api.Module, urlPtr, urlLen, outPtr, outCap uint32) int64 {
	raw, ok := m.Memory().Read(urlPtr, urlLen)
	if !ok {
		return codeMalformed
	}
	u, err := url.Parse(string(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return codeMalformed
	}
	if !h.allow[u.Hostname()] {
		return codeNotAllowed
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return codeMalformed
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return codeFailed
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return codeFailed
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return codeFailed
	}
	if len(body) > maxResponse {
		return codeTooLarge
	}
	return reply(m, body, outPtr, outCap)
}

func (h *testHost) chainQuery(_ context.Context, m api.Module, pathPtr, pathLen, reqPtr, reqLen, outPtr, outCap uint32) int64 {
	path, ok1 := m.Memory().Read(pathPtr, pathLen)
	req, ok2 := m.Memory().Read(reqPtr, reqLen)
	if !ok1 || !ok2 {
		return codeMalformed
	}
	if !strings.HasPrefix(string(path), "/avschain.") || !strings.Contains(string(path), ".Query/") {
		return codeNotAllowed
	}
	// No chain here: echo the request.
	return reply(m, []byte(fmt.Sprintf(`{"path":%q,"request":%s}`, path, req)), outPtr, outCap)
}

// compilationCache is shared by the tests' runtimes: each module is compiled
// to machine code once per test binary.
var compilationCache = wazero.NewCompilationCache()

// runner compiles each component once and runs tasks like the sidecar.
type runner struct {
	t        testing.TB
	rt       wazero.Runtime
	host     *testHost
	compiled map[string]wazero.CompiledModule
}

func newRunner(t testing.TB, allow ...string) *runner {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(compilationCache))
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)

	h := &testHost{allow: map[string]bool{}, client: &http.Client{Timeout: 5 * time.Second}}
	for _, a := range allow {
		h.allow[a] = true
	}
	_, err := rt.NewHostModuleBuilder("avs").
		NewFunctionBuilder().WithFunc(h.log).Export("log").
		NewFunctionBuilder().WithFunc(h.httpFetch).Export("http_fetch").
		NewFunctionBuilder().WithFunc(h.chainQuery).Export("chain_query").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &runner{t: t, rt: rt, host: h, compiled: map[string]wazero.CompiledModule{}}
}

func readComponent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(components[name]))
	if err != nil {
		t.Fatalf("%s: %v (run `make components`)", name, err)
	}
	return b
}

func (r *runner) compile(name string) wazero.CompiledModule {
	if c, ok := r.compiled[name]; ok {
		return c
	}
	start := time.Now()
	c, err := r.rt.CompileModule(context.Background(), readComponent(r.t, name))
	if err != nil {
		r.t.Fatalf("compile %s: %v", name, err)
	}
	r.t.Logf("compile %s: %v", name, time.Since(start).Round(time.Millisecond))
	r.compiled[name] = c
	return c
}

type result struct {
	stdout, stderr string
	exitCode       uint32
	trap           error // a failure other than an exit
}

func (r result) ok() bool { return r.trap == nil && r.exitCode == 0 }

// run executes one task: input on stdin, config as environment.
func (r *runner) run(name, input string, config map[string]string) result {
	r.t.Helper()
	c := r.compile(name)
	var stdout, stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: one instance per task
		WithArgs(name).
		WithStdin(strings.NewReader(input)).
		WithStdout(&stdout).
		WithStderr(&stderr).
		WithEnv("AVS_TASK_ID", "9").
		WithEnv("AVS_SERVICE_ID", "1").
		WithEnv("AVS_CHAIN_ID", testChainID).
		WithEnv("AVS_BLOCK_HEIGHT", fmt.Sprint(testBlockHeight)).
		WithEnv("AVS_BLOCK_TIME", testBlockTime.Format(time.RFC3339)).
		WithWalltime(func() (int64, int32) {
			return testBlockTime.Unix(), int32(testBlockTime.Nanosecond())
		}, sys.ClockResolution(1))
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cfg = cfg.WithEnv(k, config[k])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mod, err := r.rt.InstantiateModule(ctx, c, cfg)
	if mod != nil {
		mod.Close(ctx)
	}
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *sys.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode() // 0 is a normal exit of _start
	default:
		res.trap = err
	}
	return res
}

func TestComponentImports(t *testing.T) {
	allowed := map[string]bool{
		"avs.log": true, "avs.http_fetch": true, "avs.chain_query": true,
	}
	for name := range components {
		imports, err := wasmbin.Validate(readComponent(t, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, imp := range imports {
			mod, fn, _ := strings.Cut(imp, ".")
			if mod != types.WASIModule && !allowed[imp] {
				t.Errorf("%s imports %s (module %q, function %q)", name, imp, mod, fn)
			}
		}
		t.Logf("%s: %d imports: %s", name, len(imports), strings.Join(imports, " "))
	}
}

// TestHostSignatures checks that each avs import has the ABI's signature.
func TestHostSignatures(t *testing.T) {
	want := map[string]string{
		"log":         "(i32,i32)->()",
		"http_fetch":  "(i32,i32,i32,i32)->(i64)",
		"chain_query": "(i32,i32,i32,i32,i32,i32)->(i64)",
	}
	r := newRunner(t)
	for name := range components {
		for _, f := range r.compile(name).ImportedFunctions() {
			mod, fn, _ := f.Import()
			if mod != "avs" {
				continue
			}
			got := sig(f.ParamTypes(), f.ResultTypes())
			if got != want[fn] {
				t.Errorf("%s: avs.%s has signature %s, want %s", name, fn, got, want[fn])
			}
		}
	}
}

func sig(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, v := range ts {
			s[i] = api.ValueTypeName(v)
		}
		return strings.Join(s, ",")
	}
	return "(" + names(params) + ")->(" + names(results) + ")"
}

func TestSquare(t *testing.T) {
	r := newRunner(t)
	ten := "9876543210"
	big10 := new(big.Int)
	big10.SetString(ten, 10)
	long := "-123456789012345678901234567890123456789"
	bigLong, _ := new(big.Int).SetString(long, 10)
	cases := []struct{ in, want string }{
		{"4", "16"},
		{" 4\n", "16"},
		{"0", "0"},
		{"-12", "144"},
		{"+7", "49"},
		{"007", "49"},
		{ten, new(big.Int).Mul(big10, big10).String()}, // 97546105778997104100
		{"999999999", "999999998000000001"},
		{"1000000000", "1000000000000000000"},
		{long, new(big.Int).Mul(bigLong, bigLong).String()},
	}
	for _, name := range []string{"square", "square-rust"} {
		for _, tc := range cases {
			res := r.run(name, tc.in, nil)
			if !res.ok() || res.stdout != tc.want {
				t.Errorf("%s(%q) = %q (exit %d, trap %v, stderr %q), want %q",
					name, tc.in, res.stdout, res.exitCode, res.trap, res.stderr, tc.want)
			}
		}
		for _, in := range []string{"abc", "", "   ", "1.5", "4 4", "0x10", "1_000", "--4", "+", "12a"} {
			res := r.run(name, in, nil)
			if res.ok() {
				t.Errorf("%s(%q) succeeded with %q, want a non-zero exit", name, in, res.stdout)
			} else if res.trap != nil {
				t.Errorf("%s(%q) trapped (%v), want exit status 1", name, in, res.trap)
			} else if res.stdout != "" {
				t.Errorf("%s(%q) wrote %q before failing", name, in, res.stdout)
			}
		}
		if res := r.run(name, "abc", nil); !strings.Contains(res.stderr, "not a decimal integer") {
			t.Errorf("%s: stderr %q does not explain the failure", name, res.stderr)
		}
	}
}

// For a task an event trigger opened, square squares the event's attribute
// named by the config key event_attribute ("data" when unset).
func TestSquareOnEventInput(t *testing.T) {
	r := newRunner(t)
	event := `{"trigger":"event","service_id":1,"height":40,"tx_hash":"AB","event_index":3,` +
		`"event":{"type":"wasm-avs_announce","attributes":[{"key":"_contract_address","value":"avs1c"},{"key":"data","value":"7"},{"key":"n","value":"12"}]}}`
	if res := r.run("square", event, nil); !res.ok() || res.stdout != "49" {
		t.Errorf("square(event, data=7) = %q (exit %d, stderr %q), want 49", res.stdout, res.exitCode, res.stderr)
	}
	if res := r.run("square", event, map[string]string{"event_attribute": "n"}); !res.ok() || res.stdout != "144" {
		t.Errorf("square(event, n=12) = %q (exit %d, stderr %q), want 144", res.stdout, res.exitCode, res.stderr)
	}
	res := r.run("square", event, map[string]string{"event_attribute": "missing"})
	if res.ok() || !strings.Contains(res.stderr, `no attribute "missing"`) {
		t.Errorf("square(event, missing attribute) = %q (exit %d, stderr %q), want a failure naming the attribute", res.stdout, res.exitCode, res.stderr)
	}
}

func TestPriceOracle(t *testing.T) {
	var (
		mu     sync.Mutex
		status = http.StatusOK
		body   = `{"symbol":"ATOM","price":123.45}`
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	set := func(s int, b string) { mu.Lock(); status, body = s, b; mu.Unlock() }

	r := newRunner(t, "127.0.0.1")
	cfg := map[string]string{"PRICE_URL": srv.URL + "/price"}
	expectOK := func(what string, cfg map[string]string, want string) {
		t.Helper()
		res := r.run("price-oracle", "", cfg)
		if !res.ok() || res.stdout != want {
			t.Errorf("%s: got %q (exit %d, trap %v, stderr %q), want %q",
				what, res.stdout, res.exitCode, res.trap, res.stderr, want)
		}
	}
	expectFail := func(what string, cfg map[string]string, wantStderr string) {
		t.Helper()
		res := r.run("price-oracle", "", cfg)
		switch {
		case res.ok():
			t.Errorf("%s: succeeded with %q, want a non-zero exit", what, res.stdout)
		case res.trap != nil:
			t.Errorf("%s: trapped (%v), want exit status 1", what, res.trap)
		case !strings.Contains(res.stderr, wantStderr):
			t.Errorf("%s: stderr %q, want it to contain %q", what, res.stderr, wantStderr)
		}
	}

	expectOK("price", cfg, "123.45")

	set(http.StatusOK, `{"last":"6.5e1","price":1}`)
	expectOK("PRICE_FIELD", map[string]string{"PRICE_URL": srv.URL, "PRICE_FIELD": "last"}, "65")

	// A body larger than the SDK's first buffer takes the retry path.
	set(http.StatusOK, `{"pad":"`+strings.Repeat("x", 200<<10)+`","price":42.0}`)
	expectOK("large body", cfg, "42")

	set(http.StatusInternalServerError, `{"price":1}`)
	expectFail("status 500", cfg, "request failed")

	set(http.StatusOK, `{"price":1}`)
	// The same server by another name is not on the allow-list.
	other := map[string]string{"PRICE_URL": strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}
	expectFail("host not allowed", other, "not allowed")

	expectFail("no PRICE_URL", nil, "PRICE_URL is not set")
	expectFail("malformed URL", map[string]string{"PRICE_URL": "ftp://127.0.0.1/x"}, "malformed")

	set(http.StatusOK, `{"price":"n/a"}`)
	expectFail("non-numeric", cfg, "not a number")

	set(http.StatusOK, `{"price":1,"pad":"`+strings.Repeat("x", maxResponse)+`"}`)
	expectFail("body over 1 MiB", cfg, "larger than 1 MiB")
}

// BenchmarkTaskTime measures the per-task time (instantiate and run) of each
// committed component under wazero's compiler, the compile done before the
// clock starts: go test -run '^$' -bench TaskTime ./components/ (the
// figures in docs/PERFORMANCE.md, Executor, come from the sidecar's own
// benchmarks; this one is the components' view without the executor).
func BenchmarkTaskTime(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"price":123.45}`)
	}))
	defer srv.Close()
	runs := map[string]struct {
		in, want string
		cfg      map[string]string
	}{
		"square":       {"9876543210", "97546105778997104100", nil},
		"square-rust":  {"9876543210", "97546105778997104100", nil},
		"price-oracle": {"", "123.45", map[string]string{"PRICE_URL": srv.URL}},
	}
	for _, name := range []string{"square", "square-rust", "price-oracle"} {
		b.Run(name, func(b *testing.B) {
			r := newRunner(b, "127.0.0.1")
			r.compile(name)
			b.ReportMetric(float64(len(readComponent(b, name))), "wasm-bytes")
			b.ResetTimer()
			for range b.N {
				res := r.run(name, runs[name].in, runs[name].cfg)
				if !res.ok() || res.stdout != runs[name].want {
					b.Fatalf("%s: exit %d trap %v stdout %q stderr %q", name, res.exitCode, res.trap, res.stdout, res.stderr)
				}
			}
		})
	}
}

// buildGuest compiles a Go component for wasip1 into a temporary directory.
// It needs only the go command that runs the test (go test puts its
// GOROOT/bin first on PATH), so it never skips: CI fails on a skip.
func buildGuest(t *testing.T, pkg string) []byte {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not on PATH: %v", err)
	}
	out := filepath.Join(t.TempDir(), "guest.wasm")
	cmd := exec.Command(goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, b)
	}
	t.Logf("built %s in %v", pkg, time.Since(start).Round(time.Millisecond))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSDKHostCalls runs every SDK call inside wazero through the test host.
func TestSDKHostCalls(t *testing.T) {
	code := buildGuest(t, "./internal/hostcheck")
	if _, err := wasmbin.Validate(code); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("y", 100<<10) // more than the SDK's first buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/small":
			_, _ = io.WriteString(w, "hello")
		case "/big":
			_, _ = io.WriteString(w, big)
		case "/huge":
			_, _ = w.Write(make([]byte, maxResponse+1))
		default:
			http.NotFound(w, req)
		}
	}))
	defer srv.Close()

	r := newRunner(t, "127.0.0.1")
	ctx := context.Background()
	c, err := r.rt.CompileModule(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	r.compiled["hostcheck"] = c

	longReq := `{"service_id":"1","pad":"` + strings.Repeat("z", 70<<10) + `"}`
	lines := []struct{ cmd, want string }{
		{"context", "9 1 " + testChainID + " 1234 2025-06-01T12:00:00Z"},
		{"config PRICE_URL", "configured"},
		{"config UNSET", ""},
		{"time", "2025-06-01T12:00:00Z"},
		{"log hi there", "logged"},
		{"http " + srv.URL + "/small", "ok hello"},
		{"http " + srv.URL + "/big", fmt.Sprintf("ok %d bytes yyyyyyyyyyyyyyyyyyyy...yyyyyyyyyyyyyyyyyyyy", len(big))},
		{"http " + srv.URL + "/missing", "err ErrRequestFailed: avs: http_fetch " + srv.URL + "/missing: request failed"},
		{"http " + srv.URL + "/huge", "err ErrResponseTooLarge: avs: http_fetch " + srv.URL + "/huge: response larger than 1 MiB"},
		{"http http://localhost/x", "err ErrHostNotAllowed: avs: http_fetch http://localhost/x: not allowed"},
		{"http ftp://127.0.0.1/x", "err ErrMalformedRequest: avs: http_fetch ftp://127.0.0.1/x: malformed"},
		{`query /avschain.avs.v1.Query/Service {"service_id":"1"}`, `ok {"path":"/avschain.avs.v1.Query/Service","request":{"service_id":"1"}}`},
		{"query /avschain.avs.v1.Query/Service " + longReq, fmt.Sprintf("ok %d bytes", len(longReq)+len(`{"path":"/avschain.avs.v1.Query/Service","request":}`))},
		{`query /avschain.avs.v1.Msg/CreateService {}`, "err ErrHostNotAllowed: avs: chain_query /avschain.avs.v1.Msg/CreateService: not allowed"},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.cmd + "\n")
	}
	res := r.run("hostcheck", in.String(), map[string]string{"PRICE_URL": "configured"})
	if !res.ok() {
		t.Fatalf("exit %d trap %v stderr %q", res.exitCode, res.trap, res.stderr)
	}
	got := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("got %d result lines, want %d:\n%s", len(got), len(lines), res.stdout)
	}
	for i, l := range lines {
		if !strings.HasPrefix(got[i], l.want) || (l.want == "" && got[i] != "") {
			t.Errorf("%.60s:\n  got  %.200s\n  want %.200s", l.cmd, got[i], l.want)
		}
	}
	r.host.mu.Lock()
	logs := r.host.logs
	r.host.mu.Unlock()
	t.Logf("guest output:\n%.2000s", res.stdout)
	if len(logs) != 1 || logs[0] != "hostcheck: hi there" {
		t.Errorf("host logs %q", logs)
	}
}
