#!/usr/bin/env bash
# Regenerates the Go code for proto/ offline: protoc from Debian, the gogoproto
# and grpc-gateway plugins from the Go module proxy, and proto includes from the
# Go module cache (no buf registry). Usage: scripts/protocgen.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GOGOPROTO_VERSION=v1.7.0
GATEWAY_VERSION=v1.16.0
COSMOS_PROTO_VERSION=v1.0.0-beta.5
SDK_VERSION=$(go list -m -f '{{.Version}}' github.com/cosmos/cosmos-sdk)
IBC_VERSION=$(go list -m -f '{{.Version}}' github.com/cosmos/ibc-go/v8)

if ! command -v protoc >/dev/null; then
  echo "protoc not found: install it with 'apt-get install -y protobuf-compiler libprotobuf-dev'" >&2
  exit 1
fi
GOBIN=$(go env GOPATH)/bin
export PATH="$GOBIN:$PATH"
if ! command -v protoc-gen-gocosmos >/dev/null; then
  echo "installing protoc-gen-gocosmos@$GOGOPROTO_VERSION" >&2
  (cd /tmp && go install github.com/cosmos/gogoproto/protoc-gen-gocosmos@$GOGOPROTO_VERSION)
fi
if ! command -v protoc-gen-grpc-gateway >/dev/null; then
  echo "installing protoc-gen-grpc-gateway@$GATEWAY_VERSION" >&2
  (cd /tmp && go install github.com/grpc-ecosystem/grpc-gateway/protoc-gen-grpc-gateway@$GATEWAY_VERSION)
fi

go mod download github.com/cosmos/cosmos-sdk@"$SDK_VERSION" github.com/cosmos/ibc-go/v8@"$IBC_VERSION" github.com/cosmos/gogoproto@$GOGOPROTO_VERSION \
  github.com/cosmos/cosmos-proto@$COSMOS_PROTO_VERSION github.com/grpc-ecosystem/grpc-gateway@$GATEWAY_VERSION
M=$(go env GOMODCACHE)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

protoc -I proto \
  -I "$M/github.com/cosmos/cosmos-sdk@$SDK_VERSION/proto" \
  -I "$M/github.com/cosmos/ibc-go/v8@$IBC_VERSION/proto" \
  -I "$M/github.com/cosmos/gogoproto@$GOGOPROTO_VERSION" \
  -I "$M/github.com/cosmos/cosmos-proto@$COSMOS_PROTO_VERSION/proto" \
  -I "$M/github.com/grpc-ecosystem/grpc-gateway@$GATEWAY_VERSION/third_party/googleapis" \
  -I /usr/include \
  --gocosmos_out=plugins=grpc,Mgoogle/protobuf/any.proto=github.com/cosmos/gogoproto/types/any:"$OUT" \
  --grpc-gateway_out=logtostderr=true,allow_colon_final_segments=true:"$OUT" \
  $(find proto -name '*.proto' | sort)

# Generated files land under their go_package path; copy ours into place.
cp -r "$OUT"/github.com/avschain/avschain/* ./
echo "generated: $(cd "$OUT/github.com/avschain/avschain" && find . -name '*.go' | sort | tr '\n' ' ')"
