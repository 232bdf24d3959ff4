# import-release: a concurrency-safe import_release step for ci-operator.
# Run `make help` for the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

GO ?= go
BIN_DIR := $(CURDIR)/_output/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/ci-operator-plugins/import-release/cmd/import-release/internal/command.Version=$(VERSION)
# Packages whose tests run in `make test`; slow suites have their own targets.
TEST_PKGS ?= ./...
TEST_FLAGS ?= -race -count=1
# Flags of hack/benchtable, e.g. BENCH_FLAGS='-pairs=5 -shards=1,16'.
BENCH_FLAGS ?= -pairs=5

.DEFAULT_GOAL := help

## build: compile every package and the import-release binary into _output/bin
.PHONY: build
build:
	$(GO) build ./...
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN_DIR)/import-release ./cmd/import-release

## run: import the releases initial and latest with 16 shards on the embedded fake OpenShift
.PHONY: run
run: build
	$(BIN_DIR)/import-release --name=initial,latest --shards=16

## test: run the unit and fake-cluster tests with the race detector
.PHONY: test
test:
	$(GO) test $(TEST_FLAGS) $(TEST_PKGS)

## test-integration: run test/integration against a real kube-apiserver and etcd (installs them into ~/.cache/import-release: cold ~12 min, warm ~55 s)
.PHONY: test-integration
test-integration:
	@kube_apiserver=$$(hack/install-kube-apiserver.sh) && etcd=$$(hack/install-etcd.sh) && \
	[[ $$(dirname "$$kube_apiserver") == $$(dirname "$$etcd") ]] && \
	KUBEBUILDER_ASSETS=$$(dirname "$$kube_apiserver") $(GO) test -tags integration $(TEST_FLAGS) ./test/integration/...

## bench: measure N shards against one shard; one table on stdout, the chart in _output/bench.png
.PHONY: bench
bench:
	$(GO) run ./hack/benchtable -chart=_output/bench.png $(BENCH_FLAGS)

## verify: run every verify-* target; fails if any of them fails
.PHONY: verify
verify:
	@failed=(); \
	for target in verify-gofmt verify-govet verify-deps verify-lint verify-vendor; do \
		echo "==> $$target"; \
		$(MAKE) --no-print-directory $$target || failed+=("$$target"); \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then echo "FAILED: $${failed[*]}"; exit 1; fi

## verify-gofmt: fail if any Go file outside vendor/ is not gofmt'ed
.PHONY: verify-gofmt
verify-gofmt:
	hack/verify-gofmt.sh

## verify-govet: run go vet on every package
.PHONY: verify-govet
verify-govet:
	$(GO) vet ./...

## verify-deps: fail if the command's real-cluster path imports the fake cluster, or anything imports ci-tools
.PHONY: verify-deps
verify-deps:
	hack/verify-deps.sh

## verify-lint: run golangci-lint (pinned in hack/install-golangci-lint.sh, installed into _output/bin)
.PHONY: verify-lint
verify-lint:
	hack/verify-lint.sh

## lint: alias of verify-lint
.PHONY: lint
lint: verify-lint

## vendor: tidy go.mod and re-create vendor/
.PHONY: vendor
vendor:
	$(GO) mod tidy
	$(GO) mod vendor
	$(GO) mod verify

## verify-vendor: re-vendor in place and fail on any difference, untracked files included
.PHONY: verify-vendor
verify-vendor:
	hack/verify-vendor.sh

## clean: remove build output
.PHONY: clean
clean:
	rm -rf _output
	$(GO) clean -testcache

## help: list the targets
.PHONY: help
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /' -e 's/: /\t/' | column -t -s $$'\t'
