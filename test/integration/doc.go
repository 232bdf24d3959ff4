// Package integration runs the project's tests against a real kube-apiserver
// and etcd started by controller-runtime's envtest, with ImageStream served
// as a custom resource (testdata/) and a mutating admission webhook, served
// by the test binary, that stamps generations as openshift-apiserver's
// ImageStream strategy does (the fake's own StampImageStreamCreate and
// StampImageStreamUpdate). The tests carry the build tag integration and run
// with `make test-integration`, which installs the binaries
// (hack/install-*.sh) and points KUBEBUILDER_ASSETS at them.
//
//   - TestConformanceKubeAPIServer: the conformance suite (test/conformance),
//     which runs on the fake as TestConformanceFake.
//   - TestImportReleaseKubeAPIServer: the step's whole import of a 190-image
//     release, by one process and by eight at once in one namespace, each
//     with its own client; the fake's import controller and kubelet run as
//     clients of the apiserver (fakeopenshift.NewControllers). Asserted from
//     the controller's import counts and counting clients: each image
//     imported once, each pod created once, mutating requests and payload
//     merges bounded as on the fake, a second run changing no object.
//   - TestFailedPodIsReplacedKubeAPIServer: a step pod (cli, extract) that
//     fails once under eight processes is deleted and created again once.
//   - TestKubeletOnKubeAPIServer, TestImportControllerOnKubeAPIServer: the
//     controllers on a real apiserver (binding, status subresource, graceful
//     deletion confirmed with grace 0, failure conditions, 409 and retry).
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
// the fake sends DELETED alone. Found by the step's run here: two deletes of
// the same finished pod racing each other can both answer 200 (the pod
// registry deletes through a graceful update with grace period 0, and the
// loser finds the deletion pending or the object gone and reports success),
// where on the fake the second gets 404 or 409; the step does not rely on
// the answer, so the fake's pkg/steps/release TestFailedPodsAreReplaced may
// count successful deletes and TestFailedPodIsReplacedKubeAPIServer does
// not.
//
// The custom resource differs from openshift-apiserver: it does not record
// status for reference tags on the write itself (the import controller
// writes it just after), or accept image stream names that are not DNS
// subdomains (under_score).
//
// What cannot run here, and the fake's tests that cover it:
//   - The image API's virtual resources. ImageStreamImport is what the step
//     posts to nudge pending tags past a slow or stuck controller and to
//     re-trigger a failed import (pkg/imagestreams nudge.go, retrigger.go);
//     here a nudge or re-trigger would get 404, so the step's runs have no
//     import faults, the controller answers within the nudge delay (a quarter of
//     the stall timeout, 30 s here), and TestImportReleaseKubeAPIServer
//     asserts that no process posted an ImageStreamImport. Covered on
//     the fake by pkg/imagestreams TestWaitDoesNotStallWhileABatchImportIsSlow,
//     TestWaitOnAStuckController, TestWaitNudgesPendingTagsPastAFasterWriter,
//     TestWaitRetriggersATransientFailure, TestWaitFailsAfterTheRetryBudget,
//     and pkg/steps/release TestTransientImportFailureIsRetriggeredOnce,
//     TestPermanentImportFailureFailsFast; the resource itself by
//     pkg/fakeopenshift TestImageStreamImportIsSynchronous and
//     TestImageStreamImportCreatesStreamAndTagAndOverwritesImportPolicy.
//     ImageStreamTag (not used by the step) by TestImageStreamTag*.
//   - The import's own generation bump: a custom resource with a status
//     subresource cannot write spec and status in one request, so the
//     controller writes status alone; entries carry the tag's generation and
//     the stream and tag generations stay (the step's done-ness, items[0]
//     generation >= the tag's, holds either way). Covered on the fake by
//     TestImportSuccessPrependsOrMergesAndBumps and
//     TestGenerationZeroForcesReimportAndSameDigestBumps. For the same reason
//     the openshift.io/image.dockerRepositoryCheck annotation is not set
//     (TestImageStreamImportStampsRepositoryCheck).
//   - Image policy admission at pod creation (a local "stream:tag" image is
//     resolved by the kubelet when it starts the pod instead):
//     TestPodImageResolvedThroughLocalLookupPolicy.
//   - The fake apiserver's fault injection, request latency and request
//     accounting (Stats.Calls, Writes): the step's behaviour under API faults
//     is covered by pkg/steps/release TestAPIFaultBursts,
//     TestWatchExpiryDuringTheWait and TestConcurrentShardsDoTheWorkOnce
//     (which also asserts the state-changing writes; here the counting
//     clients count requests, not whether the server changed anything, so a
//     second run's unchanged resourceVersions stand in for it).
package integration
