package fakeopenshift

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

func getPod(t *testing.T, cl ctrlruntimeclient.Client, name string) (*corev1.Pod, error) {
	t.Helper()
	pod := &corev1.Pod{}
	return pod, cl.Get(t.Context(), key(name), pod)
}

// TestGracefulPodDeletionMarksTerminating: on the apiserver alone (no
// kubelet) a bound, running pod is only marked Terminating; the grace period
// comes from the request, else the pod's spec (defaulted to 30s); a second
// delete may shorten it, never lengthen it; a create of the same name gets
// AlreadyExists. An unbound or finished pod, or a delete with grace 0, is
// removed at once.
func TestGracefulPodDeletionMarksTerminating(t *testing.T) {
	testCases := []struct {
		name       string
		bind       bool
		phase      corev1.PodPhase
		grace      []*int64 // one delete per entry
		wantGrace  *int64   // nil: the pod is gone
		wantEvents []watch.EventType
	}{
		{name: "spec default", bind: true, grace: []*int64{nil}, wantGrace: ptrTo[int64](30), wantEvents: []watch.EventType{watch.Modified}},
		{name: "from the request", bind: true, grace: []*int64{ptrTo[int64](5)}, wantGrace: ptrTo[int64](5), wantEvents: []watch.EventType{watch.Modified}},
		{name: "shortened, never lengthened", bind: true, grace: []*int64{ptrTo[int64](20), ptrTo[int64](3), ptrTo[int64](10)}, wantGrace: ptrTo[int64](3), wantEvents: []watch.EventType{watch.Modified, watch.Modified}},
		{name: "grace 0 deletes at once", bind: true, grace: []*int64{ptrTo[int64](0)}, wantEvents: []watch.EventType{watch.Deleted}},
		{name: "unbound pod deleted at once", grace: []*int64{nil}, wantEvents: []watch.EventType{watch.Deleted}},
		{name: "failed pod deleted at once", bind: true, phase: corev1.PodFailed, grace: []*int64{nil}, wantEvents: []watch.EventType{watch.Deleted}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			c := newStoreOnlyCluster(t)
			cl := c.Client("step")
			pod := createPod(t, cl, testPod("p"))
			if tc.bind && !c.bindPod(pod) {
				t.Fatal("could not bind the pod")
			}
			if tc.phase != "" {
				live, _ := getPod(t, cl, "p")
				live.Status.Phase = tc.phase
				if err := cl.Status().Update(ctx, live); err != nil {
					t.Fatal(err)
				}
			}
			live, _ := getPod(t, cl, "p")
			w := watchPodsFrom(t, cl, live.ResourceVersion)
			for _, g := range tc.grace {
				var opts []ctrlruntimeclient.DeleteOption
				if g != nil {
					opts = append(opts, ctrlruntimeclient.GracePeriodSeconds(*g))
				}
				if err := cl.Delete(ctx, pod, opts...); err != nil {
					t.Fatalf("delete: %v", err)
				}
			}
			var got []watch.EventType
			for range tc.wantEvents {
				got = append(got, nextEvent(t, w).Type)
			}
			if diff := cmp.Diff(tc.wantEvents, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			after, err := getPod(t, cl, "p")
			if tc.wantGrace == nil {
				if !apierrors.IsNotFound(err) {
					t.Errorf("pod still there (%v), want it gone", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if after.DeletionTimestamp == nil || !cmp.Equal(after.DeletionGracePeriodSeconds, tc.wantGrace) || after.Generation != live.Generation+1 {
				t.Errorf("terminating pod: deletionTimestamp %v, grace %v, generation %d; want grace %d, generation %d",
					after.DeletionTimestamp, ptrString(after.DeletionGracePeriodSeconds), after.Generation, *tc.wantGrace, live.Generation+1)
			}
			if err := cl.Create(ctx, testPod("p")); !apierrors.IsAlreadyExists(err) {
				t.Errorf("create of a Terminating pod's name: %v, want AlreadyExists", err)
			}
			// A client cannot clear the deletion mark.
			after.DeletionTimestamp = nil
			after.Labels = map[string]string{"touched": "true"}
			if err := cl.Update(ctx, after); err != nil || after.DeletionTimestamp == nil {
				t.Errorf("update of a Terminating pod: %v, deletionTimestamp %v", err, after.DeletionTimestamp)
			}
		})
	}
}

func ptrString(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func watchPodsFrom(t *testing.T, cl ctrlruntimeclient.WithWatch, rv string) watch.Interface {
	t.Helper()
	w, err := cl.Watch(t.Context(), &corev1.PodList{}, ctrlruntimeclient.InNamespace(testNamespace),
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// TestKubeletFinishesGracefulDeletion: the kubelet stops a Terminating pod's
// container and removes the pod, so watchers see MODIFIED with a
// deletionTimestamp, then DELETED; a container that ignores SIGTERM keeps the
// pod until the grace period (scaled by the latency profile) is over. Then a
// pod of the same name can be created (before, see
// TestGracefulPodDeletionMarksTerminating).
func TestKubeletFinishesGracefulDeletion(t *testing.T) {
	for _, hang := range []bool{false, true} {
		t.Run(map[bool]string{false: "container stops", true: "container ignores SIGTERM"}[hang], func(t *testing.T) {
			ctx := t.Context()
			c := newTestCluster(t, WithLatency(Latency{PodRun: time.Hour, TimeScale: 0.001}))
			rel := addRelease(c, 1)
			if hang {
				c.InjectPodFault(PodFault{Action: PodHang})
			}
			cl := c.Client("step")
			pod := createPod(t, cl, programPod("p", rel.PullSpec, "/usr/bin/cluster-version-operator", "image", "cli"))
			_, running := watchPod(t, cl, pod, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
			w := watchPodsFrom(t, cl, running.ResourceVersion)
			if err := cl.Delete(ctx, running); err != nil {
				t.Fatal(err)
			}
			first := nextEvent(t, w)
			if p := first.Object.(*corev1.Pod); first.Type != watch.Modified || p.DeletionTimestamp == nil || p.Spec.NodeName != NodeName {
				t.Fatalf("first event %s, deletionTimestamp %v, node %q; want MODIFIED with a deletionTimestamp on %s", first.Type, p.DeletionTimestamp, p.Spec.NodeName, NodeName)
			}
			if ev := nextEvent(t, w); ev.Type != watch.Deleted {
				t.Fatalf("then %s, want DELETED", ev.Type)
			}
			if err := cl.Create(ctx, programPod("p", rel.PullSpec, "true")); err != nil {
				t.Errorf("create after the pod is gone: %v", err)
			}
		})
	}
}
