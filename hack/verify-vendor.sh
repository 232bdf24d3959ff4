#!/usr/bin/env bash
# Re-creates vendor/ in place (go mod tidy, vendor, verify) and fails when
# go.mod, go.sum or vendor/ then differ from what is committed, untracked
# files included.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
"$GO" mod tidy
"$GO" mod vendor
"$GO" mod verify
status=$(git status --porcelain --untracked-files=all -- go.mod go.sum vendor)
if [[ -n "$status" ]]; then
	echo "vendor/ is out of date; run 'make vendor' and commit:"
	echo "$status" | head -20
	exit 1
fi
