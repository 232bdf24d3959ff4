package fakeopenshift

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// testNamespace is where the tests put their objects.
const testNamespace = "ci-op-test"

// waitTimeout only guards against a hang: every wait ends on an event.
const waitTimeout = 10 * time.Second

// newTestCluster starts a cluster without latency whose controllers stop when
// the test ends.
func newTestCluster(t *testing.T, opts ...Option) *Cluster {
	t.Helper()
	c := New(t.Context(), append([]Option{WithLatency(Latency{})}, opts...)...)
	t.Cleanup(c.Stop)
	return c
}

// newStoreOnlyCluster returns a cluster whose import controller and kubelet
// are stopped, so that only the test writes: generations and
// resourceVersions are then exact.
func newStoreOnlyCluster(t *testing.T) *Cluster {
	t.Helper()
	c := newTestCluster(t)
	c.Stop()
	return c
}

// addRelease generates a small release in the cluster's registry.
func addRelease(c *Cluster, images int) *registry.Release {
	return c.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(images))
}

// missingPullSpec names an image the registry does not have.
func missingPullSpec(n int) string {
	return fmt.Sprintf("%s/ocp/release-art-dev@sha256:%064x", registry.DefaultHost, n)
}

func dockerImage(pullSpec string) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec}
}

func dockerTag(name, pullSpec string) imagev1.TagReference {
	return imagev1.TagReference{Name: name, From: dockerImage(pullSpec)}
}

func newStream(name string, tags ...imagev1.TagReference) *imagev1.ImageStream {
	return &imagev1.ImageStream{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Spec:       imagev1.ImageStreamSpec{Tags: tags},
	}
}

func key(name string) ctrlruntimeclient.ObjectKey {
	return ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: name}
}

func createStream(t *testing.T, cl ctrlruntimeclient.Client, is *imagev1.ImageStream) *imagev1.ImageStream {
	t.Helper()
	if err := cl.Create(t.Context(), is); err != nil {
		t.Fatalf("could not create image stream %s: %v", is.Name, err)
	}
	return is
}

func getStream(t *testing.T, cl ctrlruntimeclient.Client, name string) *imagev1.ImageStream {
	t.Helper()
	is := &imagev1.ImageStream{}
	if err := cl.Get(t.Context(), key(name), is); err != nil {
		t.Fatalf("could not get image stream %s: %v", name, err)
	}
	return is
}

// updateStream reads the stream, changes it and writes it back.
func updateStream(t *testing.T, cl ctrlruntimeclient.Client, name string, mutate func(*imagev1.ImageStream)) *imagev1.ImageStream {
	t.Helper()
	is := getStream(t, cl, name)
	mutate(is)
	if err := cl.Update(t.Context(), is); err != nil {
		t.Fatalf("could not update image stream %s: %v", name, err)
	}
	return is
}

// specTagOf returns the spec tag or fails the test.
func specTagOf(t *testing.T, is *imagev1.ImageStream, name string) imagev1.TagReference {
	t.Helper()
	tag := specTag(is, name)
	if tag == nil {
		t.Fatalf("image stream %s has no spec tag %s: %+v", is.Name, name, is.Spec.Tags)
	}
	return *tag
}

// tagGeneration returns the spec tag's generation, -1 when it has none.
func tagGeneration(t *testing.T, is *imagev1.ImageStream, name string) int64 {
	t.Helper()
	tag := specTagOf(t, is, name)
	if tag.Generation == nil {
		return -1
	}
	return *tag.Generation
}

// statusTagOf returns the status tag, or an empty one.
func statusTagOf(is *imagev1.ImageStream, name string) imagev1.NamedTagEventList {
	for _, st := range is.Status.Tags {
		if st.Tag == name {
			return st
		}
	}
	return imagev1.NamedTagEventList{Tag: name}
}

// imported reports whether the tag's current spec generation was imported
// successfully: the done-ness rule of OPENSHIFT.md.
func imported(tag string) func(*imagev1.ImageStream) bool {
	return func(is *imagev1.ImageStream) bool {
		spec := specTag(is, tag)
		st := statusTagOf(is, tag)
		if spec == nil || spec.Generation == nil || len(st.Items) == 0 || len(st.Conditions) > 0 {
			return false
		}
		return st.Items[0].Generation >= *spec.Generation
	}
}

// importFailed reports whether an import of the tag's current spec generation
// failed.
func importFailed(tag string) func(*imagev1.ImageStream) bool {
	return func(is *imagev1.ImageStream) bool {
		spec := specTag(is, tag)
		if spec == nil || spec.Generation == nil {
			return false
		}
		for _, c := range statusTagOf(is, tag).Conditions {
			if c.Type == imagev1.ImportSuccess && c.Status == corev1.ConditionFalse && c.Generation >= *spec.Generation {
				return true
			}
		}
		return false
	}
}

func allOf(conds ...func(*imagev1.ImageStream) bool) func(*imagev1.ImageStream) bool {
	return func(is *imagev1.ImageStream) bool {
		for _, c := range conds {
			if !c(is) {
				return false
			}
		}
		return true
	}
}

// watchStreams watches the image streams of the test namespace from
// resourceVersion, narrowed to one name unless name is empty.
func watchStreams(t *testing.T, cl ctrlruntimeclient.WithWatch, name, resourceVersion string) watch.Interface {
	t.Helper()
	opts := []ctrlruntimeclient.ListOption{
		ctrlruntimeclient.InNamespace(testNamespace),
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}},
	}
	if name != "" {
		opts = append(opts, ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)})
	}
	w, err := cl.Watch(t.Context(), &imagev1.ImageStreamList{}, opts...)
	if err != nil {
		t.Fatalf("could not watch image streams: %v", err)
	}
	t.Cleanup(w.Stop)
	return w
}

// waitForStream watches the stream until cond holds and returns the stream
// as it was then.
func waitForStream(t *testing.T, cl ctrlruntimeclient.WithWatch, name, what string, cond func(*imagev1.ImageStream) bool) *imagev1.ImageStream {
	t.Helper()
	w := watchStreams(t, cl, name, "")
	defer w.Stop()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	var last *imagev1.ImageStream
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch of image stream %s closed while waiting for %s", name, what)
			}
			if ev.Type == watch.Deleted {
				continue
			}
			last = ev.Object.(*imagev1.ImageStream)
			if cond(last) {
				return last
			}
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s on image stream %s; last seen: spec %+v status %+v", what, name, specOrNil(last), statusOrNil(last))
		}
	}
}

func specOrNil(is *imagev1.ImageStream) any {
	if is == nil {
		return nil
	}
	return is.Spec.Tags
}

func statusOrNil(is *imagev1.ImageStream) any {
	if is == nil {
		return nil
	}
	return is.Status.Tags
}

// nextEvent returns the next event of w.
func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed unexpectedly")
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for a watch event")
	}
	return watch.Event{}
}

// expectEvent reads the next event and checks its type and object name.
func expectEvent(t *testing.T, w watch.Interface, typ watch.EventType, name string) ctrlruntimeclient.Object {
	t.Helper()
	ev := nextEvent(t, w)
	obj, ok := ev.Object.(ctrlruntimeclient.Object)
	if !ok {
		t.Fatalf("got %s event with %T, want %s of %s", ev.Type, ev.Object, typ, name)
	}
	if ev.Type != typ || obj.GetName() != name {
		t.Fatalf("got %s event for %s (rv %s), want %s for %s", ev.Type, obj.GetName(), obj.GetResourceVersion(), typ, name)
	}
	return obj
}

func rvOf(t *testing.T, obj metav1.Object) uint64 {
	t.Helper()
	rv, err := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q of %s is not a number: %v", obj.GetResourceVersion(), obj.GetName(), err)
	}
	return rv
}

// tagApply is an apply configuration of one DockerImage tag.
func tagApply(name, pullSpec string) *imagev1apply.TagReferenceApplyConfiguration {
	return imagev1apply.TagReference().WithName(name).WithFrom(corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec})
}

func streamApply(name string, tags ...*imagev1apply.TagReferenceApplyConfiguration) *imagev1apply.ImageStreamApplyConfiguration {
	return imagev1apply.ImageStream(name, testNamespace).WithSpec(imagev1apply.ImageStreamSpec().WithTags(tags...))
}

func applyAs(ctx context.Context, cl ctrlruntimeclient.Client, ac *imagev1apply.ImageStreamApplyConfiguration, manager string, force bool) error {
	opts := []ctrlruntimeclient.ApplyOption{ctrlruntimeclient.FieldOwner(manager)}
	if force {
		opts = append(opts, ctrlruntimeclient.ForceOwnership)
	}
	return cl.Apply(ctx, ac, opts...)
}

func ptrTo[T any](v T) *T { return &v }
