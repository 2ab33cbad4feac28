#!/usr/bin/env bash
# Builds the Go IBC relayer (rly) at the version pinned in tools/go.mod.
#
#   scripts/build-relayer.sh [OUT]      (default OUT: build/rly)
#
# The module proxy refuses the relayer's version list, so `go install ...@vX`
# cannot fetch it: the build runs inside tools/, a separate module that
# requires github.com/cosmos/relayer/v2 at an exact version, with GOWORK=off.
# Idempotent: an OUT that already reports the pinned version is kept.
# A cold build takes a few minutes (about 4 on 2 cores) and ~1 GB of module cache.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/tools
OUT=${1:-$ROOT/build/rly}
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
PKG=github.com/cosmos/relayer/v2
export GOWORK=off

say() { printf 'build-relayer: %s\n' "$*"; }

VERSION=$(awk -v pkg="$PKG" '$1 == pkg { print $2 } $1 == "require" && $2 == pkg { print $3 }' "$TOOLS/go.mod" | head -n1)
[ -n "$VERSION" ] || { say "no $PKG requirement in $TOOLS/go.mod" >&2; exit 1; }

# installed_version prints the version an existing binary reports (empty if none).
installed_version() {
  [ -x "$OUT" ] || return 0
  local tmp
  tmp=$(mktemp -d)
  "$OUT" version --json --home "$tmp" 2>/dev/null | sed -n 's/.*"version":"\([^"]*\)".*/\1/p' || true
  rm -rf "$tmp"
}

have=$(installed_version)
if [ "$have" = "$VERSION" ]; then
  say "$OUT is already rly $VERSION; nothing to do"
  exit 0
fi
[ -n "$have" ] && say "$OUT reports '$have', want $VERSION: rebuilding"

START=$(date +%s)
say "downloading $PKG@$VERSION and its dependencies (tools/go.mod)"
(cd "$TOOLS" && go mod download) || { say "go mod download failed" >&2; exit 1; }
# The tag's commit, for `rly version` (the module zip carries no VCS data).
COMMIT=$(cd "$TOOLS" && go mod download -json "$PKG@$VERSION" | sed -n 's/.*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -n1)

mkdir -p "$(dirname "$OUT")"
say "compiling rly $VERSION into $OUT (cold: a few minutes; progress every 15s)"
# shellcheck source=scripts/go-build-progress.sh
. "$ROOT/scripts/go-build-progress.sh"
go_build_progress "$TOOLS" "$OUT" "$OUT.tmp.$$" go build -v \
  -ldflags "-X $PKG/cmd.Version=$VERSION -X $PKG/cmd.Commit=$COMMIT -X $PKG/cmd.Dirty=0" \
  -o "$OUT.tmp.$$" "$PKG" || exit 1
have=$(installed_version)
[ "$have" = "$VERSION" ] || { say "built $OUT reports version '$have', want $VERSION" >&2; exit 1; }
say "built $OUT (rly $VERSION, commit ${COMMIT:-unknown}) in $(( $(date +%s) - START ))s"
