#!/usr/bin/make -f
# avschain build, test and devnet targets. `make help` lists them.

BUILDDIR ?= $(CURDIR)/build
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
ldflags = -X github.com/cosmos/cosmos-sdk/version.Name=avschain \
	-X github.com/cosmos/cosmos-sdk/version.AppName=avsd \
	-X github.com/cosmos/cosmos-sdk/version.Version=$(VERSION) \
	-X github.com/cosmos/cosmos-sdk/version.Commit=$(COMMIT)
BUILD_FLAGS := -ldflags '$(ldflags)'
# Unit and in-process integration tests: everything but the e2e package.
UNIT_PKGS = $(shell go list ./... | grep -v /testutil/e2e)

.PHONY: help build install test test-unit test-e2e bench lint format proto-gen proto-check components contracts relayer localnet demo demo-events clean

help:
	@echo "make build        build avsd into build/"
	@echo "make install      install avsd into GOPATH/bin"
	@echo "make demo         the whole loop: chain, three operator sidecars, square(4) = 16"
	@echo "make demo-events  a contract's event answered through an event trigger, square(6) = 36"
	@echo "make localnet     run a one-validator devnet on 127.0.0.1 (ARGS=--reset for a fresh chain)"
	@echo "make test         unit, integration and end-to-end tests"
	@echo "make test-unit    unit and in-process integration tests only"
	@echo "make test-e2e     end-to-end tests against real avsd processes"
	@echo "make bench        Go benchmarks"
	@echo "make lint         go vet and gofmt check"
	@echo "make format       gofmt the tree"
	@echo "make proto-gen    regenerate Go code from proto/ (offline)"
	@echo "make proto-check  fail if the committed generated code is stale"
	@echo "make components   rebuild the example WASI components (components/*/*.wasm)"
	@echo "make contracts    rebuild the CosmWasm contracts (contracts/*/*.wasm; Debian Rust, offline)"
	@echo "make relayer      build the Go IBC relayer (rly, pinned in tools/go.mod) into build/"

build:
	@mkdir -p $(BUILDDIR)
	go build $(BUILD_FLAGS) -o $(BUILDDIR)/avsd ./cmd/avsd
	go build -ldflags '-X main.version=$(VERSION)' -o $(BUILDDIR)/avs-sidecar ./cmd/avs-sidecar

install:
	go install $(BUILD_FLAGS) ./cmd/avsd
	go install -ldflags '-X main.version=$(VERSION)' ./cmd/avs-sidecar

test: test-unit test-e2e

test-unit:
	go test -count=1 $(UNIT_PKGS)

test-e2e: build
	AVSD=$(BUILDDIR)/avsd go test -count=1 -tags e2e -timeout 20m -v ./testutil/e2e/...

bench:
	go test -run '^$$' -bench . -benchmem $(UNIT_PKGS)

lint:
	go vet ./...
	go vet -tags e2e ./testutil/e2e/...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

format:
	gofmt -w $$(git ls-files '*.go')

proto-gen:
	scripts/protocgen.sh

proto-check: proto-gen
	@if [ -n "$$(git status --porcelain -- '*.pb.go' '*.pb.gw.go')" ]; then \
		echo "generated code is stale: run 'make proto-gen' and commit the result"; \
		git status --short -- '*.pb.go' '*.pb.gw.go'; exit 1; fi
	@echo "generated code is up to date"

components:
	scripts/build-components.sh

contracts:
	scripts/build-contracts.sh

relayer:
	scripts/build-relayer.sh $(BUILDDIR)/rly

localnet: build
	scripts/localnet.sh $(ARGS)

demo: build
	scripts/demo.sh $(ARGS)

demo-events: build
	scripts/demo-events.sh $(ARGS)

clean:
	rm -rf $(BUILDDIR) .localnet
