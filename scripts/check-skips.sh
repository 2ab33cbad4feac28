#!/usr/bin/env bash
# Counts the tests that reported SKIP in `go test -json` streams and fails
# when one is not on the allow-list (.ci/skip-allow.txt, or SKIP_ALLOW): CI
# runs it after `make test`, whose targets write their streams to
# build/test-unit.json and build/test-e2e.json. A package without test files
# also reports "skip"; only tests count. Prints "skipped tests: N".
#
#   scripts/check-skips.sh                    # the two files make test writes
#   scripts/check-skips.sh FILE.json ...      # other streams
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
allow=${SKIP_ALLOW:-$ROOT/.ci/skip-allow.txt}
build=${BUILDDIR:-$ROOT/build}
[ $# -gt 0 ] || set -- "$build/test-unit.json" "$build/test-e2e.json"

for f in "$@"; do
  [ -f "$f" ] || { echo "check-skips: $f not found: run make test first" >&2; exit 2; }
done

declare -A allowed=()
if [ -f "$allow" ]; then
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%$'\r'}
    [[ -z ${line//[[:space:]]/} || $line =~ ^[[:space:]]*# ]] && continue
    read -r name reason <<<"$line"
    [ -n "$reason" ] || { echo "check-skips: $allow:$n: '$name' has no reason" >&2; exit 2; }
    allowed[$name]=$reason
  done <"$allow"
fi

# A test's skip event: {"Time":…,"Action":"skip","Package":"P","Test":"T",…}
mapfile -t skips < <(grep -h '"Action":"skip"' "$@" | grep '"Test":' |
  sed -E -e 's/.*"Package":"(([^"\\]|\\.)*)".*"Test":"(([^"\\]|\\.)*)".*/\1 \3/' \
    -e 's/\\"/"/g; s/\\\\/\\/g' | sort -u || true)

bad=0
for s in "${skips[@]}"; do
  test=${s#* }
  if [ -n "${allowed[$test]+x}" ]; then
    echo "SKIP $s (allowed: ${allowed[$test]})"
  else
    echo "SKIP $s: not on $(basename "$allow"); remove the skip or allow it there with the reason"
    bad=$((bad + 1))
  fi
done
echo "skipped tests: ${#skips[@]} (not allowed: $bad)"
[ "$bad" -eq 0 ]
