# The library of the four demos (scripts/demo.sh, demo-contract.sh,
# demo-events.sh and ibc-demo.sh); sourced, not run. The caller sets ROOT,
# OFFSET, DIR, CHAIN_ID and KEEP first. It gives them: the chain
# (start_chain), the operators (setup_operators, start_sidecar), bounded waits
# that notice a dead process (wait_until, watch_pid), transactions that pay the
# chain's minimum gas price, and queries (tx, fee_flags, gas_prices, avsd,
# smart, event_attr, addr), components and contracts
# (store_component, deploy_contract), and cleanup on exit.
# shellcheck shell=bash

HOME_DIR=$DIR/chain
RPC_PORT=$((26657 + OFFSET))
NODE=tcp://127.0.0.1:$RPC_PORT
AVSD=${AVSD:-$ROOT/build/avsd}
SIDECAR=${AVS_SIDECAR:-$ROOT/build/avs-sidecar}
PIDS=()    # process groups to stop at the end
WATCHED=() # "PID|WHAT" of processes that must stay up while the demo waits
MID_LINE=0 # 1 while wait_until prints its progress dots

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() {
  [ "$MID_LINE" = 1 ] && echo && MID_LINE=0
  printf 'demo: %s\n' "$*" >&2
  exit 1
}

# cleanup stops every process group in PIDS (chain and sidecars), then keeps
# or removes DIR. It runs on exit, on error and on Ctrl-C.
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
  elif [ "$KEEP" = 1 ] || [ -n "${AVS_DEMO_DIR:-}" ]; then
    echo "demo files kept in $DIR"
  else
    rm -rf "$DIR"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ensure_tools installs jq and curl when missing (as root with apt), and
# builds avsd and avs-sidecar when missing.
ensure_tools() {
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
}

avsd() { "$AVSD" "$@" --home "$HOME_DIR" --node "$NODE"; }
addr() { "$AVSD" keys show "$1" -a --home "$HOME_DIR" --keyring-backend test; }

# gas_prices prints the current chain's minimum-gas-prices (from its app.toml,
# where `avsd init` wrote 0.01uavs): what every transaction here pays per gas
# (docs/VALIDATORS.md). Empty when the chain asks for none.
gas_prices() { sed -n 's/^minimum-gas-prices = "\(.*\)"$/\1/p' "$HOME_DIR/config/app.toml"; }

# fee_flags prints the fee flags of every transaction the demos send: gas
# simulated, times 1.5, at the chain's minimum gas price.
fee_flags() {
  local prices
  prices=$(gas_prices)
  echo "--gas auto --gas-adjustment 1.5${prices:+ --gas-prices $prices}"
}

# tx sends `avsd tx ARGS`, waits for inclusion and prints the result JSON;
# any refusal or failure ends the demo with the chain's error.
tx() {
  local out hash code res fees
  read -ra fees <<<"$(fee_flags)"
  out=$("$AVSD" tx "$@" --home "$HOME_DIR" --node "$NODE" --chain-id "$CHAIN_ID" --keyring-backend test \
    "${fees[@]}" -y -o json 2>&1) || fail "tx $*: $out"
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

# event_attr RESULT TYPE KEY: the first value of KEY in events of TYPE (JSON unquoted).
event_attr() { jq -r --arg t "$2" --arg k "$3" '[.events[] | select(.type==$t) | .attributes[] | select(.key==$k) | .value][0] | fromjson? // .' <<<"$1"; }

# smart CONTRACT QUERY prints a CosmWasm contract's answer (its .data, compact
# JSON); it fails quietly (status 1, no output) while the contract cannot answer.
smart() { avsd q wasm contract-state smart "$1" "$2" -o json 2>/dev/null | jq -c .data; }

# watch_pid PID WHAT: wait_until fails the demo if PID exits ("WHAT exited").
watch_pid() { WATCHED+=("$1|$2"); }

# check_alive fails the demo if a watched process has exited.
check_alive() {
  local w
  for w in ${WATCHED[@]+"${WATCHED[@]}"}; do
    kill -0 "${w%%|*}" 2>/dev/null || fail "${w#*|} exited"
  done
}

# wait_until DESC CMD...: runs CMD every half second until it succeeds, at most
# WAIT_TRIES times (default 120: a minute), printing a dot a try. CMD runs in
# this shell, so it may set variables for the caller. The demo fails when a
# watched process exits or the tries run out.
wait_until() {
  local desc=$1 tries=${WAIT_TRIES:-120} i
  shift
  printf '    waiting for %s ' "$desc"
  MID_LINE=1
  for ((i = 0; i < tries; i++)); do
    if "$@"; then
      echo
      MID_LINE=0
      return 0
    fi
    check_alive
    printf '.'
    sleep 0.5
  done
  fail "gave up waiting for $desc after $((tries / 2))s"
}

# start_chain [NAME] runs scripts/localnet.sh for the current chain (CHAIN_ID,
# OFFSET, HOME_DIR) in its own process group and waits for its first block.
# NAME (A, B, ...) labels a demo's second chain and its output file.
start_chain() {
  local name=${1:-} out=$DIR/localnet${1:+-$1}.out pid
  say "${name:+chain $name: }starting a ${AVS_VALIDATORS:-1}-validator chain ($CHAIN_ID) on 127.0.0.1:$RPC_PORT"
  setsid "$ROOT/scripts/localnet.sh" --reset --home "$HOME_DIR" --chain-id "$CHAIN_ID" --port-offset "$OFFSET" \
    --binary "$AVSD" >"$out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  WAIT_TRIES=$(( ${AVS_VALIDATORS:-1} > 1 ? 240 : 120 )) wait_until "the first block of $CHAIN_ID" chain_ready "$out" "$pid"
  watch_pid "$pid" "the chain $CHAIN_ID (log: $HOME_DIR/avsd.log)"
  grep "ready in" "$out"
}

# chain_ready OUT PID: whether localnet.sh (PID, printing to OUT) reports its
# first block; fails the demo with its output if it exited.
chain_ready() {
  grep -q "ready in" "$1" 2>/dev/null && return 0
  kill -0 "$2" 2>/dev/null || { echo; cat "$1" >&2; fail "the chain $CHAIN_ID did not start"; }
  return 1
}

# node_endpoints sets RPC_LIST and GRPC_LIST to every node of the chain in
# HOME_DIR (node 0 first; several when localnet.sh ran with --validators, e.g.
# AVS_VALIDATORS=4 make demo), read from their configs: the comma lists a
# sidecar fails over along, rpc[i] and grpc[i] one node.
node_endpoints() {
  local home rpc grpc
  RPC_LIST='' GRPC_LIST=''
  for home in "$HOME_DIR" "$HOME_DIR"/node*; do
    [ -f "$home/config/app.toml" ] || continue
    rpc=$(sed -n '/^\[rpc\]/,/^\[/s/^laddr = "\(.*\)"$/\1/p' "$home/config/config.toml")
    grpc=$(sed -n '/^\[grpc\]/,/^\[/s/^address = "\(.*\)"$/\1/p' "$home/config/app.toml")
    RPC_LIST+=${RPC_LIST:+,}$rpc GRPC_LIST+=${GRPC_LIST:+,}$grpc
  done
}

# start_sidecar N writes operatorN's sidecar config (its votes pay the chain's
# minimum gas price; every node of the chain as its fail-over list), starts it
# in its own process group and waits until it serves /status.
start_sidecar() {
  local i=$1 sc=$DIR/sidecar-$1 metrics=127.0.0.1:$((9464 + OFFSET + $1))
  local prices
  prices=$(gas_prices)
  node_endpoints
  "$SIDECAR" init --home "$sc" --chain-id "$CHAIN_ID" --rpc "$RPC_LIST" --grpc "$GRPC_LIST" \
    --key "operator$i" --keyring-backend test --keyring-dir "$HOME_DIR" \
    --metrics-addr "$metrics" ${prices:+--gas-prices "$prices"} >/dev/null
  # SIDECAR1_CPU_PROFILE=FILE: sidecar 1 writes a CPU profile of its run there when it stops (scripts/bench).
  local profile=()
  [ "$1" != 1 ] || [ -z "${SIDECAR1_CPU_PROFILE:-}" ] || profile=(--cpu-profile "$SIDECAR1_CPU_PROFILE")
  setsid "$SIDECAR" start --home "$sc" "${profile[@]}" >"$sc/sidecar.log" 2>&1 &
  PIDS+=($!)
  watch_pid $! "operator$i's sidecar (log: $sc/sidecar.log)"
  WAIT_TRIES=60 wait_until "operator$i's sidecar on $metrics" curl -sf -o /dev/null "http://$metrics/status"
}

# setup_operators N SERVICE [COMMIT]: operator1..N each register (10%
# commission) and opt in to SERVICE; with COMMIT (an amount in uavs), operator
# i also commits i×COMMIT of its own stake. Then each starts its sidecar.
setup_operators() {
  local n=$1 service=$2 commit=${3:-} i what
  for ((i = 1; i <= n; i++)); do
    what="register (10% commission), opt in"
    [ -n "$commit" ] && what="$what, commit $((i * commit))uavs of its own"
    say "operator$i: $what, start its sidecar"
    tx avs register-operator "operator$i" --commission 0.1 --from "operator$i" >/dev/null
    tx avs opt-in "$service" --from "operator$i" >/dev/null
    [ -z "$commit" ] || tx avs commit "$(addr "operator$i")" "$service" "$((i * commit))uavs" --from "operator$i" >/dev/null
    start_sidecar "$i"
  done
}

# store_component FILE stores a WASI component (signed by alice) and sets
# DIGEST to its digest.
store_component() {
  local res
  say "storing the component $(basename "$1") ($(du -h "$1" | cut -f1))"
  res=$(tx avs store-component "$1" --from alice)
  DIGEST=$(event_attr "$res" avschain.avs.v1.EventComponentStored digest)
  echo "    digest $DIGEST"
}

# deploy_contract LABEL WASM MSG stores a CosmWasm contract and instantiates it
# (alice signs and is its admin); prints the contract's address.
deploy_contract() {
  local res code
  res=$(tx wasm store "$2" --from alice)
  code=$(event_attr "$res" store_code code_id)
  res=$(tx wasm instantiate "$code" "$3" --label "$1" --admin "$(addr alice)" --from alice)
  event_attr "$res" instantiate _contract_address
}
