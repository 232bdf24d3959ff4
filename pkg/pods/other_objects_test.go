package pods

import (
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/internal/testclient"
)

// TestRunIgnoresOtherPods: on a server that sends the events of other pods,
// Run judges only its own: another pod that failed, or that is deleted
// meanwhile, changes nothing.
func TestRunIgnoresOtherPods(t *testing.T) {
	env := newPodEnv(t)
	defer env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: "other-failed", Action: fakeopenshift.PodFail})()
	setup := env.cluster.Client("setup")
	others := map[string]*corev1.Pod{}
	for _, name := range []string{"other-failed", "other-deleted"} {
		other := env.cliPod()
		other.Name = name
		if err := setup.Create(t.Context(), other); err != nil {
			t.Fatal(err)
		}
		others[name] = other
	}
	client := testclient.SelectorBlind(env.cluster.Client("step"))
	var seen events
	var deleteOnce sync.Once
	done, err := Run(t.Context(), client, env.cliPod(), WithObserver(func(ev Event) {
		seen.observe(ev)
		if ev.Pod != nil && ev.Pod.Name != testPod {
			t.Errorf("Run reported an event of pod %s", ev.Pod.Name)
		}
		// Another pod goes away while Run waits for its own.
		deleteOnce.Do(func() {
			if err := setup.Delete(t.Context(), others["other-deleted"], ctrlruntimeclient.GracePeriodSeconds(0)); err != nil {
				t.Errorf("could not delete the other pod: %v", err)
			}
		})
	}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if done.Name != testPod || done.Status.Phase != corev1.PodSucceeded {
		t.Errorf("Run returned pod %s in phase %s, want %s Succeeded", done.Name, done.Status.Phase, testPod)
	}
	if seen.replaced != 0 {
		t.Errorf("Run replaced its pod %d times because of other pods", seen.replaced)
	}
	if n := env.created()[testNamespace+"/"+testPod]; n != 1 {
		t.Errorf("pod %s created %d times, want once", testPod, n)
	}
}
