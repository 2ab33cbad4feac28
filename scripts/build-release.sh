#!/usr/bin/env bash
# Builds avsd as it was at an earlier release (listed in scripts/releases) into
# build/avsd-TAG, from `git archive` of its commit (no checkout of this tree is touched). The
# upgrade e2e test runs a chain on it and upgrades it to this tree's avsd; on a
# devnet it is the "old binary" of docs/VALIDATORS.md (Upgrades).
#
#   scripts/build-release.sh [TAG]      (default: v0.1.0, the release before this one)
#
# Prints the binary's path last. A binary already built for TAG is kept.
#
# A plain `go build`, unlike `make build`: this avsd keeps wasmvm's RUNPATH into the Go
# module cache, so it loads the libwasmvm of its own wasmvm version, never the one
# `make build` puts beside build/avsd (build/libwasmvm.*.so, this tree's version). It runs
# on the machine that built it only (the upgrade test; a devnet's old binary).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-v0.1.0}
BUILDDIR=${BUILDDIR:-$ROOT/build}
OUT=$BUILDDIR/avsd-$TAG

# The commit: scripts/releases first (a clone made without tags still has it),
# then a git tag of that name.
commit=$(awk -v t="$TAG" '$1 == t { print $2 }' "$ROOT/scripts/releases")
if [ -z "$commit" ] && ! commit=$(git -C "$ROOT" rev-parse --verify -q "$TAG^{commit}"); then
  echo "build-release: $TAG is neither in scripts/releases nor a git tag here: name a release listed there" >&2
  exit 1
fi
if ! git -C "$ROOT" cat-file -e "$commit^{commit}" 2>/dev/null; then
  # A shallow clone lacks the old commit: fetch it from where this clone came from.
  echo "build-release: commit ${commit:0:8} of $TAG is not in this clone; fetching it from origin..." >&2
  if ! git -C "$ROOT" fetch -q --depth=1 origin "$commit" 2>/dev/null && ! git -C "$ROOT" fetch -q --unshallow origin 2>/dev/null; then
    echo "build-release: cannot get commit $commit of $TAG: clone the full history (git fetch --unshallow) and run again" >&2
    exit 1
  fi
fi
if [ -x "$OUT" ] && [ -f "$OUT.commit" ] && [ "$(cat "$OUT.commit")" = "$commit" ]; then
  echo "build-release: $OUT is up to date ($TAG, ${commit:0:8})" >&2
  echo "$OUT"
  exit 0
fi

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
echo "build-release: building avsd $TAG (${commit:0:8}) in $src (a few minutes cold, less with a warm Go cache)..." >&2
git -C "$ROOT" archive "$commit" | tar -x -C "$src"
mkdir -p "$BUILDDIR"
(cd "$src" && go build -ldflags "-X github.com/cosmos/cosmos-sdk/version.Name=avschain \
  -X github.com/cosmos/cosmos-sdk/version.AppName=avsd \
  -X github.com/cosmos/cosmos-sdk/version.Version=$TAG \
  -X github.com/cosmos/cosmos-sdk/version.Commit=$commit" -o "$OUT" ./cmd/avsd)
echo "$commit" > "$OUT.commit"
echo "build-release: built $OUT" >&2
echo "$OUT"
