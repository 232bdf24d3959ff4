#!/usr/bin/env bash
# Builds kube-apiserver from the k8s.io/kubernetes module (version pinned in
# hack/tools/kube-apiserver/go.mod) into the tool cache, unless it is there.
# Prints the installed binary's path. Cold: ~10 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

bin="${ASSETS_DIR}/kube-apiserver"
exit_if_installed "${bin}" "Kubernetes ${KUBE_APISERVER_VERSION}"

minor="${KUBE_APISERVER_VERSION#v}"
major="${minor%%.*}"
minor="${minor#*.}"
minor="${minor%%.*}"
pkg=k8s.io/component-base/version
ldflags="-s -w -X ${pkg}.gitVersion=${KUBE_APISERVER_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"

log "building kube-apiserver ${KUBE_APISERVER_VERSION} into ${ASSETS_DIR}"
start=${SECONDS}
(
	cd "${root}/hack/tools/kube-apiserver"
	# The main module's GOFLAGS (e.g. -mod=vendor) do not apply to the tool module.
	GOFLAGS=-mod=readonly GOWORK=off CGO_ENABLED=0 \
		go build -trimpath -ldflags "${ldflags}" -o "${bin}.tmp" k8s.io/kubernetes/cmd/kube-apiserver
)
mv "${bin}.tmp" "${bin}"
log "built kube-apiserver in $((SECONDS - start))s"
echo "${bin}"
