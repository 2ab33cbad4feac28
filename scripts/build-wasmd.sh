#!/usr/bin/env bash
# Builds wasmd, a plain CosmWasm chain, at the version the app's go.mod pins.
#
#   scripts/build-wasmd.sh [OUT]      (default OUT: build/wasmd)
#
# The IBC-client e2e tests (testutil/e2e/wasmd_test.go) run it as "another
# chain": it deploys contracts/avs-ibc-client and registers an interchain
# account on avschain. The build runs inside tools/wasmd, its own module, so
# that wasmd's extra dependencies stay out of the app's go.mod; that module
# keeps every shared dependency at the root's version (TestWasmdPin), so after
# `make build` only ~60 packages are new: 15-30 s on 2 cores, about 5 minutes cold.
# It links the same libwasmvm as avsd (build tag sys_wasmvm, RUNPATH $ORIGIN).
# Idempotent: an OUT that already reports the pinned version is kept.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOD=$ROOT/tools/wasmd
OUT=${1:-$ROOT/build/wasmd}
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
PKG=github.com/CosmWasm/wasmd
export GOWORK=off GOFLAGS=-mod=readonly

say() { printf 'build-wasmd: %s\n' "$*"; }

pinned() { awk -v pkg="$PKG" '$1 == pkg { print $2 } $1 == "require" && $2 == pkg { print $3 }' "$1" | head -n1; }
VERSION=$(pinned "$MOD/go.mod")
[ -n "$VERSION" ] || { say "no $PKG requirement in $MOD/go.mod" >&2; exit 1; }
ROOT_VERSION=$(pinned "$ROOT/go.mod")
[ "$VERSION" = "$ROOT_VERSION" ] ||
  { say "tools/wasmd pins $PKG $VERSION but go.mod pins $ROOT_VERSION: update tools/wasmd/go.mod" >&2; exit 1; }

have=$([ -x "$OUT" ] && "$OUT" version 2>/dev/null || true)
if [ "$have" = "$VERSION" ]; then
  say "$OUT is already wasmd $VERSION; nothing to do"
  exit 0
fi
[ -n "$have" ] && say "$OUT reports '$have', want $VERSION: rebuilding"

START=$(date +%s)
say "downloading $PKG@$VERSION and its dependencies (tools/wasmd/go.mod)"
(cd "$MOD" && go mod download) || { say "go mod download failed" >&2; exit 1; }

LIBDIR=$ROOT/build/libwasmvm
"$ROOT/scripts/libwasmvm.sh" link "$LIBDIR"
mkdir -p "$(dirname "$OUT")"
say "compiling wasmd $VERSION into $OUT (warm: under a minute, cold: about 5 minutes; progress every 15s)"
# shellcheck source=scripts/go-build-progress.sh
. "$ROOT/scripts/go-build-progress.sh"
LIBRARY_PATH=$LIBDIR${LIBRARY_PATH:+:$LIBRARY_PATH} go_build_progress "$MOD" "$OUT" "$OUT.tmp.$$" go build -v -tags sys_wasmvm \
  -ldflags "-r \$ORIGIN -X github.com/cosmos/cosmos-sdk/version.Name=wasm -X github.com/cosmos/cosmos-sdk/version.AppName=wasmd -X github.com/cosmos/cosmos-sdk/version.Version=$VERSION" \
  -o "$OUT.tmp.$$" "$PKG/cmd/wasmd" || exit 1
"$ROOT/scripts/libwasmvm.sh" install "$(dirname "$OUT")"
have=$("$OUT" version 2>/dev/null || true)
[ "$have" = "$VERSION" ] || { say "built $OUT reports version '$have', want $VERSION" >&2; exit 1; }
say "built $OUT (wasmd $VERSION) in $(( $(date +%s) - START ))s"
