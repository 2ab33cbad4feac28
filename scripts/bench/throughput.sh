#!/usr/bin/env bash
# Task throughput of the whole loop on this machine: a fresh one-validator
# chain (1-second blocks), N operators (default 4) on one EXACT service of the
# Rust square component (EQUAL weighting, allow-list, threshold 0.66: three of
# four decide a task), their N avs-sidecars, and tasks created in bulk or at a
# rate. Prints tasks/s, completion blocks p50/p99/max, tasks expired, votes per
# transaction, gas per task, the CPU seconds and peak RSS of avsd and of each
# sidecar (scripts/bench/throughput/main.go does the load and the metering),
# and sidecar 1's requests to the node per block by method. Everything listens
# on 127.0.0.1 on free ports, lives in a temp dir, and is stopped by its
# process group on every exit path.
#
#   scripts/bench/throughput.sh --bulk K                 K tasks at once (as few txs as the block gas allows)
#   scripts/bench/throughput.sh --rate R --seconds S     R tasks a second for S seconds (one tx a second)
#   options: --operators N (4) --threshold T (0.66) --deadline-blocks D (80: give up D blocks after the
#            last creation) --task-timeout B (60) --keep (keep the temp dir) --port-offset P (auto)
#            --cpu-profile FILE (avsd's CPU profile of the whole run, written when it stops:
#            read it with `go tool pprof -top build/avsd FILE`)
#            --sidecar-cpu-profile FILE (sidecar 1's, likewise: `go tool pprof -top build/avs-sidecar FILE`)
#            --commit-reveal B (the service votes by commit and reveal, commit phase at most B blocks)
#   make bench-throughput ARGS='--bulk 1000'
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KEEP=0
OPERATORS=4
THRESHOLD=0.66
TASK_TIMEOUT=60
COMMIT_BLOCKS=0
OFFSET=${AVS_BENCH_PORT_OFFSET:-}
LOAD_ARGS=()
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bulk | --rate | --seconds | --deadline-blocks) LOAD_ARGS+=("-${1#--}" "$2"); shift ;;
    --operators) OPERATORS=$2; shift ;;
    --threshold) THRESHOLD=$2; shift ;;
    --task-timeout) TASK_TIMEOUT=$2; shift ;;
    --commit-reveal) COMMIT_BLOCKS=$2; shift ;;
    --port-offset) OFFSET=$2; shift ;;
    --keep) KEEP=1 ;;
    --cpu-profile) export AVSD_CPU_PROFILE=$(realpath -m "$2"); shift ;;
    --sidecar-cpu-profile) export SIDECAR1_CPU_PROFILE=$(realpath -m "$2"); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "throughput: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#LOAD_ARGS[@]} -gt 0 ] || { usage >&2; exit 2; }

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# offset_free OFF: every port the chain and the sidecars would take is free
# (scripts/localnet.sh and demo-lib.sh derive them all from the offset).
offset_free() {
  local p
  for p in $((26657 + $1)) $((26656 + $1)) $((9090 + $1)) $((1317 + $1)) $((26658 + $1)); do
    port_free "$p" || return 1
  done
  for ((p = 1; p <= OPERATORS; p++)); do port_free $((9464 + $1 + p)) || return 1; done
}
if [ -z "$OFFSET" ]; then
  for OFFSET in $(seq 400 20 1400); do offset_free "$OFFSET" && break; done
fi
offset_free "$OFFSET" || { echo "throughput: ports at offset $OFFSET are taken: pass --port-offset" >&2; exit 1; }

DIR=$(mktemp -d -t avs-throughput-XXXXXX)
CHAIN_ID=avs-bench-1
COMPONENT=$ROOT/components/square-rust/square-rust.wasm
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"
API_PORT=$((1317 + OFFSET))

ensure_tools
[ -f "$COMPONENT" ] || fail "missing $COMPONENT"
say "building the load generator (scripts/bench/throughput)"
(cd "$ROOT" && go build -o "$DIR/throughput" ./scripts/bench/throughput) || fail "go build"

start_chain
store_component "$COMPONENT"

VOTE_MODE=VOTE_MODE_OPEN
[ "$COMMIT_BLOCKS" = 0 ] || VOTE_MODE=VOTE_MODE_COMMIT_REVEAL
say "creating the service: Rust square, EXACT, EQUAL weighting, threshold $THRESHOLD of $OPERATORS operators, $VOTE_MODE"
cat >"$DIR/manifest.json" <<JSON
{
  "name": "square-bench",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 32, "output_bytes": "1024"},
  "quorum": {"threshold": "$THRESHOLD", "weighting": "WEIGHTING_EQUAL", "min_operators": 1},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT"},
  "task_timeout": "$TASK_TIMEOUT",
  "fee_per_task": {"denom": "uavs", "amount": "300"},
  "admission": "ADMISSION_ALLOWLIST",
  "vote_mode": "$VOTE_MODE",
  "commit_blocks": "$COMMIT_BLOCKS"
}
JSON
res=$(tx avs create-service "$DIR/manifest.json" --from alice)
SERVICE=$(event_attr "$res" avschain.avs.v1.EventServiceCreated service_id)
echo "    service $SERVICE"

# operator1..3 are dev accounts; more are made here and funded by alice.
say "operators 1..$OPERATORS: keys, allow-list"
allow=()
for ((i = 1; i <= OPERATORS; i++)); do
  if ! addr "operator$i" >/dev/null 2>&1; then
    "$AVSD" keys add "operator$i" --keyring-backend test --home "$HOME_DIR" >/dev/null 2>&1
    tx bank send alice "$(addr "operator$i")" 10000000000uavs >/dev/null
  fi
  allow+=(--add "$(addr "operator$i")")
done
tx avs update-allowlist "$SERVICE" "${allow[@]}" --from alice >/dev/null

say "operators 1..$OPERATORS: register and opt in (in parallel)"
jobs_=()
for ((i = 1; i <= OPERATORS; i++)); do
  (
    tx avs register-operator "operator$i" --commission 0.1 --from "operator$i" >/dev/null
    tx avs opt-in "$SERVICE" --from "operator$i" >/dev/null
  ) &
  jobs_+=($!)
done
for j in "${jobs_[@]}"; do wait "$j" || fail "an operator's registration failed"; done

procs=(-proc "avsd=$(cat "$HOME_DIR/avsd.pid")")
for ((i = 1; i <= OPERATORS; i++)); do
  start_sidecar "$i"
  pid=${PIDS[${#PIDS[@]} - 1]}
  # setsid forks when its caller leads a process group: meter the sidecar itself
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = avs-sidecar ] || pid=$(pgrep -P "$pid" | head -n1)
  procs+=(-proc "sidecar$i=$pid")
done

# scrape_sidecar1 FILE: sidecar 1's Prometheus metrics (its requests to the
# node by method, avs_sidecar_rpc_calls_total, and the chain head).
scrape_sidecar1() { curl -sf "http://127.0.0.1:$((9464 + OFFSET + 1))/metrics" >"$1" || : >"$1"; }
scrape_sidecar1 "$DIR/sidecar1-metrics-before.txt"

say "load: ${LOAD_ARGS[*]} (service $SERVICE, $OPERATORS sidecars, tasks from bob)"
"$DIR/throughput" -avsd "$AVSD" -home "$HOME_DIR" -chain-id "$CHAIN_ID" -service "$SERVICE" \
  -rpc "http://127.0.0.1:$RPC_PORT" -api "http://127.0.0.1:$API_PORT" -gas-prices "$(gas_prices)" \
  -dir "$DIR" "${procs[@]}" "${LOAD_ARGS[@]}"

# Requests sidecar 1 sent to the node per block during the load, by method.
scrape_sidecar1 "$DIR/sidecar1-metrics-after.txt"
awk '
  /^avs_sidecar_chain_head / { head[FILENAME] = $2 }
  /^avs_sidecar_rpc_calls_total\{/ {
    kind = $1; sub(/.*kind="/, "", kind); sub(/".*/, "", kind)
    method = $1; sub(/.*method="/, "", method); sub(/".*/, "", method)
    key = kind " " method; keys[key] = 1
    n[FILENAME, key] = $2
  }
  END {
    blocks = head[after] - head[before]
    if (blocks <= 0) { print "rpc calls per block (sidecar 1): no blocks between the scrapes"; exit }
    printf "rpc calls per block (sidecar 1, %d blocks):", blocks
    for (k in keys) { d = n[after, k] - n[before, k]; total += d; if (d > 0) printf " %s %.1f;", k, d / blocks }
    printf " total %.1f\n", total / blocks
  }' before="$DIR/sidecar1-metrics-before.txt" after="$DIR/sidecar1-metrics-after.txt" \
  "$DIR/sidecar1-metrics-before.txt" "$DIR/sidecar1-metrics-after.txt"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); commit $(git -C "$ROOT" rev-parse --short HEAD)"
