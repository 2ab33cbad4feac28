#!/usr/bin/env bash
# Executor benchmarks (sidecar/executor/executor_bench_test.go): per-task run
# time of the square component (Go and Rust; fresh instance per task, module
# compiled once) and the time for a new executor to compile the component cold
# or load it from a warm on-disk compilation cache. Prints the raw `go test`
# output, then a summary in milliseconds (mean, p50, p99, and for the run
# benchmarks the process's CPU time per task).
#
#   scripts/bench/executor.sh
#
# Environment: RUN_BENCHTIME (default 2000x) for the per-task benchmarks,
# COMPILE_BENCHTIME (default 5x) for the compile benchmarks, COUNT (default 1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

GO=${GO:-go}
RUN_BENCHTIME=${RUN_BENCHTIME:-2000x}
COMPILE_BENCHTIME=${COMPILE_BENCHTIME:-5x}
COUNT=${COUNT:-1}
PKG=./sidecar/executor/

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "# $(uname -sm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $($GO version | awk '{print $3}')"
"$GO" test -run '^$' -bench '^BenchmarkRun(Go|Rust)Square$' -benchtime "$RUN_BENCHTIME" -count "$COUNT" "$PKG" | tee "$out"
"$GO" test -run '^$' -bench '^BenchmarkCompile' -benchtime "$COMPILE_BENCHTIME" -count "$COUNT" "$PKG" | tee -a "$out"

echo
echo "Summary (milliseconds; with COUNT > 1, one line per run)"
awk '
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	mean = p50 = p99 = cpu = "-"
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "ns/op")  mean = sprintf("%.3f", $i / 1e6)
		if ($(i+1) == "p50-ns") p50  = sprintf("%.3f", $i / 1e6)
		if ($(i+1) == "p99-ns") p99  = sprintf("%.3f", $i / 1e6)
		if ($(i+1) == "cpu-ns/op") cpu = sprintf("%.3f", $i / 1e6)
	}
	if (!header++) printf "%-28s %8s %12s %12s %12s %12s\n", "benchmark", "n", "mean", "p50", "p99", "cpu/task"
	printf "%-28s %8s %12s %12s %12s %12s\n", name, $2, mean, p50, p99, cpu
}' "$out"
