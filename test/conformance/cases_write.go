package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// testNoOpUpdate: an update that changes nothing is not a write.
func testNoOpUpdate(t *testing.T, env Env) {
	create(t, env, newStream(env.Namespace, "stream", referenceTag("a1", 1)))
	before := getStream(t, env, "stream")
	same := before.DeepCopy()
	if err := env.Client.Update(ctx(t), same, owner); err != nil {
		t.Fatalf("no-op update: %v", err)
	}
	after := getStream(t, env, "stream")
	if same.ResourceVersion != before.ResourceVersion || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("a no-op update changed the resourceVersion: %s -> answer %s, stored %s", before.ResourceVersion, same.ResourceVersion, after.ResourceVersion)
	}
	if after.Generation != before.Generation {
		t.Errorf("a no-op update changed the generation: %d -> %d", before.Generation, after.Generation)
	}
}

// testNoOpApply: re-applying the same intent by the same manager is not a
// write; a changed intent is, and bumps the generation.
func testNoOpApply(t *testing.T, env Env) {
	apply := func(version int) *imagev1.ImageStream {
		t.Helper()
		if err := env.Client.Apply(ctx(t), applyStream(env.Namespace, "stream", applyTag("a1", version)), ctrlruntimeclient.FieldOwner("step")); err != nil {
			t.Fatalf("apply: %v", err)
		}
		return getStream(t, env, "stream")
	}
	first := apply(1)
	again := apply(1)
	if again.ResourceVersion != first.ResourceVersion || again.Generation != first.Generation {
		t.Errorf("a no-op apply wrote: resourceVersion %s -> %s, generation %d -> %d", first.ResourceVersion, again.ResourceVersion, first.Generation, again.Generation)
	}
	changed := apply(2)
	if changed.ResourceVersion == first.ResourceVersion {
		t.Errorf("a changed apply kept resourceVersion %s", first.ResourceVersion)
	}
	if changed.Generation <= first.Generation {
		t.Errorf("a changed apply did not bump the generation: %d -> %d", first.Generation, changed.Generation)
	}
}

// testApplyMerge: spec.tags is a list map keyed by name, so managers own
// their own tags; a manager dropping a tag from its intent deletes only it.
func testApplyMerge(t *testing.T, env Env) {
	apply := func(manager string, tags ...string) {
		t.Helper()
		ac := applyStream(env.Namespace, "stream")
		for _, tag := range tags {
			ac.Spec.WithTags(applyTag(tag, 1))
		}
		if err := env.Client.Apply(ctx(t), ac, ctrlruntimeclient.FieldOwner(manager)); err != nil {
			t.Fatalf("apply by %s: %v", manager, err)
		}
	}
	apply("manager-a", "a1", "a2")
	apply("manager-b", "b1")
	got := getStream(t, env, "stream")
	want := map[string]string{"a1": pullSpec("a1", 1), "a2": pullSpec("a2", 1), "b1": pullSpec("b1", 1)}
	if diff := cmp.Diff(want, specTags(got)); diff != "" {
		t.Errorf("tags after two managers applied (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"manager-a/Apply/", "manager-b/Apply/"}, managers(got)); diff != "" {
		t.Errorf("managers (-want +got):\n%s", diff)
	}
	apply("manager-a", "a2")
	delete(want, "a1")
	if diff := cmp.Diff(want, specTags(getStream(t, env, "stream"))); diff != "" {
		t.Errorf("tags after manager-a dropped a1 (-want +got):\n%s", diff)
	}
}

// testApplyConflict: applying another manager's value without force is a
// 409 naming the field; with force it takes the field over.
func testApplyConflict(t *testing.T, env Env) {
	apply := func(manager string, version int, opts ...ctrlruntimeclient.ApplyOption) error {
		opts = append(opts, ctrlruntimeclient.FieldOwner(manager))
		return env.Client.Apply(ctx(t), applyStream(env.Namespace, "stream", applyTag("a1", version)), opts...)
	}
	if err := apply("manager-a", 1); err != nil {
		t.Fatalf("apply by manager-a: %v", err)
	}
	before := getStream(t, env, "stream")
	err := apply("manager-b", 2)
	if !apierrors.IsConflict(err) {
		t.Fatalf("apply of another manager's field without force: want a conflict, got %v", err)
	}
	if want := `conflict with "manager-a"`; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `.spec.tags[name="a1"].from`) {
		t.Errorf("conflict %q does not name manager-a and .spec.tags[name=\"a1\"].from", err)
	}
	if after := getStream(t, env, "stream"); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("a conflicting apply wrote: resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
	}
	if err := apply("manager-b", 2, ctrlruntimeclient.ForceOwnership); err != nil {
		t.Fatalf("forced apply by manager-b: %v", err)
	}
	if got := specTags(getStream(t, env, "stream"))["a1"]; got != pullSpec("a1", 2) {
		t.Errorf("after a forced apply a1 is %q, want %q", got, pullSpec("a1", 2))
	}
	if err := apply("manager-a", 1); !apierrors.IsConflict(err) {
		t.Errorf("apply by the manager that lost the field: want a conflict, got %v", err)
	}
}

// testStatusSubresource: the main resource ignores status and the status
// subresource ignores spec; a write that is ignored whole is a no-op.
// (openshift-apiserver itself records status events for reference tags, a
// custom resource does not: the case compares status before and after.)
func testStatusSubresource(t *testing.T, env Env) {
	create(t, env, newStream(env.Namespace, "stream", referenceTag("a1", 1)))
	before := getStream(t, env, "stream")
	event := imagev1.TagEvent{Created: metav1.NewTime(time.Unix(1700000000, 0).UTC()), DockerImageReference: pullSpec("a1", 1), Image: "sha256:" + strings.Repeat("a", 64), Generation: before.Generation}
	withStatus := before.DeepCopy()
	withStatus.Status.Tags = []imagev1.NamedTagEventList{{Tag: "a1", Items: []imagev1.TagEvent{event}}}
	if err := env.Client.Update(ctx(t), withStatus.DeepCopy(), owner); err != nil {
		t.Fatalf("update of status through the main resource: %v", err)
	}
	after := getStream(t, env, "stream")
	if diff := cmp.Diff(before.Status, after.Status); diff != "" || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the main resource wrote status: resourceVersion %s -> %s, status (-before +after):\n%s", before.ResourceVersion, after.ResourceVersion, diff)
	}
	withStatus.Spec.Tags = append(withStatus.Spec.Tags, referenceTag("a2", 1))
	if err := env.Client.Status().Update(ctx(t), withStatus, ctrlruntimeclient.FieldOwner("controller")); err != nil {
		t.Fatalf("status update: %v", err)
	}
	after = getStream(t, env, "stream")
	if items := statusItems(after, "a1"); len(items) == 0 || !cmp.Equal(event, items[0]) {
		t.Errorf("status of a1 after a status update: want %+v first, got %+v", event, items)
	}
	if _, ok := specTags(after)["a2"]; ok || after.Generation != before.Generation {
		t.Errorf("the status subresource wrote spec: tags %v, generation %d -> %d", specTags(after), before.Generation, after.Generation)
	}
}

func statusItems(is *imagev1.ImageStream, tag string) []imagev1.TagEvent {
	for _, list := range is.Status.Tags {
		if list.Tag == tag {
			return list.Items
		}
	}
	return nil
}

// testConditionalPatch: a merge patch carrying a resourceVersion is refused
// with 409 when the object has moved on, and changes nothing.
func testConditionalPatch(t *testing.T, env Env) {
	create(t, env, newStream(env.Namespace, "stream", referenceTag("a1", 1)))
	stale := getStream(t, env, "stream")
	moved := stale.DeepCopy()
	moved.Annotations = map[string]string{"moved": "true"}
	if err := env.Client.Update(ctx(t), moved, owner); err != nil {
		t.Fatalf("update: %v", err)
	}
	patched := stale.DeepCopy()
	patched.Annotations = map[string]string{"patched": "true"}
	patch := ctrlruntimeclient.MergeFromWithOptions(stale, ctrlruntimeclient.MergeFromWithOptimisticLock{})
	if err := env.Client.Patch(ctx(t), patched, patch, owner); !apierrors.IsConflict(err) {
		t.Fatalf("merge patch from a stale resourceVersion: want a conflict, got %v", err)
	}
	got := getStream(t, env, "stream")
	if diff := cmp.Diff(map[string]string{"moved": "true"}, got.Annotations); diff != "" {
		t.Errorf("annotations after a refused patch (-want +got):\n%s", diff)
	}
	fresh := got.DeepCopy()
	fresh.Annotations["patched"] = "true"
	if err := env.Client.Patch(ctx(t), fresh, ctrlruntimeclient.MergeFromWithOptions(got, ctrlruntimeclient.MergeFromWithOptimisticLock{}), owner); err != nil {
		t.Fatalf("merge patch from the current resourceVersion: %v", err)
	}
	if fresh.ResourceVersion == got.ResourceVersion {
		t.Errorf("a conditional patch that changed the object kept resourceVersion %s", got.ResourceVersion)
	}
}
