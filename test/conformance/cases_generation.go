package conformance

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// testTagGenerations: openshift-apiserver's ImageStream strategy stamps
// generations (../shared OPENSHIFT.md "Generations"): create sets the stream
// and every tag to 1 whatever the client sent; an update bumps the stream
// only when the spec changes, and gives the new generation to a tag that is
// new, re-pointed (from.name, reference, importMode) or sent with
// generation 0; any other client-sent tag generation is ignored. The steps
// run in order on one stream.
func testTagGenerations(t *testing.T, env Env) {
	sent := func(v int64) *int64 { return &v }
	created := newStream(env.Namespace, "stream", referenceTag("a", 1), referenceTag("b", 1))
	created.Spec.Tags[0].Generation = sent(99)
	create(t, env, created)
	assertGenerations(t, env, "create", 1, map[string]int64{"a": 1, "b": 1})

	steps := []struct {
		name   string
		mutate func(is *imagev1.ImageStream)
		stream int64
		tags   map[string]int64
	}{
		{"tag generation 99 sent", func(is *imagev1.ImageStream) { is.Spec.Tags[0].Generation = sent(99) }, 1, map[string]int64{"a": 1, "b": 1}},
		{"tag annotation", func(is *imagev1.ImageStream) { is.Spec.Tags[0].Annotations = map[string]string{"note": "x"} }, 2, map[string]int64{"a": 1, "b": 1}},
		{"from.name", func(is *imagev1.ImageStream) { is.Spec.Tags[0].From.Name = pullSpec("a", 2) }, 3, map[string]int64{"a": 3, "b": 1}},
		{"new tag", func(is *imagev1.ImageStream) { is.Spec.Tags = append(is.Spec.Tags, referenceTag("c", 1)) }, 4, map[string]int64{"a": 3, "b": 1, "c": 4}},
		{"tag generation 0 sent", func(is *imagev1.ImageStream) { is.Spec.Tags[1].Generation = sent(0) }, 5, map[string]int64{"a": 3, "b": 5, "c": 4}},
		{"importMode", func(is *imagev1.ImageStream) {
			is.Spec.Tags[1].ImportPolicy.ImportMode = imagev1.ImportModePreserveOriginal
		}, 6, map[string]int64{"a": 3, "b": 6, "c": 4}},
		{"referencePolicy", func(is *imagev1.ImageStream) {
			is.Spec.Tags[2].ReferencePolicy.Type = imagev1.LocalTagReferencePolicy
		}, 7, map[string]int64{"a": 3, "b": 6, "c": 4}},
		{"tag removed", func(is *imagev1.ImageStream) { is.Spec.Tags = is.Spec.Tags[:2] }, 8, map[string]int64{"a": 3, "b": 6}},
	}
	for _, step := range steps {
		is := getStream(t, env, "stream")
		step.mutate(is)
		if err := env.Client.Update(ctx(t), is, owner); err != nil {
			t.Fatalf("%s: update: %v", step.name, err)
		}
		assertGenerations(t, env, step.name, step.stream, step.tags)
	}

	// An apply is stamped as an update is: a new tag gets the new
	// generation, and an identical apply changes nothing.
	for range 2 {
		ac := applyStream(env.Namespace, "stream", applyTag("d", 1))
		if err := env.Client.Apply(ctx(t), ac, ctrlruntimeclient.FieldOwner("step")); err != nil {
			t.Fatalf("apply: %v", err)
		}
		assertGenerations(t, env, "apply of a new tag", 9, map[string]int64{"a": 3, "b": 6, "d": 9})
	}
}

func assertGenerations(t *testing.T, env Env, step string, stream int64, tags map[string]int64) {
	t.Helper()
	is := getStream(t, env, "stream")
	if is.Generation != stream {
		t.Errorf("%s: stream generation %d, want %d", step, is.Generation, stream)
	}
	got := map[string]int64{}
	for _, tag := range is.Spec.Tags {
		got[tag.Name] = -1
		if tag.Generation != nil {
			got[tag.Name] = *tag.Generation
		}
	}
	if diff := cmp.Diff(tags, got); diff != "" {
		t.Errorf("%s: tag generations (-want +got):\n%s", step, diff)
	}
}
