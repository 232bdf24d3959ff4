# import-release: a concurrency-safe import_release step for ci-operator.
# Run `make help` for the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

GO ?= go
BIN_DIR := $(CURDIR)/_output/bin
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(BIN_DIR)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# Packages whose tests run in `make test`; slow suites have their own targets.
TEST_PKGS ?= ./...
TEST_FLAGS ?= -race -count=1
BENCH_FLAGS ?= -run='^$$' -bench=. -benchmem -count=1

.DEFAULT_GOAL := help

## build: compile every package and the import-release binary into _output/bin
.PHONY: build
build:
	$(GO) build ./...
	$(GO) build -o $(BIN_DIR)/import-release ./cmd/import-release

## run: import the releases initial and latest with 16 shards on the embedded fake OpenShift
.PHONY: run
run: build
	$(BIN_DIR)/import-release --name=initial,latest --shards=16

## test: run the unit and fake-cluster tests with the race detector
.PHONY: test
test:
	$(GO) test $(TEST_FLAGS) $(TEST_PKGS)

## test-integration: run test/integration against a real kube-apiserver and etcd (installs them into ~/.cache/import-release: cold ~12 min, warm ~25 s)
.PHONY: test-integration
test-integration:
	@kube_apiserver=$$(hack/install-kube-apiserver.sh) && etcd=$$(hack/install-etcd.sh) && \
	[[ $$(dirname "$$kube_apiserver") == $$(dirname "$$etcd") ]] && \
	KUBEBUILDER_ASSETS=$$(dirname "$$kube_apiserver") $(GO) test -tags integration $(TEST_FLAGS) ./test/integration/...

## bench: run the benchmarks (N shards against one shard, as ratios within one run)
.PHONY: bench
bench:
	$(GO) test $(BENCH_FLAGS) ./...

## verify: run every verify-* target; fails if any of them fails
.PHONY: verify
verify:
	@failed=(); \
	for target in verify-gofmt verify-govet verify-lint verify-vendor; do \
		echo "==> $$target"; \
		$(MAKE) --no-print-directory $$target || failed+=("$$target"); \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then echo "FAILED: $${failed[*]}"; exit 1; fi

## verify-gofmt: fail if any Go file outside vendor/ is not gofmt'ed
.PHONY: verify-gofmt
verify-gofmt:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^vendor/')); \
	if [ -n "$$out" ]; then echo "gofmt needed for:"; echo "$$out"; exit 1; fi

## verify-govet: run go vet on every package
.PHONY: verify-govet
verify-govet:
	$(GO) vet ./...

## verify-lint: run golangci-lint (pinned, installed into _output/bin)
.PHONY: verify-lint
verify-lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

## lint: alias of verify-lint
.PHONY: lint
lint: verify-lint

$(GOLANGCI_LINT):
	@mkdir -p $(BIN_DIR)
	GOBIN=$(BIN_DIR) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN_DIR)/golangci-lint $(GOLANGCI_LINT)

## vendor: tidy go.mod and re-create vendor/
.PHONY: vendor
vendor:
	$(GO) mod tidy
	$(GO) mod vendor
	$(GO) mod verify

## verify-vendor: re-vendor in place and fail on any difference, untracked files included
.PHONY: verify-vendor
verify-vendor: vendor
	@status=$$(git status --porcelain --untracked-files=all -- go.mod go.sum vendor); \
	if [ -n "$$status" ]; then echo "vendor/ is out of date; run 'make vendor' and commit:"; echo "$$status" | head -20; exit 1; fi

## clean: remove build output
.PHONY: clean
clean:
	rm -rf _output
	$(GO) clean -testcache

## help: list the targets
.PHONY: help
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /' -e 's/: /\t/' | column -t -s $$'\t'
