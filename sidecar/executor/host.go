package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/avschain/avschain/x/avs/types"
)

// HostModule is the name components import host functions from.
const HostModule = "avs"

// Return codes of http_fetch and chain_query below zero (the list
// components/sdk maps to errors).
const (
	// codeNotAllowed: a host off the service's allow-list, a target at a
	// non-public address, a redirect refused, a chain_query that is not a
	// Query method, or a call over the run's cap (HostCallLimits).
	codeNotAllowed = -1
	// codeFailed: the request or query failed (network, non-2xx status).
	codeFailed = -2
	// codeMalformed: a malformed URL, path or request.
	codeMalformed = -3
	// codeTooLarge: a response over MaxHostResponse, or over what is left
	// of the run's HTTPBytes.
	codeTooLarge = -4
)

// MaxHostResponse bounds an http_fetch body and a chain_query response.
const MaxHostResponse = 1 << 20

const (
	maxLogLines = 100
	maxLogLine  = 1 << 10
	// maxRedirects is how many redirects one http_fetch follows.
	maxRedirects = 5
)

type callEnvKey struct{}

// callCounts counts one kind of host call in a run.
type callCounts struct {
	made   int // calls the component made
	failed int // of which refused or failed
	sent   int // of which went to the network or the node (capped)
}

// callEnv is what host functions know about the task that calls them.
type callEnv struct {
	job     Job
	querier Querier
	http    *http.Client
	log     *slog.Logger
	limits  HostCallLimits
	// environ is the task's environment for environ_get, "key=value"
	// each; environSize its length with a NUL after each entry.
	environ     [][]byte
	environSize uint32

	mu         sync.Mutex
	logs       []string
	logCalls   int
	httpCalls  callCounts
	queryCalls callCounts
	httpBytes  int64 // bodies read by http_fetch
	// The last answer of each kind, for the retry with a larger buffer:
	// only the last, so a run holds at most one body beside its budget.
	lastURL, lastQuery   string
	lastBody, lastAnswer []byte
	// firstFailure describes the first refused or failed call, for the
	// run's summary line.
	firstFailure string
	// httpFailed: an http_fetch failed on the network or the server's
	// side, a chain_query got no answer from the node, or a call was
	// refused for a reason of the operator's (address policy, limits), so a
	// failure of the run is FAILURE_REASON_HTTP.
	httpFailed bool
}

// fail counts a refused or failed call of c; operatorSide marks the run's
// failure as HTTP.
func (env *callEnv) fail(c *callCounts, operatorSide bool, format string, args ...any) {
	env.mu.Lock()
	defer env.mu.Unlock()
	c.failed++
	if env.firstFailure == "" {
		env.firstFailure = fmt.Sprintf(format, args...)
	}
	env.httpFailed = env.httpFailed || operatorSide
}

func (env *callEnv) failedHTTP() bool {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.httpFailed
}

func withCallEnv(ctx context.Context, env *callEnv) context.Context {
	return context.WithValue(ctx, callEnvKey{}, env)
}

func envFrom(ctx context.Context) *callEnv {
	env, _ := ctx.Value(callEnvKey{}).(*callEnv)
	return env
}

func instantiateHost(ctx context.Context, r wazero.Runtime) error {
	_, err := r.NewHostModuleBuilder(HostModule).
		NewFunctionBuilder().WithFunc(hostLog).Export("log").
		NewFunctionBuilder().WithFunc(hostHTTPFetch).Export("http_fetch").
		NewFunctionBuilder().WithFunc(hostChainQuery).Export("chain_query").
		Instantiate(ctx)
	return err
}

func read(m api.Module, ptr, n uint32) ([]byte, bool) {
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// deliver writes what fits of body at out and returns the full length.
func deliver(m api.Module, body []byte, outPtr, outCap uint32) int64 {
	if len(body) > MaxHostResponse {
		return codeTooLarge
	}
	n := min(uint32(len(body)), outCap)
	if n > 0 && !m.Memory().Write(outPtr, body[:n]) {
		return codeMalformed
	}
	return int64(len(body))
}

func hostLog(ctx context.Context, m api.Module, ptr, n uint32) {
	env := envFrom(ctx)
	b, ok := read(m, ptr, min(n, maxLogLine))
	if env == nil || !ok {
		return
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	env.logCalls++
	if len(env.logs) < maxLogLines {
		env.logs = append(env.logs, string(b))
		env.log.Info("component log", "task", env.job.TaskID, "service", env.job.ServiceID, "msg", string(b))
	}
}

// allowed reports whether u's host is on the allow-list: an entry "host"
// admits any port, "host:port" only that one.
func allowed(u *url.URL, list []string) bool {
	return matchHost(u.Host, u.Hostname(), list)
}

func matchHost(hostPort, host string, list []string) bool {
	for _, entry := range list {
		if strings.EqualFold(entry, hostPort) || strings.EqualFold(entry, host) {
			return true
		}
	}
	return false
}

func hostHTTPFetch(ctx context.Context, m api.Module, urlPtr, urlLen, outPtr, outCap uint32) int64 {
	env := envFrom(ctx)
	raw, ok := read(m, urlPtr, urlLen)
	if env == nil || !ok {
		return codeMalformed
	}
	body, code := env.httpFetch(ctx, string(raw))
	if code != 0 {
		return code
	}
	return deliver(m, body, outPtr, outCap)
}

// httpFetch fetches raw for the component: the allow-list, the run's caps
// and the last-URL cache apply here, the address policy in the client.
func (env *callEnv) httpFetch(ctx context.Context, raw string) ([]byte, int64) {
	c := &env.httpCalls
	env.mu.Lock()
	c.made++
	env.mu.Unlock()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		env.fail(c, false, "http_fetch: malformed URL %.100q", raw)
		return nil, codeMalformed
	}
	target := u.Scheme + "://" + u.Host + u.EscapedPath() // no query: it may hold an API key
	if !allowed(u, env.job.Limits.HTTPAllowList) {
		env.fail(c, false, "http_fetch %s: host %s is not on the service's allow-list", target, u.Host)
		return nil, codeNotAllowed
	}
	key := u.String()
	env.mu.Lock()
	if key == env.lastURL {
		body := env.lastBody
		env.mu.Unlock()
		return body, 0
	}
	sent, budget := c.sent, env.limits.HTTPBytes-env.httpBytes
	if sent < env.limits.HTTPCalls && budget > 0 {
		c.sent++
		env.lastURL, env.lastBody = "", nil
	}
	env.mu.Unlock()
	if sent >= env.limits.HTTPCalls {
		env.fail(c, true, "http_fetch %s: over the run's %d requests", target, env.limits.HTTPCalls)
		return nil, codeNotAllowed
	}
	if budget <= 0 {
		env.fail(c, true, "http_fetch %s: over the run's %d bytes of responses", target, env.limits.HTTPBytes)
		return nil, codeTooLarge
	}

	limit := min(int64(MaxHostResponse), budget)
	body, err := fetch(ctx, env.http, key, limit)
	env.mu.Lock()
	env.httpBytes += int64(len(body))
	env.mu.Unlock()
	switch {
	case errors.Is(err, errTooLarge) && limit < MaxHostResponse:
		env.fail(c, true, "http_fetch %s: over the run's %d bytes of responses", target, env.limits.HTTPBytes)
		return nil, codeTooLarge
	case errors.Is(err, errTooLarge):
		env.fail(c, true, "http_fetch %s: response over %d bytes", target, MaxHostResponse)
		return nil, codeTooLarge
	case errors.Is(err, errForbiddenAddress) || errors.Is(err, errRedirectRefused):
		env.fail(c, true, "http_fetch %s: %s", target, err)
		return nil, codeNotAllowed
	case err != nil:
		env.fail(c, true, "http_fetch %s: %s", target, err)
		return nil, codeFailed
	}
	env.mu.Lock()
	env.lastURL, env.lastBody = key, body
	env.mu.Unlock()
	return body, 0
}

var errTooLarge = errors.New("response too large")

// fetch GETs u and reads at most limit bytes of its body; on errTooLarge
// the body returned is what was read (limit+1 bytes), for the accounting.
func fetch(ctx context.Context, c *http.Client, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return body, err
	}
	if int64(len(body)) > limit {
		return body, errTooLarge
	}
	return body, nil
}

// Errors of the address policy and the redirect check (review H5).
var (
	errForbiddenAddress = errors.New("refused: the address is not public (loopback, private, link-local or reserved); an operator may allow the host with private_hosts")
	errRedirectRefused  = errors.New("redirect refused")
)

// guardedClient is http_fetch's client (review H5): no proxy from the
// environment (the check must see the real target); a dialer that refuses
// non-public addresses after resolution, on the address actually dialled
// (so a name resolving to 127.0.0.1 and DNS rebinding are caught), except
// for the private hosts; and every redirect re-checked against the
// service's allow-list (the dialer checks its address), at most
// maxRedirects of them.
func guardedClient(private []string) *http.Client {
	guarded := &net.Dialer{Timeout: 10 * time.Second, Control: refuseNonPublic}
	open := &net.Dialer{Timeout: 10 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && matchHost(addr, host, private) {
			return open.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dial,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: checkRedirect,
	}
}

// refuseNonPublic is the dialer's Control: it sees the resolved address.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errForbiddenAddress, address)
	}
	if types.NonPublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", errForbiddenAddress, ap.Addr())
	}
	return nil
}

// checkRedirect follows a redirect only to a host on the calling run's
// allow-list, and at most maxRedirects times.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirectRefused, maxRedirects)
	}
	env := envFrom(req.Context())
	if env == nil || !allowed(req.URL, env.job.Limits.HTTPAllowList) {
		return fmt.Errorf("%w: %s is not on the service's allow-list", errRedirectRefused, req.URL.Host)
	}
	return nil
}

var queryPath = regexp.MustCompile(`^/([A-Za-z0-9_.]+\.Query)/([A-Za-z0-9_]+)$`)

func hostChainQuery(ctx context.Context, m api.Module, pathPtr, pathLen, reqPtr, reqLen, outPtr, outCap uint32) int64 {
	env := envFrom(ctx)
	path, ok1 := read(m, pathPtr, pathLen)
	req, ok2 := read(m, reqPtr, reqLen)
	if env == nil || !ok1 || !ok2 {
		return codeMalformed
	}
	out, code := env.chainQuery(ctx, string(path), req)
	if code != 0 {
		return code
	}
	return deliver(m, out, outPtr, outCap)
}

// chainQuery runs a query for the component: the run's cap and the
// last-answer cache apply here.
func (env *callEnv) chainQuery(ctx context.Context, path string, req []byte) ([]byte, int64) {
	c := &env.queryCalls
	key := path + "\x00" + string(req)
	env.mu.Lock()
	c.made++
	if key == env.lastQuery {
		out := env.lastAnswer
		env.mu.Unlock()
		return out, 0
	}
	sent := c.sent
	if sent < env.limits.QueryCalls {
		c.sent++
		env.lastQuery, env.lastAnswer = "", nil
	}
	env.mu.Unlock()
	if sent >= env.limits.QueryCalls {
		env.fail(c, true, "chain_query %.100s: over the run's %d queries", path, env.limits.QueryCalls)
		return nil, codeNotAllowed
	}
	out, code, err := chainQuery(ctx, env, path, req)
	if code != 0 {
		// codeFailed: the operator's node did not answer (down, pruned, or
		// a node-side error), which may pass and may differ between
		// operators: the run's failure is then HTTP's (retried within the
		// deadline, never slashed; review M3). A path or request the
		// component got wrong fails the same everywhere.
		env.fail(c, code == codeFailed, "chain_query %.100s: code %d: %v", path, code, err)
		return nil, code
	}
	env.mu.Lock()
	env.lastQuery, env.lastAnswer = key, out
	env.mu.Unlock()
	return out, 0
}

// chainQuery turns a JSON request for a Query method into protobuf, runs it
// at the task's creation height and returns the response as JSON.
func chainQuery(ctx context.Context, env *callEnv, path string, reqJSON []byte) ([]byte, int64, error) {
	match := queryPath.FindStringSubmatch(path)
	if match == nil {
		return nil, codeNotAllowed, errors.New("not a Query method of this chain")
	}
	desc, err := gogoproto.HybridResolver.FindDescriptorByName(protoreflect.FullName(match[1]))
	if err != nil {
		return nil, codeNotAllowed, errors.New("not a Query method of this chain")
	}
	svc, ok := desc.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, codeNotAllowed, errors.New("not a Query method of this chain")
	}
	method := svc.Methods().ByName(protoreflect.Name(match[2]))
	if method == nil {
		return nil, codeNotAllowed, errors.New("not a Query method of this chain")
	}
	if env.querier == nil {
		return nil, codeFailed, errors.New("no chain to query: run exec with --node")
	}
	in := dynamicpb.NewMessage(method.Input())
	if len(reqJSON) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(reqJSON, in); err != nil {
			return nil, codeMalformed, err
		}
	}
	data, err := proto.Marshal(in)
	if err != nil {
		return nil, codeMalformed, err
	}
	resp, err := env.querier.ABCIQuery(ctx, path, data, env.job.BlockHeight)
	if err != nil {
		return nil, codeFailed, err
	}
	out := dynamicpb.NewMessage(method.Output())
	if err := proto.Unmarshal(resp, out); err != nil {
		return nil, codeFailed, err
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(out)
	if err != nil {
		return nil, codeFailed, err
	}
	return js, 0, nil
}
