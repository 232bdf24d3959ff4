package conformance

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// quiet is how long a case waits to see that no further event comes.
const quiet = 300 * time.Millisecond

// watchStream watches one image stream from resourceVersion.
func watchStream(t *testing.T, env Env, name, resourceVersion string) (watch.Interface, error) {
	w, err := env.Client.Watch(ctx(t), &imagev1.ImageStreamList{}, ctrlruntimeclient.InNamespace(env.Namespace),
		ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)},
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
	if err == nil {
		t.Cleanup(w.Stop)
	}
	return w, err
}

// annotate writes annotation n to a stream and returns its resourceVersion.
func annotate(t *testing.T, env Env, name, value string) string {
	t.Helper()
	is := getStream(t, env, name)
	if is.Annotations == nil {
		is.Annotations = map[string]string{}
	}
	is.Annotations["n"] = value
	if err := env.Client.Update(ctx(t), is, owner); err != nil {
		t.Fatalf("update of %s: %v", name, err)
	}
	return is.ResourceVersion
}

// testWatchFromResourceVersion: a watch from a resourceVersion delivers
// exactly the later changes of the selected object, in order.
func testWatchFromResourceVersion(t *testing.T, env Env) {
	watched := newStream(env.Namespace, "watched", referenceTag("a1", 1))
	create(t, env, watched)
	create(t, env, newStream(env.Namespace, "other", referenceTag("a1", 1)))
	want := []string{annotate(t, env, "watched", "1")}
	annotate(t, env, "other", "1")
	want = append(want, annotate(t, env, "watched", "2"))
	w, err := watchStream(t, env, "watched", watched.ResourceVersion)
	if err != nil {
		t.Fatalf("watch from resourceVersion %s: %v", watched.ResourceVersion, err)
	}
	var got []string
	for range want {
		ev := nextEvent(t, w)
		obj := eventObject(t, ev)
		if ev.Type != watch.Modified || obj.GetName() != "watched" {
			t.Fatalf("event %s of %s, want MODIFIED of watched", ev.Type, obj.GetName())
		}
		got = append(got, obj.GetResourceVersion())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resourceVersions of the events (-want +got):\n%s", diff)
	}
	noEvent(t, w, quiet)
}

// testWatchGone: after compaction a watch from an old resourceVersion is
// refused with 410 Gone (Expired), before or as its first event.
func testWatchGone(t *testing.T, env Env) {
	is := newStream(env.Namespace, "stream", referenceTag("a1", 1))
	create(t, env, is)
	annotate(t, env, "stream", "1")
	env.ExpireWatchHistory(t)
	w, err := watchStream(t, env, "stream", is.ResourceVersion)
	if err == nil {
		ev := nextEvent(t, w)
		if ev.Type != watch.Error {
			t.Fatalf("watch from a compacted resourceVersion: want an error, got event %s", ev.Type)
		}
		err = apierrors.FromObject(ev.Object)
		t.Logf("the backend refused the watch with an ERROR event: %v", err)
	} else {
		t.Logf("the backend refused the watch request: %v", err)
	}
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Fatalf("watch from a compacted resourceVersion: want 410 Gone or Expired, got %v", err)
	}
	if code := apierrors.ReasonForError(err); code != metav1.StatusReasonExpired && code != metav1.StatusReasonGone {
		t.Errorf("reason %s", code)
	}
	// The client recovers as a reflector does: list, then watch from there.
	list := &imagev1.ImageStreamList{}
	if err := env.Client.List(ctx(t), list, ctrlruntimeclient.InNamespace(env.Namespace)); err != nil {
		t.Fatalf("list: %v", err)
	}
	if _, err := watchStream(t, env, "stream", list.ResourceVersion); err != nil {
		t.Errorf("watch from the list's resourceVersion %s: %v", list.ResourceVersion, err)
	}
}

// testFieldSelector: metadata.name selects one object in lists, for image
// streams and pods.
func testFieldSelector(t *testing.T, env Env) {
	for _, name := range []string{"one", "two", "one-more"} {
		create(t, env, newStream(env.Namespace, name, referenceTag("a1", 1)))
		create(t, env, newPod(env.Namespace, name, ""))
	}
	selector := ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", "one")}
	streams := &imagev1.ImageStreamList{}
	if err := env.Client.List(ctx(t), streams, ctrlruntimeclient.InNamespace(env.Namespace), selector); err != nil {
		t.Fatalf("list image streams: %v", err)
	}
	pods := &corev1.PodList{}
	if err := env.Client.List(ctx(t), pods, ctrlruntimeclient.InNamespace(env.Namespace), selector); err != nil {
		t.Fatalf("list pods: %v", err)
	}
	var got []string
	for _, is := range streams.Items {
		got = append(got, "ImageStream/"+is.Name)
	}
	for _, pod := range pods.Items {
		got = append(got, "Pod/"+pod.Name)
	}
	if diff := cmp.Diff([]string{"ImageStream/one", "Pod/one"}, got); diff != "" {
		t.Errorf("objects selected by metadata.name=one (-want +got):\n%s", diff)
	}
	if streams.ResourceVersion == "" || pods.ResourceVersion == "" {
		t.Errorf("lists carry no resourceVersion: image streams %q, pods %q", streams.ResourceVersion, pods.ResourceVersion)
	}
}
