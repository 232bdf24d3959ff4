// Package fakeopenshift is an in-process OpenShift for tests and for running
// the import step without a cluster: an apiserver store for ImageStreams,
// Pods, ConfigMaps, Secrets, ServiceAccounts and RBAC objects, the image API's
// virtual resources (ImageStreamTag, ImageStreamImport), an import controller
// like openshift-controller-manager's, a kubelet that runs the import step's
// pods, a registry of generated release payloads, fault injection and request
// accounting.
//
// Unlike controller-runtime's fake client it behaves like the real servers
// where the import step depends on it: resourceVersions change on every real
// write and not on a no-op write; metadata.generation follows the Kubernetes
// rules for pods and OpenShift's rules for image streams (per-tag
// generations, the import's own bump); server-side apply tracks field
// ownership with the apiserver's own field manager, so spec.tags merges by
// name across managers and conflicts without force; writes are optimistic
// like the apiserver's GuaranteedUpdate (the field manager and strategy run
// while other requests go on, and a write that lost the race is re-run,
// where a stale resourceVersion is a 409); watches honour label and field
// selectors, start from a resourceVersion, and expire (410 Gone).
//
// Use it in a unit test:
//
//	cluster := fakeopenshift.New(t.Context())
//	release := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000")
//	client := cluster.Client("shard-0") // a ctrlruntimeclient.WithWatch
//	// ... run the code under test with client ...
//	stats := cluster.Stats()            // requests, writes, imports, pods
//
// Each process of a simulated aggregated job gets its own client, so the
// counters say who did what. A write is counted before its watch event goes
// out, so a test that has waited on a watch can read Stats at once.
//
// Limits: no admission, no quota, no RBAC enforcement, no graceful pod
// deletion (a delete removes the pod at once), no list pagination,
// unstructured objects are not accepted, and pods run only the programs the
// kubelet documents (see runProgram and shell).
package fakeopenshift
