#!/usr/bin/env bash
# Fails when a Go file outside vendor/ (tracked or new) is not gofmt'ed, and
# lists the files.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^vendor/')
out=$(gofmt -l "${files[@]}")
if [[ -n "$out" ]]; then
	echo "gofmt needed for:"
	echo "$out"
	exit 1
fi
