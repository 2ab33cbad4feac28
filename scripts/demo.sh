#!/usr/bin/env bash
# The whole avschain loop on one machine: a one-validator chain, three operator
# sidecars, the square component, a service, and one task with input 4 whose
# result (16) the operators agree on. Everything listens on 127.0.0.1 and stops
# cleanly at the end, on error, or on Ctrl-C.
#
#   scripts/demo.sh [--keep]      (--keep leaves the demo directory for inspection)
#
# Environment: AVS_DEMO_DIR (default: a new temp dir), AVS_DEMO_PORT_OFFSET
# (default 200, so a `make localnet` chain can run beside it), AVS_DEMO_INPUT (4),
# AVS_VALIDATORS (1; with 4 the chain has four validators and each sidecar has
# every node as its fail-over list).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
OFFSET=${AVS_DEMO_PORT_OFFSET:-200}
INPUT=${AVS_DEMO_INPUT:-4}
DIR=${AVS_DEMO_DIR:-$(mktemp -d -t avs-demo-XXXXXX)}
mkdir -p "$DIR"
CHAIN_ID=avs-demo-1
COMPONENT=$ROOT/components/square/square.wasm
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"

ensure_tools
[ -f "$COMPONENT" ] || fail "missing $COMPONENT: run 'make components'"

# --- chain ---------------------------------------------------------------------
start_chain

# --- service -----------------------------------------------------------------
store_component "$COMPONENT"

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
setup_operators 3 "$SERVICE" 1000000

CAROL=$(addr carol)
OP1=$(addr operator1)
say "carol commits 1000000uavs to operator1"
tx avs commit "$OP1" "$SERVICE" 1000000uavs --from carol >/dev/null

# --- the task ----------------------------------------------------------------------
say "creating a task: square($INPUT), paying 300uavs"
res=$(tx avs create-task "$SERVICE" "$INPUT" --fee 300uavs --from bob)
TASK=$(event_attr "$res" avschain.avs.v1.EventTaskCreated task_id)
echo "    task $TASK created at height $(jq -r .height <<<"$res")"

# settled ID: whether task ID has left PENDING; sets task (its JSON) and status.
settled() {
  task=$(avsd q avs task "$1" -o json) || return 1
  status=$(jq -r .task.status <<<"$task")
  [ "$status" != TASK_STATUS_PENDING ]
}
wait_until "the operators" settled "$TASK"
[ "$status" = TASK_STATUS_COMPLETED ] || fail "task $TASK ended $status"

RESULT=$(jq -r .task.result <<<"$task" | base64 -d)
DIGEST_R=$(jq -r .task.result_digest <<<"$task")
CREATED=$(jq -r .task.created_height <<<"$task")
ENDED=$(jq -r .task.ended_height <<<"$task")
votes=$(avsd q avs task-votes "$TASK" -o json)
AGREED=$(jq -r --arg d "$DIGEST_R" '[.votes[] | select(.digest==$d and (.late|not)) | .operator] | join(" ")' <<<"$votes")
names=""
for op in $AGREED; do
  names="$names $(avsd q avs operator "$op" -o json | jq -r .operator.moniker)"
done
say "result: square($INPUT) = $RESULT"
echo "    agreed:  ${names# } (power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task"))"
echo "    took:    $((ENDED - CREATED)) block(s) (created at $CREATED, completed at $ENDED)"
[ "$RESULT" = $((INPUT * INPUT)) ] || fail "expected $((INPUT * INPUT))"

if grep -q "$OP1" <<<"$AGREED"; then
  pending=$(avsd q avs rewards "$CAROL" -o json | jq -r '.rewards.amount')
  if [ "${pending:-0}" = 0 ]; then
    # a commitment earns from the epoch after it was made (L-2)
    echo "    rewards: carol committed to operator1 in this epoch: she earns from the next one (operator1 kept this fee)"
  else
    res=$(tx avs withdraw-rewards --from carol)
    paid=$(jq -r '[.events[] | select(.type=="avschain.avs.v1.EventRewardsWithdrawn") | .attributes[] | select(.key=="amount") | .value][0] | fromjson | .amount' <<<"$res")
    echo "    rewards: carol, who committed to operator1, withdrew ${paid}uavs (pending was ${pending}uavs)"
  fi
fi

# --- an input the component cannot handle ---------------------------------------------
# square("x") exits 1 on every operator: each votes the failure (reason EXIT)
# instead of staying silent, so the task ends FAILED, the fee pays the
# operators that ran it, and nobody is counted a miss or jailed.
say "creating a task the component cannot do: square(x), paying 300uavs"
res=$(tx avs create-task "$SERVICE" x --fee 300uavs --from bob)
FTASK=$(event_attr "$res" avschain.avs.v1.EventTaskCreated task_id)
wait_until "the operators" settled "$FTASK"
[ "$status" = TASK_STATUS_FAILED ] || fail "task $FTASK ended $status, expected TASK_STATUS_FAILED"
# all_failed ID: every operator's failure vote is in (the third may come a block after the quorum's).
all_failed() {
  fvotes=$(avsd q avs task-votes "$1" -o json) || return 1
  [ "$(jq '[.votes[] | select(.failure != null and .failure != "FAILURE_REASON_UNSPECIFIED")] | length' <<<"$fvotes")" -ge 3 ]
}
wait_until "every operator's failure vote" all_failed "$FTASK"
REASON=$(jq -r .task.failure <<<"$task")
[ "$REASON" = FAILURE_REASON_EXIT ] || fail "task $FTASK failed for $REASON, expected FAILURE_REASON_EXIT"
agreed=$(jq '[.votes[] | select(.failure == "FAILURE_REASON_EXIT")] | length' <<<"$fvotes")
say "result: square(x) FAILED: component exited 1 — $agreed of 3 operators agreed"
echo "    decided: power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task") in $(( $(jq -r .task.ended_height <<<"$task") - $(jq -r .task.created_height <<<"$task") )) block(s); the fee paid the operators that ran it"
jailed=$(avsd q avs operator "$OP1" -o json | jq -r '[.liveness[]?.jailed // false] | any')
[ "$jailed" = false ] || fail "operator1 is jailed after an honest failure"
echo "    jailed:  nobody (a failure vote is an answer, not a miss)"

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
    wait_until "task $id" settled "$id"
    [ "$status" = TASK_STATUS_COMPLETED ] || fail "task $id ended $status"
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

# --- the dashboard ------------------------------------------------------------------
API=$(sed -n '/^\[api\]/,/^\[/s/^address = "tcp:\/\/\(.*\)"$/\1/p' "$HOME_DIR/config/app.toml")
say "dashboard: http://$API/dashboard/#/task/$TASK (the failed task: #/task/$FTASK, the service: #/service/$SERVICE)"
if [ "$KEEP" = 1 ]; then
  echo "    the chain stops with the demo; to browse it again, restart it and open the URL:"
  echo "    scripts/localnet.sh --home $HOME_DIR --chain-id $CHAIN_ID --port-offset $OFFSET"
fi
