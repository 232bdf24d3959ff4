// Package integration runs the project's tests against a real kube-apiserver
// and etcd started by controller-runtime's envtest, with ImageStream served
// as a custom resource (testdata/). The tests carry the build tag
// integration and run with `make test-integration`, which installs the
// binaries (hack/install-*.sh) and points KUBEBUILDER_ASSETS at them.
//
// The apiserver runs without its watch cache, so that a watch from a
// resourceVersion is served by etcd and etcd compaction makes it expire
// (410) as it does for an uncached resource; with the cache, a watch expires
// when the cache's window has moved past the resourceVersion instead.
package integration
