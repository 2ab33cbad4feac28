#!/usr/bin/env bash
# Runs every Go fuzz target in the repository (func FuzzX(f *testing.F)),
# each for FUZZTIME (default 30s), and prints each target's name before it
# runs. Go fuzzes one target per run, so each package with fuzz targets
# (those whose _test.go files declare a Fuzz function: the app and e2e are
# not built) gets its fuzz-instrumented test binary built once, lists its
# targets (-test.list) and runs them in turn, in the package's directory
# with `go test`'s corpus cache, as `go test -fuzz` would. A failing input is
# written to the package's testdata/fuzz/<target>/ (commit it: it then runs
# with every `go test`); every target runs even when one fails, and the
# script then exits non-zero.
#
#   scripts/fuzz.sh              # every target, FUZZTIME each
#   FUZZTIME=3000x scripts/fuzz.sh  # as CI runs it: a count of inputs (a duration, 5s, can end in
#                                   # "context deadline exceeded" mid-input)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

fuzztime=${FUZZTIME:-30s}
GO=${GO:-go}
cache="$("$GO" env GOCACHE)/fuzz"
bin=$(mktemp -d "${TMPDIR:-/tmp}/avs-fuzz.XXXXXX")
trap 'rm -rf "$bin"' EXIT

mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)
[ ${#dirs[@]} -gt 0 ] || { echo "no fuzz targets found" >&2; exit 1; }

ran=0 failed=()
for dir in "${dirs[@]}"; do
  pkg=$("$GO" list -f '{{.ImportPath}}' "$dir")
  test="$bin/$(basename "$dir").test"
  echo "== build $pkg (fuzz-instrumented)"
  if ! "$GO" test -c -fuzz=. -o "$test" "$dir"; then
    failed+=("${dir#./} (build)")
    continue
  fi
  mapfile -t targets < <(cd "$dir" && "$test" -test.list '^Fuzz' | grep '^Fuzz' || true)
  for target in "${targets[@]}"; do
    printf '== fuzz %s %s (%s)\n' "${dir#./}" "$target" "$fuzztime"
    ran=$((ran + 1))
    if ! (cd "$dir" && "$test" -test.paniconexit0 -test.timeout=10m -test.run='^$' \
      -test.fuzz="^${target}\$" -test.fuzztime="$fuzztime" -test.fuzzcachedir="$cache/$pkg"); then
      failed+=("${dir#./} $target")
    fi
  done
  rm -f "$test"
done

echo "fuzz targets run: $ran, each for $fuzztime"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz failed: %s\n' "${failed[@]}"
  exit 1
fi
