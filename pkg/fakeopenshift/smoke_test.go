package fakeopenshift

import (
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	corev1 "k8s.io/api/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

func TestSmoke(t *testing.T) {
	c := New(t.Context())
	rel := c.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000")
	cl := c.Client("shard-0")
	newAC := func() *imagev1apply.ImageStreamApplyConfiguration {
		return imagev1apply.ImageStream("release", "ns").WithSpec(imagev1apply.ImageStreamSpec().WithTags(
			imagev1apply.TagReference().WithName("latest").WithFrom(corev1.ObjectReference{Kind: "DockerImage", Name: rel.PullSpec}).
				WithImportPolicy(imagev1apply.TagImportPolicy().WithImportMode(imagev1.ImportModePreserveOriginal)).
				WithReferencePolicy(imagev1apply.TagReferencePolicy().WithType(imagev1.SourceTagReferencePolicy))))
	}
	ac := newAC()
	if err := cl.Apply(t.Context(), ac, ctrlruntimeclient.FieldOwner("step"), ctrlruntimeclient.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	t.Logf("rv after apply %s gen %d", *ac.ResourceVersion, *ac.Generation)
	ac = newAC()
	if err := cl.Apply(t.Context(), ac, ctrlruntimeclient.FieldOwner("step"), ctrlruntimeclient.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	t.Logf("rv after re-apply %s", *ac.ResourceVersion)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		is := &imagev1.ImageStream{}
		if err := cl.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: "ns", Name: "release"}, is); err != nil {
			t.Fatal(err)
		}
		if len(is.Status.Tags) > 0 {
			t.Logf("imported: gen %d tags %+v status %+v", is.Generation, is.Spec.Tags, is.Status.Tags)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Log(c.Stats().Report())
	_ = corev1.Pod{}
}
