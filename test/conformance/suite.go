// Package conformance is one test suite for the API server behaviours the
// import step relies on, run against two backends: pkg/fakeopenshift (in
// `make test`) and a real kube-apiserver serving ImageStream as a custom
// resource (test/integration, `make test-integration`). A case that passes
// on the real server and fails on the fake is a bug in the fake.
//
// The cases use only what both backends serve: ImageStreams with reference
// tags (which the fake's import controller leaves alone, as
// openshift-controller-manager does), ConfigMaps and Pods, through a
// controller-runtime client.
package conformance

import (
	"context"
	"testing"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// Env is one backend prepared for one case.
type Env struct {
	// Client talks to the backend. Cases pass their field managers
	// explicitly.
	Client ctrlruntimeclient.WithWatch
	// Namespace exists (where the backend needs namespaces) and is used by
	// this case alone.
	Namespace string
	// ExpireWatchHistory makes a watch from any resourceVersion written
	// before the call get 410 Gone, as etcd compaction does.
	ExpireWatchHistory func(t *testing.T)
}

// Backend prepares an Env for one case.
type Backend func(t *testing.T) Env

// Case names, as the subtests of Run are called.
const (
	CaseNoOpUpdate            = "NoOpUpdateKeepsResourceVersion"
	CaseNoOpApply             = "NoOpApplyKeepsResourceVersion"
	CaseApplyMerge            = "ApplyMergesSpecTagsByNameAcrossManagers"
	CaseApplyConflict         = "ApplyConflictsWithoutForce"
	CaseStatusSubresource     = "StatusSubresourceSeparatesSpecAndStatus"
	CaseConditionalPatch      = "ConditionalMergePatchConflicts"
	CaseDeleteUIDPrecondition = "DeleteWithUIDPrecondition"
	CaseGracefulPodDeletion   = "GracefulDeletionOfScheduledPod"
	CaseUnscheduledPodDelete  = "DeletionOfUnscheduledPodIsImmediate"
	CaseAlreadyExists         = "CreateAlreadyExists"
	CaseWatchFromRV           = "WatchFromResourceVersion"
	CaseWatchGone             = "WatchGoneAfterCompaction"
	CaseFieldSelector         = "MetadataNameFieldSelector"
	CaseNameValidation        = "NameValidation"
	CaseTagGenerations        = "TagGenerationsStampedAsOpenShiftDoes"
)

// Run runs every case against backend. skip names cases the backend is
// known to fail, each with the reason; they are skipped with that reason, so
// the list of divergences stays visible in the test output.
func Run(t *testing.T, backend Backend, skip map[string]string) {
	cases := []struct {
		name string
		run  func(t *testing.T, env Env)
	}{
		{CaseNoOpUpdate, testNoOpUpdate},
		{CaseNoOpApply, testNoOpApply},
		{CaseApplyMerge, testApplyMerge},
		{CaseApplyConflict, testApplyConflict},
		{CaseStatusSubresource, testStatusSubresource},
		{CaseConditionalPatch, testConditionalPatch},
		{CaseDeleteUIDPrecondition, testDeleteUIDPrecondition},
		{CaseGracefulPodDeletion, testGracefulPodDeletion},
		{CaseUnscheduledPodDelete, testUnscheduledPodDelete},
		{CaseAlreadyExists, testAlreadyExists},
		{CaseWatchFromRV, testWatchFromResourceVersion},
		{CaseWatchGone, testWatchGone},
		{CaseFieldSelector, testFieldSelector},
		{CaseNameValidation, testNameValidation},
		{CaseTagGenerations, testTagGenerations},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if reason, ok := skip[tc.name]; ok {
				t.Skipf("known divergence of this backend: %s", reason)
			}
			tc.run(t, backend(t))
		})
	}
}

// ctx is the context of a case's requests.
func ctx(t *testing.T) context.Context { return t.Context() }
