#!/usr/bin/env bash
# An avschain devnet on 127.0.0.1 with 1-second blocks and funded dev accounts
# whose keys are in a test keyring: one validator, or N with --validators N.
# Runs in the foreground; Ctrl-C (or SIGTERM) stops every node cleanly. The
# chain keeps `avsd init`'s fee defaults (minimum-gas-prices 0.01uavs,
# block.max_gas): every transaction pays, e.g.
# --gas auto --gas-adjustment 1.5 --gas-prices 0.01uavs (docs/VALIDATORS.md).
#
#   scripts/localnet.sh [--reset] [--home DIR] [--chain-id ID] [--port-offset N]
#                       [--rpc-port P] [--p2p-port P] [--grpc-port P] [--api-port P]
#                       [--abci-port P] [--binary PATH] [--block-time DURATION]
#                       [--tx-index kv|null] [--validators N] [--port-stride S]
#                       [--only-node K] [--snapshot-interval H] [--wasmd]
#
# Every flag also reads an environment variable (AVS_HOME, AVS_CHAIN_ID,
# AVS_PORT_OFFSET, AVS_RPC_PORT, AVS_P2P_PORT, AVS_GRPC_PORT, AVS_API_PORT,
# AVS_ABCI_PORT, AVSD, AVS_BLOCK_TIME, AVS_TX_INDEX, AVS_VALIDATORS,
# AVS_PORT_STRIDE, AVS_ONLY_NODE, AVS_SNAPSHOT_INTERVAL). --tx-index null runs the nodes without a
# transaction index, as many validators do (it is applied at every start, also
# to an existing home). --port-offset shifts every default port, so a second
# chain runs beside the first with --port-offset 100 --chain-id avs-local-2.
# Without --reset an existing home is restarted with its state.
#
# --validators N (default 1) makes N validators with equal stake, each with its
# own key and gentx, one genesis, peered on 127.0.0.1. Node 0's home is --home
# (the dev keys and validator1..N-1's keys are in its keyring), node K's is
# --home/nodeK. A port flag sets node 0's port; node K's is that + K*stride
# (--port-stride, default 10), or a comma list gives every node's (one port a
# node). The script waits until every node is at height 3; a node that dies
# later is reported and the others keep going. --only-node K starts just node
# K of an existing N-validator home (to restart a node that was killed).
#
# --snapshot-interval H (default 0: none) makes every node take a state-sync
# snapshot every H blocks and keep the last 5, so a new node can join by
# state sync (docs/VALIDATORS.md, Joining by state sync).
#
# --wasmd (AVS_WASMD=1) runs a plain CosmWasm chain instead: wasmd at the
# version go.mod pins (build/wasmd, built by scripts/build-wasmd.sh when
# missing), bond denom `stake`, the same dev keys (addresses wasm1...), and the
# same fee rules (minimum-gas-prices 0.01stake, a block gas limit). Its nodes
# write wasmd.pid and wasmd.log. It is "the other chain" of the IBC-client
# tests and of docs/IBC-CLIENTS.md: run it beside a devnet with, e.g.,
#   scripts/localnet.sh --wasmd --chain-id wasmd-local-1 --port-offset 200
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
VALIDATORS=${AVS_VALIDATORS:-}
STRIDE=${AVS_PORT_STRIDE:-10}
ONLY_NODE=${AVS_ONLY_NODE:-}
SNAPSHOT_INTERVAL=${AVS_SNAPSHOT_INTERVAL:-0}
WASMD=${AVS_WASMD:-0}
RESET=0

usage() { sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'; }
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
    --validators) VALIDATORS=$2; shift ;;
    --port-stride) STRIDE=$2; shift ;;
    --only-node) ONLY_NODE=$2; shift ;;
    --snapshot-interval) SNAPSHOT_INTERVAL=$2; shift ;;
    --wasmd) WASMD=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "localnet: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "localnet: $*" >&2; exit 1; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

HOME_DIR=${HOME_DIR:-$ROOT/.localnet/$CHAIN_ID}
case "$TX_INDEX" in
  kv|null) ;;
  *) echo "localnet: --tx-index must be kv or null, got '$TX_INDEX'" >&2; exit 2 ;;
esac
is_uint "$SNAPSHOT_INTERVAL" || { echo "localnet: --snapshot-interval must be a number of blocks (0: none)" >&2; exit 2; }
if ! is_uint "$STRIDE" || [ "$STRIDE" -lt 1 ]; then
  echo "localnet: --port-stride must be a positive number" >&2; exit 2
fi
if [ -n "$VALIDATORS" ] && { ! is_uint "$VALIDATORS" || [ "$VALIDATORS" -lt 1 ]; }; then
  echo "localnet: --validators must be a number >= 1, got '$VALIDATORS'" >&2; exit 2
fi
# PROC names the node binary in messages and in each home's PROC.pid and
# PROC.log; INIT_FLAGS go to every `init`.
PROC=avsd DENOM=uavs INIT_FLAGS=()
[ "$WASMD" = 1 ] && PROC=wasmd DENOM=stake INIT_FLAGS=(--default-denom stake)
if [ -z "$AVSD" ]; then
  if [ "$WASMD" = 1 ]; then
    AVSD=$ROOT/build/wasmd
    [ -x "$AVSD" ] || { echo "localnet: building wasmd (scripts/build-wasmd.sh)..." >&2; "$ROOT/scripts/build-wasmd.sh" >&2; }
  else
    AVSD=$ROOT/build/avsd
    if [ ! -x "$AVSD" ]; then
      echo "localnet: building avsd (make build)..." >&2
      make -C "$ROOT" build >&2
    fi
  fi
fi
[ -x "$AVSD" ] || die "no $PROC binary at $AVSD: run 'make build' (avsd) or scripts/build-wasmd.sh (wasmd), or pass --binary"

KR=(--keyring-backend test --home "$HOME_DIR")
STAKE=100000000000$DENOM # each validator's self-delegation: equal stake
# Dev accounts (NAME MNEMONIC a line): fixed test mnemonics, so addresses survive
# --reset. Never use them for anything of value.
DEV_ACCOUNTS_FILE=$ROOT/scripts/dev-accounts.txt
dev_accounts() { grep -Ev '^(#|[[:space:]]*$)' "$DEV_ACCOUNTS_FILE"; }
DEV_NAMES=()
while read -r name _; do DEV_NAMES+=("$name"); done < <(dev_accounts)
[ ${#DEV_NAMES[@]} -gt 0 ] || die "no accounts in $DEV_ACCOUNTS_FILE"

# --- nodes and their ports -------------------------------------------------

# node_home K: node 0 lives in --home itself (the one-validator layout), node
# K in --home/nodeK.
node_home() { if [ "$1" = 0 ]; then echo "$HOME_DIR"; else echo "$HOME_DIR/node$1"; fi; }

# existing_validators: how many validators the home at --home was made with
# (0 when there is none).
existing_validators() {
  [ -f "$HOME_DIR/config/genesis.json" ] || { echo 0; return; }
  local k=1
  while [ -f "$(node_home "$k")/config/genesis.json" ]; do k=$((k + 1)); done
  echo "$k"
}

# port_list ARRAY FLAG VALUE DEFAULT: sets ARRAY to the ports of one kind for
# nodes 0..N-1, from the flag's VALUE (one port for node 0, the others stride
# apart, or a comma list of N) or DEFAULT.
port_list() {
  local -n out=$1
  local flag=$2 spec=${3:-$4} k ports
  IFS=, read -ra ports <<<"$spec"
  for k in "${ports[@]}"; do is_uint "$k" || die "$flag: bad port '$k' in '$spec'"; done
  out=()
  if [ ${#ports[@]} -eq 1 ]; then
    for ((k = 0; k < N; k++)); do out+=($((ports[0] + k * STRIDE))); done
  elif [ ${#ports[@]} -eq "$N" ]; then
    out=("${ports[@]}")
  else
    die "$flag '$spec': give one port (node 0) or $N (one a node)"
  fi
}
RPC_PORTS=() P2P_PORTS=() GRPC_PORTS=() API_PORTS=() ABCI_PORTS=() # by node, set by port_list

# toml_set FILE SECTION KEY VALUE: set KEY in [SECTION] ("" for the top level).
toml_set() {
  local file=$1 section=$2 key=$3 value=$4
  awk -v section="$section" -v key="$key" -v value="$value" '
    /^\[/ { cur = substr($0, 2, length($0) - 2) }
    cur == section && $0 ~ "^" key " *=" { print key " = " value; next }
    { print }
  ' "$file" > "$file.tmp" && mv "$file.tmp" "$file"
}

# toml_port FILE SECTION KEY: the port of an address setting ("tcp://127.0.0.1:26657").
toml_port() {
  awk -v section="$2" -v key="$3" '
    /^\[/ { cur = substr($0, 2, length($0) - 2) }
    cur == section && $0 ~ "^" key " *=" { gsub(/"/, ""); n = split($0, a, ":"); print a[n]; exit }
  ' "$1"
}

# node_rpc/node_grpc/node_api K: node K's ports, read from its config (the
# truth for a restarted home as for a new one).
node_rpc() { toml_port "$(node_home "$1")/config/config.toml" rpc laddr; }
node_grpc() { toml_port "$(node_home "$1")/config/app.toml" grpc address; }
node_api() { toml_port "$(node_home "$1")/config/app.toml" api address; }

# --- a new chain -------------------------------------------------------------

# set_fee_defaults GENESIS APP_TOML: what `avsd init` writes and `wasmd init`
# does not (it writes minimum-gas-prices "0stake" and no block gas limit).
set_fee_defaults() {
  sed -i 's/"max_gas": "-1"/"max_gas": "100000000"/' "$1"
  toml_set "$2" "" minimum-gas-prices "\"0.01$DENOM\""
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

# configure_node K: node K's ports, block times and limits.
configure_node() {
  local k=$1 home moniker=localnet
  home=$(node_home "$k")
  [ "$k" = 0 ] || moniker=localnet-node$k
  local cfg=$home/config/config.toml app=$home/config/app.toml client=$home/config/client.toml
  toml_set "$cfg" consensus timeout_commit "\"$BLOCK_TIME\""
  toml_set "$cfg" consensus timeout_propose "\"$BLOCK_TIME\""
  toml_set "$cfg" "" moniker "\"$moniker\""
  toml_set "$cfg" "" proxy_app "\"tcp://127.0.0.1:${ABCI_PORTS[k]}\""
  toml_set "$cfg" rpc laddr "\"tcp://127.0.0.1:${RPC_PORTS[k]}\""
  toml_set "$cfg" rpc pprof_laddr '""'
  toml_set "$cfg" p2p laddr "\"tcp://127.0.0.1:${P2P_PORTS[k]}\""
  toml_set "$cfg" p2p addr_book_strict false
  toml_set "$cfg" p2p allow_duplicate_ip true
  toml_set "$cfg" instrumentation prometheus false
  # Components travel in transactions: room for a 16 MiB module (gzip'd on the way).
  toml_set "$cfg" mempool max_tx_bytes 16777216
  toml_set "$cfg" rpc max_body_bytes 33554432
  toml_set "$app" api enable true
  toml_set "$app" api address "\"tcp://127.0.0.1:${API_PORTS[k]}\""
  toml_set "$app" grpc address "\"127.0.0.1:${GRPC_PORTS[k]}\""
  toml_set "$app" grpc-web enable false
  toml_set "$app" state-sync snapshot-interval "$SNAPSHOT_INTERVAL"
  toml_set "$app" state-sync snapshot-keep-recent 5
  toml_set "$client" "" chain-id "\"$CHAIN_ID\""
  toml_set "$client" "" keyring-backend '"test"'
  toml_set "$client" "" node "\"tcp://127.0.0.1:${RPC_PORTS[k]}\""
}

# add_validator K: node K's home and its gentx, signed by validatorK of node
# 0's keyring (the validator mnemonic at HD account K, so addresses survive
# --reset) over node K's consensus key, into node 0's config/gentx.
add_validator() {
  local k=$1 home mnemonic
  home=$(node_home "$k")
  "$AVSD" init "localnet-node$k" --chain-id "$CHAIN_ID" --home "$home" ${INIT_FLAGS[@]+"${INIT_FLAGS[@]}"} >/dev/null 2>&1
  mnemonic=$(dev_accounts | awk '$1 == "validator" { $1 = ""; print substr($0, 2) }')
  echo "$mnemonic" | "$AVSD" keys add "validator$k" --recover --account "$k" "${KR[@]}" >/dev/null 2>&1
  "$AVSD" genesis add-genesis-account "validator$k" "1000000000000$DENOM" "${KR[@]}" </dev/null >/dev/null
}

# gentx_validator K: node K's gentx (after every account is in genesis).
gentx_validator() {
  local k=$1 home
  home=$(node_home "$k")
  cp "$HOME_DIR/config/genesis.json" "$home/config/genesis.json"
  "$AVSD" genesis gentx "validator$k" "$STAKE" --chain-id "$CHAIN_ID" --home "$home" \
    --keyring-dir "$HOME_DIR" --keyring-backend test --moniker "localnet-node$k" \
    --ip 127.0.0.1 --p2p-port "${P2P_PORTS[k]}" \
    --output-document "$HOME_DIR/config/gentx/gentx-node$k.json" >/dev/null 2>&1
}

# set_peers: every node's persistent_peers are all the other nodes.
set_peers() {
  local k j peers ids=()
  for ((k = 0; k < N; k++)); do ids+=("$("$AVSD" comet show-node-id --home "$(node_home "$k")")"); done
  for ((k = 0; k < N; k++)); do
    peers=()
    for ((j = 0; j < N; j++)); do
      [ "$j" = "$k" ] || peers+=("${ids[j]}@127.0.0.1:${P2P_PORTS[j]}")
    done
    toml_set "$(node_home "$k")/config/config.toml" p2p persistent_peers "\"$(IFS=,; echo "${peers[*]}")\""
  done
}

init_chain() {
  echo "localnet: initialising $CHAIN_ID with $N validator(s) in $HOME_DIR"
  rm -rf "$HOME_DIR"
  "$AVSD" init localnet --chain-id "$CHAIN_ID" --home "$HOME_DIR" ${INIT_FLAGS[@]+"${INIT_FLAGS[@]}"} >/dev/null 2>&1
  while read -r name mnemonic; do
    echo "$mnemonic" | "$AVSD" keys add "$name" --recover "${KR[@]}" >/dev/null 2>&1
    "$AVSD" genesis add-genesis-account "$name" "1000000000000$DENOM" "${KR[@]}" </dev/null >/dev/null
  done < <(dev_accounts)
  local k
  for ((k = 1; k < N; k++)); do add_validator "$k"; done
  "$AVSD" genesis gentx validator "$STAKE" --chain-id "$CHAIN_ID" "${KR[@]}" >/dev/null 2>&1
  for ((k = 1; k < N; k++)); do gentx_validator "$k"; done
  "$AVSD" genesis collect-gentxs --home "$HOME_DIR" >/dev/null 2>&1

  # Short governance periods so parameter changes can be tried on a devnet.
  local genesis=$HOME_DIR/config/genesis.json
  sed -i 's/"voting_period": "[0-9]*s"/"voting_period": "20s"/; s/"expedited_voting_period": "[0-9]*s"/"expedited_voting_period": "10s"/' "$genesis"
  [ "$WASMD" = 0 ] || set_fee_defaults "$genesis" "$HOME_DIR/config/app.toml"
  "$AVSD" genesis validate-genesis --home "$HOME_DIR" >/dev/null
  check_fee_defaults "$genesis" "$HOME_DIR/config/app.toml"
  for ((k = 1; k < N; k++)); do
    cp "$genesis" "$(node_home "$k")/config/genesis.json"
    [ "$WASMD" = 0 ] || set_fee_defaults "$(node_home "$k")/config/genesis.json" "$(node_home "$k")/config/app.toml"
  done
  for ((k = 0; k < N; k++)); do configure_node "$k"; done
  [ "$N" = 1 ] || set_peers
}

# --- running nodes -----------------------------------------------------------

PIDS=() # PIDS[K]: node K's avsd, while this script runs it

# start_node K: node K's $PROC in its own process group (setsid), logging to
# its home's $PROC.log; its PID goes to $PROC.pid there.
start_node() {
  local k=$1 home
  home=$(node_home "$k")
  toml_set "$home/config/config.toml" tx_index indexer "\"$TX_INDEX\""
  local profile=()
  # AVSD_CPU_PROFILE=FILE: node 0 writes a CPU profile of its run there when it stops (scripts/bench).
  [ "$k" != 0 ] || [ -z "${AVSD_CPU_PROFILE:-}" ] || profile=(--cpu-profile "$AVSD_CPU_PROFILE")
  setsid "$AVSD" start --home "$home" ${profile[@]+"${profile[@]}"} >>"$home/$PROC.log" 2>&1 &
  PIDS[k]=$!
  echo "${PIDS[k]}" > "$home/$PROC.pid"
}

# forget_node K: node K's avsd has exited; its pid file goes unless a newer
# process (a restart by --only-node) has written its own.
forget_node() {
  local k=$1 pidfile
  pidfile=$(node_home "$k")/$PROC.pid
  [ "$(cat "$pidfile" 2>/dev/null)" != "${PIDS[k]}" ] || rm -f "$pidfile"
  unset "PIDS[k]"
}

# stop: SIGTERM to every node this script runs, SIGKILL to any still up
# after 10s. Runs on every exit path (Ctrl-C, TERM, an error, a node that died).
stop() {
  trap - INT TERM EXIT
  local k pid
  for k in "${!PIDS[@]}"; do
    pid=${PIDS[k]}
    if kill -0 "$pid" 2>/dev/null; then
      echo "localnet: stopping node $k ($PROC pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for _ in $(seq 1 100); do
    local up=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && up=1; done
    [ "$up" = 1 ] || break
    sleep 0.1
  done
  for k in "${!PIDS[@]}"; do
    kill -KILL "${PIDS[k]}" 2>/dev/null || true
    wait "${PIDS[k]}" 2>/dev/null || true
    forget_node "$k"
  done
  echo "localnet: stopped"
}

# height K: node K's latest block height ("" while it does not answer).
height() {
  curl -s --max-time 2 "http://127.0.0.1:$(node_rpc "$1")/status" 2>/dev/null |
    sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p' || true
}

# wait_ready HEIGHT: wait (at most 60s) until every node this script runs is
# at HEIGHT; a node that exits first ends the script with its log's tail.
wait_ready() {
  local want=$1 k h ready
  if [ ${#PIDS[@]} = 1 ]; then
    echo -n "localnet: waiting for the first block on 127.0.0.1:$(node_rpc "${!PIDS[@]}") "
  else
    echo -n "localnet: waiting for height $want on each of ${#PIDS[@]} nodes "
  fi
  for _ in $(seq 1 600); do
    ready=1
    for k in "${!PIDS[@]}"; do
      if ! kill -0 "${PIDS[k]}" 2>/dev/null; then
        echo; echo "localnet: node $k ($PROC) exited before height $want; last lines of $(node_home "$k")/$PROC.log:" >&2
        tail -n 20 "$(node_home "$k")/$PROC.log" >&2
        exit 1
      fi
      h=$(height "$k")
      if [ -z "$h" ] || [ "$h" -lt "$want" ]; then ready=0; break; fi
    done
    [ "$ready" = 0 ] || { echo; return; }
    echo -n "."
    sleep 0.1
  done
  echo; die "not at height $want after 60s; see the $PROC.log of each node in $HOME_DIR"
}

# watch_nodes: wait for the nodes; report each that exits, and return (with
# the last one's exit status) when none is left. The others keep making
# blocks while more than 2/3 of the stake is up.
watch_nodes() {
  local dead status k
  while [ ${#PIDS[@]} -gt 0 ]; do
    status=0
    wait -n -p dead "${PIDS[@]}" || status=$?
    for k in "${!PIDS[@]}"; do
      [ "${PIDS[k]}" = "$dead" ] || continue
      forget_node "$k"
      [ "$N_STARTED" = 1 ] && break
      echo "localnet: node $k ($PROC pid $dead) exited with status $status; ${#PIDS[@]} node(s) left." \
        "Restart it: $0 --home $HOME_DIR --only-node $k"
    done
  done
  return "$status"
}

print_info() {
  local elapsed=$1 h=$2 k
  if [ "$N" = 1 ]; then
    cat <<INFO
localnet: ready in ${elapsed}s (height $h) — chain $CHAIN_ID
  rpc      http://127.0.0.1:$(node_rpc 0)
  grpc     127.0.0.1:$(node_grpc 0)
  rest     http://127.0.0.1:$(node_api 0)
INFO
    [ "$WASMD" = 1 ] || echo "  web      http://127.0.0.1:$(node_api 0)/dashboard/"
    echo "  home     $HOME_DIR   (log: $HOME_DIR/$PROC.log)"
  else
    echo "localnet: ready in ${elapsed}s (height $h on each of ${#PIDS[@]} node(s) started, of $N validators) — chain $CHAIN_ID"
    printf '  %-5s %-24s %-17s %-24s %s\n' node rpc grpc rest home
    for k in "${!PIDS[@]}"; do
      printf '  %-5s %-24s %-17s %-24s %s\n' "$k" "http://127.0.0.1:$(node_rpc "$k")" "127.0.0.1:$(node_grpc "$k")" \
        "http://127.0.0.1:$(node_api "$k")" "$(node_home "$k")"
    done
  fi
  cat <<INFO
  keys     ${DEV_NAMES[*]}$([ "$N" = 1 ] || echo " validator1..validator$((N - 1))") (keyring-backend test, in $HOME_DIR; scripts/dev-accounts.txt)
  fees     every tx pays: --gas auto --gas-adjustment 1.5 --gas-prices $(sed -n 's/^minimum-gas-prices = "\(.*\)"$/\1/p' "$HOME_DIR/config/app.toml")
  try      $AVSD q bank balances \$($AVSD keys show alice -a --home $HOME_DIR --keyring-backend test) --home $HOME_DIR --node tcp://127.0.0.1:$(node_rpc 0)
INFO
  if [ "$N" -gt 1 ]; then
    local last=${NODES[-1]}
    echo "  kill     kill -9 \$(cat $(node_home "$last")/$PROC.pid)   (node $last; any one of 4 or more can go)"
    echo "  restart  $0 --home $HOME_DIR --only-node $last   (in another terminal: it catches up by block sync)"
  fi
  if [ ${#PIDS[@]} = 1 ]; then echo "Ctrl-C stops the node."; else echo "Ctrl-C stops every node."; fi
}

# --- main --------------------------------------------------------------------

HAVE=$(existing_validators)
if [ "$RESET" = 1 ] || [ "$HAVE" = 0 ]; then
  [ -z "$ONLY_NODE" ] || die "--only-node restarts a node of an existing home; there is none at $HOME_DIR"
  N=${VALIDATORS:-1}
  [ "$N" -lt 2 ] || [ "$N" -ge 4 ] || echo "localnet: warning: with $N validators of equal stake none can stop" \
    "without halting the chain (more than 2/3 must sign); use 4 or more for fault drills" >&2
  port_list RPC_PORTS --rpc-port "$RPC_PORT" $((26657 + OFFSET))
  port_list P2P_PORTS --p2p-port "$P2P_PORT" $((26656 + OFFSET))
  port_list GRPC_PORTS --grpc-port "$GRPC_PORT" $((9090 + OFFSET))
  port_list API_PORTS --api-port "$API_PORT" $((1317 + OFFSET))
  port_list ABCI_PORTS --abci-port "$ABCI_PORT" $((26658 + OFFSET))
  INIT_START=$(date +%s.%N)
  init_chain
  [ "$N" = 1 ] || echo "localnet: $N validators initialised in $(awk -v s="$INIT_START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s"
else
  N=$HAVE
  GENESIS_CHAIN_ID=$(sed -n 's/^ *"chain_id": "\(.*\)",$/\1/p' "$HOME_DIR/config/genesis.json" | head -n1)
  CHAIN_ID=${GENESIS_CHAIN_ID:-$CHAIN_ID}
  [ -z "$VALIDATORS" ] || [ "$VALIDATORS" = "$N" ] ||
    die "$HOME_DIR has $N validator(s), not $VALIDATORS: add --reset for a new chain"
  echo "localnet: restarting $CHAIN_ID from $HOME_DIR (use --reset for a fresh chain)"
fi

NODES=()
if [ -n "$ONLY_NODE" ]; then
  if ! is_uint "$ONLY_NODE" || [ "$ONLY_NODE" -ge "$N" ]; then
    die "--only-node must be 0..$((N - 1)), got '$ONLY_NODE'"
  fi
  NODES=("$ONLY_NODE")
else
  for ((k = 0; k < N; k++)); do NODES+=("$k"); done
fi
N_STARTED=${#NODES[@]}
# A new N-validator chain is ready at height 3 (every validator signing); a
# single node, or a restarted one, once it answers with a block.
READY_HEIGHT=1
[ "$N_STARTED" = 1 ] || READY_HEIGHT=3

trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT
START=$(date +%s.%N)
for k in "${NODES[@]}"; do start_node "$k"; done
wait_ready "$READY_HEIGHT"
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
print_info "$ELAPSED" "$(height "${NODES[0]}")"
watch_nodes
