# Shared settings of the hack/install-*.sh scripts. Sourced, not run.

# Tools are installed outside the clone so that repeated runs on one machine
# reuse them; IMPORT_RELEASE_CACHE overrides the location.
IMPORT_RELEASE_CACHE="${IMPORT_RELEASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/import-release}"
# The directory holding kube-apiserver and etcd, laid out as envtest's
# KUBEBUILDER_ASSETS expects.
KUBE_APISERVER_VERSION="v1.34.4"
# Debian bookworm's etcd-server package; the binary reports etcd Version: 3.4.23.
ETCD_DEB_VERSION="${ETCD_DEB_VERSION:-3.4.23-4+b4}"
ASSETS_DIR="${IMPORT_RELEASE_CACHE}/envtest/kube-apiserver-${KUBE_APISERVER_VERSION}"

log() { echo "$(date -u +%H:%M:%S) $*" >&2; }

# exit_if_installed BIN WANT: prints BIN and exits when BIN is executable and
# the first line of `BIN --version` is WANT, so an install script does
# nothing twice.
exit_if_installed() {
	if [[ -x "$1" ]] && [[ "$("$1" --version 2>/dev/null | sed -n 1p)" == "$2" ]]; then
		echo "$1"
		exit 0
	fi
	mkdir -p "$(dirname "$1")"
}
