#!/usr/bin/env bash
# Builds the ci-operator adapter (hack/ci-operator, its own module) against a
# ci-tools checkout and runs its tests, which drive the step through
# ci-tools' own step-graph runner on pkg/fakeopenshift.
#
#   hack/verify-ci-operator-adapter.sh <ci-tools checkout>
#
# The adapter's go.mod replaces import-release with this repository; this
# script adds the replace of github.com/openshift/ci-tools with the checkout
# in a temporary copy of go.mod (go -modfile), so nothing in the repository
# changes. ci-tools' own dependencies come from the module proxy (a first run
# downloads a few hundred modules). Set TEST_FLAGS to pass flags to go test,
# e.g. TEST_FLAGS=-race.
set -o errexit -o nounset -o pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 <ci-tools checkout>" >&2
	exit 2
fi
citools=$(cd "$1" && pwd)
if ! grep -qx 'module github.com/openshift/ci-tools' "${citools}/go.mod" 2>/dev/null; then
	echo "${citools} is not a checkout of github.com/openshift/ci-tools" >&2
	exit 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

cp "${repo}/hack/ci-operator/go.mod" "${work}/go.mod"
go mod edit -modfile="${work}/go.mod" -replace="github.com/openshift/ci-tools=${citools}"
cd "${repo}/hack/ci-operator"

revision=$(git -C "${citools}" rev-parse --short=9 HEAD 2>/dev/null || echo "unknown revision")
echo "==> ci-tools ${citools} at ${revision}"
echo "==> resolving modules"
GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy -modfile="${work}/go.mod"
echo "==> go build"
go build -modfile="${work}/go.mod" ./...
echo "==> go vet"
go vet -modfile="${work}/go.mod" ./...
echo "==> go test"
status=0
# shellcheck disable=SC2086 # TEST_FLAGS is a list of flags
go test -modfile="${work}/go.mod" -count=1 ${TEST_FLAGS:-} -v ./... >"${work}/test.log" 2>&1 || status=$?
if [[ ${status} -ne 0 ]]; then
	cat "${work}/test.log"
	echo "==> the adapter's tests failed against ci-tools ${revision}" >&2
	exit "${status}"
fi
grep -E '^(--- |ok|PASS)' "${work}/test.log"
echo "==> the adapter builds and passes against ci-tools ${revision}"
