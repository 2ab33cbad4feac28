#!/usr/bin/env bash
# A task asked for over IBC: two one-validator chains, the Go relayer (rly)
# between them on port avs, and square(7) computed by three operators on chain
# A for a request sent from chain B. Chain B reads the answer (49) from the
# acknowledgement. Everything listens on 127.0.0.1 and stops cleanly at the
# end, on error, or on Ctrl-C.
#
#   scripts/ibc-demo.sh [--keep]      (--keep leaves the demo directory for inspection)
#
# Environment: AVS_DEMO_DIR (default: a new temp dir), AVS_IBC_OFFSET_A (400),
# AVS_IBC_OFFSET_B (500), AVS_DEMO_INPUT (7), AVSD and AVS_SIDECAR (binaries;
# default build/avsd and build/avs-sidecar). The relayer is built on first use
# (scripts/build-relayer.sh, a few minutes). docs/RELAYER.md explains each step.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
INPUT=${AVS_DEMO_INPUT:-7}
DIR=${AVS_DEMO_DIR:-$(mktemp -d -t avs-ibc-demo-XXXXXX)}
mkdir -p "$DIR"
COMPONENT=$ROOT/components/square-rust/square-rust.wasm
PATH_NAME=avs-a-b

# demo-lib.sh works on one chain through CHAIN_ID, OFFSET, HOME_DIR and NODE:
# those are chain A's. on_b runs a command with chain B's instead.
CHAIN_ID=avs-ibc-a
OFFSET=${AVS_IBC_OFFSET_A:-400}
USER_AVSD=${AVSD:-} USER_SIDECAR=${AVS_SIDECAR:-}
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"
HOME_DIR=$DIR/chain-a
AVSD=${USER_AVSD:-$AVSD}
SIDECAR=${USER_SIDECAR:-$SIDECAR}

B_CHAIN_ID=avs-ibc-b
B_OFFSET=${AVS_IBC_OFFSET_B:-500}
B_HOME=$DIR/chain-b
B_RPC_PORT=$((26657 + B_OFFSET))
B_NODE=tcp://127.0.0.1:$B_RPC_PORT

on_b() {
  local CHAIN_ID=$B_CHAIN_ID OFFSET=$B_OFFSET HOME_DIR=$B_HOME NODE=$B_NODE RPC_PORT=$B_RPC_PORT
  "$@"
}

RLY=$ROOT/build/rly
RLY_HOME=$DIR/relayer
rly() { "$RLY" --home "$RLY_HOME" "$@"; }

# mnemonic NAME is a dev account's mnemonic (scripts/dev-accounts.txt).
mnemonic() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ +/, ""); print }' "$ROOT/scripts/dev-accounts.txt"; }

# channel_on_avs prints the current chain's first open channel on port avs.
channel_on_avs() {
  avsd q ibc channel channels -o json |
    jq -r '[.channels[] | select(.port_id=="avs" and .state=="STATE_OPEN") | .channel_id][0] // empty'
}

ensure_tools
[ -f "$COMPONENT" ] || fail "missing $COMPONENT: run 'make components'"
if [ ! -x "$RLY" ]; then say "building the relayer (first run: a few minutes)"; fi
"$ROOT/scripts/build-relayer.sh" "$RLY" | sed 's/^/    /'

# --- two chains -------------------------------------------------------------------
start_chain A
on_b start_chain B

# --- relayer and the avs channel -----------------------------------------------------
RELAYER_KEY=carol
say "relayer: config in $RLY_HOME, key $RELAYER_KEY (a funded dev account) on both chains"
rly config init >/dev/null
for side in A B; do
  # The relayer's transactions pay each chain's minimum gas price (gas_prices).
  if [ "$side" = A ]; then
    id=$CHAIN_ID rpc=$RPC_PORT prices=$(gas_prices)
  else
    id=$B_CHAIN_ID rpc=$B_RPC_PORT prices=$(on_b gas_prices)
  fi
  cat >"$RLY_HOME/$id.json" <<JSON
{
  "type": "cosmos",
  "value": {
    "key": "$RELAYER_KEY",
    "chain-id": "$id",
    "rpc-addr": "http://127.0.0.1:$rpc",
    "account-prefix": "avs",
    "keyring-backend": "test",
    "gas-adjustment": 1.5,
    "gas-prices": "${prices:-0uavs}",
    "debug": false,
    "timeout": "20s",
    "output-format": "json",
    "sign-mode": "direct"
  }
}
JSON
  rly chains add --file "$RLY_HOME/$id.json" "$id" >/dev/null
  addr=$(rly keys restore "$id" "$RELAYER_KEY" "$(mnemonic "$RELAYER_KEY")" 2>&1 | tail -n1)
  echo "    chain $side ($id): relayer address $addr"
done
rly paths new "$CHAIN_ID" "$B_CHAIN_ID" "$PATH_NAME" >/dev/null

say "relayer: clients, connection and an unordered channel avs <-> avs (version avs-1)"
if ! rly transact link "$PATH_NAME" --src-port avs --dst-port avs --version avs-1 --order unordered \
  >"$RLY_HOME/link.log" 2>&1; then
  grep -E 'error|Error|failed' "$RLY_HOME/link.log" | tail -n 8 >&2 || tail -n 20 "$RLY_HOME/link.log" >&2
  fail "rly transact link failed (full log: $RLY_HOME/link.log)"
fi
A_CHANNEL=$(channel_on_avs)
B_CHANNEL=$(on_b channel_on_avs)
[ -n "$A_CHANNEL" ] && [ -n "$B_CHANNEL" ] || fail "no open channel on port avs after the link (see $RLY_HOME/link.log)"
echo "    chain A avs/$A_CHANNEL <-> chain B avs/$B_CHANNEL"

say "relayer: rly start $PATH_NAME (log: $RLY_HOME/rly.log)"
setsid "$RLY" --home "$RLY_HOME" start "$PATH_NAME" >"$RLY_HOME/rly.log" 2>&1 &
PIDS+=($!)
watch_pid $! "rly (log: $RLY_HOME/rly.log)"

# --- the service on chain A ------------------------------------------------------------
store_component "$COMPONENT"

say "chain A: creating the service, open to requests on $A_CHANNEL, 300uavs per task from its treasury"
cat >"$DIR/manifest.json" <<JSON
{
  "name": "square",
  "component_digest": "$DIGEST",
  "limits": {"time_ms": "5000", "memory_pages": 512, "output_bytes": "1024"},
  "quorum": {"threshold": "0.66", "weighting": "WEIGHTING_EQUAL", "min_operators": 2},
  "min_self_stake": "1000000",
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT"},
  "task_timeout": "30",
  "fee_per_task": {"denom": "uavs", "amount": "300"},
  "ibc_request_channels": ["$A_CHANNEL"]
}
JSON
res=$(tx avs create-service "$DIR/manifest.json" --from alice)
SERVICE=$(event_attr "$res" avschain.avs.v1.EventServiceCreated service_id)
echo "    service $SERVICE"
tx avs fund-service "$SERVICE" 1000000uavs --from alice >/dev/null
echo "    treasury funded with 1000000uavs"

# EQUAL weighting with open admission: each operator counts only with
# min_self_stake of its own committed (H-6)
setup_operators 3 "$SERVICE" 1000000

# --- the request from chain B ------------------------------------------------------------
say "chain B: alice asks service $SERVICE on chain A for square($INPUT) over $B_CHANNEL"
res=$(on_b tx avs request-remote-task "$B_CHANNEL" "$SERVICE" "$INPUT" --timeout 600s --from alice)
SEQ=$(event_attr "$res" send_packet packet_sequence)
[ -n "$SEQ" ] && [ "$SEQ" != null ] || fail "no send_packet event in the request's result"
echo "    packet $B_CHANNEL/$SEQ sent at height $(jq -r .height <<<"$res")"

# delivered: whether chain A has opened the packet's task; sets TASK.
delivered() {
  TASK=$(avsd q avs tasks "$SERVICE" -o json 2>/dev/null | jq -r '[.tasks[]?.id][0] // empty') || return 1
  [ -n "$TASK" ]
}
WAIT_TRIES=240 wait_until "the relayer to deliver it to chain A (log: $RLY_HOME/rly.log)" delivered
echo "    chain A opened task $TASK for the packet"

# acknowledged: whether chain B's remote result has an answer or has failed;
# sets remote (its JSON).
remote=""
acknowledged() {
  local status
  remote=$(on_b avsd q avs remote-result "$B_CHANNEL" "$SEQ" -o json 2>/dev/null) || return 1
  remote=$(jq -c '.remote_result // .' <<<"$remote")
  status=$(jq -r '.status // empty' <<<"$remote")
  [ -n "$(jq -r '.result // empty' <<<"$remote")" ] && return 0
  case "$status" in *FAILED* | *ERROR* | *EXPIRED* | *TIMEOUT* | *TIMED_OUT*) return 0 ;; esac
  return 1
}
WAIT_TRIES=360 wait_until "the operators and the acknowledgement back on chain B" acknowledged
RESULT=$(jq -r '.result // empty' <<<"$remote" | base64 -d)
[ -n "$RESULT" ] || fail "chain B's remote result has no answer: $remote"
task=$(avsd q avs task "$TASK" -o json)
say "result on chain B: square($INPUT) = $RESULT"
echo "    remote result: $remote"
echo "    chain A task $TASK: $(jq -r .task.status <<<"$task"), power $(jq -r .task.power_for <<<"$task") of $(jq -r .task.power_total <<<"$task")"
[ "$RESULT" = $((INPUT * INPUT)) ] || fail "expected $((INPUT * INPUT))"
