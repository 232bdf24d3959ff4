#!/usr/bin/env bash
# Checks the package graph rules that no compiler enforces:
#  - the command's real-cluster path (cmd/import-release/internal/...) does
#    not depend on the fake cluster: only package main adds it;
#  - no package outside tests depends on ci-tools or openshift-apiserver.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
module=$("$GO" list -m)
failed=0

real_path="./cmd/import-release/internal/..."
if fake=$("$GO" list -deps "$real_path" | grep -E "^${module}/pkg/fakeopenshift(/|$)"); then
	echo "the command's real-cluster path imports the fake cluster:"
	for pkg in $("$GO" list "$real_path"); do
		if "$GO" list -deps "$pkg" | grep -qE "^${module}/pkg/fakeopenshift(/|$)"; then
			echo "  $pkg -> $(echo "$fake" | head -1)"
		fi
	done
	failed=1
fi

if forbidden=$("$GO" list -deps ./... | grep -E '^github.com/openshift/(ci-tools|openshift-apiserver)(/|$)'); then
	echo "packages depend on ci-tools or openshift-apiserver:"
	echo "$forbidden"
	failed=1
fi
exit "$failed"
