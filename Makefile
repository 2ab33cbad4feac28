#!/usr/bin/make -f
# avschain build, test and devnet targets. `make help` lists them, from the
# `#? target: description` comment above each target (ibc-go's Makefile pattern).

# bash with pipefail: a test target pipes `go test -json` through tee and a
# filter, and a failing go test must still fail the target.
SHELL := bash
.SHELLFLAGS := -o pipefail -ec

BUILDDIR ?= $(CURDIR)/build
VERSION ?= $(shell git describe --tags --match 'v*' --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
ldflags = -X github.com/cosmos/cosmos-sdk/version.Name=avschain \
	-X github.com/cosmos/cosmos-sdk/version.AppName=avsd \
	-X github.com/cosmos/cosmos-sdk/version.Version=$(VERSION) \
	-X github.com/cosmos/cosmos-sdk/version.Commit=$(COMMIT)
# avsd loads libwasmvm (wasmvm's shared library) from its own directory, not from the Go
# module cache of the machine that built it: wasmvm's build tag sys_wasmvm links plain
# -lwasmvm, found through LIBRARY_PATH in $(LIBWASMVM_DIR), and -r sets avsd's RUNPATH to
# $ORIGIN; the library is copied beside avsd (scripts/libwasmvm.sh says more).
LIBWASMVM_DIR = $(BUILDDIR)/libwasmvm
AVSD_ENV = LIBRARY_PATH=$(LIBWASMVM_DIR)$${LIBRARY_PATH:+:$$LIBRARY_PATH}
AVSD_FLAGS = -tags sys_wasmvm -ldflags '-r $$ORIGIN $(ldflags)'
# make dist: build/dist/$(DIST).tar.gz
DIST = avschain-$(VERSION)-$(shell go env GOOS)-$(shell go env GOARCH)
DISTDIR = $(BUILDDIR)/dist
# The tarball's file times (the last commit's); with fixed owners and order, the archive
# depends on its files only.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 30s
# Unit and in-process integration tests: everything but the e2e package.
UNIT_PKGS = $(shell go list ./... | grep -v /testutil/e2e)

GOLANGCI_LINT = $(BUILDDIR)/golangci-lint
# The release the upgrade test starts from (app.UpgradeName moves it to this tree).
PREVIOUS_RELEASE ?= v0.1.0

.PHONY: help build build-previous install dist test test-unit test-e2e test-dist fuzz bench bench-e2e bench-throughput lint lint-tool format proto-gen proto-check components contracts relayer wasmd localnet demo demo-contract demo-events ibc-demo clean

#? help: List the targets with their descriptions (from the Makefile's own #? comments)
help: Makefile
	@sed -n 's/^#? *//p' $< | awk '{ i = index($$0, ":"); printf "  %-15s %s\n", substr($$0, 1, i - 1), substr($$0, i + 2) }' | sort

#? build: Build avsd and avs-sidecar into build/, libwasmvm beside avsd (avsd's RUNPATH is $ORIGIN)
build:
	@mkdir -p $(BUILDDIR)
	scripts/libwasmvm.sh link $(LIBWASMVM_DIR)
	$(AVSD_ENV) go build $(AVSD_FLAGS) -o $(BUILDDIR)/avsd ./cmd/avsd
	scripts/libwasmvm.sh install $(BUILDDIR)
	go build -ldflags '-X main.version=$(VERSION)' -o $(BUILDDIR)/avs-sidecar ./cmd/avs-sidecar

#? install: Install avsd and avs-sidecar into GOBIN (default GOPATH/bin), libwasmvm beside avsd
install:
	scripts/libwasmvm.sh link $(LIBWASMVM_DIR)
	$(AVSD_ENV) go install $(AVSD_FLAGS) ./cmd/avsd
	go install -ldflags '-X main.version=$(VERSION)' ./cmd/avs-sidecar
	bin=$$(go env GOBIN); scripts/libwasmvm.sh install "$${bin:-$$(go env GOPATH | cut -d: -f1)/bin}"

#? dist: Release tarball build/dist/avschain-VERSION-OS-ARCH.tar.gz: bin/ (avsd, avs-sidecar, libwasmvm beside avsd), README.md, docs/, SHA256SUMS
dist: build
	rm -rf $(DISTDIR)/$(DIST) $(DISTDIR)/$(DIST).tar.gz*
	mkdir -p $(DISTDIR)/$(DIST)/bin
	install -m 0755 $(BUILDDIR)/avsd $(BUILDDIR)/avs-sidecar $(DISTDIR)/$(DIST)/bin/
	scripts/libwasmvm.sh install $(DISTDIR)/$(DIST)/bin
	cp -r README.md docs $(DISTDIR)/$(DIST)/
	cd $(DISTDIR)/$(DIST) && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
	tar -C $(DISTDIR) --sort=name --owner=0 --group=0 --numeric-owner --mode=go-w,a+rX --mtime=@$(SOURCE_DATE_EPOCH) -cf - $(DIST) | gzip -n > $(DISTDIR)/$(DIST).tar.gz
	cd $(DISTDIR) && sha256sum $(DIST).tar.gz > $(DIST).tar.gz.sha256 && rm -rf $(DIST)
	@echo "dist: $(DISTDIR)/$(DIST).tar.gz"

#? test: Unit, integration, end-to-end and release-tarball tests (test-unit, test-e2e, test-dist)
test: test-unit test-e2e test-dist

# The test targets write go test's -json stream to build/ (for
# scripts/check-skips.sh, which CI runs after make test) and show the usual
# output through scripts/testoutput.
TESTOUTPUT = go run ./scripts/testoutput

#? test-unit: Unit and in-process integration tests (every package but testutil/e2e); the -json stream goes to build/test-unit.json
test-unit:
	@mkdir -p $(BUILDDIR)
	go test -count=1 -json $(UNIT_PKGS) | tee $(BUILDDIR)/test-unit.json | $(TESTOUTPUT)

#? build-previous: Build avsd of the previous release (PREVIOUS_RELEASE, listed in scripts/releases) into build/avsd-TAG, for the upgrade test
build-previous:
	scripts/build-release.sh $(PREVIOUS_RELEASE)

#? test-e2e: End-to-end tests against real avsd and avs-sidecar processes (builds first); the -json stream goes to build/test-e2e.json
test-e2e: build build-previous wasmd
	AVSD=$(BUILDDIR)/avsd AVSD_PREVIOUS=$(BUILDDIR)/avsd-$(PREVIOUS_RELEASE) WASMD=$(BUILDDIR)/wasmd go test -count=1 -tags e2e -timeout 40m -json ./testutil/e2e/... \
		| tee $(BUILDDIR)/test-e2e.json | $(TESTOUTPUT) -v

#? test-dist: make dist, then run its avsd unpacked under /tmp, from another directory, as user nobody (as root) or as you (scripts/check-dist.sh)
test-dist: dist
	scripts/check-dist.sh $(DISTDIR)/$(DIST).tar.gz $(VERSION)

#? fuzz: Every Go fuzz target in the repo, FUZZTIME each (default 30s; CI runs 3000x, a count of inputs), one after another
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

#? bench: Go benchmarks of every package but testutil/e2e
bench:
	go test -run '^$$' -bench . -benchmem $(UNIT_PKGS)

#? bench-e2e: End-to-end task latency in blocks, p50/p99 over N tasks (ARGS=N, default 30)
bench-e2e: build
	scripts/bench/e2e-latency.sh $(ARGS)

#? bench-throughput: Tasks/s, completion blocks, votes/tx, gas/task, CPU and RSS with 4 sidecars (ARGS='--bulk 1000' or '--rate 100 --seconds 30')
bench-throughput: build
	scripts/bench/throughput.sh $(ARGS)

# The golangci-lint binary, built from the version pinned in tools/lint/go.mod
# (its own module, apart from the relayer's tools/go.mod).
$(GOLANGCI_LINT): tools/lint/go.mod tools/lint/go.sum
	@mkdir -p $(BUILDDIR)
	cd tools/lint && GOWORK=off go build -o $(GOLANGCI_LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

#? lint-tool: Build golangci-lint (pinned in tools/lint/go.mod) into build/
lint-tool: $(GOLANGCI_LINT)

#? lint: golangci-lint with .golangci.yml (imports, gofmt, vet, errcheck, recvcheck, testifylint; e2e tag included)
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

#? format: Fix import groups and gofmt the tree (golangci-lint fmt)
format: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) fmt ./...

#? proto-gen: Regenerate Go code from proto/ (offline)
proto-gen:
	scripts/protocgen.sh

#? proto-check: Fail if the committed generated code is stale
proto-check: proto-gen
	@if [ -n "$$(git status --porcelain -- '*.pb.go' '*.pb.gw.go')" ]; then \
		echo "generated code is stale: run 'make proto-gen' and commit the result"; \
		git status --short -- '*.pb.go' '*.pb.gw.go'; exit 1; fi
	@echo "generated code is up to date"

#? components: Rebuild the example WASI components (components/*/*.wasm)
components:
	scripts/build-components.sh

#? contracts: Rebuild the CosmWasm contracts (contracts/*/*.wasm; Debian Rust, offline)
contracts:
	scripts/build-contracts.sh

#? relayer: Build the Go IBC relayer (rly, pinned in tools/go.mod) into build/
relayer:
	scripts/build-relayer.sh $(BUILDDIR)/rly

#? wasmd: Build wasmd (a plain CosmWasm chain, at the version go.mod pins; tools/wasmd) into build/, for the IBC-client tests and docs/IBC-CLIENTS.md
wasmd:
	scripts/build-wasmd.sh $(BUILDDIR)/wasmd

#? localnet: Run a devnet on 127.0.0.1: one validator, or VALIDATORS=4 (ARGS=--reset for a fresh chain)
localnet: build
	scripts/localnet.sh $(if $(VALIDATORS),--validators $(VALIDATORS)) $(ARGS)

#? demo: The whole loop: a chain, three operator sidecars, square(4) = 16 (ARGS=--keep keeps its directory)
demo: build
	scripts/demo.sh $(ARGS)

#? demo-contract: A CosmWasm contract asks for square(5) and reads 25 back from the sudo callback
demo-contract: build
	scripts/demo-contract.sh $(ARGS)

#? demo-events: A contract's event answered through an event trigger, square(6) = 36
demo-events: build
	scripts/demo-events.sh $(ARGS)

#? ibc-demo: Two chains and the Go relayer: chain B asks chain A for square(7) over IBC (builds rly on first use)
ibc-demo: build
	scripts/ibc-demo.sh $(ARGS)

#? clean: Remove build/ and .localnet/
clean:
	rm -rf $(BUILDDIR) .localnet
