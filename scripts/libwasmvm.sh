#!/usr/bin/env bash
# avsd links libwasmvm, the shared library inside the wasmvm Go module. wasmvm's default cgo
# line (internal/api/link_glibclinux_<arch>.go) is
#   #cgo LDFLAGS: -Wl,-rpath,${SRCDIR} -L${SRCDIR} -lwasmvm.<arch>
# so a plain `go build` gives avsd a RUNPATH into the build machine's Go module cache: a
# copied binary, or one run by a user who cannot read that cache (/root is 0700), does not
# start. (`go build -overlay` cannot swap that line: go refuses overlays of files in
# GOMODCACHE.) The Makefile builds avsd with wasmvm's build tag sys_wasmvm instead, whose
# line is only `-lwasmvm`, with LIBRARY_PATH at the directory this script prepares and
# `-ldflags '-r $ORIGIN'`: avsd needs libwasmvm.<arch>.so and finds it beside itself.
#
#   scripts/libwasmvm.sh link DIR        DIR: libwasmvm.<arch>.so, and libwasmvm.so, a linker
#                                        script that makes -lwasmvm link it by that name
#   scripts/libwasmvm.sh install DIR...  copy libwasmvm.<arch>.so into each DIR
#
# Linux only (amd64, arm64): wasmvm ships a .dylib for macOS, and `make dist` targets Linux.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "libwasmvm: $*" >&2; exit 1; }

goos=$(go env GOOS)
goarch=$(go env GOARCH)
[ "$goos" = linux ] || die "'make build' links libwasmvm beside avsd on linux only (GOOS=$goos): use 'go build ./cmd/avsd'"
case "$goarch" in
  amd64) arch=x86_64 ;;
  arm64) arch=aarch64 ;;
  *) die "wasmvm ships no libwasmvm for linux/$goarch" ;;
esac
name=libwasmvm.$arch.so
# On a fresh machine the module is not downloaded yet (go list then prints no directory).
wasmvm_dir() { (cd "$ROOT" && go list -m -f '{{.Dir}}' github.com/CosmWasm/wasmvm/v2); }
dir=$(wasmvm_dir)
[ -n "$dir" ] || dir=$( (cd "$ROOT" && go mod download github.com/CosmWasm/wasmvm/v2) && wasmvm_dir)
lib=$dir/internal/api/$name
[ -f "$lib" ] || die "$lib is missing: run 'go mod download' (it needs the Go module proxy)"

case "${1:-}" in
  link)
    [ $# -eq 2 ] || die "usage: $0 link DIR"
    mkdir -p "$2"
    install -m 0644 "$lib" "$2/"
    # The library has no SONAME, so avsd's DT_NEEDED is the name the linker opened: -l:NAME
    # keeps it libwasmvm.<arch>.so, the name wasmvm ships and the tarball holds.
    echo "INPUT(-l:$name)" > "$2/libwasmvm.so"
    ;;
  install)
    shift
    [ $# -ge 1 ] || die "usage: $0 install DIR..."
    for dir in "$@"; do
      install -m 0644 "$lib" "$dir/"
    done
    ;;
  *) die "usage: $0 link DIR | install DIR..." ;;
esac
