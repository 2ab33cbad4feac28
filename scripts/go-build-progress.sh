# Sourced by scripts/build-relayer.sh and scripts/build-wasmd.sh: runs a long
# `go build -v` in the background and reports progress every 15 s.
#
#   go_build_progress DIR OUT TMP CMD...
#
# CMD (a `go build -v ... -o TMP`) runs in DIR with its output in a temp log.
# On success TMP becomes OUT; on failure the log's last 40 lines go to stderr
# and the function returns 1. TMP and the log are removed on exit, and the
# build is killed if the script is. The caller defines say() and START (its
# start time, for the progress lines).

go_build_progress() {
  local dir=$1 out=$2
  GO_BUILD_TMP=$3
  shift 3
  GO_BUILD_LOG=$(mktemp -t go-build-XXXXXX.log)
  trap 'rm -f "$GO_BUILD_LOG" "$GO_BUILD_TMP"; [ -n "${GO_BUILD_PID:-}" ] && kill "$GO_BUILD_PID" 2>/dev/null; true' EXIT
  (cd "$dir" && "$@") >"$GO_BUILD_LOG" 2>&1 &
  GO_BUILD_PID=$!
  while kill -0 "$GO_BUILD_PID" 2>/dev/null; do
    for _ in $(seq 1 15); do kill -0 "$GO_BUILD_PID" 2>/dev/null || break; sleep 1; done
    kill -0 "$GO_BUILD_PID" 2>/dev/null &&
      say "  ... $(( $(date +%s) - START ))s, $(grep -c . "$GO_BUILD_LOG" || true) packages compiled"
  done
  if ! wait "$GO_BUILD_PID"; then
    GO_BUILD_PID=
    say "go build failed; last lines of its output:" >&2
    tail -n 40 "$GO_BUILD_LOG" >&2
    return 1
  fi
  GO_BUILD_PID=
  mv "$GO_BUILD_TMP" "$out"
}
