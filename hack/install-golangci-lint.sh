#!/usr/bin/env bash
# Installs golangci-lint at the pinned version into a directory and prints
# the binary's path; an installed binary of that version is reused.
#
#   hack/install-golangci-lint.sh [BIN_DIR]    (default: _output/bin)
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The version is pinned; bump it here and only here.
GOLANGCI_LINT_VERSION="v2.15.0"
GO="${GO:-go}"
bin_dir="${1:-$PWD/_output/bin}"
binary="$bin_dir/golangci-lint-$GOLANGCI_LINT_VERSION"

if [[ ! -x "$binary" ]]; then
	mkdir -p "$bin_dir"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "Installing golangci-lint $GOLANGCI_LINT_VERSION into $bin_dir" >&2
	GOBIN="$tmp" GOFLAGS= "$GO" install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
	mv "$tmp/golangci-lint" "$binary"
fi
echo "$binary"
