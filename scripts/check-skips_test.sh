#!/usr/bin/env bash
# Tests scripts/check-skips.sh on fake `go test -json` streams: a clean run,
# one skipped test (refused, then allowed), a skipped subtest, a package with
# no test files, an allow-list entry without a reason, a missing stream.
# CI runs it before it trusts check-skips.sh's count.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
check=$ROOT/scripts/check-skips.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-skips.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fails=0
# expect NAME RC PATTERN -- ARGS...: check-skips.sh ARGS exits RC and prints PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc=0
  out=$("$check" "$@" 2>&1) || rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    printf 'FAIL %s: exit %d (want %d), output:\n%s\n(want /%s/)\n' "$name" "$rc" "$want" "$out" "$pattern"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

ev() { printf '{"Time":"2025-01-01T00:00:00Z","Action":"%s","Package":"%s"%s}\n' "$1" "$2" "${3:+,\"Test\":\"$3\"}"; }

{
  ev start example.com/a
  ev run example.com/a TestA
  ev pass example.com/a TestA
  ev pass example.com/a
  ev skip example.com/notests # a package without test files
} >"$tmp/clean.json"
{
  cat "$tmp/clean.json"
  ev run example.com/b TestB
  ev output example.com/b TestB
  ev skip example.com/b TestB
  ev skip example.com/b 'TestC/with_\"quotes\"'
  ev pass example.com/b
} >"$tmp/skip.json"

echo "# allow nothing" >"$tmp/none.txt"
printf '# allowed\nTestB  needs a GPU\n\nTestC/with_"quotes"  a subtest\n' >"$tmp/allow.txt"
printf 'TestB\n' >"$tmp/noreason.txt"

SKIP_ALLOW=$tmp/none.txt expect "clean stream" 0 '^skipped tests: 0 ' -- "$tmp/clean.json"
SKIP_ALLOW=$tmp/none.txt expect "a skip fails" 1 'SKIP example.com/b TestB: not on' -- "$tmp/skip.json"
SKIP_ALLOW=$tmp/none.txt expect "skips counted over streams" 1 '^skipped tests: 2 \(not allowed: 2\)' -- "$tmp/clean.json" "$tmp/skip.json"
SKIP_ALLOW=$tmp/allow.txt expect "allowed skips pass" 0 '^skipped tests: 2 \(not allowed: 0\)' -- "$tmp/skip.json"
SKIP_ALLOW=$tmp/allow.txt expect "the reason is shown" 0 'TestB \(allowed: needs a GPU\)' -- "$tmp/skip.json"
SKIP_ALLOW=$tmp/noreason.txt expect "an entry needs a reason" 2 "'TestB' has no reason" -- "$tmp/skip.json"
SKIP_ALLOW=$tmp/none.txt expect "a missing stream fails" 2 'not found: run make test first' -- "$tmp/absent.json"

[ "$fails" -eq 0 ] || { echo "check-skips_test: $fails failed"; exit 1; }
echo "check-skips_test: all passed"
