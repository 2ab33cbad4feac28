package executor_test

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/x/avs/types"
)

// Benchmarks for docs/PERFORMANCE.md; scripts/bench/executor.sh runs them.
// Besides ns/op each reports the median and 99th percentile of the
// per-iteration durations as p50-ns and p99-ns; the run benchmarks also
// report the process's CPU time per task as cpu-ns/op (user and system,
// every goroutine: the GC's, and the executor's own that prepares
// instances ahead of their tasks), the cost where ns/op is the latency.

const (
	goSquare   = "components/square/square.wasm"
	rustSquare = "components/square-rust/square-rust.wasm"
)

// latencies records one duration per benchmark iteration.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	b.ReportMetric(float64(pct(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(pct(0.99).Nanoseconds()), "p99-ns")
}

// benchRun runs one task per iteration in a fresh instance of a module
// compiled once, before the timer starts.
func benchRun(b *testing.B, path string, pages uint32) {
	wasm := repoFile(b, path)
	e, err := executor.New()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	j := job(1, "4", limits(pages))
	j.Digest = types.Digest(wasm) // as the pipeline passes it: no hashing per task
	if err := e.Prepare(ctx, wasm, pages); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j.TaskID = uint64(i)
		start := time.Now()
		res, err := e.Run(ctx, j, wasm)
		lat = append(lat, time.Since(start))
		if err != nil || string(res.Output) != "16" {
			b.Fatalf("run: %q %v", res.Output, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	lat.report(b)
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func BenchmarkRunGoSquare(b *testing.B)   { benchRun(b, goSquare, goPages) }
func BenchmarkRunRustSquare(b *testing.B) { benchRun(b, rustSquare, rustPages) }

// benchCompile measures a new executor's first Prepare of a component: cold
// with no cache, or warm from a disk cache filled once before the timer.
func benchCompile(b *testing.B, path string, pages uint32, warm bool) {
	wasm := repoFile(b, path)
	ctx := context.Background()
	var opts []executor.Option
	if warm {
		dir := b.TempDir()
		opts = append(opts, executor.WithCacheDir(dir))
		e, err := executor.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Prepare(ctx, wasm, pages); err != nil {
			b.Fatal(err)
		}
		if err := e.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	lat := make(latencies, 0, 64)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		e, err := executor.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Prepare(ctx, wasm, pages); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if err := e.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	lat.report(b)
}

func BenchmarkCompileGoSquareCold(b *testing.B)     { benchCompile(b, goSquare, goPages, false) }
func BenchmarkCompileGoSquareWarmDisk(b *testing.B) { benchCompile(b, goSquare, goPages, true) }
func BenchmarkCompileRustSquareCold(b *testing.B)   { benchCompile(b, rustSquare, rustPages, false) }
func BenchmarkCompileRustSquareWarmDisk(b *testing.B) {
	benchCompile(b, rustSquare, rustPages, true)
}
