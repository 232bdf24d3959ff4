//go:build integration

package integration

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	"github.com/sirupsen/logrus"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// releaseImages is the size of the payloads: a 4.x payload has 150-200.
const releaseImages = 190

// followerMutating bounds the mutating requests a process that finds the
// work done (a follower) may send per release beyond what one process alone
// sends: its no-op applies of the release stream, the stable stream, the
// release tag and the cli tag, and the creates that get AlreadyExists (the
// two pods, the step's RBAC objects). It is the bound the fake's concurrency
// test (pkg/steps/release TestConcurrentShardsDoTheWorkOnce) uses.
const followerMutating = 12

// stepRun is one import of a release by n processes into one namespace of the
// real apiserver, with the fake's import controller and kubelet as its
// clients.
type stepRun struct {
	cluster   *fakeopenshift.Cluster
	namespace string
	release   *registry.Release
	counts    *counts
}

func newRun(t *testing.T) *stepRun {
	t.Helper()
	client := newClient(t)
	namespace := newNamespace(t, client)
	// The import controller and the kubelet watch every namespace: one
	// cluster at a time (the package's tests do not run in parallel).
	// The fake's tests' latency profile: imports and pods take
	// milliseconds, so the processes' writes can land during an import.
	cluster := fakeopenshift.NewControllers(t.Context(), client, fakeopenshift.WithLatency(fakeopenshift.DefaultLatency))
	t.Cleanup(cluster.Stop)
	r := &stepRun{cluster: cluster, namespace: namespace, counts: newCounts()}
	r.release = cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(releaseImages))
	// No controller-manager makes the namespace's default service account,
	// which the kubelet's image pulls read.
	sa := &corev1.ServiceAccount{}
	sa.Name, sa.Namespace = "default", namespace
	if err := client.Create(t.Context(), sa); err != nil {
		t.Fatalf("could not create the default service account: %v", err)
	}
	return r
}

// step is the step of one process, with a client of its own.
func (r *stepRun) step(process string) api.Step {
	log := logrus.New()
	log.SetOutput(io.Discard)
	client := &countingClient{WithWatch: r.cluster.Client(process), process: process, counts: r.counts}
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace(r.namespace)
	return release.ImportReleaseStep(release.Config{
		Name:          api.LatestReleaseName,
		Source:        release.NewFixedSource(r.release.PullSpec),
		RetryDelay:    20 * time.Millisecond,
		StallTimeout:  2 * time.Minute, // nudges (which need ImageStreamImport) only after 30 s
		ClaimDuration: 10 * time.Minute,
		Log:           logrus.NewEntry(log),
	}, client, jobSpec)
}

// processes runs the step in n processes at once, each through pkg/graph as
// ci-operator runs it, and fails the test if any fails.
func (r *stepRun) processes(t *testing.T, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := graph.Build([]api.Step{r.step(fmt.Sprintf("process-%d", i))})
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = g.Run(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process-%d failed: %v", i, err)
		}
	}
}

// TestImportReleaseKubeAPIServer runs the step's whole import of a release,
// in one process and in eight at once, against the real apiserver: the
// invariants are those the fake's concurrency tests assert, from the
// controllers' import counts and the processes' counting clients.
func TestImportReleaseKubeAPIServer(t *testing.T) {
	var one *counts
	for _, n := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) {
			r := newRun(t)
			start := time.Now()
			r.processes(t, n)
			t.Logf("%d processes imported %d images in %s: %d mutating requests, %d payload merges sent, %d import conflicts",
				n, releaseImages, time.Since(start).Round(time.Millisecond), r.counts.sum(isMutating), r.counts.sum(isPayloadMerge), r.cluster.Stats().ImportConflicts)
			r.assertWorkOnce(t)
			if n == 1 {
				one = r.counts
				return
			}
			if one == nil {
				t.Fatal("the one-process run failed; nothing to compare with")
			}
			for _, failure := range bounded(one, r.counts, n) {
				t.Errorf("%s\n%s", failure, r.counts.report())
			}
			before := r.snapshot(t)
			imports := r.cluster.Stats().TotalImports()
			r.processes(t, n)
			if diff := cmp.Diff(before, r.snapshot(t)); diff != "" {
				t.Errorf("a second run changed objects (-before +after):\n%s", diff)
			}
			if got := r.cluster.Stats().TotalImports() - imports; got != 0 {
				t.Errorf("a second run caused %d imports", got)
			}
		})
	}
}

func isPayloadMerge(cl call) bool {
	return cl.verb == "apply" && cl.kind == "ImageStream" && cl.manager == imagestreams.ManagerPayload
}

// assertWorkOnce checks a finished import: every tag of the payload in the
// release stream, imported exactly once, the payload's own tag imported
// once, and each of the step's two pods created once.
func (r *stepRun) assertWorkOnce(t *testing.T) {
	t.Helper()
	r.assertImportedOnce(t)
	r.assertPodsCreated(t, nil)
}

// assertImportedOnce checks that every tag of the payload is in the release
// stream, imported exactly once, and the payload's own tag imported once.
func (r *stepRun) assertImportedOnce(t *testing.T) {
	t.Helper()
	stats := r.cluster.Stats()
	stream := api.ReleaseStreamFor(api.LatestReleaseName)
	is := &imagev1.ImageStream{}
	if err := r.cluster.Client("checker").Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: r.namespace, Name: stream}, is); err != nil {
		t.Fatalf("could not read the release stream: %v", err)
	}
	for _, tag := range r.release.Tags {
		key := fakeopenshift.TagKey{Namespace: r.namespace, Stream: stream, Tag: tag.Name}
		if got := stats.Imports[key]; got != 1 {
			t.Errorf("%s imported %d times, want once", key, got)
		}
		if st := imagestreams.StateOf(is, tag.Name); st.Phase != imagestreams.Imported {
			t.Errorf("%s is %s", key, st.Phase)
		}
	}
	payload := fakeopenshift.TagKey{Namespace: r.namespace, Stream: "release", Tag: api.LatestReleaseName}
	if got := stats.Imports[payload]; got != 1 {
		t.Errorf("%s imported %d times, want once", payload, got)
	}
	// The apiserver does not serve the image API's virtual resources: the
	// run must not have needed a nudge or a re-trigger.
	if got := r.counts.sum(func(cl call) bool { return cl.kind == "ImageStreamImport" }); got != 0 {
		t.Errorf("the processes posted %d ImageStreamImports, which this apiserver does not serve", got)
	}
}

// assertPodsCreated checks that the step's two pods were each created once,
// or as often as again says.
func (r *stepRun) assertPodsCreated(t *testing.T, again map[string]int) {
	t.Helper()
	want := map[string]int{
		release.CLIPodName(api.LatestReleaseName, r.release.DigestPullSpec):  1,
		release.ExtractName(api.LatestReleaseName, r.release.DigestPullSpec): 1,
	}
	for pod, n := range again {
		want[pod] = n
	}
	if diff := cmp.Diff(want, r.counts.created("Pod")); diff != "" {
		t.Errorf("pods created (-want +got):\n%s", diff)
	}
}

// bounded compares the calls of n processes with one process's: the
// mutating requests at most one's plus followerMutating per follower, the
// payload merge sent at most once more (by a follower that read the stable
// stream just before the leader's merge landed).
func bounded(one, run *counts, n int) []string {
	var out []string
	if got, limit := run.sum(isMutating), one.sum(isMutating)+(n-1)*followerMutating; got > limit {
		out = append(out, fmt.Sprintf("%d processes sent %d mutating requests, want at most %d", n, got, limit))
	}
	if got, limit := run.sum(isPayloadMerge), one.sum(isPayloadMerge)+1; got > limit {
		out = append(out, fmt.Sprintf("%d processes sent the payload merge %d times, want at most %d", n, got, limit))
	}
	return out
}

// snapshot is the resourceVersion of every object of the kinds the step
// writes in the run's namespace.
func (r *stepRun) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, list := range []ctrlruntimeclient.ObjectList{
		&imagev1.ImageStreamList{}, &corev1.PodList{}, &corev1.ConfigMapList{}, &corev1.SecretList{},
		&corev1.ServiceAccountList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{}, &coordinationv1.LeaseList{},
	} {
		if err := r.cluster.Client("checker").List(t.Context(), list, ctrlruntimeclient.InNamespace(r.namespace)); err != nil {
			t.Fatalf("could not list %T: %v", list, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			obj := item.(ctrlruntimeclient.Object)
			out[fmt.Sprintf("%T %s", obj, obj.GetName())] = obj.GetResourceVersion()
		}
	}
	return out
}

// TestFailedPodIsReplacedKubeAPIServer: a pod of the step that fails once
// under eight processes is deleted and created again exactly once; the
// import completes as without the failure.
func TestFailedPodIsReplacedKubeAPIServer(t *testing.T) {
	testCases := []struct {
		name string
		pod  func(payload string) string
	}{
		{name: "cli pod", pod: func(payload string) string { return release.CLIPodName(api.LatestReleaseName, payload) }},
		{name: "extract pod", pod: func(payload string) string { return release.ExtractName(api.LatestReleaseName, payload) }},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t)
			failing := tc.pod(r.release.DigestPullSpec)
			r.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: failing, Action: fakeopenshift.PodFail, Message: "injected", Times: 1})
			r.processes(t, 8)
			r.assertImportedOnce(t)
			r.assertPodsCreated(t, map[string]int{failing: 2})
			// Only the failed pod is deleted. How many deletes succeed is
			// not the count of deletions here: the pod registry deletes a
			// finished pod through a graceful update with grace period 0,
			// and a delete racing it answers 200 as well (see doc.go); the
			// single replacement above is what shows one deletion.
			deletes := r.counts.sum(func(cl call) bool { return cl.verb == "delete" && cl.kind == "Pod" && cl.outcome == "ok" })
			others := r.counts.sum(func(cl call) bool { return cl.verb == "delete" && cl.kind == "Pod" && cl.name != failing })
			if deletes == 0 || others != 0 {
				t.Errorf("%d deletes of %s succeeded, %d deletes of other pods sent; want at least 1 and none\n%s", deletes, failing, others, r.counts.report())
			}
		})
	}
}
