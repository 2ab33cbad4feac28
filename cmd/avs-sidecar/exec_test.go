package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
)

// writeFile writes content into a new file of the test's temp dir.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, content, 0o600))
	return path
}

// manifestJSON is a manifest create-service accepts (with the digest of
// wasm), with limits, allow-list and config as given.
func manifestJSON(t *testing.T, wasm []byte, limits string, allow []string, config map[string]string) string {
	t.Helper()
	entries := []map[string]string{}
	for k, v := range config {
		entries = append(entries, map[string]string{"key": k, "value": v})
	}
	var lim map[string]any
	require.NoError(t, json.Unmarshal([]byte(limits), &lim))
	lim["http_allow_list"] = allow
	bz, err := json.Marshal(map[string]any{
		"name": "exec-test", "component_digest": types.Digest(wasm), "config": entries, "limits": lim,
		"quorum":       map[string]any{"threshold": "0.67", "weighting": "WEIGHTING_EQUAL", "min_operators": 1},
		"aggregation":  map[string]any{"mode": "AGGREGATION_MODE_EXACT"},
		"fee_per_task": map[string]any{"denom": "uavs", "amount": "1000"},
		"admission":    "ADMISSION_ALLOWLIST",
	})
	require.NoError(t, err)
	return writeFile(t, "manifest.json", bz)
}

// TestExecManifestLimits: exec --manifest runs under the manifest's limits
// (issue #19 item 8), a flag given on the command line overrides one, and a
// manifest create-service would not decode is refused as it would be.
func TestExecManifestLimits(t *testing.T) {
	hello := avstest.FixedOutput("hello world")
	helloWasm := writeFile(t, "hello.wasm", hello)
	loopWasm := writeFile(t, "loop.wasm", avstest.Loop())
	small := manifestJSON(t, hello, `{"time_ms":"1000","memory_pages":16,"output_bytes":"5"}`, nil, nil)
	short := manifestJSON(t, avstest.Loop(), `{"time_ms":"50","memory_pages":16,"output_bytes":"1024"}`, nil, nil)
	unknown := writeFile(t, "bad.json", []byte(`{"name":"x","limits":{"time_ms":"1","memroy_pages":2}}`))

	for _, tc := range []struct {
		name       string
		args       []string
		wantOut    string
		wantErr    []string
		wantStderr string
	}{
		{name: "output_bytes from the manifest", args: []string{"--wasm", helloWasm, "--manifest", small},
			wantErr: []string{"output limit (5 bytes)", "FAILURE_REASON_OUTPUT"}},
		{name: "--output-bytes overrides it", args: []string{"--wasm", helloWasm, "--manifest", small, "--output-bytes", "11"},
			wantOut: "hello world"},
		{name: "without a manifest, the default 16 KiB", args: []string{"--wasm", helloWasm}, wantOut: "hello world"},
		{name: "time_ms from the manifest", args: []string{"--wasm", loopWasm, "--manifest", short},
			wantErr: []string{"time limit", "FAILURE_REASON_TIME"}},
		{name: "an unknown manifest field", args: []string{"--wasm", helloWasm, "--manifest", unknown},
			wantErr: []string{"decode manifest", `unknown field "memroy_pages"`}},
		{name: "a manifest that names another component is run, with a warning", args: []string{"--wasm", helloWasm, "--manifest", short},
			wantOut: "hello world", wantStderr: "the manifest's component_digest is not this file's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"exec"}, tc.args...)...)
			if tc.wantErr != nil {
				require.Equal(t, 1, code, stderr)
				for _, w := range tc.wantErr {
					require.Contains(t, stderr, w)
				}
				return
			}
			require.Zero(t, code, stderr)
			require.Equal(t, tc.wantOut, stdout)
			if tc.wantStderr != "" {
				require.Contains(t, stderr, tc.wantStderr)
			} else {
				require.NotContains(t, stderr, "level=WARN")
			}
		})
	}
}

// TestExecRefusesACosmWasmContractAsStoreComponent: a contract imports from
// "env"; exec gives store-component's error, not a trap at instantiation
// (newcomer review, "Local run").
func TestExecRefusesACosmWasmContractAsStoreComponent(t *testing.T) {
	contract := writeFile(t, "contract.wasm", avstest.Module(false, avstest.Import{Module: "env", Name: "db_read"}))
	code, _, stderr := run(t, "exec", "--wasm", contract)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "store-component would refuse it")
	require.Contains(t, stderr, `import "env"."db_read": components may import only from "wasi_snapshot_preview1" and "avs"`)
	require.NotContains(t, stderr, "not instantiated")
}

// buildGo builds the Go component in dir (a package of this module, or a
// module of its own) for wasip1, as components/README.md says.
func buildGo(t *testing.T, dir string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command runs the tests, so it is on PATH")
	out := filepath.Join(t.TempDir(), filepath.Base(dir)+".wasm")
	cmd := exec.Command(goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build in %s: %s", dir, b)
	return out
}

// TestComponentTemplate: components/template, a module of its own that
// requires the chain's module for the SDK, builds with the README's command
// and runs under exec, with config from a manifest and from --config.
func TestComponentTemplate(t *testing.T) {
	wasm := buildGo(t, filepath.Join("..", "..", "components", "template"))

	code, stdout, stderr := run(t, "exec", "--wasm", wasm, "--input", "world")
	require.Zero(t, code, stderr)
	require.Equal(t, "hello, world", stdout)

	bz, err := os.ReadFile(wasm)
	require.NoError(t, err)
	m := manifestJSON(t, bz, `{"time_ms":"5000","memory_pages":512,"output_bytes":"1024"}`, nil, map[string]string{"GREETING": "hi"})
	code, stdout, stderr = run(t, "exec", "--wasm", wasm, "--input", "world", "--manifest", m)
	require.Zero(t, code, stderr)
	require.Equal(t, "hi, world", stdout, "the manifest's config is the component's environment")
	require.NotContains(t, stderr, "level=WARN", "a manifest create-service accepts, for this very file")

	code, stdout, stderr = run(t, "exec", "--wasm", wasm, "--input", "world", "--manifest", m, "--config", "GREETING=hey")
	require.Zero(t, code, stderr)
	require.Equal(t, "hey, world", stdout, "--config overrides the manifest's key")

	// The template's own manifest: only its placeholder digest is wrong,
	// and the warning gives the file's.
	code, stdout, stderr = run(t, "exec", "--wasm", wasm, "--input", "world", "--manifest", filepath.Join("..", "..", "components", "template", "manifest.json"))
	require.Zero(t, code, stderr)
	require.Equal(t, "hello, world", stdout)
	require.Equal(t, 1, strings.Count(stderr, "level=WARN"), stderr)
	require.Contains(t, stderr, "is not a lower-case hex sha256")
	require.Contains(t, stderr, "file_digest="+types.Digest(bz))

	code, _, stderr = run(t, "exec", "--wasm", wasm, "--input", "")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "template: the input is empty (an operator votes this failure: FAILURE_REASON_EXIT)")
}

// fakeRPC answers the CometBFT JSON-RPC calls exec --node makes (status,
// block, abci_query) and records the queries.
type fakeRPC struct {
	height int64
	time   time.Time
	answer []byte // abci_query's value

	mu      sync.Mutex
	queries []string // path@height
}

func (f *fakeRPC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req rpctypes.RPCRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var res rpctypes.RPCResponse
	switch req.Method {
	case "status":
		st := &coretypes.ResultStatus{SyncInfo: coretypes.SyncInfo{LatestBlockHeight: f.height, LatestBlockTime: f.time}}
		st.NodeInfo.Network = "fake-chain"
		res = rpctypes.NewRPCSuccessResponse(req.ID, st)
	case "block":
		var p struct {
			Height int64 `json:"height,string"`
		}
		_ = json.Unmarshal(req.Params, &p)
		res = rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultBlock{Block: &cmttypes.Block{Header: cmttypes.Header{
			Height: p.Height, Time: f.time.Add(-time.Duration(f.height-p.Height) * time.Second),
		}}})
	case "abci_query":
		var p struct {
			Path   string `json:"path"`
			Height int64  `json:"height,string"`
		}
		_ = json.Unmarshal(req.Params, &p)
		f.mu.Lock()
		f.queries = append(f.queries, fmt.Sprintf("%s@%d", p.Path, p.Height))
		f.mu.Unlock()
		res = rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultABCIQuery{Response: abci.ResponseQuery{Value: f.answer, Height: p.Height}})
	default:
		res = rpctypes.RPCMethodNotFoundError(req.ID)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// TestExecNode: with --node, chain_query reaches the node at its latest
// height (or --height), and the task context is the node's chain and block
// with --service-id; without it, chain_query fails and says why.
func TestExecNode(t *testing.T) {
	answer, err := (&types.QueryServiceResponse{Service: types.Service{Id: 3, Owner: "avs1owner"}}).Marshal()
	require.NoError(t, err)
	node := &fakeRPC{height: 77, time: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), answer: answer}
	srv := httptest.NewServer(node)
	defer srv.Close()
	wasm := buildGo(t, filepath.Join("..", "..", "components", "internal", "hostcheck"))
	input := "context\nquery /avschain.avs.v1.Query/Service {\"service_id\":\"3\"}\n"

	code, stdout, stderr := run(t, "exec", "--wasm", wasm, "--input", input, "--node", srv.URL, "--service-id", "3")
	require.Zero(t, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 2, stdout)
	require.Equal(t, "1 3 fake-chain 77 2025-06-01T12:00:00Z", lines[0])
	// hostcheck prints a long answer as "ok <n> bytes <head>...<tail>".
	require.True(t, strings.HasPrefix(lines[1], `ok `), lines[1])
	require.Contains(t, lines[1], `{"service":{"id":"3"`, "the node's answer, as proto JSON")

	code, stdout, stderr = run(t, "exec", "--wasm", wasm, "--input", input, "--node", strings.Replace(srv.URL, "http://", "tcp://", 1),
		"--height", "70", "--chain-id", "mine", "--task-id", "9")
	require.Zero(t, code, stderr)
	require.True(t, strings.HasPrefix(stdout, "9 1 mine 70 2025-06-01T11:59:53Z\nok "), stdout)
	node.mu.Lock()
	require.Equal(t, []string{"/avschain.avs.v1.Query/Service@77", "/avschain.avs.v1.Query/Service@70"}, node.queries)
	node.mu.Unlock()

	code, stdout, stderr = run(t, "exec", "--wasm", wasm, "--input", input)
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "1 1 local 1 ")
	require.Contains(t, stdout, "err ErrRequestFailed")
	require.Contains(t, stderr, "no chain to query: run exec with --node")
}

// TestExecSquare: exec runs the committed Go square component as a service
// developer would (DESIGN's inner loop; tests review: no test ran exec on a
// real component): the square on stdout, nothing else; input from a file;
// input that is no integer is the failure an operator would vote.
func TestExecSquare(t *testing.T) {
	square := filepath.Join("..", "..", "components", "square", "square.wasm")
	for in, want := range map[string]string{"7": "49", " -12\n": "144", "123456789123456789": "15241578780673678515622620750190521"} {
		code, stdout, stderr := run(t, "exec", "--wasm", square, "--input", in)
		require.Zero(t, code, stderr)
		require.Equal(t, want, stdout, "input %q", in)
		require.NotContains(t, stderr, "level=WARN")
	}

	code, stdout, stderr := run(t, "exec", "--wasm", square, "--input-file", writeFile(t, "input", []byte("9")))
	require.Zero(t, code, stderr)
	require.Equal(t, "81", stdout)

	code, stdout, stderr = run(t, "exec", "--wasm", square, "--input", "four")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Equal(t, `Error: component exited with a non-zero code: exit code 1: square: input "four" is not a decimal integer (an operator votes this failure: FAILURE_REASON_EXIT)`+"\n", stderr)
}

// TestH3SDKAgainstRealHost runs the SDK (components/internal/hostcheck)
// through exec, so against the sidecar's own host (sidecar/executor), not a
// test's look-alike (test review H3): a body under and over the SDK's first
// 64 KiB buffer (the call-again path, which needs the host to answer the
// same body twice), one over 1 MiB, a non-2xx answer, a host off the
// allow-list, and a chain_query answer over 64 KiB.
func TestH3SDKAgainstRealHost(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16) // 200 KiB
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(make([]byte, 1<<20+1)) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	web := httptest.NewServer(mux)
	defer web.Close()
	host := strings.TrimPrefix(web.URL, "http://")
	port := host[strings.LastIndex(host, ":"):]

	svc := types.Service{Id: 3, Owner: strings.Repeat("o", 100<<10)} // its JSON is over 64 KiB
	answer, err := (&types.QueryServiceResponse{Service: svc}).Marshal()
	require.NoError(t, err)
	node := &fakeRPC{height: 5, time: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), answer: answer}
	rpc := httptest.NewServer(node)
	defer rpc.Close()

	wasm := buildGo(t, filepath.Join("..", "..", "components", "internal", "hostcheck"))
	input := strings.Join([]string{
		"http " + web.URL + "/small",
		"http " + web.URL + "/big",
		"http " + web.URL + "/huge",
		"http " + web.URL + "/fail",
		"http http://localhost" + port + "/small",
		`query /avschain.avs.v1.Query/Service {"service_id":"3"}`,
	}, "\n")
	code, stdout, stderr := run(t, "exec", "--wasm", wasm, "--input", input, "--node", rpc.URL,
		"--allow-host", host, "--private-host", host, "--output-bytes", "65536")
	require.Zero(t, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 6, stdout)
	require.Equal(t, "ok hello", lines[0])
	require.Equal(t, fmt.Sprintf("ok %d bytes %s...%s", len(big), big[:20], big[len(big)-20:]), lines[1], "the whole body, after the SDK called again with a buffer its size")
	require.True(t, strings.HasPrefix(lines[2], "err ErrResponseTooLarge:"), lines[2])
	require.True(t, strings.HasPrefix(lines[3], "err ErrRequestFailed:"), lines[3])
	require.True(t, strings.HasPrefix(lines[4], "err ErrHostNotAllowed:"), lines[4])
	require.True(t, strings.HasPrefix(lines[5], "ok "), lines[5])
	n, err := strconv.Atoi(strings.Fields(lines[5])[1])
	require.NoError(t, err, lines[5])
	require.Greater(t, n, 100<<10, "the whole answer of the query, as JSON")
	require.Contains(t, lines[5], `{"service":{"id":"3"`)
}
