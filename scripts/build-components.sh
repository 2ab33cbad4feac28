#!/usr/bin/env bash
# Builds the example WASI components under components/ into
# components/<name>/<name>.wasm. The outputs are committed, so tests need no
# toolchain; rebuild them with `make components` after changing a component.
#
# Go components: GOOS=wasip1 GOARCH=wasm, -trimpath, no VCS stamping, stripped.
# Rust components: Debian's rustc (wasm32-wasi std from libstd-rust-dev-wasm32);
# the rustup toolchain in ~/.cargo/bin has no wasm32 std, so /usr/bin comes first.
# This script installs nothing; it says what to install when something is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

GO=${GO:-go}
RUSTC=${RUSTC:-/usr/bin/rustc}
RUST_TARGET=wasm32-wasi
APT_LINE='apt-get update && apt-get install -y --no-install-recommends rustc cargo libstd-rust-dev-wasm32 lld-14'

GO_COMPONENTS=(square price-oracle)
RUST_COMPONENTS=(square-rust)   # components/<name>/*.rs, one file each

built=()
failed=0

for name in "${GO_COMPONENTS[@]}"; do
	out="components/$name/$name.wasm"
	echo "go    $out"
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		"$GO" build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$out" "./components/$name"
	built+=("$out")
done

rust_ok=1
if [ ! -x "$RUSTC" ]; then
	echo "rustc not found at $RUSTC; to build the Rust components install Debian's toolchain:" >&2
	rust_ok=0
elif [ ! -d "$("$RUSTC" --print sysroot)/lib/rustlib/$RUST_TARGET" ]; then
	echo "$RUSTC has no $RUST_TARGET standard library; install it with:" >&2
	rust_ok=0
fi
if [ "$rust_ok" = 0 ]; then
	echo "  $APT_LINE" >&2
	echo "skipping: ${RUST_COMPONENTS[*]} (the committed .wasm files are left as they are)" >&2
	failed=1
else
	for name in "${RUST_COMPONENTS[@]}"; do
		dir="components/$name"
		src=$(ls "$dir"/*.rs)
		out="$dir/$name.wasm"
		echo "rust  $out"
		# --remap-path-prefix keeps the build directory out of the module.
		PATH=/usr/bin:$PATH "$RUSTC" --edition 2021 --target "$RUST_TARGET" \
			-C opt-level=s -C strip=symbols -C codegen-units=1 \
			--remap-path-prefix "$ROOT=." \
			-o "$out" "$src"
		built+=("$out")
	done
fi

echo
echo "sizes:"
for f in "${built[@]}"; do
	printf '  %9d  %s  sha256:%s\n' "$(wc -c <"$f")" "$f" "$(sha256sum "$f" | cut -c1-16)"
done
exit "$failed"
