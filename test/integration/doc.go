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
//
// What the real apiserver does and the fake does differently, both accepted
// by the conformance suite: a watch from an expired resourceVersion is
// accepted and ends with an ERROR event (410 Expired), where the fake
// refuses the watch request with 410; deleting an unscheduled pod is a
// MODIFIED event (deletionTimestamp, grace period 0) and then DELETED, where
// the fake sends DELETED alone. The custom resource differs from
// openshift-apiserver: it does not stamp spec.tags[].generation, record
// status for reference tags, or accept image stream names that are not DNS
// subdomains (under_score).
package integration
