package conformance

import (
	"fmt"
	"sort"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// owner is the field manager of writes that are not about managers.
const owner = ctrlruntimeclient.FieldOwner("conformance")

// eventTimeout bounds the wait for one watch event.
const eventTimeout = 30 * time.Second

// pullSpec is the pull spec of tag name; version tells versions apart.
func pullSpec(name string, version int) string {
	return fmt.Sprintf("registry.conformance.test/ns/%s:%d", name, version)
}

// referenceTag is a tag that points at a pull spec without importing it, so
// no import controller writes the stream behind the case's back.
func referenceTag(name string, version int) imagev1.TagReference {
	return imagev1.TagReference{
		Name:      name,
		From:      &corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec(name, version)},
		Reference: true,
	}
}

func newStream(namespace, name string, tags ...imagev1.TagReference) *imagev1.ImageStream {
	return &imagev1.ImageStream{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       imagev1.ImageStreamSpec{Tags: tags},
	}
}

// applyTag is the apply configuration of a reference tag.
func applyTag(name string, version int) *imagev1apply.TagReferenceApplyConfiguration {
	return imagev1apply.TagReference().WithName(name).WithReference(true).
		WithFrom(corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec(name, version)})
}

func applyStream(namespace, name string, tags ...*imagev1apply.TagReferenceApplyConfiguration) *imagev1apply.ImageStreamApplyConfiguration {
	return imagev1apply.ImageStream(name, namespace).WithSpec(imagev1apply.ImageStreamSpec().WithTags(tags...))
}

// newPod is a pod that no kubelet will start; nodeName says whether a
// scheduler has bound it.
func newPod(namespace, name, nodeName string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{
			NodeName:      nodeName,
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: "registry.conformance.test/ns/pause:1"}},
		},
	}
}

func getStream(t *testing.T, env Env, name string) *imagev1.ImageStream {
	t.Helper()
	is := &imagev1.ImageStream{}
	if err := env.Client.Get(ctx(t), ctrlruntimeclient.ObjectKey{Namespace: env.Namespace, Name: name}, is); err != nil {
		t.Fatalf("could not get image stream %s/%s: %v", env.Namespace, name, err)
	}
	return is
}

func create(t *testing.T, env Env, obj ctrlruntimeclient.Object) {
	t.Helper()
	if err := env.Client.Create(ctx(t), obj, owner); err != nil {
		t.Fatalf("could not create %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

// specTags maps the stream's spec tags to their pull specs.
func specTags(is *imagev1.ImageStream) map[string]string {
	tags := map[string]string{}
	for _, tag := range is.Spec.Tags {
		if tag.From != nil {
			tags[tag.Name] = tag.From.Name
		} else {
			tags[tag.Name] = ""
		}
	}
	return tags
}

// managers lists the field managers of obj's managed fields.
func managers(obj metav1.Object) []string {
	var names []string
	for _, entry := range obj.GetManagedFields() {
		names = append(names, entry.Manager+"/"+string(entry.Operation)+"/"+entry.Subresource)
	}
	sort.Strings(names)
	return names
}

// nextEvent waits for w's next event.
func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("the watch ended before the expected event")
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatalf("no watch event in %s", eventTimeout)
	}
	return watch.Event{}
}

// noEvent fails if w delivers an event within wait.
func noEvent(t *testing.T, w watch.Interface, wait time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if ok {
			t.Fatalf("unexpected watch event %s %T", ev.Type, ev.Object)
		}
	case <-time.After(wait):
	}
}

// eventObject is the metadata of an event's object, failing on error events.
func eventObject(t *testing.T, ev watch.Event) metav1.Object {
	t.Helper()
	if ev.Type == watch.Error {
		t.Fatalf("watch error: %v", apierrors.FromObject(ev.Object))
	}
	obj, ok := ev.Object.(metav1.Object)
	if !ok {
		t.Fatalf("watch event %s carries %T", ev.Type, ev.Object)
	}
	return obj
}
