#!/usr/bin/env bash
# Checks a `make dist` tarball as another machine would meet it: unpacked in a fresh
# directory under /tmp, run from elsewhere by a user who cannot read the build machine's Go
# module cache. As root (CI) it runs avsd as user nobody; as any other user, as that user.
#
#   scripts/check-dist.sh build/dist/avschain-VERSION-linux-amd64.tar.gz [VERSION]
#
# It asserts: SHA256SUMS matches; avsd's RUNPATH is $ORIGIN and nothing under a Go module
# cache; ldd resolves libwasmvm to the copy beside avsd; `avsd version` (prints VERSION when
# given) and `avsd init` run; and avsd copied without the library does not start, so the
# library beside it is the one it loads.
set -euo pipefail

die() { echo "check-dist: FAIL: $*" >&2; exit 1; }

{ [ $# -ge 1 ] && [ $# -le 2 ]; } || { echo "usage: $0 TARBALL [VERSION]" >&2; exit 2; }
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
want_version=${2:-}
[ -f "$tarball" ] || die "no tarball at $1: run 'make dist'"

tmp=$(mktemp -d /tmp/check-dist.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

# The user that runs avsd, and how to become it. The environment is emptied: no
# LD_LIBRARY_PATH or HOME of the caller helps the loader or avsd.
if [ "$(id -u)" -eq 0 ]; then
  id nobody >/dev/null 2>&1 || die "running as root, but there is no user 'nobody' to run avsd as"
  command -v setpriv >/dev/null || die "running as root, but setpriv (util-linux) is missing: it runs avsd as user nobody"
  as_user=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
  user=nobody
else
  as_user=()
  user=$(id -un)
fi
echo "check-dist: $(basename "$tarball") in $tmp, run as user $user (uid $(id -u "$user"))"
run() { (cd "$tmp/elsewhere" && "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$tmp/elsewhere" "$@"); }

tar -xzf "$tarball" -C "$tmp"
top=("$tmp"/avschain-*)
{ [ ${#top[@]} -eq 1 ] && [ -d "${top[0]}" ]; } || die "the tarball should hold one avschain-* directory"
dist=${top[0]}
chmod -R a+rX "$tmp"
mkdir "$tmp/elsewhere"
[ -z "${as_user[*]}" ] || chown nobody "$tmp/elsewhere"
avsd=$dist/bin/avsd
lib=libwasmvm.$(uname -m).so # wasmvm's names: x86_64, aarch64

for f in bin/avsd bin/avs-sidecar "bin/$lib" README.md SHA256SUMS; do
  [ -f "$dist/$f" ] || die "the tarball lacks $f"
done
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || die "SHA256SUMS does not match the files"

dyn=$(readelf -d "$avsd")
runpath=$(sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p' <<<"$dyn")
# shellcheck disable=SC2016 # the literal $ORIGIN
[ "$runpath" = '$ORIGIN' ] || die "avsd's RUNPATH is '$runpath', want '\$ORIGIN' (readelf -d)"
! grep -q '(RPATH)' <<<"$dyn" || die "avsd has a DT_RPATH besides its RUNPATH: $(grep '(RPATH)' <<<"$dyn")"
grep -qF "(NEEDED)             Shared library: [$lib]" <<<"$dyn" || die "avsd does not link $lib (readelf -d)"
! grep -q '/pkg/mod/' <<<"$dyn" || die "avsd's dynamic section names a path in a Go module cache: $(grep /pkg/mod/ <<<"$dyn")"

resolved=$(run ldd "$avsd" | awk -v lib="$lib" '$1 == lib { print $3 }')
{ [ -n "$resolved" ] && [ "$(readlink -f "$resolved")" = "$(readlink -f "$dist/bin/$lib")" ]; } ||
  die "ldd as $user resolves $lib to '$resolved', want $dist/bin/$lib"

version=$(run "$avsd" version 2>&1) || die "'avsd version' as $user failed: $version"
[ -z "$want_version" ] || [ "$version" = "$want_version" ] || die "'avsd version' printed '$version', want '$want_version'"
out=$(run "$avsd" init check-dist --chain-id check-dist --home "$tmp/elsewhere/home" 2>&1) ||
  die "'avsd init' as $user failed: $out"
[ -s "$tmp/elsewhere/home/config/genesis.json" ] || die "'avsd init' wrote no config/genesis.json"

# The control: the same binary alone in a directory. The loader, run with --inhibit-cache
# so a libwasmvm installed system-wide does not count, must not find the library.
mkdir "$tmp/alone"
cp "$avsd" "$tmp/alone/"
interp=$(readelf -l "$avsd" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
[ -x "$interp" ] || die "cannot find avsd's ELF interpreter ('$interp')"
if out=$(cd "$tmp" && env -i PATH=/usr/bin:/bin "$interp" --inhibit-cache "$tmp/alone/avsd" version 2>&1); then
  die "avsd without libwasmvm beside it still started (as $(id -un)): it finds the library somewhere else"
fi
grep -qF "$lib: cannot open shared object file" <<<"$out" ||
  die "avsd without libwasmvm beside it failed, but not for the missing library: $out"

echo "check-dist: ok: avsd $version ran as $user from $tmp/elsewhere; RUNPATH \$ORIGIN, libwasmvm loaded from beside it"
