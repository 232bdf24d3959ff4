#!/usr/bin/env bash
# Runs golangci-lint (the pinned version, see install-golangci-lint.sh) on
# every package, the integration tests (build tag integration) included.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

lint=$(hack/install-golangci-lint.sh)
"$lint" run --build-tags integration ./...
