#!/usr/bin/env bash
# One-validator avschain devnet on 127.0.0.1 with 1-second blocks and funded dev
# accounts whose keys are in a test keyring. Runs in the foreground; Ctrl-C (or
# SIGTERM) stops the node cleanly. The chain keeps `avsd init`'s fee defaults
# (minimum-gas-prices 0.01uavs, block.max_gas): every transaction pays, e.g.
# --gas auto --gas-adjustment 1.5 --gas-prices 0.01uavs (docs/VALIDATORS.md).
#
#   scripts/localnet.sh [--reset] [--home DIR] [--chain-id ID] [--port-offset N]
#                       [--rpc-port P] [--p2p-port P] [--grpc-port P] [--api-port P]
#                       [--abci-port P] [--binary PATH] [--block-time DURATION]
#                       [--tx-index kv|null]
#
# Every flag also reads an environment variable (AVS_HOME, AVS_CHAIN_ID,
# AVS_PORT_OFFSET, AVS_RPC_PORT, AVS_P2P_PORT, AVS_GRPC_PORT, AVS_API_PORT,
# AVS_ABCI_PORT, AVSD, AVS_BLOCK_TIME, AVS_TX_INDEX). --tx-index null runs the
# node without a transaction index, as many validators do (it is applied at
# every start, also to an existing home). --port-offset shifts every default
# port, so a second chain runs beside the first with --port-offset 100
# --chain-id avs-local-2.
# Without --reset an existing home is restarted with its state.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHAIN_ID=${AVS_CHAIN_ID:-avs-local-1}
HOME_DIR=${AVS_HOME:-}
OFFSET=${AVS_PORT_OFFSET:-0}
RPC_PORT=${AVS_RPC_PORT:-}
P2P_PORT=${AVS_P2P_PORT:-}
GRPC_PORT=${AVS_GRPC_PORT:-}
API_PORT=${AVS_API_PORT:-}
ABCI_PORT=${AVS_ABCI_PORT:-}
AVSD=${AVSD:-}
BLOCK_TIME=${AVS_BLOCK_TIME:-1s}
TX_INDEX=${AVS_TX_INDEX:-kv}
RESET=0

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --reset) RESET=1 ;;
    --home) HOME_DIR=$2; shift ;;
    --chain-id) CHAIN_ID=$2; shift ;;
    --port-offset) OFFSET=$2; shift ;;
    --rpc-port) RPC_PORT=$2; shift ;;
    --p2p-port) P2P_PORT=$2; shift ;;
    --grpc-port) GRPC_PORT=$2; shift ;;
    --api-port) API_PORT=$2; shift ;;
    --abci-port) ABCI_PORT=$2; shift ;;
    --binary) AVSD=$2; shift ;;
    --block-time) BLOCK_TIME=$2; shift ;;
    --tx-index) TX_INDEX=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "localnet: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

HOME_DIR=${HOME_DIR:-$ROOT/.localnet/$CHAIN_ID}
RPC_PORT=${RPC_PORT:-$((26657 + OFFSET))}
P2P_PORT=${P2P_PORT:-$((26656 + OFFSET))}
GRPC_PORT=${GRPC_PORT:-$((9090 + OFFSET))}
API_PORT=${API_PORT:-$((1317 + OFFSET))}
ABCI_PORT=${ABCI_PORT:-$((26658 + OFFSET))}
if [ -z "$AVSD" ]; then
  AVSD=$ROOT/build/avsd
  if [ ! -x "$AVSD" ]; then
    echo "localnet: building avsd (make build)..." >&2
    make -C "$ROOT" build >&2
  fi
fi
[ -x "$AVSD" ] || { echo "localnet: no avsd binary at $AVSD: run 'make build' or pass --binary" >&2; exit 1; }

KR=(--keyring-backend test --home "$HOME_DIR")
DENOM=uavs
# Dev accounts (NAME MNEMONIC a line): fixed test mnemonics, so addresses survive
# --reset. Never use them for anything of value.
DEV_ACCOUNTS_FILE=$ROOT/scripts/dev-accounts.txt
dev_accounts() { grep -Ev '^(#|[[:space:]]*$)' "$DEV_ACCOUNTS_FILE"; }
DEV_NAMES=()
while read -r name _; do DEV_NAMES+=("$name"); done < <(dev_accounts)
[ ${#DEV_NAMES[@]} -gt 0 ] || { echo "localnet: no accounts in $DEV_ACCOUNTS_FILE" >&2; exit 1; }

# toml_set FILE SECTION KEY VALUE: set KEY in [SECTION] ("" for the top level).
toml_set() {
  local file=$1 section=$2 key=$3 value=$4
  awk -v section="$section" -v key="$key" -v value="$value" '
    /^\[/ { cur = substr($0, 2, length($0) - 2) }
    cur == section && $0 ~ "^" key " *=" { print key " = " value; next }
    { print }
  ' "$file" > "$file.tmp" && mv "$file.tmp" "$file"
}

# check_fee_defaults GENESIS APP_TOML: the devnet runs with the defaults a
# public network gets from `avsd init` (docs/VALIDATORS.md, security review
# L-11): a block gas limit (consensus block.max_gas) and a non-zero minimum
# gas price. An avsd built before they existed writes neither: rebuild it.
check_fee_defaults() {
  local max_gas prices
  max_gas=$(tr -d ' \n' <"$1" | sed -n 's/.*"block":{[^}]*"max_gas":"\(-\{0,1\}[0-9]*\)".*/\1/p')
  prices=$(sed -n 's/^minimum-gas-prices = "\(.*\)"$/\1/p' "$2")
  if [ -z "$max_gas" ] || [ "$max_gas" -le 0 ] || [ -z "$prices" ] || [[ ! "$prices" =~ [1-9] ]]; then
    echo "localnet: $AVSD init wrote block.max_gas '${max_gas}' and minimum-gas-prices '${prices}';" \
      "expected a gas limit and a non-zero price: rebuild avsd (make build)" >&2
    exit 1
  fi
  echo "localnet: block.max_gas $max_gas, minimum-gas-prices $prices"
}

init_chain() {
  echo "localnet: initialising $CHAIN_ID in $HOME_DIR"
  rm -rf "$HOME_DIR"
  "$AVSD" init localnet --chain-id "$CHAIN_ID" --home "$HOME_DIR" >/dev/null 2>&1
  while read -r name mnemonic; do
    echo "$mnemonic" | "$AVSD" keys add "$name" --recover "${KR[@]}" >/dev/null 2>&1
    "$AVSD" genesis add-genesis-account "$name" "1000000000000$DENOM" "${KR[@]}" </dev/null >/dev/null
  done < <(dev_accounts)
  "$AVSD" genesis gentx validator "100000000000$DENOM" --chain-id "$CHAIN_ID" "${KR[@]}" >/dev/null 2>&1
  "$AVSD" genesis collect-gentxs --home "$HOME_DIR" >/dev/null 2>&1

  # Short governance periods so parameter changes can be tried on a devnet.
  local genesis=$HOME_DIR/config/genesis.json
  sed -i 's/"voting_period": "[0-9]*s"/"voting_period": "20s"/; s/"expedited_voting_period": "[0-9]*s"/"expedited_voting_period": "10s"/' "$genesis"
  "$AVSD" genesis validate-genesis --home "$HOME_DIR" >/dev/null
  check_fee_defaults "$genesis" "$HOME_DIR/config/app.toml"

  local cfg=$HOME_DIR/config/config.toml app=$HOME_DIR/config/app.toml client=$HOME_DIR/config/client.toml
  toml_set "$cfg" consensus timeout_commit "\"$BLOCK_TIME\""
  toml_set "$cfg" consensus timeout_propose "\"$BLOCK_TIME\""
  toml_set "$cfg" "" moniker '"localnet"'
  toml_set "$cfg" "" proxy_app "\"tcp://127.0.0.1:$ABCI_PORT\""
  toml_set "$cfg" rpc laddr "\"tcp://127.0.0.1:$RPC_PORT\""
  toml_set "$cfg" rpc pprof_laddr '""'
  toml_set "$cfg" p2p laddr "\"tcp://127.0.0.1:$P2P_PORT\""
  toml_set "$cfg" p2p addr_book_strict false
  toml_set "$cfg" p2p allow_duplicate_ip true
  toml_set "$cfg" instrumentation prometheus false
  # Components travel in transactions: room for a 16 MiB module (gzip'd on the way).
  toml_set "$cfg" mempool max_tx_bytes 16777216
  toml_set "$cfg" rpc max_body_bytes 33554432
  toml_set "$app" api enable true
  toml_set "$app" api address "\"tcp://127.0.0.1:$API_PORT\""
  toml_set "$app" grpc address "\"127.0.0.1:$GRPC_PORT\""
  toml_set "$app" grpc-web enable false
  toml_set "$client" "" chain-id "\"$CHAIN_ID\""
  toml_set "$client" "" keyring-backend '"test"'
  toml_set "$client" "" node "\"tcp://127.0.0.1:$RPC_PORT\""
}

if [ "$RESET" = 1 ] || [ ! -f "$HOME_DIR/config/genesis.json" ]; then
  init_chain
else
  echo "localnet: restarting $CHAIN_ID from $HOME_DIR (use --reset for a fresh chain)"
fi
case "$TX_INDEX" in
  kv|null) toml_set "$HOME_DIR/config/config.toml" tx_index indexer "\"$TX_INDEX\"" ;;
  *) echo "localnet: --tx-index must be kv or null, got '$TX_INDEX'" >&2; exit 2 ;;
esac

START=$(date +%s.%N)
LOG=$HOME_DIR/avsd.log
# AVSD_CPU_PROFILE=FILE: avsd writes a CPU profile of its run there when it stops (scripts/bench).
"$AVSD" start --home "$HOME_DIR" ${AVSD_CPU_PROFILE:+--cpu-profile "$AVSD_CPU_PROFILE"} >>"$LOG" 2>&1 &
NODE_PID=$!
echo "$NODE_PID" > "$HOME_DIR/avsd.pid"

stop() {
  trap - INT TERM EXIT
  if kill -0 "$NODE_PID" 2>/dev/null; then
    echo "localnet: stopping avsd (pid $NODE_PID)"
    kill -TERM "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  rm -f "$HOME_DIR/avsd.pid"
  echo "localnet: stopped"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

echo -n "localnet: waiting for the first block on 127.0.0.1:$RPC_PORT "
height=0
for _ in $(seq 1 600); do
  if ! kill -0 "$NODE_PID" 2>/dev/null; then
    echo; echo "localnet: avsd exited before the first block; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  height=$(curl -s "http://127.0.0.1:$RPC_PORT/status" 2>/dev/null | sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p' || true)
  if [ -n "$height" ] && [ "$height" -ge 1 ]; then break; fi
  echo -n "."
  sleep 0.1
done
if [ -z "$height" ] || [ "$height" -lt 1 ]; then
  echo; echo "localnet: no block after 60s; see $LOG" >&2
  exit 1
fi
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo
cat <<INFO
localnet: ready in ${ELAPSED}s (height $height) — chain $CHAIN_ID
  rpc      http://127.0.0.1:$RPC_PORT
  grpc     127.0.0.1:$GRPC_PORT
  rest     http://127.0.0.1:$API_PORT
  home     $HOME_DIR   (log: $LOG)
  keys     ${DEV_NAMES[*]} (keyring-backend test; scripts/dev-accounts.txt)
  fees     every tx pays: --gas auto --gas-adjustment 1.5 --gas-prices $(sed -n 's/^minimum-gas-prices = "\(.*\)"$/\1/p' "$HOME_DIR/config/app.toml")
  try      $AVSD q bank balances \$($AVSD keys show alice -a --home $HOME_DIR --keyring-backend test) --home $HOME_DIR
Ctrl-C stops the node.
INFO
wait "$NODE_PID"
