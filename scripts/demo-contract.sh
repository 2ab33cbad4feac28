#!/usr/bin/env bash
# The second demo: a request made through a CosmWasm contract is answered by
# the operators. A one-validator chain, three operator sidecars, the square
# component and a service whose handler_contract is avs-requester
# (contracts/avs-requester): bob asks the contract for square(5) paying the fee
# with the call, the contract creates the task (MsgCreateTask as
# CosmosMsg::Any) and learns its id from the submessage reply, the sidecars
# agree on 25, x/avs calls the contract back with sudo, and the answer is read
# from the contract alone. Everything listens on 127.0.0.1 and stops cleanly at
# the end, on error, or on Ctrl-C.
#
#   scripts/demo-contract.sh [--keep]      (--keep leaves the demo directory)
#
# Environment: AVS_DEMO_DIR (default: a new temp dir), AVS_DEMO_PORT_OFFSET
# (default 300, so scripts/demo.sh and `make localnet` can run beside it),
# AVS_DEMO_INPUT (5).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
OFFSET=${AVS_DEMO_PORT_OFFSET:-300}
INPUT=${AVS_DEMO_INPUT:-5}
DIR=${AVS_DEMO_DIR:-$(mktemp -d -t avs-demo-contract-XXXXXX)}
mkdir -p "$DIR"
CHAIN_ID=avs-demo-contract-1
HOME_DIR=$DIR/chain
RPC_PORT=$((26657 + OFFSET))
GRPC_PORT=$((9090 + OFFSET))
NODE=tcp://127.0.0.1:$RPC_PORT
AVSD=$ROOT/build/avsd
SIDECAR=$ROOT/build/avs-sidecar
COMPONENT=$ROOT/components/square/square.wasm
CONTRACT_WASM=$ROOT/contracts/avs-requester/avs_requester.wasm
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
[ -f "$CONTRACT_WASM" ] || fail "missing $CONTRACT_WASM: run 'make contracts'"

avsd() { "$AVSD" "$@" --home "$HOME_DIR" --node "$NODE" ; }
addr() { "$AVSD" keys show "$1" -a --home "$HOME_DIR" --keyring-backend test; }
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
smart() { avsd q wasm contract-state smart "$1" "$2" -o json | jq -c .data; }

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

# --- service and contract ------------------------------------------------------------
say "storing the square component ($(du -h "$COMPONENT" | cut -f1))"
res=$(tx avs store-component "$COMPONENT" --from alice)
DIGEST=$(event_attr "$res" avschain.avs.v1.EventComponentStored digest)
echo "    digest $DIGEST"

manifest() { # $1: handler contract ("" for none)
  cat <<JSON
{
  "name": "square",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 512, "output_bytes": "1024"},
  "quorum": {"threshold": "0.66", "weighting": "WEIGHTING_EQUAL", "min_operators": 2},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT"},
  "task_timeout": "30",
  "fee_per_task": {"denom": "uavs", "amount": "300"},
  "handler_contract": "$1"
}
JSON
}
say "creating the service: EXACT quorum of 2 of the 3 operators, 300uavs per task"
manifest "" >"$DIR/manifest.json"
res=$(tx avs create-service "$DIR/manifest.json" --from alice)
SERVICE=$(event_attr "$res" avschain.avs.v1.EventServiceCreated service_id)
echo "    service $SERVICE"

say "storing the avs-requester contract ($(du -h "$CONTRACT_WASM" | cut -f1)) and instantiating it for service $SERVICE"
res=$(tx wasm store "$CONTRACT_WASM" --from alice)
CODE_ID=$(event_attr "$res" store_code code_id)
res=$(tx wasm instantiate "$CODE_ID" "{\"service_id\":\"$SERVICE\"}" --label avs-requester --admin "$(addr alice)" --from alice)
CONTRACT=$(event_attr "$res" instantiate _contract_address)
echo "    code $CODE_ID, contract $CONTRACT"

say "making the contract the service's handler_contract"
manifest "$CONTRACT" >"$DIR/manifest-handler.json"
tx avs update-service "$SERVICE" "$DIR/manifest-handler.json" --from alice >/dev/null

# --- operators ------------------------------------------------------------------
for i in 1 2 3; do
  say "operator$i: register, opt in, start its sidecar"
  tx avs register-operator "operator$i" --from "operator$i" >/dev/null
  tx avs opt-in "$SERVICE" --from "operator$i" >/dev/null
  sc=$DIR/sidecar-$i
  "$SIDECAR" init --home "$sc" --chain-id "$CHAIN_ID" --rpc "$NODE" --grpc "127.0.0.1:$GRPC_PORT" \
    --key "operator$i" --keyring-backend test --keyring-dir "$HOME_DIR" \
    --metrics-addr "127.0.0.1:$((9464 + OFFSET + i))" >/dev/null
  setsid "$SIDECAR" start --home "$sc" >"$sc/sidecar.log" 2>&1 &
  PIDS+=($!)
done

# --- the request -----------------------------------------------------------------------
INPUT_B64=$(printf '%s' "$INPUT" | base64)
say "bob asks the contract for square($INPUT), sending 300uavs with the call"
echo "    execute {\"request\":{\"input\":\"$INPUT_B64\"}}"
res=$(tx wasm execute "$CONTRACT" "{\"request\":{\"input\":\"$INPUT_B64\"}}" --amount 300uavs --from bob)
TASK=$(event_attr "$res" avschain.avs.v1.EventTaskCreated task_id)
REQUEST=$(event_attr "$res" wasm request_id)
echo "    request $REQUEST → task $TASK (created by $(event_attr "$res" avschain.avs.v1.EventTaskCreated creator), the contract)"

printf '    waiting for the operators '
status=pending
for _ in $(seq 1 120); do
  req=$(smart "$CONTRACT" "{\"request\":{\"id\":\"$REQUEST\"}}")
  status=$(jq -r .status <<<"$req")
  [ "$status" = pending ] || break
  for pid in "${PIDS[@]:1}"; do kill -0 "$pid" 2>/dev/null || fail "a sidecar exited; see $DIR/sidecar-*/sidecar.log"; done
  printf '.'
  sleep 0.5
done
echo
[ "$status" = completed ] || fail "request $REQUEST ended $status: $req"
echo "    contract: $req"
RESULT=$(jq -r .result <<<"$req" | base64 -d)
say "result, read from the contract: square($INPUT) = $RESULT"
handled=$(avsd q txs --query "avschain.avs.v1.EventHandlerCalled.task_id='\"$TASK\"'" -o json 2>/dev/null |
  jq -r '[.txs[]?.events[]? | select(.type=="avschain.avs.v1.EventHandlerCalled") | .attributes[] | select(.key=="gas_used") | .value][0] // empty' 2>/dev/null || true)
[ -n "$handled" ] && echo "    x/avs called the contract back with sudo (gas ${handled//\"/})"
task=$(avsd q avs task "$TASK" -o json)
echo "    chain:    task $TASK $(jq -r .task.status <<<"$task"), power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task")"
echo "    stargate: $(smart "$CONTRACT" "{\"task\":{\"task_id\":\"$TASK\"}}" | jq -c '{id: .task.id, status: .task.status}') (the contract reading x/avs)"
[ "$RESULT" = $((INPUT * INPUT)) ] || fail "expected $((INPUT * INPUT))"
