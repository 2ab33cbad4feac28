package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// HostModule is the name components import host functions from.
const HostModule = "avs"

// Return codes of http_fetch and chain_query below zero.
const (
	codeNotAllowed = -1
	codeFailed     = -2
	codeMalformed  = -3
	codeTooLarge   = -4
)

// MaxHostResponse bounds an http_fetch body and a chain_query response.
const MaxHostResponse = 1 << 20

const (
	maxLogLines = 100
	maxLogLine  = 1 << 10
)

type callEnvKey struct{}

// callEnv is what host functions know about the task that calls them.
type callEnv struct {
	job     Job
	querier Querier
	http    *http.Client
	log     *slog.Logger

	mu     sync.Mutex
	logs   []string
	bodies map[string][]byte // responses kept for the retry with a larger buffer
	// httpFailed: an http_fetch failed on the network or the server's side,
	// so a failure of the run is reported as FAILURE_REASON_HTTP.
	httpFailed bool
}

func (env *callEnv) setHTTPFailed() {
	env.mu.Lock()
	env.httpFailed = true
	env.mu.Unlock()
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
	if len(env.logs) < maxLogLines {
		env.logs = append(env.logs, string(b))
		env.log.Info("component log", "task", env.job.TaskID, "service", env.job.ServiceID, "msg", string(b))
	}
}

// allowed reports whether u's host is on the allow-list: an entry "host"
// admits any port, "host:port" only that one.
func allowed(u *url.URL, list []string) bool {
	for _, entry := range list {
		if strings.EqualFold(entry, u.Host) || strings.EqualFold(entry, u.Hostname()) {
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
	u, err := url.Parse(string(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return codeMalformed
	}
	if !allowed(u, env.job.Limits.HTTPAllowList) {
		env.log.Warn("http_fetch refused: host not on the service's allow-list", "task", env.job.TaskID, "host", u.Host)
		return codeNotAllowed
	}
	env.mu.Lock()
	body, cached := env.bodies[u.String()]
	env.mu.Unlock()
	if !cached {
		body, err = fetch(ctx, env.http, u.String())
		if errors.Is(err, errTooLarge) {
			env.setHTTPFailed()
			return codeTooLarge
		}
		if err != nil {
			env.setHTTPFailed()
			env.log.Warn("http_fetch failed", "task", env.job.TaskID, "url", u.String(), "err", err)
			return codeFailed
		}
		env.mu.Lock()
		env.bodies[u.String()] = body
		env.mu.Unlock()
	}
	return deliver(m, body, outPtr, outCap)
}

var errTooLarge = errors.New("response too large")

func fetch(ctx context.Context, c *http.Client, u string) ([]byte, error) {
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxHostResponse+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxHostResponse {
		return nil, errTooLarge
	}
	return body, nil
}

var queryPath = regexp.MustCompile(`^/([A-Za-z0-9_.]+\.Query)/([A-Za-z0-9_]+)$`)

func hostChainQuery(ctx context.Context, m api.Module, pathPtr, pathLen, reqPtr, reqLen, outPtr, outCap uint32) int64 {
	env := envFrom(ctx)
	path, ok1 := read(m, pathPtr, pathLen)
	req, ok2 := read(m, reqPtr, reqLen)
	if env == nil || !ok1 || !ok2 {
		return codeMalformed
	}
	out, code := chainQuery(ctx, env, string(path), req)
	if code != 0 {
		return code
	}
	return deliver(m, out, outPtr, outCap)
}

// chainQuery turns a JSON request for a Query method into protobuf, runs it
// at the task's creation height and returns the response as JSON.
func chainQuery(ctx context.Context, env *callEnv, path string, reqJSON []byte) ([]byte, int64) {
	match := queryPath.FindStringSubmatch(path)
	if match == nil {
		return nil, codeNotAllowed
	}
	desc, err := gogoproto.HybridResolver.FindDescriptorByName(protoreflect.FullName(match[1]))
	if err != nil {
		return nil, codeNotAllowed
	}
	svc, ok := desc.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, codeNotAllowed
	}
	method := svc.Methods().ByName(protoreflect.Name(match[2]))
	if method == nil {
		return nil, codeNotAllowed
	}
	if env.querier == nil {
		env.log.Warn("chain_query without a chain", "task", env.job.TaskID, "path", path)
		return nil, codeFailed
	}
	in := dynamicpb.NewMessage(method.Input())
	if len(reqJSON) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(reqJSON, in); err != nil {
			return nil, codeMalformed
		}
	}
	data, err := proto.Marshal(in)
	if err != nil {
		return nil, codeMalformed
	}
	resp, err := env.querier.ABCIQuery(ctx, path, data, env.job.BlockHeight)
	if err != nil {
		env.log.Warn("chain_query failed", "task", env.job.TaskID, "path", path, "err", err)
		return nil, codeFailed
	}
	out := dynamicpb.NewMessage(method.Output())
	if err := proto.Unmarshal(resp, out); err != nil {
		return nil, codeFailed
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(out)
	if err != nil {
		return nil, codeFailed
	}
	return js, 0
}
