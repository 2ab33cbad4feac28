// Package executor runs WASI components in wazero, the way its authors advise:
// one runtime per memory limit sharing an on-disk compilation cache, each
// component compiled once, and a fresh module instance per task with a
// deadline (WithCloseOnContextDone), a memory-page limit and an output limit.
// An instance's memory array is reused by later runs only once the instance
// is closed, zeroed over all the run used (memory.go), and a module's many
// small data segments are merged once before compiling (data.go). After a
// module's first run, the instance for its next task is instantiated ahead
// of it on the executor's own goroutine, which also closes and zeroes the
// instances of finished tasks (instance.go): a task binds its input, output,
// clock, randomness and environment to an instance no guest code has run
// in, and calls _start.
// Execution is deterministic by default: the clock reads the task's block
// time, randomness is seeded by the task id (for an event trigger's run,
// which has no task id yet, by the event's input, identical on every
// operator), and there is no filesystem.
//
// Host calls are bounded per run, because a component is the service
// owner's code running on the operator's machine: http_fetch reaches only
// allow-listed hosts at public addresses, checked on the address dialled
// and on every redirect (WithPrivateHosts makes exceptions for a devnet);
// a run makes at most HostCallLimits requests and queries and reads at
// most HostCallLimits.HTTPBytes of bodies, keeping only the last answer of
// each kind for the larger-buffer retry; refused or failed calls are told
// in one line per run and reported to Metrics.
package executor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sync/singleflight"

	"github.com/avschain/avschain/x/avs/types"
)

// Errors a component run can end in. Each is voted as a failure, with the
// reason FailureReason gives (security review H-2).
var (
	ErrTimeout        = errors.New("component exceeded its time limit")
	ErrOutputTooLarge = errors.New("component output exceeds the service's output limit")
	ErrTrap           = errors.New("component trapped")
	ErrExit           = errors.New("component exited with a non-zero code")
	ErrInstantiate    = errors.New("component could not be instantiated")
	// ErrMemory: the component ran out of its memory limit (it trapped or
	// exited with its memory at the limit, or saying it was out of memory),
	// or its initial memory is over the limit.
	ErrMemory = errors.New("component exceeded its memory limit")
	// ErrHTTP: the component failed after an http_fetch failed on the
	// network or the server's side, or after a host call was refused by
	// what depends on the operator rather than the service: the address
	// policy (a target resolving to a private address, review H5) or the
	// operator's per-run host-call limits (H4, M5). Never slashed.
	ErrHTTP = errors.New("component failed after an http_fetch failed")
)

// FailureReason is the reason an operator votes for a run that ended in
// err, and false for an error that is not the component's (the executor
// closed, the run cancelled): no vote then.
func FailureReason(err error) (types.FailureReason, bool) {
	for _, r := range []struct {
		err    error
		reason types.FailureReason
	}{
		{ErrMemory, types.FAILURE_REASON_MEMORY}, {ErrHTTP, types.FAILURE_REASON_HTTP},
		{ErrTimeout, types.FAILURE_REASON_TIME}, {ErrOutputTooLarge, types.FAILURE_REASON_OUTPUT},
		{ErrExit, types.FAILURE_REASON_EXIT}, {ErrTrap, types.FAILURE_REASON_TRAP}, {ErrInstantiate, types.FAILURE_REASON_TRAP},
	} {
		if errors.Is(err, r.err) {
			return r.reason, true
		}
	}
	return types.FAILURE_REASON_UNSPECIFIED, false
}

// Limits bound one run (from the service manifest).
type Limits struct {
	Time          time.Duration
	MemoryPages   uint32
	OutputBytes   uint64
	HTTPAllowList []string
}

// Job is one task to run.
type Job struct {
	// Digest is the component's hex sha256, known to the caller; it keys the
	// compiled-module cache so that Run does not hash megabytes per task.
	// Empty: Run hashes the wasm itself.
	Digest      string
	TaskID      uint64
	ServiceID   uint64
	ChainID     string
	BlockHeight int64
	BlockTime   time.Time
	Input       []byte
	Config      map[string]string
	Limits      Limits
}

// Result is a successful run.
type Result struct {
	Output   []byte
	Duration time.Duration
	Logs     []string
}

// Querier answers chain_query: a gRPC query method run through ABCI at a height.
type Querier interface {
	ABCIQuery(ctx context.Context, path string, data []byte, height int64) ([]byte, error)
}

// Metrics is what the executor reports: once per run, the host calls of
// each kind ("http_fetch", "chain_query", "log") the component made and how
// many of them were refused or failed (log: lines dropped over the cap).
// metrics.Nop() and *metrics.Metrics satisfy it.
type Metrics interface {
	HostCalls(kind string, made, failed int)
}

type nopMetrics struct{}

func (nopMetrics) HostCalls(string, int, int) {}

// HostCallLimits bound what one run may ask of the host (review H4, M5): a
// component is the service owner's code, and without them it could make
// the operator's sidecar hammer a third-party API or the operator's own
// node, or hold gigabytes of response bodies. Zero fields take the
// DefaultHostCallLimits value.
type HostCallLimits struct {
	// HTTPCalls is the number of http_fetch requests a run may make; the
	// larger-buffer retry of the last URL is served from memory and not
	// counted. Past it http_fetch returns -1 (not allowed).
	HTTPCalls int
	// QueryCalls is the number of chain_query queries a run may make,
	// counted the same way. Past it chain_query returns -1.
	QueryCalls int
	// HTTPBytes bounds the bytes of http_fetch bodies a run reads in
	// total. Past it http_fetch returns -4 (too large).
	HTTPBytes int64
}

// DefaultHostCallLimits are the limits of an executor built without
// WithHostCallLimits.
var DefaultHostCallLimits = HostCallLimits{HTTPCalls: 16, QueryCalls: 64, HTTPBytes: 4 << 20}

// MaxTableElements bounds the initial size of a component's tables, summed:
// wazero allocates them at instantiation (8 bytes an element) outside the
// memory limit (review L8). Go and Rust components declare a few thousand.
const MaxTableElements = 1 << 20

// Executor runs components. It is safe for concurrent use.
type Executor struct {
	cache   wazero.CompilationCache
	querier Querier
	http    *http.Client
	log     *slog.Logger
	metrics Metrics
	limits  HostCallLimits
	// private holds the allow-list-style entries http_fetch may reach at a
	// non-public address (WithPrivateHosts).
	private []string

	// mu guards the maps and closed; it is never held while compiling, so a
	// cold compile does not hold up runs of modules already compiled.
	mu       sync.Mutex
	runtimes map[uint32]wazero.Runtime
	compiled map[string]wazero.CompiledModule // key: pages/digest
	// inUse counts the runs of each compiled module, lastUsed orders them:
	// past maxCompiled modules, the least recently used one no run holds
	// is closed (review M12: a sidecar running for months meets many
	// component versions).
	inUse       map[string]int
	lastUsed    map[string]uint64
	useClock    uint64
	maxCompiled int
	closed      bool
	// compiling makes concurrent first uses of one pages/digest compile once.
	compiling singleflight.Group
	// memory keeps the backing arrays of finished runs' memories, zeroed,
	// for the next runs (memory.go).
	memory memPool
	// preparable holds the compiled modules whose instances are made
	// ahead of their tasks: those of at least prepareMin bytes without a
	// start section (instance.go).
	preparable map[string]bool
	prepareMin int
	// prepared keeps instances made ahead of their tasks (instance.go).
	prepared preparer
	// baseConfig is the part of every run's module config that does not
	// depend on the job.
	baseConfig wazero.ModuleConfig
	// compileModule is wazero's CompileModule; tests wrap it (export_test.go).
	compileModule func(ctx context.Context, r wazero.Runtime, wasm []byte) (wazero.CompiledModule, error)
}

// errClosed: the executor was closed.
var errClosed = errors.New("executor is closed")

// Option configures an Executor.
type Option func(*Executor) error

// WithCacheDir keeps compiled code on disk in dir, shared across restarts.
func WithCacheDir(dir string) Option {
	return func(e *Executor) error {
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			return fmt.Errorf("compilation cache %s: %w", dir, err)
		}
		e.cache = c
		return nil
	}
}

// WithQuerier sets what chain_query asks; without it chain_query fails.
func WithQuerier(q Querier) Option {
	return func(e *Executor) error { e.querier = q; return nil }
}

// WithHTTPClient sets the client http_fetch uses, replacing the executor's
// own. The executor's client refuses non-public addresses after resolution
// and re-checks every redirect (review H5); a client given here does what
// its owner made it do (tests), and WithPrivateHosts does not apply to it.
func WithHTTPClient(c *http.Client) Option {
	return func(e *Executor) error { e.http = c; return nil }
}

// WithPrivateHosts lets http_fetch reach hosts entries at loopback, private
// or link-local addresses, which it refuses otherwise (review H5). An entry
// is "host" (any port) or "host:port", as in a service's allow-list; the
// service must still allow-list the host. For a devnet whose price server
// runs on the operator's machine: WithPrivateHosts([]string{"127.0.0.1:8080"}).
func WithPrivateHosts(hosts []string) Option {
	return func(e *Executor) error {
		for _, h := range hosts {
			if strings.TrimSpace(h) == "" || strings.Contains(h, "/") {
				return fmt.Errorf("private host %q: want host or host:port (no scheme, no path)", h)
			}
		}
		e.private = append([]string(nil), hosts...)
		return nil
	}
}

// WithHostCallLimits bounds each run's host calls; zero fields keep the
// defaults (DefaultHostCallLimits).
func WithHostCallLimits(l HostCallLimits) Option {
	return func(e *Executor) error {
		if l.HTTPCalls < 0 || l.QueryCalls < 0 || l.HTTPBytes < 0 {
			return fmt.Errorf("host call limits must not be negative: %+v", l)
		}
		if l.HTTPCalls > 0 {
			e.limits.HTTPCalls = l.HTTPCalls
		}
		if l.QueryCalls > 0 {
			e.limits.QueryCalls = l.QueryCalls
		}
		if l.HTTPBytes > 0 {
			e.limits.HTTPBytes = l.HTTPBytes
		}
		return nil
	}
}

// WithMetrics sets where each run's host-call counts are reported.
func WithMetrics(m Metrics) Option {
	return func(e *Executor) error { e.metrics = m; return nil }
}

// DefaultMaxCompiled is how many compiled modules an Executor keeps.
const DefaultMaxCompiled = 64

// WithMaxCompiled sets how many compiled modules are kept in memory (default
// DefaultMaxCompiled); past it the least recently used one not running is
// closed, and compiled again (from the disk cache) when next needed.
func WithMaxCompiled(n int) Option {
	return func(e *Executor) error {
		if n < 1 {
			return fmt.Errorf("max compiled modules must be at least 1, got %d", n)
		}
		e.maxCompiled = n
		return nil
	}
}

// WithLogger sets the logger components' log lines go to.
func WithLogger(l *slog.Logger) Option {
	return func(e *Executor) error { e.log = l; return nil }
}

// New returns an Executor.
func New(opts ...Option) (*Executor, error) {
	e := &Executor{
		log:      slog.Default(),
		metrics:  nopMetrics{},
		limits:   DefaultHostCallLimits,
		runtimes: map[uint32]wazero.Runtime{},
		compiled: map[string]wazero.CompiledModule{},
		inUse:    map[string]int{}, lastUsed: map[string]uint64{}, maxCompiled: DefaultMaxCompiled,
		preparable: map[string]bool{}, prepareMin: prepareMinBytes,
		prepared: preparer{ready: map[string]*instance{}, want: make(chan string, 16), used: make(chan *instance, 16), stop: make(chan struct{})},
		compileModule: func(ctx context.Context, r wazero.Runtime, wasm []byte) (wazero.CompiledModule, error) {
			return r.CompileModule(ctx, coalesceData(wasm))
		},
		baseConfig: wazero.NewModuleConfig().
			WithName("").
			WithArgs("component").
			WithSysNanotime().
			WithSysNanosleep(),
	}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.cache == nil {
		e.cache = wazero.NewCompilationCache()
	}
	if e.http == nil {
		e.http = guardedClient(e.private)
	}
	return e, nil
}

// Close releases every runtime and the cache. The executor's owner closes it
// once nothing runs or compiles any more (node.Start does so after every
// part has returned); a compile that still finishes later is discarded.
func (e *Executor) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stopPreparing()
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, r := range e.runtimes {
		errs = append(errs, r.Close(ctx))
	}
	errs = append(errs, e.cache.Close(ctx))
	e.memory.reset()
	return errors.Join(errs...)
}

// Run executes wasm for job in a fresh instance and returns what it wrote to
// stdout. A trap, a non-zero exit, a timeout or too much output is an error.
// If ctx ends during the run (the sidecar stopping), the error wraps
// context.Canceled whatever the component did, so that FailureReason names
// no failure: a host call cut short by the shutdown is not the component's
// failure (review M3).
func (e *Executor) Run(ctx context.Context, job Job, wasm []byte) (Result, error) {
	if job.Limits.Time <= 0 || job.Limits.OutputBytes == 0 {
		return Result{}, errors.New("job needs a positive time and output limit")
	}
	digest := job.Digest
	if digest == "" {
		sum := sha256.Sum256(wasm)
		digest = hex.EncodeToString(sum[:])
	}
	r, compiled, release, preparable, err := e.compileInUse(ctx, digest, wasm, job.Limits.MemoryPages)
	if err != nil {
		return Result{}, err
	}
	defer release()

	stdout := &limitedBuffer{limit: job.Limits.OutputBytes}
	stderr := &limitedBuffer{limit: 4 << 10}
	env := &callEnv{job: job, querier: e.querier, http: e.http, log: e.log, limits: e.limits}
	defer e.report(env)

	var seed [32]byte
	seedSum := sha256.Sum256([]byte("avs-task-rand/" + strconv.FormatUint(job.TaskID, 10)))
	if job.TaskID == 0 {
		seedSum = sha256.Sum256(append([]byte("avs-event-rand/"), job.Input...))
	}
	copy(seed[:], seedSum[:])

	runCtx, cancel := context.WithTimeout(withCallEnv(ctx, env), job.Limits.Time)
	defer cancel()
	start := time.Now()
	var in *instance
	env.environ, env.environSize, err = taskEnviron(job)
	if err == nil {
		// A prepared instance if there is one (the module ran before),
		// else one made now; either way the next one is prepared, if the
		// module is worth it.
		key := strconv.FormatUint(uint64(job.Limits.MemoryPages), 10) + "/" + digest
		if in = e.prepared.take(e, key); in != nil {
			in.io.bind(bytes.NewReader(job.Input), stdout, stderr, rand.NewChaCha8(seed), job.BlockTime)
		} else {
			tio := &taskIO{}
			tio.bind(bytes.NewReader(job.Input), stdout, stderr, rand.NewChaCha8(seed), job.BlockTime)
			in, err = e.instantiate(runCtx, r, compiled, tio)
		}
		if err == nil {
			err = in.run(runCtx)
		}
		if preparable {
			e.askPrepared(key)
		}
	}
	elapsed := time.Since(start)
	full := false
	if in != nil {
		full = in.mem.full()
		if preparable {
			e.closeUsed(in)
		} else {
			in.close()
		}
	}
	res := Result{Output: stdout.Bytes(), Duration: elapsed, Logs: env.logs}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%w: the run was stopped (%v): no result and no failure to vote", context.Canceled, context.Cause(ctx))
	}
	if stdout.overflow {
		return res, fmt.Errorf("%w (%d bytes)", ErrOutputTooLarge, job.Limits.OutputBytes)
	}
	if err != nil {
		err = classify(err, runCtx, stderr.String(), job.Limits)
		switch {
		case errors.Is(err, ErrTimeout) || errors.Is(err, context.Canceled):
		case env.failedHTTP():
			err = fmt.Errorf("%w: %w", ErrHTTP, err)
		case full || outOfMemory(stderr.String()):
			err = fmt.Errorf("%w: %w", ErrMemory, err)
		}
		return res, err
	}
	return res, nil
}

// report tells, once per run, what the component asked of the host: one
// log line if anything was refused or failed (never one per call: a
// component looping on a refused host would flood the log, review M4) and
// the counts to the metrics.
func (e *Executor) report(env *callEnv) {
	env.mu.Lock()
	defer env.mu.Unlock()
	e.metrics.HostCalls("http_fetch", env.httpCalls.made, env.httpCalls.failed)
	e.metrics.HostCalls("chain_query", env.queryCalls.made, env.queryCalls.failed)
	e.metrics.HostCalls("log", env.logCalls, env.logCalls-len(env.logs))
	if env.httpCalls.failed == 0 && env.queryCalls.failed == 0 {
		return
	}
	e.log.Warn("component host calls refused or failed: check the service's allow-list and the first failure; "+
		"a target at a private address needs private_hosts, a run over its limits needs the service fixed",
		"task", env.job.TaskID, "service", env.job.ServiceID,
		"http_fetch_calls", env.httpCalls.made, "http_fetch_failed", env.httpCalls.failed,
		"chain_query_calls", env.queryCalls.made, "chain_query_failed", env.queryCalls.failed,
		"first_failure", env.firstFailure)
}

// outOfMemory reports whether a component's stderr says it ran out of
// memory: Rust's "memory allocation of N bytes failed", Go's and TinyGo's
// "out of memory".
func outOfMemory(stderr string) bool {
	return strings.Contains(stderr, "memory allocation of") || strings.Contains(stderr, "out of memory")
}

func classify(err error, runCtx context.Context, stderr string, l Limits) error {
	detail := ""
	if stderr != "" {
		detail = ": " + lastLines(stderr, 3)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("%w (%s)", ErrTimeout, l.Time)
		case sys.ExitCodeContextCanceled:
			return context.Canceled
		}
		return fmt.Errorf("%w: exit code %d%s", ErrExit, exit.ExitCode(), detail)
	}
	if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (%s)", ErrTimeout, l.Time)
	}
	return fmt.Errorf("%w: %s%s", ErrTrap, err, detail)
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}

// limitedBuffer keeps at most limit bytes and remembers whether more came.
type limitedBuffer struct {
	buf      bytes.Buffer
	limit    uint64
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.limit - uint64(b.buf.Len())
	if uint64(len(p)) > room {
		b.buf.Write(p[:room])
		b.overflow = true
		return int(room), errors.New("output limit reached")
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) Bytes() []byte  { return bytes.Clone(b.buf.Bytes()) }
func (b *limitedBuffer) String() string { return b.buf.String() }
