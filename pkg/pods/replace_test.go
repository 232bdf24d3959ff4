package pods

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// requestsPerCaller bounds the requests one caller of Run may make for one
// pod that is replaced once: create, list+watch, delete or a wait for the
// deletion (list+watch), create, list+watch, with a little slack for a
// watch that is re-established.
const requestsPerCaller = 12

func runCallers(t *testing.T, env *podEnv, n int, desired *corev1.Pod) ([]*corev1.Pod, []*events) {
	t.Helper()
	results := make([]*corev1.Pod, n)
	observed := make([]*events, n)
	var wg sync.WaitGroup
	for i := range n {
		observed[i] = &events{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod, err := Run(t.Context(), env.cluster.Client(callerName(i)), desired.DeepCopy(),
				WithObserver(observed[i].observe), WithStallTimeout(10*time.Second))
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			results[i] = pod
		}()
	}
	wg.Wait()
	return results, observed
}

func callerName(i int) string { return "caller-" + string(rune('a'+i)) }

func assertBoundedRequests(t *testing.T, env *podEnv, n int) {
	t.Helper()
	stats := env.cluster.Stats()
	for i := range n {
		total := 0
		for key, count := range stats.Requests {
			if key.Process == callerName(i) {
				total += count
			}
		}
		if total > requestsPerCaller {
			t.Errorf("%s made %d requests, want at most %d\n%s", callerName(i), total, requestsPerCaller, stats.Report())
		}
	}
}

// TestFailedPodReplacedOnce: four callers see the same Failed pod; exactly
// one delete lands, one replacement is created, everyone gets it.
func TestFailedPodReplacedOnce(t *testing.T) {
	env := newPodEnv(t)
	env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: testPod, Action: fakeopenshift.PodFail, Message: "transient", Times: 1})
	const n = 4
	results, _ := runCallers(t, env, n, env.cliPod())
	if t.Failed() {
		return
	}
	for i, pod := range results[1:] {
		if pod.UID != results[0].UID {
			t.Errorf("caller %d got pod %s, caller 0 got %s", i+1, pod.UID, results[0].UID)
		}
	}
	if got := env.podDeletes(); got != 1 {
		t.Errorf("%d pod deletes landed, want 1", got)
	}
	if got := env.created()[testNamespace+"/"+testPod]; got != 2 {
		t.Errorf("the pod was created %d times, want 2 (the failed one and its replacement)", got)
	}
	assertBoundedRequests(t, env, n)
}

// TestTerminatingPodIsNeverAdopted: a pod of the wanted name that is being
// deleted (Failed already, its grace period long) is not adopted, nor
// deleted again and again: every caller waits until it is gone, then one
// creates the pod and the rest adopt that one.
func TestTerminatingPodIsNeverAdopted(t *testing.T) {
	env := newPodEnv(t)
	env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: testPod, Action: fakeopenshift.PodHang, Times: 1})
	desired := env.cliPod()
	grace := int64(600) // 0.6s at the fake's time scale
	desired.Spec.TerminationGracePeriodSeconds = &grace
	user := env.cluster.Client("user")
	planted := desired.DeepCopy()
	if err := user.Create(t.Context(), planted); err != nil {
		t.Fatal(err)
	}
	key := ctrlruntimeclient.ObjectKeyFromObject(planted)
	waitFor(t, user, key, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if err := user.Delete(t.Context(), planted); err != nil {
		t.Fatal(err)
	}
	waitFor(t, user, key, func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
	// As a kubelet reports a container that exited on SIGTERM before it
	// removes the pod: Failed, and still Terminating.
	terminating := &corev1.Pod{}
	if err := user.Get(t.Context(), key, terminating); err != nil {
		t.Fatal(err)
	}
	terminating.Status.Phase = corev1.PodFailed
	if err := user.Status().Update(t.Context(), terminating); err != nil {
		t.Fatal(err)
	}

	const n = 4
	results, observed := runCallers(t, env, n, desired)
	if t.Failed() {
		return
	}
	for i, pod := range results {
		if pod.UID == planted.UID {
			t.Errorf("caller %d adopted the Terminating pod", i)
		}
		if pod.Status.Phase != corev1.PodSucceeded {
			t.Errorf("caller %d got a pod in phase %s", i, pod.Status.Phase)
		}
	}
	created := 0
	for _, ev := range observed {
		created += ev.created
	}
	if created != 1 {
		t.Errorf("%d callers created the pod, want 1", created)
	}
	stats := env.cluster.Stats()
	for key, count := range stats.Writes {
		if key.Verb == "delete" && key.Process != "user" && key.Process != fakeopenshift.KubeletProcess {
			t.Errorf("%s deleted %d pods, want none", key.Process, count)
		}
	}
	assertBoundedRequests(t, env, n)
}

func waitFor(t *testing.T, c ctrlruntimeclient.Client, key types.NamespacedName, cond func(*corev1.Pod) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 5*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		pod := &corev1.Pod{}
		if err := c.Get(ctx, key, pod); err != nil {
			return false, err
		}
		return cond(pod), nil
	})
	if err != nil {
		t.Fatalf("waiting for pod %s: %v", key, err)
	}
}
