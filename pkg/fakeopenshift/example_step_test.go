package fakeopenshift_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// promoteStep is a stand-in for another ci-operator step: it tags the image
// a pipeline build produced into the stable stream, as ci-tools' promotion
// does, by reading the pipeline stream and updating the stable one.
type promoteStep struct {
	client    ctrlruntimeclient.Client
	namespace string
	tag       string
}

func (s *promoteStep) Run(ctx context.Context) error {
	pipeline := &imagev1.ImageStream{}
	if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: s.namespace, Name: "pipeline"}, pipeline); err != nil {
		return fmt.Errorf("could not read image stream %s/pipeline: %w", s.namespace, err)
	}
	var image string
	for _, tag := range pipeline.Status.Tags {
		if tag.Tag == s.tag && len(tag.Items) > 0 {
			image = tag.Items[0].DockerImageReference
		}
	}
	if image == "" {
		return fmt.Errorf("pipeline:%s has no image", s.tag)
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		stable := &imagev1.ImageStream{}
		if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: s.namespace, Name: "stable"}, stable); err != nil {
			return err
		}
		ref := imagev1.TagReference{Name: s.tag, From: &corev1.ObjectReference{Kind: "DockerImage", Name: image}}
		for i := range stable.Spec.Tags {
			if stable.Spec.Tags[i].Name == s.tag {
				stable.Spec.Tags[i] = ref
				return s.client.Update(ctx, stable)
			}
		}
		stable.Spec.Tags = append(stable.Spec.Tags, ref)
		return s.client.Update(ctx, stable)
	})
}

// TestPromoteStepOnTheFake is a ci-tools-style unit test of another step on
// the fake: the cluster is seeded with WithObjects (a pipeline stream whose
// tag is already imported), the client is wrapped with controller-runtime's
// interceptor to inject a conflict, and the test asserts on the stored
// objects and the fake's counters.
func TestPromoteStepOnTheFake(t *testing.T) {
	const ns = "ci-op-example"
	pipeline := &imagev1.ImageStream{
		ObjectMeta: metav1.ObjectMeta{Name: "pipeline", Namespace: ns},
		Spec:       imagev1.ImageStreamSpec{Tags: []imagev1.TagReference{{Name: "src", From: &corev1.ObjectReference{Kind: "DockerImage", Name: "quay.io/example/src:latest"}, Reference: true}}},
		Status: imagev1.ImageStreamStatus{Tags: []imagev1.NamedTagEventList{{Tag: "src", Items: []imagev1.TagEvent{{
			DockerImageReference: "quay.io/example/src@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Image:                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Generation: 1,
		}}}}},
	}
	stable := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Name: "stable", Namespace: ns}}
	cluster := fakeopenshift.New(t.Context(), fakeopenshift.WithLatency(fakeopenshift.Latency{}), fakeopenshift.WithObjects(pipeline, stable))
	t.Cleanup(cluster.Stop)
	// The test is about the promotion's write: an import of the promoted
	// tag by the controller would bump its generation again (as
	// openshift-apiserver's import does) whenever it beats the read below.
	cluster.StickImportController()

	conflicts := 0
	client := interceptor.NewClient(cluster.Client("promote"), interceptor.Funcs{
		Update: func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
			if conflicts == 0 {
				conflicts++
				return apierrors.NewConflict(schema.GroupResource{Group: imagev1.GroupName, Resource: "imagestreams"}, obj.GetName(), fmt.Errorf("injected"))
			}
			return c.Update(ctx, obj, opts...)
		},
	})
	step := &promoteStep{client: client, namespace: ns, tag: "src"}
	if err := step.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}

	got := &imagev1.ImageStream{}
	if err := client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: ns, Name: "stable"}, got); err != nil {
		t.Fatal(err)
	}
	want := []imagev1.TagReference{{
		Name: "src", From: &corev1.ObjectReference{Kind: "DockerImage", Name: pipeline.Status.Tags[0].Items[0].DockerImageReference},
		Generation:      ptr(int64(2)),
		ImportPolicy:    imagev1.TagImportPolicy{ImportMode: imagev1.ImportModeLegacy},
		ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy},
	}}
	if diff := cmp.Diff(want, got.Spec.Tags); diff != "" {
		t.Errorf("stable tags (-want +got):\n%s", diff)
	}
	stats := cluster.Stats()
	isPromote := func(p string) bool { return p == "promote" }
	if conflicts != 1 || stats.WritesBy(isPromote) != 1 {
		t.Errorf("%d conflicts injected, %d writes; want the retry to write once", conflicts, stats.WritesBy(isPromote))
	}
}

func ptr[T any](v T) *T { return &v }
