package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// A task's instance is made in two steps: instantiation (memory, data,
// tables; no guest code), then the task binds its input, output, clock,
// randomness and environment to it and calls _start. The first step does
// not depend on the task, so for a module that has run before the executor
// does it ahead of time, off the task's path (prepared instances, below):
// for the Go square it is about a third of a task's time, most of it
// wazero filling the function table (one allocation per entry) and copying
// the data. Every instance still serves exactly one task.

// taskIO is an instance's view of its task: wazero fixes an instance's
// stdio, clock and randomness when it is instantiated, so they point here
// and bind sets them for the one task the instance serves.
type taskIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	rand           io.Reader
	wall           time.Time
}

func (t *taskIO) bind(stdin io.Reader, stdout, stderr io.Writer, rand io.Reader, wall time.Time) {
	t.stdin, t.stdout, t.stderr, t.rand, t.wall = stdin, stdout, stderr, rand, wall
}

type (
	ioStdin  struct{ t *taskIO }
	ioStdout struct{ t *taskIO }
	ioStderr struct{ t *taskIO }
	ioRand   struct{ t *taskIO }
)

// The guest reads nothing and writes nothing before bind: an unbound
// instance only ever ran wazero's instantiation.
func (r ioStdin) Read(p []byte) (int, error) {
	if r.t.stdin == nil {
		return 0, io.EOF
	}
	return r.t.stdin.Read(p)
}

func (w ioStdout) Write(p []byte) (int, error) {
	if w.t.stdout == nil {
		return 0, errors.New("no task bound")
	}
	return w.t.stdout.Write(p)
}

func (w ioStderr) Write(p []byte) (int, error) {
	if w.t.stderr == nil {
		return 0, errors.New("no task bound")
	}
	return w.t.stderr.Write(p)
}

func (r ioRand) Read(p []byte) (int, error) {
	if r.t.rand == nil {
		return 0, errors.New("no task bound")
	}
	return r.t.rand.Read(p)
}

// config is base with the instance's stdio, clock and randomness pointing
// at t. The environment is the task's, read by environ_get from the call's
// context (wasiEnviron): wazero would fix it at instantiation too.
func (t *taskIO) config(base wazero.ModuleConfig) wazero.ModuleConfig {
	return base.
		WithStartFunctions(). // _start runs once the task is bound
		WithStdin(ioStdin{t}).
		WithStdout(ioStdout{t}).
		WithStderr(ioStderr{t}).
		WithRandSource(ioRand{t}).
		WithWalltime(func() (int64, int32) { return t.wall.Unix(), int32(t.wall.Nanosecond()) }, sys.ClockResolution(1))
}

// instance is a module instance made for one task.
type instance struct {
	mod api.Module
	// start is the module's _start, nil if it has none; looked up (wazero
	// makes its call engine) when the instance is made.
	start api.Function
	mem   *watchedMemory
	io    *taskIO
}

// instantiate makes an instance of compiled, with no guest code run unless
// the module has a start section (then ctx must carry the task: callEnv,
// and io bound). Its memory comes from the executor's pool.
func (e *Executor) instantiate(ctx context.Context, r wazero.Runtime, compiled wazero.CompiledModule, tio *taskIO) (*instance, error) {
	in := &instance{mem: &watchedMemory{pool: &e.memory}, io: tio}
	mod, err := r.InstantiateModule(experimental.WithMemoryAllocator(ctx, in.mem), compiled, tio.config(e.baseConfig))
	in.mod = mod
	if err == nil {
		in.start = mod.ExportedFunction("_start")
	}
	return in, err
}

// run calls the instance's _start, as wazero does for a WASI command: an
// exit with code 0 is success.
func (in *instance) run(ctx context.Context) error {
	if in.start == nil {
		return nil
	}
	_, err := in.start.Call(ctx)
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() == 0 {
			return nil
		}
		return exit
	}
	if err != nil {
		return fmt.Errorf("module[%s] function[_start] failed: %w", in.mod.Name(), err)
	}
	return nil
}

// close closes the instance and recycles its memory. The guest ran on the
// caller's goroutine and is done: nothing touches the memory after.
func (in *instance) close() {
	if in.mod != nil {
		_ = in.mod.Close(context.Background())
	}
	in.mem.recycle()
}

// taskEnviron is a task's environment as environ_get gives it: the
// service config, then the AVS_* variables (overriding a config key of the
// same name), each "key=value". It refuses what wazero's WithEnv refuses.
func taskEnviron(job Job) ([][]byte, uint32, error) {
	avs := [...][2]string{
		{"AVS_TASK_ID", strconv.FormatUint(job.TaskID, 10)},
		{"AVS_SERVICE_ID", strconv.FormatUint(job.ServiceID, 10)},
		{"AVS_CHAIN_ID", job.ChainID},
		{"AVS_BLOCK_HEIGHT", strconv.FormatInt(job.BlockHeight, 10)},
		{"AVS_BLOCK_TIME", job.BlockTime.UTC().Format(time.RFC3339Nano)},
	}
	env := make([][]byte, 0, len(job.Config)+len(avs))
	add := func(k, v string) error {
		if k == "" {
			return errors.New("environ invalid: empty key")
		}
		if strings.IndexByte(k, '=') >= 0 {
			return errors.New("environ invalid: key contains '=' character")
		}
		if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return errors.New("environ invalid: contains NUL character")
		}
		env = append(env, []byte(k+"="+v))
		return nil
	}
	for k, v := range job.Config {
		if strings.HasPrefix(k, "AVS_") && isAVSVar(k, avs[:]) {
			continue
		}
		if err := add(k, v); err != nil {
			return nil, 0, err
		}
	}
	for _, kv := range avs {
		if err := add(kv[0], kv[1]); err != nil {
			return nil, 0, err
		}
	}
	size := uint32(0)
	for _, kv := range env {
		size += uint32(len(kv)) + 1
	}
	return env, size, nil
}

func isAVSVar(k string, avs [][2]string) bool {
	for _, kv := range avs {
		if kv[0] == k {
			return true
		}
	}
	return false
}

// instantiateWASI instantiates wasi_snapshot_preview1 with environ_get and
// environ_sizes_get reading the calling task's environment (callEnv) rather
// than the instance's, which wazero fixes at instantiation: that is what
// lets an instance be made before its task is known.
func instantiateWASI(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environSizesGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("result.environc", "result.environv_len").WithResultNames("errno").
		Export("environ_sizes_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("environ", "environ_buf").WithResultNames("errno").
		Export("environ_get")
	_, err := b.Instantiate(ctx)
	return err
}

// WASI errno values environ_* return.
const (
	errnoSuccess = 0
	errnoFault   = 21
)

func taskEnv(ctx context.Context) ([][]byte, uint32) {
	if env := envFrom(ctx); env != nil {
		return env.environ, env.environSize
	}
	return nil, 0
}

func environSizesGet(ctx context.Context, mod api.Module, stack []uint64) {
	env, size := taskEnv(ctx)
	mem := mod.Memory()
	if !mem.WriteUint32Le(uint32(stack[0]), uint32(len(env))) || !mem.WriteUint32Le(uint32(stack[1]), size) {
		stack[0] = errnoFault
		return
	}
	stack[0] = errnoSuccess
}

func environGet(ctx context.Context, mod api.Module, stack []uint64) {
	env, size := taskEnv(ctx)
	offsets, bufAt := uint32(stack[0]), uint32(stack[1])
	mem := mod.Memory()
	ptrs, ok := mem.Read(offsets, uint32(4*len(env)))
	if !ok {
		stack[0] = errnoFault
		return
	}
	buf, ok := mem.Read(bufAt, size)
	if !ok {
		stack[0] = errnoFault
		return
	}
	var at uint32
	for i, kv := range env {
		p := bufAt + at
		ptrs[4*i], ptrs[4*i+1], ptrs[4*i+2], ptrs[4*i+3] = byte(p), byte(p>>8), byte(p>>16), byte(p>>24)
		at += uint32(copy(buf[at:], kv))
		buf[at] = 0
		at++
	}
	stack[0] = errnoSuccess
}

// Prepared instances: after a run, the executor instantiates the next
// instance of the same compiled module on its own goroutine, so that the
// module's next task starts at _start. At most one is kept per compiled
// module and maxPrepared in all; their memory arrays count in the memory
// pool's bound (memPool.hold), so the memory the executor keeps between
// runs stays within poolBytes. A module with a start section is never
// prepared: its start function is guest code, which runs only for a task.
//
// Nor is a module under prepareMinBytes: its instantiation costs less
// than handing work to another goroutine (the Rust square, 88 KB, is
// instantiated in a few microseconds and its whole task takes about 35 µs;
// prepared, its CPU time per task grew by half). A Go component's runtime
// alone is over 1 MB.
const (
	maxPrepared     = 4
	prepareMinBytes = 512 << 10
)

type preparer struct {
	mu      sync.Mutex
	ready   map[string]*instance // pages/digest: an instance no task has seen
	want    chan string          // keys to prepare, in the order runs asked
	used    chan *instance       // instances whose task is done, to close
	started bool
	stopped bool
	taken   int // runs that took a prepared instance (tests)
	stop    chan struct{}
	done    sync.WaitGroup
}

// take returns the prepared instance of key, if there is one; the caller
// owns it.
func (p *preparer) take(e *Executor, key string) *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.ready[key]
	if in == nil {
		return nil
	}
	delete(p.ready, key)
	p.taken++
	e.memory.unhold(cap(in.mem.buf))
	return in
}

// ask requests an instance of key for a later task, starting the
// preparing goroutine on first use. It never blocks: if the queue is full,
// the next run of key asks again.
func (e *Executor) askPrepared(key string) {
	p := &e.prepared
	p.mu.Lock()
	if !p.started {
		e.mu.Lock()
		closed := e.closed
		e.mu.Unlock()
		if closed {
			p.mu.Unlock()
			return
		}
		p.started = true
		p.done.Add(1)
		go e.prepareLoop()
	}
	p.mu.Unlock()
	select {
	case p.want <- key:
	default:
	}
}

func (e *Executor) prepareLoop() {
	p := &e.prepared
	defer p.done.Done()
	for {
		select {
		case <-p.stop:
			return
		case in := <-p.used:
			in.close()
		case key := <-p.want:
			// used instances first: their arrays go back to the pool
			// for the instance about to be made
			for drained := false; !drained; {
				select {
				case in := <-p.used:
					in.close()
				default:
					drained = true
				}
			}
			e.prepare(key)
		}
	}
}

// closeUsed closes an instance whose task is done, on the preparing
// goroutine if it is running and has room in its queue (zeroing a Go
// component's memory is a tenth of its task), else now.
func (e *Executor) closeUsed(in *instance) {
	p := &e.prepared
	p.mu.Lock()
	queued := false
	if p.started && !p.stopped {
		select {
		case p.used <- in:
			queued = true
		default:
		}
	}
	p.mu.Unlock()
	if !queued {
		in.close()
	}
}

// prepare instantiates the next instance of the module compiled under key
// and keeps it, unless one is kept already, the module has a start
// section or is gone, or the pool has no room for its memory.
func (e *Executor) prepare(key string) {
	p := &e.prepared
	p.mu.Lock()
	skip := p.ready[key] != nil || len(p.ready) >= maxPrepared
	p.mu.Unlock()
	if skip {
		return
	}
	e.mu.Lock()
	m, ok := e.compiled[key]
	preparable := e.preparable[key]
	r := e.runtimes[pagesOf(key)]
	if !ok || !preparable || e.closed || r == nil {
		e.mu.Unlock()
		return
	}
	e.inUse[key]++ // not closed while being instantiated
	e.mu.Unlock()
	defer e.release(key)

	in, err := e.instantiate(context.Background(), r, m, &taskIO{})
	if err != nil {
		in.close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e.mu.Lock()
	gone := e.closed || e.compiled[key] != m
	e.mu.Unlock()
	if gone || p.ready[key] != nil || !e.memory.hold(cap(in.mem.buf)) {
		in.close()
		return
	}
	p.ready[key] = in
}

// drop closes the prepared instance of key, if any (its module is closed).
func (e *Executor) dropPrepared(key string) {
	p := &e.prepared
	p.mu.Lock()
	in := p.ready[key]
	delete(p.ready, key)
	p.mu.Unlock()
	if in != nil {
		e.memory.unhold(cap(in.mem.buf))
		in.close()
	}
}

// stopPreparing stops the preparing goroutine, waits for it, and closes
// every prepared instance.
func (e *Executor) stopPreparing() {
	p := &e.prepared
	p.mu.Lock()
	started := p.started
	p.started, p.stopped = true, true // none starts after Close, none queued
	p.mu.Unlock()
	if started {
		close(p.stop)
		p.done.Wait()
	}
	p.mu.Lock()
	ready := p.ready
	p.ready = map[string]*instance{}
	p.mu.Unlock()
	for _, in := range ready {
		e.memory.unhold(cap(in.mem.buf))
		in.close()
	}
	for {
		select {
		case in := <-p.used:
			in.close()
		default:
			return
		}
	}
}

func pagesOf(key string) uint32 {
	n, _ := strconv.ParseUint(key[:strings.IndexByte(key, '/')], 10, 32)
	return uint32(n)
}
