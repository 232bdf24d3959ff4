package conformance

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// testDeleteUIDPrecondition: a delete conditional on a UID fails with 409
// when the name now holds another object, and leaves that object alone.
func testDeleteUIDPrecondition(t *testing.T, env Env) {
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace, Name: "config"}, Data: map[string]string{"v": "1"}}
	create(t, env, old)
	oldUID := old.UID
	if err := env.Client.Delete(ctx(t), old); err != nil {
		t.Fatalf("delete: %v", err)
	}
	current := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace, Name: "config"}, Data: map[string]string{"v": "2"}}
	create(t, env, current)
	if current.UID == oldUID {
		t.Fatalf("a re-created object kept UID %s", oldUID)
	}
	err := env.Client.Delete(ctx(t), current.DeepCopy(), ctrlruntimeclient.Preconditions{UID: &oldUID})
	if !apierrors.IsConflict(err) {
		t.Fatalf("delete with the old UID: want a conflict, got %v", err)
	}
	live := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx(t), ctrlruntimeclient.ObjectKeyFromObject(current), live); err != nil || live.UID != current.UID {
		t.Fatalf("after a refused delete: got UID %s, err %v; want UID %s", live.UID, err, current.UID)
	}
	uid := current.UID
	if err := env.Client.Delete(ctx(t), current, ctrlruntimeclient.Preconditions{UID: &uid}); err != nil {
		t.Fatalf("delete with the current UID: %v", err)
	}
	if err := env.Client.Get(ctx(t), ctrlruntimeclient.ObjectKeyFromObject(current), live); !apierrors.IsNotFound(err) {
		t.Errorf("after a delete with the current UID: want NotFound, got %v", err)
	}
}

// watchPod watches one pod from resourceVersion.
func watchPod(t *testing.T, env Env, name, resourceVersion string) watch.Interface {
	t.Helper()
	w, err := env.Client.Watch(ctx(t), &corev1.PodList{}, ctrlruntimeclient.InNamespace(env.Namespace),
		ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)},
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
	if err != nil {
		t.Fatalf("watch pod %s: %v", name, err)
	}
	t.Cleanup(w.Stop)
	return w
}

// testGracefulPodDeletion: deleting a pod bound to a node only marks it
// (deletionTimestamp, grace period) until the kubelet, or a delete with
// grace period 0, removes it; meanwhile its name is taken.
func testGracefulPodDeletion(t *testing.T, env Env) {
	pod := newPod(env.Namespace, "scheduled", "node-1")
	create(t, env, pod)
	w := watchPod(t, env, pod.Name, pod.ResourceVersion)
	if err := env.Client.Delete(ctx(t), pod.DeepCopy()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	ev := nextEvent(t, w)
	marked := eventObject(t, ev)
	if ev.Type != watch.Modified || marked.GetDeletionTimestamp() == nil {
		t.Fatalf("first event after deleting a scheduled pod: want MODIFIED with a deletionTimestamp, got %s with deletionTimestamp %v", ev.Type, marked.GetDeletionTimestamp())
	}
	if grace := marked.GetDeletionGracePeriodSeconds(); grace == nil || *grace <= 0 {
		t.Errorf("deletionGracePeriodSeconds of a terminating pod: want > 0, got %v", grace)
	}
	if err := env.Client.Create(ctx(t), newPod(env.Namespace, pod.Name, "node-1"), owner); !apierrors.IsAlreadyExists(err) {
		t.Errorf("create of a terminating pod's name: want AlreadyExists, got %v", err)
	}
	// Finish the deletion as a kubelet does; a backend's own kubelet may
	// have done so already.
	if err := env.Client.Delete(ctx(t), pod.DeepCopy(), ctrlruntimeclient.GracePeriodSeconds(0)); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("delete with grace period 0: %v", err)
	}
	for {
		ev := nextEvent(t, w)
		obj := eventObject(t, ev)
		if ev.Type == watch.Deleted {
			break
		}
		if ev.Type != watch.Modified || obj.GetDeletionTimestamp() == nil {
			t.Fatalf("event while the pod terminates: %s with deletionTimestamp %v", ev.Type, obj.GetDeletionTimestamp())
		}
	}
	if err := env.Client.Get(ctx(t), ctrlruntimeclient.ObjectKeyFromObject(pod), &corev1.Pod{}); !apierrors.IsNotFound(err) {
		t.Errorf("after the deletion finished: want NotFound, got %v", err)
	}
}

// testUnscheduledPodDelete: a pod no node runs is removed at once.
func testUnscheduledPodDelete(t *testing.T, env Env) {
	pod := newPod(env.Namespace, "unscheduled", "")
	create(t, env, pod)
	w := watchPod(t, env, pod.Name, pod.ResourceVersion)
	if err := env.Client.Delete(ctx(t), pod.DeepCopy()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	// kube-apiserver marks the pod (deletionTimestamp, grace period 0) in
	// one write and removes it in the next; the fake removes it at once.
	for ev := nextEvent(t, w); ev.Type != watch.Deleted; ev = nextEvent(t, w) {
		obj := eventObject(t, ev)
		if grace := obj.GetDeletionGracePeriodSeconds(); ev.Type != watch.Modified || grace == nil || *grace != 0 {
			t.Fatalf("event after deleting an unscheduled pod: want DELETED, or MODIFIED with grace period 0, got %s with grace period %v", ev.Type, grace)
		}
	}
	if err := env.Client.Get(ctx(t), ctrlruntimeclient.ObjectKeyFromObject(pod), &corev1.Pod{}); !apierrors.IsNotFound(err) {
		t.Errorf("after deleting an unscheduled pod: want NotFound, got %v", err)
	}
}
