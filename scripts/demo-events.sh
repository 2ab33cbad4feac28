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

# --- chain ---------------------------------------------------------------------
start_chain

# --- contracts and service -----------------------------------------------------
store_component "$COMPONENT"

say "instantiating avs-handler, the contract that will receive the results"
HANDLER=$(deploy_contract avs-handler "$HANDLER_WASM" '{}')
echo "    handler $HANDLER"

manifest() { # $1: triggers JSON
  cat <<JSON
{
  "name": "announced-square",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 512, "output_bytes": "1024"},
  "quorum": {"threshold": "0.66", "weighting": "WEIGHTING_EQUAL", "min_operators": 2},
  "min_self_stake": "1000000",
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
EMITTER=$(deploy_contract avs-requester "$EMITTER_WASM" "{\"service_id\":\"$SERVICE\"}")
echo "    emitter $EMITTER"

TRIGGERS="[{\"event\":{\"type\":\"wasm-avs_announce\",\"attributes\":[{\"key\":\"_contract_address\",\"value\":\"$EMITTER\"}]}}]"
say "adding the event trigger and funding the treasury (it pays for tasks no one sends)"
echo "    triggers $TRIGGERS"
manifest "$TRIGGERS" >"$DIR/manifest-trigger.json"
tx avs update-service "$SERVICE" "$DIR/manifest-trigger.json" --from alice >/dev/null
tx avs fund-service "$SERVICE" 100000uavs --from alice >/dev/null

# --- operators ------------------------------------------------------------------
# EQUAL weighting with open admission: each operator counts only with
# min_self_stake of its own committed (H-6)
setup_operators 3 "$SERVICE" 1000000

# --- the event -----------------------------------------------------------------
say "bob announces $INPUT through the emitter contract (no fee, no task request)"
res=$(tx wasm execute "$EMITTER" "{\"announce\":{\"data\":\"$INPUT\"}}" --from bob)
HEIGHT=$(jq -r .height <<<"$res")
TXHASH=$(jq -r .txhash <<<"$res")
INDEX=$(jq -r '[.events[].type] | index("wasm-avs_announce")' <<<"$res")
REF="$SERVICE/$HEIGHT/$TXHASH/$INDEX"
echo "    event wasm-avs_announce at height $HEIGHT, tx $TXHASH, index $INDEX"

# handled: whether the event's task exists and the handler stored its result;
# sets TASK and stored.
TASK=""
handled() {
  [ -n "$TASK" ] || TASK=$(avsd q avs tasks "$SERVICE" --page-reverse --page-limit 1000 -o json |
    jq -r --arg r "event:$REF" '[.tasks[]? | select(.origin.ref==$r) | .id][0] // empty') || return 1
  [ -n "$TASK" ] || return 1
  stored=$(smart "$HANDLER" "{\"result\":{\"task_id\":\"$TASK\"}}") || return 1
  [ -n "$stored" ] && [ "$stored" != null ]
}
wait_until "the operators (a task for event $REF, then its result in the handler)" handled
task=$(avsd q avs task "$TASK" -o json)
echo "    task $TASK opened by the first vote: origin $(jq -c .task.origin <<<"$task"), paid by the treasury: $(jq -r '.task.paid_by_treasury // false' <<<"$task")"
echo "    votes: $(avsd q avs task-votes "$TASK" -o json | jq -r '[.votes[].operator] | length') (power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task"))"
echo "    handler contract: $stored"
RESULT=$(jq -r .result <<<"$stored" | base64 -d)
say "result, stored by the handler contract: square($INPUT) = $RESULT"
[ "$RESULT" = $((INPUT * INPUT)) ] || fail "expected $((INPUT * INPUT))"
