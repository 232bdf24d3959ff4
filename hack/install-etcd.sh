#!/usr/bin/env bash
# Installs etcd from Debian's etcd-server package (version pinned in
# hack/lib.sh) into the tool cache, unless it is there. The package is
# downloaded and unpacked, not installed; apt's package lists are updated
# first when they do not know the version. Prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

bin="${ASSETS_DIR}/etcd"
want="etcd Version: ${ETCD_DEB_VERSION%%-*}"
exit_if_installed "${bin}" "${want}"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
log "downloading etcd-server=${ETCD_DEB_VERSION} into ${ASSETS_DIR}"
if ! apt-cache show "etcd-server=${ETCD_DEB_VERSION}" >/dev/null 2>&1; then
	log "etcd-server=${ETCD_DEB_VERSION} is not in apt's package lists; running apt-get update"
	if [[ ${EUID} -eq 0 ]]; then apt-get update -q >&2; else sudo apt-get update -q >&2; fi
fi
(cd "${work}" && apt-get download -q -o APT::Sandbox::User=root "etcd-server=${ETCD_DEB_VERSION}" >&2)
dpkg-deb -x "${work}"/etcd-server_*.deb "${work}/root"
install -m 0755 "${work}/root/usr/bin/etcd" "${bin}.tmp"
mv "${bin}.tmp" "${bin}"
got="$("${bin}" --version | sed -n 1p)"
[[ "${got}" == "${want}" ]] || { log "unexpected etcd version: ${got}"; exit 1; }
echo "${bin}"
