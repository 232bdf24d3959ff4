package pods

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

const (
	testNamespace = "ci-op-pods"
	testPod       = "release-images-latest-cli-0123456789"
)

type podEnv struct {
	cluster *fakeopenshift.Cluster
	release *registry.Release
}

func newPodEnv(t *testing.T) *podEnv {
	t.Helper()
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	return &podEnv{cluster: cluster, release: cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))}
}

// cliPod asks the payload for its CLI image, which the fake kubelet answers
// with the release's CLIPullSpec.
func (e *podEnv) cliPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: testPod},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:    "release",
				Image:   e.release.DigestPullSpec,
				Command: []string{"/bin/sh", "-c", "/usr/bin/cluster-version-operator image cli > /dev/termination-log"},
			}},
		},
	}
}

func (e *podEnv) created() map[string]int { return e.cluster.Stats().PodsCreated }

func (e *podEnv) podDeletes() int {
	n := 0
	for k, v := range e.cluster.Stats().Writes {
		if k.Verb == "delete" && k.Kind == "Pod" {
			n += v
		}
	}
	return n
}

// events records what Run tells an observer.
type events struct {
	mu       sync.Mutex
	created  int
	replaced int
	phases   []corev1.PodPhase
}

func (e *events) observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Created {
		e.created++
	}
	if ev.Replaced {
		e.replaced++
	}
	e.phases = append(e.phases, ev.Phase)
}

func TestRunCreatesThenAdopts(t *testing.T) {
	env := newPodEnv(t)
	var first, second events
	done, err := Run(t.Context(), env.cluster.Client("first"), env.cliPod(), WithObserver(first.observe))
	if err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if got := TerminationMessage(done); got != env.release.CLIPullSpec {
		t.Errorf("termination message = %q, want %q", got, env.release.CLIPullSpec)
	}
	if done.Status.Phase != corev1.PodSucceeded {
		t.Errorf("Run returned a pod in phase %s", done.Status.Phase)
	}
	adopted, err := Run(t.Context(), env.cluster.Client("second"), env.cliPod(), WithObserver(second.observe))
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if adopted.UID != done.UID {
		t.Errorf("the second caller got pod %s, not the first one's %s", adopted.UID, done.UID)
	}
	if first.created != 1 || second.created != 0 {
		t.Errorf("created events: first %d, second %d; want 1 and 0", first.created, second.created)
	}
	if diff := cmp.Diff([]corev1.PodPhase{corev1.PodSucceeded}, second.phases); diff != "" {
		t.Errorf("the second caller's events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{testNamespace + "/" + testPod: 1}, env.created()); diff != "" {
		t.Errorf("pods created (-want +got):\n%s", diff)
	}
	// A caller that finds the pod sends no write, not even a create that
	// gets AlreadyExists: it lists and, the pod being done, is done.
	stats := env.cluster.Stats()
	for key, n := range stats.Requests {
		if key.Process == "second" && key.Verb != "list" && key.Verb != "watch" {
			t.Errorf("the second caller sent %d %s %s request(s)", n, key.Verb, key.Kind)
		}
	}
}

func TestBeforeCreateRunsOnlyForTheCreator(t *testing.T) {
	env := newPodEnv(t)
	var calls [3]atomic.Int32
	hook := func(i int) Option {
		return WithBeforeCreate(func(context.Context) error {
			calls[i].Add(1)
			return nil
		})
	}
	if _, err := Run(t.Context(), env.cluster.Client("first"), env.cliPod(), hook(0)); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if _, err := Run(t.Context(), env.cluster.Client("second"), env.cliPod(), hook(1)); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if calls[0].Load() != 1 || calls[1].Load() != 0 {
		t.Errorf("hook calls: creator %d, adopter %d; want 1 and 0", calls[0].Load(), calls[1].Load())
	}
	// An error from the hook is Run's, and no pod is created.
	other := env.cliPod()
	other.Name += "-other"
	boom := errors.New("no service account")
	_, err := Run(t.Context(), env.cluster.Client("third"), other, WithBeforeCreate(func(context.Context) error { return boom }))
	if !errors.Is(err, boom) {
		t.Errorf("Run with a failing hook: %v, want %v", err, boom)
	}
	if n := env.created()[testNamespace+"/"+other.Name]; n != 0 {
		t.Errorf("pod %s created %d times after its hook failed", other.Name, n)
	}
}

func TestConcurrentCallersShareOnePod(t *testing.T) {
	testCases := []struct {
		name string
		// failures is how many times the pod fails before it succeeds.
		failures int
	}{
		{name: "succeeds"},
		{name: "fails once", failures: 1},
		{name: "fails twice", failures: 2},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newPodEnv(t)
			if tc.failures > 0 {
				env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: testPod, Action: fakeopenshift.PodFail, Times: tc.failures})
			}
			const callers = 8
			var ev events
			results := make([]*corev1.Pod, callers)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					results[i], errs[i] = Run(t.Context(), env.cluster.Client(fmt.Sprintf("caller-%d", i)), env.cliPod(), WithObserver(ev.observe), WithMaxFailures(tc.failures))
				})
			}
			wg.Wait()
			uids := map[types.UID]bool{}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("caller-%d: %v", i, err)
				}
				uids[results[i].UID] = true
			}
			if len(uids) != 1 {
				t.Errorf("the callers got %d different pods, want one", len(uids))
			}
			// One creation per run of the pod, and the UID precondition lets
			// exactly one delete of each failed pod land.
			if diff := cmp.Diff(map[string]int{testNamespace + "/" + testPod: 1 + tc.failures}, env.created()); diff != "" {
				t.Errorf("pods created (-want +got):\n%s", diff)
			}
			if got := env.podDeletes(); got != tc.failures {
				t.Errorf("%d pods deleted, want %d", got, tc.failures)
			}
			if ev.created != 1+tc.failures || ev.replaced != tc.failures {
				t.Errorf("observers saw %d creations and %d replacements, want %d and %d", ev.created, ev.replaced, 1+tc.failures, tc.failures)
			}
		})
	}
}

func TestRunGivesUpAfterTheFailureBudget(t *testing.T) {
	testCases := []struct {
		name        string
		maxFailures int
		fault       fakeopenshift.PodFault
		want        FailedError
	}{
		{
			name:  "no replacement",
			fault: fakeopenshift.PodFault{Action: fakeopenshift.PodFail, Message: "oc: release image not found"},
			want:  FailedError{Namespace: testNamespace, Name: testPod, Failures: 1, Reason: "Error", Message: "oc: release image not found"},
		},
		{
			name:        "one replacement",
			maxFailures: 1,
			fault:       fakeopenshift.PodFault{Action: fakeopenshift.PodFail, Message: "oc: release image not found"},
			want:        FailedError{Namespace: testNamespace, Name: testPod, Failures: 2, Reason: "Error", Message: "oc: release image not found"},
		},
		{
			name:        "evicted",
			maxFailures: 1,
			fault:       fakeopenshift.PodFault{Action: fakeopenshift.PodEvict, Message: "The node was low on resource: memory."},
			want:        FailedError{Namespace: testNamespace, Name: testPod, Failures: 2, Reason: "Evicted", Message: "The node was low on resource: memory."},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newPodEnv(t)
			tc.fault.NamePrefix = testPod
			env.cluster.InjectPodFault(tc.fault)
			_, err := Run(t.Context(), env.cluster.Client("caller"), env.cliPod(), WithMaxFailures(tc.maxFailures))
			var failed *FailedError
			if !errors.As(err, &failed) {
				t.Fatalf("Run returned %v, want a *FailedError", err)
			}
			if diff := cmp.Diff(&tc.want, failed); diff != "" {
				t.Errorf("FailedError (-want +got):\n%s", diff)
			}
			for _, want := range []string{testNamespace + "/" + testPod, tc.want.Message, fmt.Sprintf("failed %d time(s)", tc.want.Failures)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if diff := cmp.Diff(map[string]int{testNamespace + "/" + testPod: tc.want.Failures}, env.created()); diff != "" {
				t.Errorf("pods created (-want +got):\n%s", diff)
			}
			// The last failed pod stays for people to look at.
			if got := env.podDeletes(); got != tc.want.Failures-1 {
				t.Errorf("%d pods deleted, want %d", got, tc.want.Failures-1)
			}
		})
	}
}

func TestRunSurvivesAPIFaults(t *testing.T) {
	testCases := []struct {
		name   string
		faults []fakeopenshift.Fault
	}{
		{name: "throttled create", faults: []fakeopenshift.Fault{{Verb: "create", Kind: "Pod", Code: 429, RetryAfterSeconds: 1, Times: 2}}},
		{name: "server errors on create", faults: []fakeopenshift.Fault{{Verb: "create", Kind: "Pod", Code: 500, Times: 2}}},
		// The pod is created and the caller does not hear back: the retry
		// finds it and adopts it.
		{name: "create times out after the write", faults: []fakeopenshift.Fault{{Verb: "create", Kind: "Pod", Code: 504, AfterWrite: true, Times: 1}}},
		{name: "watch refused once", faults: []fakeopenshift.Fault{{Verb: "watch", Kind: "Pod", Code: 500, Times: 1}}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newPodEnv(t)
			want := 0
			for _, f := range tc.faults {
				f.Process = "caller"
				env.cluster.InjectFault(f)
				want += f.Times
			}
			done, err := Run(t.Context(), env.cluster.Client("caller"), env.cliPod())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := TerminationMessage(done); got != env.release.CLIPullSpec {
				t.Errorf("termination message = %q", got)
			}
			if got := env.cluster.FaultsFired(); got != want {
				t.Errorf("%d faults fired, want %d", got, want)
			}
			if diff := cmp.Diff(map[string]int{testNamespace + "/" + testPod: 1}, env.created()); diff != "" {
				t.Errorf("pods created (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodDeletedMidWaitIsRecreated(t *testing.T) {
	env := newPodEnv(t)
	// The first pod runs until it is deleted; the next one runs normally.
	env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: testPod, Action: fakeopenshift.PodHang, Times: 1})
	other := env.cluster.Client("someone-else")
	var deleted atomic.Value
	observe := func(ev Event) {
		if ev.Phase != corev1.PodRunning || deleted.Load() != nil {
			return
		}
		deleted.Store(ev.Pod.UID)
		if err := other.Delete(t.Context(), ev.Pod.DeepCopy()); err != nil {
			t.Errorf("could not delete the pod: %v", err)
		}
	}
	done, err := Run(t.Context(), env.cluster.Client("caller"), env.cliPod(), WithObserver(observe), WithMaxFailures(0), WithStallTimeout(time.Minute))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	first, _ := deleted.Load().(types.UID)
	if first == "" {
		t.Fatal("the pod was never seen Running")
	}
	if done.UID == first {
		t.Error("Run returned the deleted pod")
	}
	if got := TerminationMessage(done); got != env.release.CLIPullSpec {
		t.Errorf("termination message = %q", got)
	}
	if diff := cmp.Diff(map[string]int{testNamespace + "/" + testPod: 2}, env.created()); diff != "" {
		t.Errorf("pods created (-want +got):\n%s", diff)
	}
}

func TestRunStalls(t *testing.T) {
	testCases := []struct {
		name  string
		fault *fakeopenshift.PodFault
		image func(env *podEnv) string
		want  string
	}{
		{
			name:  "a pod that runs forever",
			fault: &fakeopenshift.PodFault{NamePrefix: testPod, Action: fakeopenshift.PodHang},
			want:  "(phase Running)",
		},
		{
			name: "an image that cannot be pulled",
			image: func(env *podEnv) string {
				return strings.Replace(env.release.DigestPullSpec, "sha256:", "sha256:0", 1)[:len(env.release.DigestPullSpec)]
			},
			want: "(phase Pending, ErrImagePull:",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newPodEnv(t)
			if tc.fault != nil {
				env.cluster.InjectPodFault(*tc.fault)
			}
			pod := env.cliPod()
			if tc.image != nil {
				pod.Spec.Containers[0].Image = tc.image(env)
			}
			const stall = 300 * time.Millisecond
			start := time.Now()
			_, err := Run(t.Context(), env.cluster.Client("caller"), pod, WithStallTimeout(stall))
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if elapsed := time.Since(start); elapsed < stall || elapsed > 10*stall {
				t.Errorf("Run gave up after %s, want about %s", elapsed, stall)
			}
			for _, want := range []string{testNamespace + "/" + testPod, "made no progress for 300ms", tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if got := env.podDeletes(); got != 0 {
				t.Errorf("%d pods deleted, want none", got)
			}
		})
	}
}

func TestCancelledCallerDeletesNothing(t *testing.T) {
	env := newPodEnv(t)
	env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: testPod, Action: fakeopenshift.PodHang})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := Run(ctx, env.cluster.Client("caller"), env.cliPod(), WithObserver(func(ev Event) {
		if ev.Phase == corev1.PodRunning {
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	stats := env.cluster.Stats()
	if n := stats.Requests[fakeopenshift.RequestKey{Process: "caller", Verb: "delete", Kind: "Pod"}]; n != 0 {
		t.Errorf("the cancelled caller made %d delete requests", n)
	}
	pod := &corev1.Pod{}
	if err := env.cluster.Client("checker").Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: testPod}, pod); err != nil {
		t.Errorf("the pod is gone: %v", err)
	}
}

// TestUnstartablePodFailsAtOnce: a pod whose image reference does not parse
// never starts; Run says so at once instead of waiting out the stall
// timeout, and deletes nothing.
func TestUnstartablePodFailsAtOnce(t *testing.T) {
	env := newPodEnv(t)
	pod := env.cliPod()
	pod.Spec.Containers[0].Image = "registry.fake.openshift.test/ocp/Release:not-valid"
	start := time.Now()
	_, err := Run(t.Context(), env.cluster.Client("caller"), pod, WithStallTimeout(time.Minute))
	var failed *FailedError
	if !errors.As(err, &failed) || failed.Reason != "InvalidImageName" {
		t.Fatalf("Run: %v, want a *FailedError with reason InvalidImageName", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Run took %s to fail, want far less than the stall timeout", elapsed)
	}
	if got := env.podDeletes(); got != 0 {
		t.Errorf("%d pods deleted, want none", got)
	}
	if got := env.created()[testNamespace+"/"+testPod]; got != 1 {
		t.Errorf("pod created %d times, want once", got)
	}
}
