#!/usr/bin/env bash
# Builds avschain's CosmWasm contracts (contracts/) into the committed
# contracts/<name>/<name_underscored>.wasm. Tests use the committed files and
# need no toolchain; rebuild with `make contracts` after changing a contract.
#
# Offline and reproducible: Debian's rustc/cargo (the rustup toolchain in
# ~/.cargo/bin has no wasm32 std, so /usr/bin comes first), the crates Debian
# packages as the only registry (contracts/.cargo/config.toml), the committed
# Cargo.lock (--locked), paths remapped out of the module, then binaryen's
# wasm-opt -Os when it is installed (the output differs without it: CI has it).
# This script installs nothing; it says what to install when something is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT/contracts"

export PATH=/usr/bin:$PATH
CONTRACTS=(avs-handler avs-ibc-client avs-requester)
APT_LINE='apt-get update && apt-get install -y --no-install-recommends rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-dev librust-serde-json-dev librust-serde-derive-dev binaryen'

missing=0
command -v cargo >/dev/null || missing=1
[ -d "$(rustc --print sysroot 2>/dev/null)/lib/rustlib/wasm32-unknown-unknown" ] || missing=1
[ -d /usr/share/cargo/registry/serde_json-1.0.87 ] || ls -d /usr/share/cargo/registry/serde_json-* >/dev/null 2>&1 || missing=1
if [ "$missing" = 1 ]; then
	echo "Debian's Rust toolchain for wasm32 is missing; install it with:" >&2
	echo "  $APT_LINE" >&2
	exit 1
fi

# Host unit tests of the shared ABI crate (base64, protobuf, decimals, IBC JSON)
# and of avs-ibc-client's acknowledgement reader.
cargo test --quiet --locked --release -p avs-abi -p avs-ibc-client --target "$(rustc -vV | sed -n 's/^host: //p')" >/dev/null

RUSTFLAGS="--remap-path-prefix=$ROOT=. --remap-path-prefix=/usr/share/cargo/registry=registry" \
	cargo build --locked --release --target wasm32-unknown-unknown

built=()
for name in "${CONTRACTS[@]}"; do
	file=${name//-/_}.wasm
	out="$name/$file"
	if command -v wasm-opt >/dev/null; then
		wasm-opt -Os --strip-debug --strip-producers "target/wasm32-unknown-unknown/release/$file" -o "$out"
	else
		echo "wasm-opt not found (apt-get install binaryen): $out is not optimized" >&2
		cp "target/wasm32-unknown-unknown/release/$file" "$out"
	fi
	built+=("contracts/$out")
done

cd "$ROOT"
echo
echo "$(rustc --version), $(cargo --version)${WASM_OPT:+}$(command -v wasm-opt >/dev/null && echo ", $(wasm-opt --version)")"
echo "sizes:"
for f in "${built[@]}"; do
	printf '  %9d  %s  sha256:%s\n' "$(wc -c <"$f")" "$f" "$(sha256sum "$f" | cut -d' ' -f1)"
done
