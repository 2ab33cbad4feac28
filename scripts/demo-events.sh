#!/usr/bin/env bash
# The event-trigger demo: a contract's event is answered by the operators with
# no task request at all. A one-validator chain, three operator sidecars, the
# square component, the avs-handler contract as the service's handler, and an
# avs-requester contract whose `announce` emits `wasm-avs_announce`. The
# service's event trigger watches that contract's announcements and its
# treasury pays for the tasks. Bob announces 6; every sidecar sees the event in
# the block's results, runs square on it and votes with the event's reference
# (height, tx hash, event index); the first vote opens the task, quorum
# completes it, and x/avs hands 36 to the handler contract. Everything listens
# on 127.0.0.1 and stops cleanly at the end, on error, or on Ctrl-C.
#
#   scripts/demo-events.sh [--keep]      (--keep leaves the demo directory)
#
# Environment: AVS_DEMO_DIR (default: a new temp dir), AVS_DEMO_PORT_OFFSET
# (default 400, so the other demos and `make localnet` can run beside it),
# AVS_DEMO_INPUT (6).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
OFFSET=${AVS_DEMO_PORT_OFFSET:-400}
INPUT=${AVS_DEMO_INPUT:-6}
DIR=${AVS_DEMO_DIR:-$(mktemp -d -t avs-demo-events-XXXXXX)}
mkdir -p "$DIR"
CHAIN_ID=avs-demo-events-1
COMPONENT=$ROOT/components/square/square.wasm
HANDLER_WASM=$ROOT/contracts/avs-handler/avs_handler.wasm
EMITTER_WASM=$ROOT/contracts/avs-requester/avs_requester.wasm
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"

ensure_tools
[ -f "$COMPONENT" ] || fail "missing $COMPONENT: run 'make components'"
for w in "$HANDLER_WASM" "$EMITTER_WASM"; do [ -f "$w" ] || fail "missing $w: run 'make contracts'"; done
smart() { avsd q wasm contract-state smart "$1" "$2" -o json 2>/dev/null | jq -c .data; }
contract() { # $1 name, $2 wasm, $3 instantiate msg → address
  local res code
  res=$(tx wasm store "$2" --from alice)
  code=$(event_attr "$res" store_code code_id)
  res=$(tx wasm instantiate "$code" "$3" --label "$1" --admin "$(addr alice)" --from alice)
  event_attr "$res" instantiate _contract_address
}

# --- chain ---------------------------------------------------------------------
start_chain

# --- contracts and service -----------------------------------------------------
say "storing the square component ($(du -h "$COMPONENT" | cut -f1))"
res=$(tx avs store-component "$COMPONENT" --from alice)
DIGEST=$(event_attr "$res" avschain.avs.v1.EventComponentStored digest)
echo "    digest $DIGEST"

say "instantiating avs-handler, the contract that will receive the results"
HANDLER=$(contract avs-handler "$HANDLER_WASM" '{}')
echo "    handler $HANDLER"

manifest() { # $1: triggers JSON
  cat <<JSON
{
  "name": "announced-square",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 512, "output_bytes": "1024"},
  "quorum": {"threshold": "0.66", "weighting": "WEIGHTING_EQUAL", "min_operators": 2},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT"},
  "task_timeout": "30",
  "fee_per_task": {"denom": "uavs", "amount": "300"},
  "handler_contract": "$HANDLER",
  "triggers": $1
}
JSON
}
say "creating the service: EXACT quorum of 2 of the 3 operators, results to the handler"
manifest '[]' >"$DIR/manifest.json"
res=$(tx avs create-service "$DIR/manifest.json" --from alice)
SERVICE=$(event_attr "$res" avschain.avs.v1.EventServiceCreated service_id)
echo "    service $SERVICE"

say "instantiating avs-requester, whose announce emits wasm-avs_announce"
EMITTER=$(contract avs-requester "$EMITTER_WASM" "{\"service_id\":\"$SERVICE\"}")
echo "    emitter $EMITTER"

TRIGGERS="[{\"event\":{\"type\":\"wasm-avs_announce\",\"attributes\":[{\"key\":\"_contract_address\",\"value\":\"$EMITTER\"}]}}]"
say "adding the event trigger and funding the treasury (it pays for tasks no one sends)"
echo "    triggers $TRIGGERS"
manifest "$TRIGGERS" >"$DIR/manifest-trigger.json"
tx avs update-service "$SERVICE" "$DIR/manifest-trigger.json" --from alice >/dev/null
tx avs fund-service "$SERVICE" 100000uavs --from alice >/dev/null

# --- operators ------------------------------------------------------------------
for i in 1 2 3; do
  say "operator$i: register, opt in, start its sidecar"
  tx avs register-operator "operator$i" --from "operator$i" >/dev/null
  tx avs opt-in "$SERVICE" --from "operator$i" >/dev/null
  start_sidecar "$i"
done

# --- the event -----------------------------------------------------------------
say "bob announces $INPUT through the emitter contract (no fee, no task request)"
res=$(tx wasm execute "$EMITTER" "{\"announce\":{\"data\":\"$INPUT\"}}" --from bob)
HEIGHT=$(jq -r .height <<<"$res")
TXHASH=$(jq -r .txhash <<<"$res")
INDEX=$(jq -r '[.events[].type] | index("wasm-avs_announce")' <<<"$res")
REF="$SERVICE/$HEIGHT/$TXHASH/$INDEX"
echo "    event wasm-avs_announce at height $HEIGHT, tx $TXHASH, index $INDEX"

printf '    waiting for the operators '
TASK=""
for _ in $(seq 1 120); do
  TASK=$(avsd q avs tasks "$SERVICE" -o json | jq -r --arg r "event:$REF" '[.tasks[]? | select(.origin.ref==$r) | .id][0] // empty')
  if [ -n "$TASK" ]; then
    stored=$(smart "$HANDLER" "{\"result\":{\"task_id\":\"$TASK\"}}" || true)
    [ -n "$stored" ] && [ "$stored" != null ] && break
  fi
  sidecars_alive
  printf '.'
  sleep 0.5
done
echo
[ -n "$TASK" ] || fail "no task was opened for event $REF"
[ -n "${stored:-}" ] && [ "$stored" != null ] || fail "the handler has no result for task $TASK"
task=$(avsd q avs task "$TASK" -o json)
echo "    task $TASK opened by the first vote: origin $(jq -c .task.origin <<<"$task"), paid by the treasury: $(jq -r '.task.paid_by_treasury // false' <<<"$task")"
echo "    votes: $(avsd q avs task-votes "$TASK" -o json | jq -r '[.votes[].operator] | length') (power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task"))"
echo "    handler contract: $stored"
RESULT=$(jq -r .result <<<"$stored" | base64 -d)
say "result, stored by the handler contract: square($INPUT) = $RESULT"
[ "$RESULT" = $((INPUT * INPUT)) ] || fail "expected $((INPUT * INPUT))"
