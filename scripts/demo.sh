#!/usr/bin/env bash
# The whole avschain loop on one machine: a one-validator chain, three operator
# sidecars, the square component, a service, and one task with input 4 whose
# result (16) the operators agree on. Everything listens on 127.0.0.1 and stops
# cleanly at the end, on error, or on Ctrl-C.
#
#   scripts/demo.sh [--keep]      (--keep leaves the demo directory for inspection)
#
# Environment: AVS_DEMO_DIR (default: a new temp dir), AVS_DEMO_PORT_OFFSET
# (default 200, so a `make localnet` chain can run beside it), AVS_DEMO_INPUT (4).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
OFFSET=${AVS_DEMO_PORT_OFFSET:-200}
INPUT=${AVS_DEMO_INPUT:-4}
DIR=${AVS_DEMO_DIR:-$(mktemp -d -t avs-demo-XXXXXX)}
mkdir -p "$DIR"
CHAIN_ID=avs-demo-1
HOME_DIR=$DIR/chain
RPC_PORT=$((26657 + OFFSET))
GRPC_PORT=$((9090 + OFFSET))
NODE=tcp://127.0.0.1:$RPC_PORT
AVSD=$ROOT/build/avsd
SIDECAR=$ROOT/build/avs-sidecar
COMPONENT=$ROOT/components/square/square.wasm
PIDS=()

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  if [ ${#PIDS[@]} -gt 0 ]; then
    say "stopping sidecars and chain"
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    done
  fi
  if [ $rc -ne 0 ]; then
    echo "demo failed; logs are in $DIR (chain: $HOME_DIR/avsd.log, sidecars: $DIR/sidecar-*/sidecar.log)" >&2
  elif [ $KEEP = 1 ] || [ -n "${AVS_DEMO_DIR:-}" ]; then
    echo "demo files kept in $DIR"
  else
    rm -rf "$DIR"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools and builds that are missing -------------------------------------------
for tool in jq curl; do
  command -v "$tool" >/dev/null && continue
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $tool (apt-get)"
    (apt-get update -qq && apt-get install -y -qq "$tool") >/dev/null || fail "could not install $tool"
  else
    fail "$tool is needed: install it (e.g. 'sudo apt-get install -y $tool') and run again"
  fi
done
if [ ! -x "$AVSD" ] || [ ! -x "$SIDECAR" ]; then
  say "building avsd and avs-sidecar (first run: a few minutes)"
  make -C "$ROOT" build >/dev/null
fi
[ -f "$COMPONENT" ] || fail "missing $COMPONENT: run 'make components'"

avsd() { "$AVSD" "$@" --home "$HOME_DIR" --node "$NODE" ; }
tx() {
  local out
  out=$("$AVSD" tx "$@" --home "$HOME_DIR" --node "$NODE" --chain-id "$CHAIN_ID" --keyring-backend test \
    --gas auto --gas-adjustment 1.5 -y -o json 2>&1) || fail "tx $*: $out"
  local hash code
  hash=$(printf '%s\n' "$out" | tail -n1 | jq -r .txhash)
  code=$(printf '%s\n' "$out" | tail -n1 | jq -r .code)
  [ "$code" = 0 ] || fail "tx $* refused: $out"
  for _ in $(seq 1 60); do
    if res=$("$AVSD" q tx "$hash" --node "$NODE" -o json 2>/dev/null); then
      [ "$(jq -r .code <<<"$res")" = 0 ] || fail "tx $* failed: $(jq -r .raw_log <<<"$res")"
      printf '%s' "$res"
      return
    fi
    sleep 0.3
  done
  fail "tx $hash not included"
}
event_attr() { jq -r --arg t "$2" --arg k "$3" '[.events[] | select(.type==$t) | .attributes[] | select(.key==$k) | .value][0] | fromjson? // .' <<<"$1"; }

# --- chain ---------------------------------------------------------------------
say "starting a one-validator chain ($CHAIN_ID) on 127.0.0.1:$RPC_PORT"
setsid "$ROOT/scripts/localnet.sh" --reset --home "$HOME_DIR" --chain-id "$CHAIN_ID" --port-offset "$OFFSET" \
  --binary "$AVSD" >"$DIR/localnet.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do
  grep -q "ready in" "$DIR/localnet.out" 2>/dev/null && break
  kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$DIR/localnet.out" >&2; fail "the chain did not start"; }
  sleep 0.2
done
grep -q "ready in" "$DIR/localnet.out" || fail "no first block within 60s"
grep "ready in" "$DIR/localnet.out"

# --- service -----------------------------------------------------------------
say "storing the square component ($(du -h "$COMPONENT" | cut -f1))"
res=$(tx avs store-component "$COMPONENT" --from alice)
DIGEST=$(event_attr "$res" avschain.avs.v1.EventComponentStored digest)
echo "    digest $DIGEST"

say "creating the service: EXACT quorum of 2/3 of the committed stake, 300uavs per task"
cat >"$DIR/manifest.json" <<JSON
{
  "name": "square",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 512, "output_bytes": "1024"},
  "quorum": {"threshold": "0.66", "weighting": "WEIGHTING_STAKE", "min_operators": 2},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT"},
  "task_timeout": "30",
  "fee_per_task": {"denom": "uavs", "amount": "300"}
}
JSON
res=$(tx avs create-service "$DIR/manifest.json" --from alice)
SERVICE=$(event_attr "$res" avschain.avs.v1.EventServiceCreated service_id)
echo "    service $SERVICE"

# --- operators ------------------------------------------------------------------
for i in 1 2 3; do
  say "operator$i: register (10% commission), opt in, commit ${i}000000uavs of its own, start its sidecar"
  tx avs register-operator "operator$i" --commission 0.1 --from "operator$i" >/dev/null
  tx avs opt-in "$SERVICE" --from "operator$i" >/dev/null
  tx avs commit "$("$AVSD" keys show "operator$i" -a --home "$HOME_DIR" --keyring-backend test)" "$SERVICE" "${i}000000uavs" --from "operator$i" >/dev/null
  sc=$DIR/sidecar-$i
  "$SIDECAR" init --home "$sc" --chain-id "$CHAIN_ID" --rpc "$NODE" --grpc "127.0.0.1:$GRPC_PORT" \
    --key "operator$i" --keyring-backend test --keyring-dir "$HOME_DIR" \
    --metrics-addr "127.0.0.1:$((9464 + OFFSET + i))" >/dev/null
  setsid "$SIDECAR" start --home "$sc" >"$sc/sidecar.log" 2>&1 &
  PIDS+=($!)
done

CAROL=$("$AVSD" keys show carol -a --home "$HOME_DIR" --keyring-backend test)
OP1=$("$AVSD" keys show operator1 -a --home "$HOME_DIR" --keyring-backend test)
say "carol commits 1000000uavs to operator1"
tx avs commit "$OP1" "$SERVICE" 1000000uavs --from carol >/dev/null

# --- the task ----------------------------------------------------------------------
say "creating a task: square($INPUT), paying 300uavs"
res=$(tx avs create-task "$SERVICE" "$INPUT" --fee 300uavs --from bob)
TASK=$(event_attr "$res" avschain.avs.v1.EventTaskCreated task_id)
echo "    task $TASK created at height $(jq -r .height <<<"$res")"

printf '    waiting for the operators '
status=""
for _ in $(seq 1 120); do
  task=$(avsd q avs task "$TASK" -o json)
  status=$(jq -r .task.status <<<"$task")
  [ "$status" = TASK_STATUS_PENDING ] || break
  for pid in "${PIDS[@]:1}"; do kill -0 "$pid" 2>/dev/null || fail "a sidecar exited; see $DIR/sidecar-*/sidecar.log"; done
  printf '.'
  sleep 0.5
done
echo
[ "$status" = TASK_STATUS_COMPLETED ] || fail "task $TASK ended $status"

RESULT=$(jq -r .task.result <<<"$task" | base64 -d)
DIGEST_R=$(jq -r .task.result_digest <<<"$task")
CREATED=$(jq -r .task.created_height <<<"$task")
ENDED=$(jq -r .task.ended_height <<<"$task")
votes=$(avsd q avs task-votes "$TASK" -o json)
AGREED=$(jq -r --arg d "$DIGEST_R" '[.votes[] | select(.digest==$d and (.late|not)) | .operator] | join(" ")' <<<"$votes")
names=""
for addr in $AGREED; do
  names="$names $("$AVSD" q avs operator "$addr" --node "$NODE" -o json | jq -r .operator.moniker)"
done
say "result: square($INPUT) = $RESULT"
echo "    agreed:  ${names# } (power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task"))"
echo "    took:    $((ENDED - CREATED)) block(s) (created at $CREATED, completed at $ENDED)"
[ "$RESULT" = $((INPUT * INPUT)) ] || fail "expected $((INPUT * INPUT))"

if grep -q "$OP1" <<<"$AGREED"; then
  pending=$(avsd q avs rewards "$CAROL" -o json | jq -r '.rewards.amount')
  res=$(tx avs withdraw-rewards --from carol)
  paid=$(jq -r '[.events[] | select(.type=="avschain.avs.v1.EventRewardsWithdrawn") | .attributes[] | select(.key=="amount") | .value][0] | fromjson | .amount' <<<"$res")
  echo "    rewards: carol, who committed to operator1, withdrew ${paid}uavs (pending was ${pending}uavs)"
fi

# --- optional: more tasks, for the latency figures (scripts/bench/e2e-latency.sh) ---
EXTRA=$(( ${AVS_DEMO_TASKS:-1} - 1 ))
if [ "$EXTRA" -gt 0 ]; then
  say "creating $EXTRA more tasks for latency figures"
  ids=()
  for i in $(seq 1 "$EXTRA"); do
    res=$(tx avs create-task "$SERVICE" "$i" --fee 300uavs --from bob)
    ids+=("$(event_attr "$res" avschain.avs.v1.EventTaskCreated task_id)")
    printf '.'
  done
  echo
  blocks=("$((ENDED - CREATED))")
  for id in "${ids[@]}"; do
    for _ in $(seq 1 120); do
      task=$(avsd q avs task "$id" -o json)
      [ "$(jq -r .task.status <<<"$task")" = TASK_STATUS_PENDING ] || break
      sleep 0.5
    done
    [ "$(jq -r .task.status <<<"$task")" = TASK_STATUS_COMPLETED ] || fail "task $id did not complete"
    blocks+=("$(( $(jq -r .task.ended_height <<<"$task") - $(jq -r .task.created_height <<<"$task") ))")
  done
  sorted=$(printf '%s\n' "${blocks[@]}" | sort -n)
  n=${#blocks[@]}
  p50=$(sed -n "$(( (n + 1) / 2 ))p" <<<"$sorted")
  p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" <<<"$sorted")
  say "latency over $n tasks, 3 operators, 1 s blocks: p50 $p50 block(s), p99 $p99, max $(tail -n1 <<<"$sorted")"
  printf '    histogram (blocks: tasks):'
  uniq -c <<<"$sorted" | awk '{printf " %s:%s", $2, $1}'
  echo
fi
