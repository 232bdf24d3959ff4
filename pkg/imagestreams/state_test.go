package imagestreams

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
)

const (
	testSource = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	testImage  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	testOld    = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	testRef    = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + testImage
)

func gen(g int64) *int64 { return &g }

func specTag(name string, generation *int64) imagev1.TagReference {
	return imagev1.TagReference{Name: name, From: &corev1.ObjectReference{Kind: "DockerImage", Name: testSource}, Generation: generation}
}

func event(generation int64, image string) imagev1.TagEvent {
	ref := ""
	if image != "" {
		ref = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + image
	}
	return imagev1.TagEvent{Generation: generation, Image: image, DockerImageReference: ref}
}

func failure(generation int64, reason, message string) imagev1.TagEventCondition {
	return imagev1.TagEventCondition{Type: imagev1.ImportSuccess, Status: corev1.ConditionFalse, Generation: generation, Reason: reason, Message: message}
}

func streamWith(spec []imagev1.TagReference, status ...imagev1.NamedTagEventList) *imagev1.ImageStream {
	return &imagev1.ImageStream{
		Spec:   imagev1.ImageStreamSpec{Tags: spec},
		Status: imagev1.ImageStreamStatus{DockerImageRepository: "image-registry.openshift-image-registry.svc:5000/ci-op-x/stable", Tags: status},
	}
}

func TestStateOf(t *testing.T) {
	testCases := []struct {
		name   string
		stream *imagev1.ImageStream
		want   TagState
	}{
		{
			name:   "missing: no spec tags",
			stream: streamWith(nil),
			want:   TagState{Tag: "cli", Phase: Missing},
		},
		{
			name:   "missing: only other tags, even with status for this one",
			stream: streamWith([]imagev1.TagReference{specTag("installer", gen(1))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(1, testImage)}}),
			want:   TagState{Tag: "cli", Phase: Missing},
		},
		{
			name:   "pending: no generation (not read from a server)",
			stream: streamWith([]imagev1.TagReference{specTag("cli", nil)}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(5, testImage)}}),
			want:   TagState{Tag: "cli", Phase: Pending, Source: testSource},
		},
		{
			name:   "pending: no status",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))}),
			want:   TagState{Tag: "cli", Phase: Pending, Generation: 2, Source: testSource},
		},
		{
			name:   "pending: status of another tag only",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))}, imagev1.NamedTagEventList{Tag: "installer", Items: []imagev1.TagEvent{event(2, testImage)}}),
			want:   TagState{Tag: "cli", Phase: Pending, Generation: 2, Source: testSource},
		},
		{
			name:   "pending: status for an older generation",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(3))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(2, testOld)}}),
			want:   TagState{Tag: "cli", Phase: Pending, Generation: 3, Source: testSource},
		},
		{
			name:   "pending: newest entry has no image (a reference)",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{{Generation: 2, DockerImageReference: testSource}}}),
			want:   TagState{Tag: "cli", Phase: Pending, Generation: 2, Source: testSource},
		},
		{
			name:   "imported for the current generation",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(2, testImage), event(1, testOld)}}),
			want:   TagState{Tag: "cli", Phase: Imported, Generation: 2, Source: testSource, Image: testImage, DockerImageReference: testRef},
		},
		{
			name:   "imported for a later generation (an import bumps it)",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(4, testImage)}}),
			want:   TagState{Tag: "cli", Phase: Imported, Generation: 2, Source: testSource, Image: testImage, DockerImageReference: testRef},
		},
		{
			name: "pending: only the newest entry counts",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(3))},
				imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(2, testOld), event(3, testImage)}}),
			want: TagState{Tag: "cli", Phase: Pending, Generation: 3, Source: testSource},
		},
		{
			name: "failed for the current generation",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))},
				imagev1.NamedTagEventList{Tag: "cli", Conditions: []imagev1.TagEventCondition{failure(2, "NotFound", "not there")}}),
			want: TagState{Tag: "cli", Phase: Failed, Generation: 2, Source: testSource, Reason: "NotFound", Message: "not there", FailedGeneration: 2},
		},
		{
			name: "failed for a later generation, over an older image",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(3))},
				imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(1, testOld)}, Conditions: []imagev1.TagEventCondition{failure(4, "InternalError", "boom")}}),
			want: TagState{Tag: "cli", Phase: Failed, Generation: 3, Source: testSource, Reason: "InternalError", Message: "boom", FailedGeneration: 4},
		},
		{
			name: "an old failure with a newer generation pending",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(5))},
				imagev1.NamedTagEventList{Tag: "cli", Conditions: []imagev1.TagEventCondition{failure(4, "NotFound", "not there")}}),
			want: TagState{Tag: "cli", Phase: Pending, Generation: 5, Source: testSource},
		},
		{
			name: "an old failure with a newer generation imported",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(5))},
				imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(5, testImage)}, Conditions: []imagev1.TagEventCondition{failure(4, "NotFound", "not there")}}),
			want: TagState{Tag: "cli", Phase: Imported, Generation: 5, Source: testSource, Image: testImage, DockerImageReference: testRef},
		},
		{
			name: "a successful condition is no failure",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))},
				imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(2, testImage)}, Conditions: []imagev1.TagEventCondition{{Type: imagev1.ImportSuccess, Status: corev1.ConditionTrue, Generation: 2}}}),
			want: TagState{Tag: "cli", Phase: Imported, Generation: 2, Source: testSource, Image: testImage, DockerImageReference: testRef},
		},
		{
			name: "a condition of another type is no failure",
			stream: streamWith([]imagev1.TagReference{specTag("cli", gen(2))},
				imagev1.NamedTagEventList{Tag: "cli", Conditions: []imagev1.TagEventCondition{{Type: "Other", Status: corev1.ConditionFalse, Generation: 2}}}),
			want: TagState{Tag: "cli", Phase: Pending, Generation: 2, Source: testSource},
		},
		{
			name:   "a tag without from",
			stream: streamWith([]imagev1.TagReference{{Name: "cli", Generation: gen(1)}}),
			want:   TagState{Tag: "cli", Phase: Pending, Generation: 1},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, StateOf(tc.stream, "cli")); diff != "" {
				t.Errorf("StateOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTagStateString(t *testing.T) {
	testCases := []struct {
		state TagState
		want  string
	}{
		{state: TagState{Tag: "cli", Phase: Failed, Source: testSource, Reason: "NotFound", Message: "not there"}, want: "cli: import of " + testSource + " failed: NotFound: not there"},
		{state: TagState{Tag: "cli", Phase: Imported, DockerImageReference: testRef}, want: "cli: imported " + testRef},
		{state: TagState{Tag: "cli", Phase: Pending}, want: "cli: Pending"},
		{state: TagState{Tag: "cli", Phase: Missing}, want: "cli: Missing"},
	}
	for _, tc := range testCases {
		if got := tc.state.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestPullSpecFor(t *testing.T) {
	imported := streamWith([]imagev1.TagReference{specTag("cli", gen(1))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(1, testImage)}})
	noRepository := imported.DeepCopy()
	noRepository.Status.DockerImageRepository = ""
	pending := streamWith([]imagev1.TagReference{specTag("cli", gen(2))}, imagev1.NamedTagEventList{Tag: "cli", Items: []imagev1.TagEvent{event(1, testImage)}})
	testCases := []struct {
		name   string
		stream *imagev1.ImageStream
		policy imagev1.TagReferencePolicyType
		want   string
	}{
		{name: "source", stream: imported, policy: imagev1.SourceTagReferencePolicy, want: testRef},
		{name: "default is source", stream: imported, want: testRef},
		{name: "local", stream: imported, policy: imagev1.LocalTagReferencePolicy, want: "image-registry.openshift-image-registry.svc:5000/ci-op-x/stable@" + testImage},
		{name: "local without a registry", stream: noRepository, policy: imagev1.LocalTagReferencePolicy, want: testRef},
		{name: "not imported", stream: pending, policy: imagev1.SourceTagReferencePolicy, want: ""},
		{name: "not imported, local", stream: pending, policy: imagev1.LocalTagReferencePolicy, want: ""},
		{name: "missing", stream: streamWith(nil), policy: imagev1.SourceTagReferencePolicy, want: ""},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PullSpecFor(tc.stream, "cli", tc.policy); got != tc.want {
				t.Errorf("PullSpecFor = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRepositoryPullSpecFor(t *testing.T) {
	imported := func(internal, public string) *imagev1.ImageStream {
		is := streamWith([]imagev1.TagReference{specTag("latest", gen(1))}, imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{event(1, testImage)}})
		is.Status.DockerImageRepository, is.Status.PublicDockerImageRepository = internal, public
		return is
	}
	testCases := []struct {
		name   string
		stream *imagev1.ImageStream
		want   string
	}{
		{name: "public repository", stream: imported("internal:5000/ns/release", "registry.example.com/ns/release"), want: "registry.example.com/ns/release@" + testImage},
		{name: "internal repository", stream: imported("internal:5000/ns/release", ""), want: "internal:5000/ns/release@" + testImage},
		{name: "no repository", stream: imported("", ""), want: testRef},
		{name: "not imported", stream: streamWith([]imagev1.TagReference{specTag("latest", gen(1))}), want: ""},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RepositoryPullSpecFor(tc.stream, "latest"); got != tc.want {
				t.Errorf("RepositoryPullSpecFor = %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkStatesOf judges every tag of a 2000-tag stream, as a wait does on
// every event of a large payload.
func BenchmarkStatesOf(b *testing.B) {
	is := &imagev1.ImageStream{}
	tags := make([]string, 2000)
	for i := range tags {
		tags[i] = fmt.Sprintf("image-%04d", i)
		gen := int64(2)
		is.Spec.Tags = append(is.Spec.Tags, imagev1.TagReference{Name: tags[i], Generation: &gen,
			From: &corev1.ObjectReference{Kind: "DockerImage", Name: "quay.io/ocp/release@sha256:" + tags[i]}})
		is.Status.Tags = append(is.Status.Tags, imagev1.NamedTagEventList{Tag: tags[i],
			Items: []imagev1.TagEvent{{Generation: 2, Image: "sha256:" + tags[i]}}})
	}
	for b.Loop() {
		for _, st := range StatesOf(is, tags) {
			if st.Phase != Imported {
				b.Fatalf("%s", st)
			}
		}
	}
}
