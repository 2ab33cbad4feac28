# Shared plumbing of scripts/demo.sh, demo-contract.sh, demo-events.sh and
# ibc-demo.sh; sourced,
# not run. The caller sets ROOT, OFFSET, DIR, CHAIN_ID and KEEP first.
# shellcheck shell=bash

HOME_DIR=$DIR/chain
RPC_PORT=$((26657 + OFFSET))
GRPC_PORT=$((9090 + OFFSET))
NODE=tcp://127.0.0.1:$RPC_PORT
AVSD=$ROOT/build/avsd
SIDECAR=$ROOT/build/avs-sidecar
PIDS=()

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

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

# tx sends `avsd tx ARGS`, waits for inclusion and prints the result JSON;
# any refusal or failure ends the demo with the chain's error.
tx() {
  local out hash code res
  out=$("$AVSD" tx "$@" --home "$HOME_DIR" --node "$NODE" --chain-id "$CHAIN_ID" --keyring-backend test \
    --gas auto --gas-adjustment 1.5 -y -o json 2>&1) || fail "tx $*: $out"
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

# start_chain runs scripts/localnet.sh in its own process group and waits for a block.
start_chain() {
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
}

# start_sidecar N writes operatorN's sidecar config and starts it in its own process group.
start_sidecar() {
  local i=$1 sc=$DIR/sidecar-$1
  "$SIDECAR" init --home "$sc" --chain-id "$CHAIN_ID" --rpc "$NODE" --grpc "127.0.0.1:$GRPC_PORT" \
    --key "operator$i" --keyring-backend test --keyring-dir "$HOME_DIR" \
    --metrics-addr "127.0.0.1:$((9464 + OFFSET + i))" >/dev/null
  setsid "$SIDECAR" start --home "$sc" >"$sc/sidecar.log" 2>&1 &
  PIDS+=($!)
}

# sidecars_alive fails the demo if a sidecar (any PID after the chain's) exited.
sidecars_alive() {
  for pid in "${PIDS[@]:1}"; do kill -0 "$pid" 2>/dev/null || fail "a sidecar exited; see $DIR/sidecar-*/sidecar.log"; done
}
