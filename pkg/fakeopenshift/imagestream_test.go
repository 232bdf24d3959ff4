package fakeopenshift

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
)

// tagGenerations renders "name:generation" for every spec tag.
func tagGenerations(is *imagev1.ImageStream) string {
	var out []string
	for _, tag := range is.Spec.Tags {
		gen := "nil"
		if tag.Generation != nil {
			gen = fmt.Sprint(*tag.Generation)
		}
		out = append(out, tag.Name+":"+gen)
	}
	return strings.Join(out, " ")
}

func TestCreateSetsGenerationOneAndWipesStatus(t *testing.T) {
	bogusStatus := imagev1.ImageStreamStatus{
		DockerImageRepository: "bogus",
		Tags:                  []imagev1.NamedTagEventList{{Tag: "a", Items: []imagev1.TagEvent{{Image: "sha256:bogus", Generation: 7}}}},
	}
	testCases := []struct {
		name   string
		create func(t *testing.T, cl ctrlruntimeclient.Client) *imagev1.ImageStream
	}{
		{
			name: "create",
			create: func(t *testing.T, cl ctrlruntimeclient.Client) *imagev1.ImageStream {
				is := newStream("stream",
					imagev1.TagReference{Name: "a", From: dockerImage("quay.io/a/a:1"), Generation: ptrTo[int64](5)},
					imagev1.TagReference{Name: "b", From: dockerImage("quay.io/a/b:1")},
					imagev1.TagReference{Name: "c", From: dockerImage("quay.io/a/c:1"), Generation: ptrTo[int64](0)},
				)
				is.Generation = 9
				is.Status = bogusStatus
				return createStream(t, cl, is)
			},
		},
		{
			name: "server-side apply",
			create: func(t *testing.T, cl ctrlruntimeclient.Client) *imagev1.ImageStream {
				ac := streamApply("stream", tagApply("a", "quay.io/a/a:1").WithGeneration(5), tagApply("b", "quay.io/a/b:1"), tagApply("c", "quay.io/a/c:1").WithGeneration(0))
				ac.WithStatus(imagev1apply.ImageStreamStatus().WithDockerImageRepository("bogus").
					WithTags(imagev1apply.NamedTagEventList().WithTag("a").WithItems(imagev1apply.TagEvent().WithImage("sha256:bogus").WithGeneration(7))))
				if err := applyAs(t.Context(), cl, ac, "test", true); err != nil {
					t.Fatal(err)
				}
				return getStream(t, cl, "stream")
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newStoreOnlyCluster(t)
			cl := c.Client("test")
			created := tc.create(t, cl)
			for _, is := range []*imagev1.ImageStream{created, getStream(t, cl, "stream")} {
				if is.Generation != 1 {
					t.Errorf("generation %d, want 1", is.Generation)
				}
				if got := tagGenerations(is); got != "a:1 b:1 c:1" {
					t.Errorf("tag generations %q, want all 1", got)
				}
				if len(is.Status.Tags) != 0 {
					t.Errorf("status tags %+v, want none", is.Status.Tags)
				}
				if want := c.opts.InternalRegistry + "/" + testNamespace + "/stream"; is.Status.DockerImageRepository != want {
					t.Errorf("dockerImageRepository %q, want %q", is.Status.DockerImageRepository, want)
				}
			}
		})
	}
}

func TestUpdateIgnoresClientTagGenerationUnlessZero(t *testing.T) {
	testCases := []struct {
		name       string
		generation *int64
		wantStream int64
		wantTag    int64
	}{
		{name: "nil keeps the stored value", generation: nil, wantStream: 2, wantTag: 1},
		{name: "an arbitrary value is ignored", generation: ptrTo[int64](99), wantStream: 2, wantTag: 1},
		{name: "the stored value", generation: ptrTo[int64](1), wantStream: 2, wantTag: 1},
		{name: "another tag's value is ignored", generation: ptrTo[int64](2), wantStream: 2, wantTag: 1},
		{name: "zero takes the new stream generation", generation: ptrTo[int64](0), wantStream: 3, wantTag: 3},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newStoreOnlyCluster(t).Client("test")
			createStream(t, cl, newStream("stream", dockerTag("a", "quay.io/a/a:1"), dockerTag("b", "quay.io/a/b:1")))
			// Move the stream to generation 2 through tag b, so that the
			// stream and tag a differ.
			updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { is.Spec.Tags[1].From.Name = "quay.io/a/b:2" })
			is := updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { is.Spec.Tags[0].Generation = tc.generation })
			if is.Generation != tc.wantStream || tagGeneration(t, is, "a") != tc.wantTag || tagGeneration(t, is, "b") != 2 {
				t.Errorf("stream generation %d, tags %s; want %d, a:%d b:2", is.Generation, tagGenerations(is), tc.wantStream, tc.wantTag)
			}
		})
	}
}

// generationCase is one change to tag "t" of a stream created with tags
// "other" and "t" (generation 1 each), and the generations that follow.
type generationCase struct {
	name       string
	change     func(is *imagev1.ImageStream, t *imagev1.TagReference)
	wantStream int64
	wantTags   string
}

var generationCases = []generationCase{
	{name: "nothing", change: func(*imagev1.ImageStream, *imagev1.TagReference) {}, wantStream: 1, wantTags: "other:1 t:1"},
	{name: "generation omitted", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.Generation = nil }, wantStream: 1, wantTags: "other:1 t:1"},
	{name: "generation 99", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.Generation = ptrTo[int64](99) }, wantStream: 1, wantTags: "other:1 t:1"},
	{name: "metadata only", change: func(is *imagev1.ImageStream, _ *imagev1.TagReference) {
		is.Labels = map[string]string{"a": "b"}
		is.Annotations = map[string]string{"a": "b"}
	}, wantStream: 1, wantTags: "other:1 t:1"},
	{name: "tag annotations", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.Annotations = map[string]string{"a": "b"} }, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "scheduled", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.ImportPolicy.Scheduled = true }, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "insecure", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.ImportPolicy.Insecure = true }, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "referencePolicy", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) {
		t.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy
	}, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "lookupPolicy", change: func(is *imagev1.ImageStream, _ *imagev1.TagReference) { is.Spec.LookupPolicy.Local = true }, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "from.kind", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.From.Kind = "ImageStreamImage" }, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "from.namespace set to the stream's own", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) {
		t.From.Namespace = testNamespace
	}, wantStream: 2, wantTags: "other:1 t:1"},
	{name: "removing a tag", change: func(is *imagev1.ImageStream, _ *imagev1.TagReference) { is.Spec.Tags = is.Spec.Tags[:1] }, wantStream: 2, wantTags: "other:1"},
	{name: "from.name", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.From.Name = "quay.io/a/t:2" }, wantStream: 2, wantTags: "other:1 t:2"},
	{name: "from.namespace", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.From.Namespace = "elsewhere" }, wantStream: 2, wantTags: "other:1 t:2"},
	{name: "importMode", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) {
		t.ImportPolicy.ImportMode = imagev1.ImportModePreserveOriginal
	}, wantStream: 2, wantTags: "other:1 t:2"},
	{name: "reference", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.Reference = true }, wantStream: 2, wantTags: "other:1 t:2"},
	{name: "generation 0", change: func(_ *imagev1.ImageStream, t *imagev1.TagReference) { t.Generation = ptrTo[int64](0) }, wantStream: 2, wantTags: "other:1 t:2"},
	{name: "adding a tag", change: func(is *imagev1.ImageStream, _ *imagev1.TagReference) {
		is.Spec.Tags = append(is.Spec.Tags, dockerTag("new", "quay.io/a/new:1"))
	}, wantStream: 2, wantTags: "new:2 other:1 t:1"},
}

// runGenerationCase applies one generationCase through an update and
// returns the stream as stored.
func runGenerationCase(t *testing.T, gc generationCase) *imagev1.ImageStream {
	t.Helper()
	cl := newStoreOnlyCluster(t).Client("test")
	createStream(t, cl, newStream("stream", dockerTag("other", "quay.io/a/other:1"), dockerTag("t", "quay.io/a/t:1")))
	updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { gc.change(is, &is.Spec.Tags[1]) })
	return getStream(t, cl, "stream")
}

func TestStreamGenerationMovesOnlyOnSpecChange(t *testing.T) {
	for _, gc := range generationCases {
		t.Run(gc.name, func(t *testing.T) {
			if is := runGenerationCase(t, gc); is.Generation != gc.wantStream {
				t.Errorf("stream generation %d, want %d", is.Generation, gc.wantStream)
			}
		})
	}
}

func TestTagGenerationFollowsRefChanges(t *testing.T) {
	for _, gc := range generationCases {
		t.Run(gc.name, func(t *testing.T) {
			if got := tagGenerations(runGenerationCase(t, gc)); got != gc.wantTags {
				t.Errorf("tag generations %q, want %q", got, gc.wantTags)
			}
		})
	}
}

func TestSpecTagsAreAMapSortedByName(t *testing.T) {
	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")

	created := createStream(t, cl, newStream("stream",
		dockerTag("c", "quay.io/a/c:1"), dockerTag("a", "quay.io/a/a:1"), dockerTag("b", "quay.io/a/b:1"), dockerTag("a", "quay.io/a/a:last")))
	if got, want := tagFroms(created), "a=quay.io/a/a:last b=quay.io/a/b:1 c=quay.io/a/c:1"; got != want {
		t.Errorf("after create with a duplicate: %q, want %q (sorted, last wins)", got, want)
	}

	is := getStream(t, cl, "stream")
	is.Spec.Tags = append(is.Spec.Tags, dockerTag("b", "quay.io/a/b:dup"), dockerTag("0", "quay.io/a/0:1"))
	if err := cl.Update(ctx, is); err != nil {
		t.Fatalf("an update with duplicates is accepted: %v", err)
	}
	if got, want := tagFroms(getStream(t, cl, "stream")), "0=quay.io/a/0:1 a=quay.io/a/a:last b=quay.io/a/b:dup c=quay.io/a/c:1"; got != want {
		t.Errorf("after update with a duplicate: %q, want %q", got, want)
	}

	rv := getStream(t, cl, "stream").ResourceVersion
	ac := streamApply("stream", tagApply("z", "quay.io/a/z:1"), tagApply("z", "quay.io/a/z:2"))
	err := applyAs(ctx, cl, ac, "test", true)
	if err == nil || !strings.Contains(err.Error(), `duplicate entries for key [name="z"]`) {
		t.Errorf("apply with a duplicate: got %v, want a duplicate entries error", err)
	}
	if got := getStream(t, cl, "stream").ResourceVersion; got != rv {
		t.Errorf("a rejected apply wrote: resourceVersion %s -> %s", rv, got)
	}
}

func TestReadsShowPolicyDefaults(t *testing.T) {
	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")
	createStream(t, cl, newStream("stream",
		dockerTag("plain", "quay.io/a/a:1"),
		imagev1.TagReference{Name: "set", From: dockerImage("quay.io/a/b:1"),
			ImportPolicy:    imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal},
			ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}}))
	ac := streamApply("applied", tagApply("plain", "quay.io/a/a:1"))
	if err := applyAs(ctx, cl, ac, "test", true); err != nil {
		t.Fatal(err)
	}
	testCases := []struct {
		name, stream, tag string
		want              imagev1.TagReference
	}{
		{name: "defaults", stream: "stream", tag: "plain", want: imagev1.TagReference{
			ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModeLegacy}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy}}},
		{name: "explicit values stay", stream: "stream", tag: "set", want: imagev1.TagReference{
			ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}}},
		{name: "defaults on an applied stream", stream: "applied", tag: "plain", want: imagev1.TagReference{
			ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModeLegacy}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy}}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got := specTagOf(t, getStream(t, cl, tc.stream), tc.tag)
			if diff := cmp.Diff(tc.want.ImportPolicy, got.ImportPolicy); diff != "" {
				t.Errorf("importPolicy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.ReferencePolicy, got.ReferencePolicy); diff != "" {
				t.Errorf("referencePolicy (-want +got):\n%s", diff)
			}
		})
	}
	// The apply's answer shows the defaults too.
	if ac.Spec.Tags[0].ImportPolicy == nil || *ac.Spec.Tags[0].ImportPolicy.ImportMode != imagev1.ImportModeLegacy {
		t.Errorf("apply answer has importPolicy %+v, want the Legacy default", ac.Spec.Tags[0].ImportPolicy)
	}
}

func TestReferenceAndImageStreamTagTagsGetStatusAtOnce(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 3)
	cl := c.Client("test")
	src := rel.Tags[0]

	// In the create response already: the controller cannot have written.
	created := createStream(t, cl, newStream("stream",
		dockerTag("src", src.PullSpec),
		imagev1.TagReference{Name: "ref", From: dockerImage("quay.io/a/ref:1"), Reference: true}))
	if got := statusTagOf(created, "ref").Items; len(got) != 1 || got[0].DockerImageReference != "quay.io/a/ref:1" || got[0].Image != "" || got[0].Generation != 1 {
		t.Errorf("reference tag status %+v, want one item for quay.io/a/ref:1 at generation 1 without image", got)
	}
	if got := statusTagOf(created, "src"); len(got.Items) != 0 || len(got.Conditions) != 0 {
		t.Errorf("DockerImage tag has status in the create response: %+v", got)
	}

	waitForStream(t, cl, "stream", "src imported", imported("src"))
	is := updateStream(t, cl, "stream", func(is *imagev1.ImageStream) {
		is.Spec.Tags = append(is.Spec.Tags, imagev1.TagReference{Name: "alias", From: &corev1.ObjectReference{Kind: "ImageStreamTag", Name: "stream:src"}})
	})
	srcEvent := statusTagOf(is, "src").Items[0]
	alias := statusTagOf(is, "alias").Items
	if len(alias) != 1 || alias[0].Image != src.Digest || alias[0].DockerImageReference != srcEvent.DockerImageReference || alias[0].Generation != tagGeneration(t, is, "alias") {
		t.Errorf("alias status %+v, want the source's image %s at the alias generation %d", alias, src.Digest, tagGeneration(t, is, "alias"))
	}
	stats := c.Stats()
	for _, tag := range []string{"ref", "alias"} {
		if n := stats.ImportAttempts[TagKey{testNamespace, "stream", tag}]; n != 0 {
			t.Errorf("tag %s was imported %d times; it needs no import", tag, n)
		}
	}
}

func TestIdenticalWriteChangesNothing(t *testing.T) {
	ctx := t.Context()
	tags := []imagev1.TagReference{dockerTag("a", "quay.io/a/a:1"), {Name: "b", From: dockerImage("quay.io/a/b:1"),
		ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal}}}
	applyConfig := func() *imagev1apply.ImageStreamApplyConfiguration {
		return streamApply("stream", tagApply("a", "quay.io/a/a:1"),
			tagApply("b", "quay.io/a/b:1").WithImportPolicy(imagev1apply.TagImportPolicy().WithImportMode(imagev1.ImportModePreserveOriginal)))
	}
	testCases := []struct {
		name      string
		write     func(t *testing.T, cl ctrlruntimeclient.Client) error
		wantWrite bool
	}{
		{name: "update as read", write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			return cl.Update(ctx, getStream(t, cl, "stream"))
		}},
		{name: "update with the original spec, without defaults", write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			is := getStream(t, cl, "stream")
			is.Spec.Tags = append([]imagev1.TagReference(nil), tags...)
			for i := range is.Spec.Tags {
				is.Spec.Tags[i].Generation = ptrTo[int64](1)
			}
			return cl.Update(ctx, is)
		}},
		// A nil generation is sent as "generation": null (the field has no
		// omitempty), which the field manager records as the updater's: a
		// managedFields-only write, as on a real apiserver. The strategy
		// still keeps the stored generations.
		{name: "update without tag generations records the updater", wantWrite: true, write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			is := getStream(t, cl, "stream")
			for i := range is.Spec.Tags {
				is.Spec.Tags[i].Generation = nil
			}
			return cl.Update(ctx, is)
		}},
		{name: "update changing only status", write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			is := getStream(t, cl, "stream")
			is.Status.Tags = []imagev1.NamedTagEventList{{Tag: "x", Items: []imagev1.TagEvent{{Image: "sha256:x"}}}}
			return cl.Update(ctx, is)
		}},
		{name: "merge patch to the same values", write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			is := getStream(t, cl, "stream")
			return cl.Patch(ctx, is, ctrlruntimeclient.RawPatch("application/merge-patch+json", []byte(`{"spec":{"lookupPolicy":{"local":false}}}`)))
		}},
		{name: "apply by the same manager", write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			return applyAs(ctx, cl, applyConfig(), "step", true)
		}},
		{name: "apply of the same values by another manager records it", wantWrite: true, write: func(t *testing.T, cl ctrlruntimeclient.Client) error {
			return applyAs(ctx, cl, applyConfig(), "other", true)
		}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newStoreOnlyCluster(t).Client("test")
			if err := applyAs(ctx, cl, applyConfig(), "step", true); err != nil {
				t.Fatal(err)
			}
			before := getStream(t, cl, "stream")
			w := watchStreams(t, cl, "", before.ResourceVersion)
			if err := tc.write(t, cl); err != nil {
				t.Fatalf("write: %v", err)
			}
			after := getStream(t, cl, "stream")
			if wrote := after.ResourceVersion != before.ResourceVersion; wrote != tc.wantWrite {
				t.Errorf("resourceVersion %s -> %s, want a write: %t", before.ResourceVersion, after.ResourceVersion, tc.wantWrite)
			}
			if after.Generation != before.Generation || tagGenerations(after) != tagGenerations(before) {
				t.Errorf("generations moved: %d %s -> %d %s", before.Generation, tagGenerations(before), after.Generation, tagGenerations(after))
			}
			if !tc.wantWrite && !apiequality.Semantic.DeepEqual(before, after) {
				t.Errorf("stream changed:\n%s", cmp.Diff(before, after))
			}
			createStream(t, cl, newStream("marker"))
			if tc.wantWrite {
				expectEvent(t, w, watch.Modified, "stream")
			}
			expectEvent(t, w, watch.Added, "marker")
		})
	}
}

func TestFieldSelectorsNameAndNamespace(t *testing.T) {
	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")
	for _, ns := range []string{testNamespace, "other"} {
		for _, name := range []string{"s1", "s2"} {
			is := newStream(name)
			is.Namespace = ns
			if err := cl.Create(ctx, is); err != nil {
				t.Fatal(err)
			}
		}
	}
	testCases := []struct {
		name     string
		selector string
		want     []string
		wantErr  func(error) bool
	}{
		{name: "name", selector: "metadata.name=s1", want: []string{"ci-op-test/s1", "other/s1"}},
		{name: "namespace", selector: "metadata.namespace=other", want: []string{"other/s1", "other/s2"}},
		{name: "both", selector: "metadata.name=s2,metadata.namespace=ci-op-test", want: []string{"ci-op-test/s2"}},
		{name: "status.dockerImageRepository", selector: "status.dockerImageRepository=image-registry.openshift-image-registry.svc:5000/other/s2", want: []string{"other/s2"}},
		{name: "unsupported", selector: "spec.tags=x", wantErr: apierrors.IsBadRequest},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := fields.ParseSelector(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			list := &imagev1.ImageStreamList{}
			err = cl.List(ctx, list, ctrlruntimeclient.MatchingFieldsSelector{Selector: sel})
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("got %v, want a different error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, is := range list.Items {
				got = append(got, is.Namespace+"/"+is.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// A watch narrowed to one name and namespace sees only that stream.
	w := watchStreams(t, cl, "s1", "")
	expectEvent(t, w, watch.Added, "s1")
	for _, name := range []string{"s2", "s1"} {
		updateStream(t, cl, name, func(is *imagev1.ImageStream) { is.Labels = map[string]string{"touched": "true"} })
	}
	other := &imagev1.ImageStream{}
	if err := cl.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: "other", Name: "s1"}, other); err != nil {
		t.Fatal(err)
	}
	other.Labels = map[string]string{"touched": "true"}
	if err := cl.Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := expectEvent(t, w, watch.Modified, "s1"); got.GetNamespace() != testNamespace {
		t.Errorf("event for %s/%s", got.GetNamespace(), got.GetName())
	}
	updateStream(t, cl, "s1", func(is *imagev1.ImageStream) { is.Labels = map[string]string{"touched": "twice"} })
	if got := expectEvent(t, w, watch.Modified, "s1"); got.GetLabels()["touched"] != "twice" {
		t.Errorf("an event for another stream slipped through: %+v", got)
	}
}

func TestReferencePolicyChangesOnlyResolvedPullSpecs(t *testing.T) {
	ctx := t.Context()
	c := newTestCluster(t)
	rel := addRelease(c, 2)
	cl := c.Client("test")
	tag := rel.Tags[0]
	createStream(t, cl, newStream("stream", dockerTag("t", tag.PullSpec)))
	before := waitForStream(t, cl, "stream", "t imported", imported("t"))

	istag := &imagev1.ImageStreamTag{}
	if err := cl.Get(ctx, key("stream:t"), istag); err != nil {
		t.Fatal(err)
	}
	if want := tag.PullSpec; istag.Image.DockerImageReference != want {
		t.Errorf("Source policy resolves to %s, want %s", istag.Image.DockerImageReference, want)
	}

	after := updateStream(t, cl, "stream", func(is *imagev1.ImageStream) {
		is.Spec.Tags[0].ReferencePolicy.Type = imagev1.LocalTagReferencePolicy
	})
	if after.Generation != before.Generation+1 || tagGeneration(t, after, "t") != tagGeneration(t, before, "t") {
		t.Errorf("generations %d/%s -> %d/%s, want stream +1 and the tag unchanged", before.Generation, tagGenerations(before), after.Generation, tagGenerations(after))
	}
	if diff := cmp.Diff(before.Status, after.Status); diff != "" {
		t.Errorf("referencePolicy changed status (-before +after):\n%s", diff)
	}
	if err := cl.Get(ctx, key("stream:t"), istag); err != nil {
		t.Fatal(err)
	}
	if want := after.Status.DockerImageRepository + "@" + tag.Digest; istag.Image.DockerImageReference != want {
		t.Errorf("Local policy resolves to %s, want %s", istag.Image.DockerImageReference, want)
	}
	// A later import (here a second tag) must not have re-imported t.
	updateStream(t, cl, "stream", func(is *imagev1.ImageStream) {
		is.Spec.Tags = append(is.Spec.Tags, dockerTag("u", rel.Tags[1].PullSpec))
	})
	waitForStream(t, cl, "stream", "u imported", imported("u"))
	if n := c.Stats().Imports[TagKey{testNamespace, "stream", "t"}]; n != 1 {
		t.Errorf("tag t imported %d times, want 1", n)
	}
}

// TestImageStreamTagSourceValidation: a tag's source needs a known kind and a
// name, on create and on update.
func TestImageStreamTagSourceValidation(t *testing.T) {
	testCases := []struct {
		name string
		from corev1.ObjectReference
		ok   bool
	}{
		{name: "docker image", from: corev1.ObjectReference{Kind: "DockerImage", Name: "quay.io/a/b:c"}, ok: true},
		{name: "short docker name", from: corev1.ObjectReference{Kind: "DockerImage", Name: "ubuntu"}, ok: true},
		{name: "empty docker name", from: corev1.ObjectReference{Kind: "DockerImage"}},
		{name: "unknown kind", from: corev1.ObjectReference{Kind: "Image", Name: "x"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(t.Context(), WithLatency(Latency{}))
			defer c.Stop()
			cl := c.Client("p")
			is := &imagev1.ImageStream{
				ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"},
				Spec:       imagev1.ImageStreamSpec{Tags: []imagev1.TagReference{{Name: "t", From: &tc.from}}},
			}
			err := cl.Create(t.Context(), is)
			if tc.ok != (err == nil) || (err != nil && !apierrors.IsInvalid(err)) {
				t.Fatalf("create: got %v, want ok=%v or Invalid", err, tc.ok)
			}
			if !tc.ok {
				if err := cl.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: "ns", Name: "s"}, &imagev1.ImageStream{}); !apierrors.IsNotFound(err) {
					t.Errorf("the invalid stream was stored: %v", err)
				}
			}
		})
	}
}
