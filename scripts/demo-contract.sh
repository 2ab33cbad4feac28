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
COMPONENT=$ROOT/components/square/square.wasm
CONTRACT_WASM=$ROOT/contracts/avs-requester/avs_requester.wasm
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"

ensure_tools
[ -f "$COMPONENT" ] || fail "missing $COMPONENT: run 'make components'"
[ -f "$CONTRACT_WASM" ] || fail "missing $CONTRACT_WASM: run 'make contracts'"

# --- chain ---------------------------------------------------------------------
start_chain

# --- service and contract ------------------------------------------------------------
store_component "$COMPONENT"

manifest() { # $1: handler contract ("" for none)
  cat <<JSON
{
  "name": "square",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 512, "output_bytes": "1024"},
  "quorum": {"threshold": "0.66", "weighting": "WEIGHTING_EQUAL", "min_operators": 2},
  "min_self_stake": "1000000",
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
CONTRACT=$(deploy_contract avs-requester "$CONTRACT_WASM" "{\"service_id\":\"$SERVICE\"}")
echo "    contract $CONTRACT"

say "making the contract the service's handler_contract"
manifest "$CONTRACT" >"$DIR/manifest-handler.json"
tx avs update-service "$SERVICE" "$DIR/manifest-handler.json" --from alice >/dev/null

# --- operators ------------------------------------------------------------------
# EQUAL weighting with open admission: each operator counts only with
# min_self_stake of its own committed (H-6)
setup_operators 3 "$SERVICE" 1000000

# --- the request -----------------------------------------------------------------------
INPUT_B64=$(printf '%s' "$INPUT" | base64)
say "bob asks the contract for square($INPUT), sending 300uavs with the call"
echo "    execute {\"request\":{\"input\":\"$INPUT_B64\"}}"
res=$(tx wasm execute "$CONTRACT" "{\"request\":{\"input\":\"$INPUT_B64\"}}" --amount 300uavs --from bob)
TASK=$(event_attr "$res" avschain.avs.v1.EventTaskCreated task_id)
REQUEST=$(event_attr "$res" wasm request_id)
echo "    request $REQUEST → task $TASK (created by $(event_attr "$res" avschain.avs.v1.EventTaskCreated creator), the contract)"

# answered: whether the contract's request has left pending; sets req and status.
answered() {
  req=$(smart "$CONTRACT" "{\"request\":{\"id\":\"$REQUEST\"}}") || return 1
  status=$(jq -r .status <<<"$req")
  [ "$status" != pending ]
}
wait_until "the operators" answered
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
