package fakeopenshift

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// imageImport is one image of an ImageStreamImport.
func imageImport(pullSpec, to string, mode imagev1.ImportModeType) imagev1.ImageImportSpec {
	return imagev1.ImageImportSpec{
		From:         corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec},
		To:           &corev1.LocalObjectReference{Name: to},
		ImportPolicy: imagev1.TagImportPolicy{ImportMode: mode},
	}
}

func streamImport(stream string, doImport bool, images ...imagev1.ImageImportSpec) *imagev1.ImageStreamImport {
	return &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{Name: stream, Namespace: testNamespace},
		Spec:       imagev1.ImageStreamImportSpec{Import: doImport, Images: images},
	}
}

// simpleStatus is the part of an image's import status a test compares.
type simpleStatus struct {
	Status, Tag, Image, Reference string
	Reason                        metav1.StatusReason
	Code                          int32
	Message                       string
	Manifests                     int
}

func simplify(st imagev1.ImageImportStatus) simpleStatus {
	out := simpleStatus{Status: st.Status.Status, Tag: st.Tag, Reason: st.Status.Reason, Code: st.Status.Code, Message: st.Status.Message, Manifests: len(st.Manifests)}
	if st.Image != nil {
		out.Image, out.Reference = st.Image.Name, st.Image.DockerImageReference
	}
	return out
}

func TestImageStreamImportIsSynchronous(t *testing.T) {
	t.Run("per-image status", func(t *testing.T) {
		ctx := t.Context()
		c := newStoreOnlyCluster(t)
		rel := addRelease(c, 4)
		cl := c.Client("test")
		ok, unauthorized, internal, missing := rel.Tags[0], rel.Tags[1].PullSpec, rel.Tags[2].PullSpec, missingPullSpec(1)
		defer c.Registry().AddFault(registry.FaultRule{PullSpec: unauthorized, Permanent: registry.ReasonUnauthorized})()
		defer c.Registry().AddFault(registry.FaultRule{PullSpec: internal, Permanent: registry.ReasonInternalError})()
		before := createStream(t, cl, newStream("stream", dockerTag("keep", "quay.io/a/keep:1")))

		isi := streamImport("stream", true,
			imageImport(ok.PullSpec, "ok", imagev1.ImportModePreserveOriginal),
			imageImport(unauthorized, "unauthorized", ""),
			imageImport(internal, "internal", ""),
			imageImport(missing, "missing", imagev1.ImportModeLegacy))
		if err := cl.Create(ctx, isi); err != nil {
			t.Fatalf("import: %v", err)
		}
		var got []simpleStatus
		for _, st := range isi.Status.Images {
			got = append(got, simplify(st))
		}
		want := []simpleStatus{
			{Status: metav1.StatusSuccess, Tag: "ok", Image: ok.Digest, Reference: ok.PullSpec, Manifests: 4},
			{Status: metav1.StatusFailure, Tag: "unauthorized", Reason: "Unauthorized", Code: http.StatusUnauthorized,
				Message: fmt.Sprintf("you may not have access to the container image %q", unauthorized)},
			{Status: metav1.StatusFailure, Tag: "internal", Reason: "InternalError", Code: http.StatusInternalServerError,
				Message: fmt.Sprintf("Internal error occurred: %s: received unexpected HTTP status: 500 Internal Server Error", internal)},
			{Status: metav1.StatusFailure, Tag: "missing", Reason: "NotFound", Code: http.StatusNotFound,
				Message: fmt.Sprintf("dockerimage.image.openshift.io %q not found", missing)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("per-image status (-want +got):\n%s", diff)
		}

		stored := getStream(t, cl, "stream")
		result := isi.Status.Import
		if result == nil {
			t.Fatal("status.import is empty")
		}
		if result.ResourceVersion != stored.ResourceVersion || rvOf(t, stored) <= rvOf(t, before) {
			t.Errorf("status.import resourceVersion %s, stored %s, before %s", result.ResourceVersion, stored.ResourceVersion, before.ResourceVersion)
		}
		if stored.Generation != 2 || tagGenerations(stored) != "internal:2 keep:1 missing:2 ok:2 unauthorized:2" {
			t.Errorf("generation %d, tags %s; want 2 and every imported tag at 2", stored.Generation, tagGenerations(stored))
		}
		if items := statusTagOf(stored, "ok").Items; len(items) != 1 || items[0].Image != ok.Digest || items[0].Generation != 2 {
			t.Errorf("ok status %+v", items)
		}
		for _, tag := range []string{"unauthorized", "internal", "missing"} {
			st := statusTagOf(stored, tag)
			if len(st.Items) != 0 || len(st.Conditions) != 1 || st.Conditions[0].Generation != 2 || st.Conditions[0].Status != corev1.ConditionFalse {
				t.Errorf("%s status %+v, want one ImportSuccess=False condition at generation 2", tag, st)
			}
		}
		if _, err := time.Parse(time.RFC3339, stored.Annotations[imagev1.DockerImageRepositoryCheckAnnotation]); err != nil {
			t.Errorf("dockerImageRepositoryCheck annotation: %v", err)
		}
		stats := c.Stats()
		if stats.Writes[RequestKey{"test", "create", "ImageStreamImport"}] != 1 || stats.Imports[TagKey{testNamespace, "stream", "ok"}] != 1 {
			t.Errorf("stats: %s", stats.Report())
		}
	})

	t.Run("rejected requests write nothing", func(t *testing.T) {
		ctx := t.Context()
		c := newStoreOnlyCluster(t)
		rel := addRelease(c, 1)
		cl := c.Client("test")
		stream := createStream(t, cl, newStream("stream", dockerTag("t", rel.Tags[0].PullSpec)))
		good := imageImport(rel.Tags[0].PullSpec, "t", "")
		testCases := []struct {
			name    string
			isi     func() *imagev1.ImageStreamImport
			wantErr func(error) bool
		}{
			{name: "no images", wantErr: apierrors.IsInvalid, isi: func() *imagev1.ImageStreamImport { return streamImport("stream", true) }},
			{name: "ImageStreamTag kind", wantErr: apierrors.IsInvalid, isi: func() *imagev1.ImageStreamImport {
				img := good
				img.From.Kind = "ImageStreamTag"
				return streamImport("stream", true, img)
			}},
			{name: "bad reference", wantErr: apierrors.IsInvalid, isi: func() *imagev1.ImageStreamImport {
				return streamImport("stream", true, imageImport("Not A Pull Spec", "t", ""))
			}},
			{name: "bad importMode", wantErr: apierrors.IsInvalid, isi: func() *imagev1.ImageStreamImport {
				return streamImport("stream", true, imageImport(rel.Tags[0].PullSpec, "t", "Sometimes"))
			}},
			{name: "resourceVersion mismatch", wantErr: apierrors.IsConflict, isi: func() *imagev1.ImageStreamImport {
				isi := streamImport("stream", true, good)
				isi.ResourceVersion = "1"
				return isi
			}},
			{name: "UID mismatch", wantErr: apierrors.IsNotFound, isi: func() *imagev1.ImageStreamImport {
				isi := streamImport("stream", true, good)
				isi.UID = "00000000-0000-0000-0000-000000000000"
				return isi
			}},
			{name: "resourceVersion for a missing stream", wantErr: apierrors.IsNotFound, isi: func() *imagev1.ImageStreamImport {
				isi := streamImport("missing", true, good)
				isi.ResourceVersion = stream.ResourceVersion
				return isi
			}},
		}
		for _, tc := range testCases {
			t.Run(tc.name, func(t *testing.T) {
				if err := cl.Create(ctx, tc.isi()); !tc.wantErr(err) {
					t.Fatalf("got %v, want a different error", err)
				}
				if got := getStream(t, cl, "stream").ResourceVersion; got != stream.ResourceVersion {
					t.Errorf("a rejected import wrote: resourceVersion %s -> %s", stream.ResourceVersion, got)
				}
				if err := cl.Get(ctx, key("missing"), &imagev1.ImageStream{}); !apierrors.IsNotFound(err) {
					t.Errorf("a rejected import created a stream: %v", err)
				}
			})
		}
		// With the stream's own resourceVersion and UID the import lands.
		isi := streamImport("stream", true, good)
		isi.ResourceVersion, isi.UID = stream.ResourceVersion, stream.UID
		if err := cl.Create(ctx, isi); err != nil {
			t.Fatalf("import with matching preconditions: %v", err)
		}
		if isi.Status.Import == nil || isi.Status.Import.Generation != 2 {
			t.Errorf("import did not land: %+v", isi.Status.Import)
		}
	})
}

func TestImageStreamImportDryRun(t *testing.T) {
	ctx := t.Context()
	c := newStoreOnlyCluster(t)
	rel := addRelease(c, 1)
	cl := c.Client("test")
	stream := createStream(t, cl, newStream("stream", dockerTag("t", rel.Tags[0].PullSpec)))
	for _, name := range []string{"stream", "missing"} {
		isi := streamImport(name, false, imageImport(rel.Tags[0].PullSpec, "t", ""))
		if err := cl.Create(ctx, isi); err != nil {
			t.Fatalf("dry run on %s: %v", name, err)
		}
		if len(isi.Status.Images) != 1 || isi.Status.Images[0].Status.Status != metav1.StatusSuccess || isi.Status.Images[0].Image.Name != rel.Tags[0].Digest {
			t.Errorf("dry run on %s: status %+v", name, isi.Status.Images)
		}
		if isi.Status.Import != nil {
			t.Errorf("dry run on %s has status.import", name)
		}
	}
	if got := getStream(t, cl, "stream"); got.ResourceVersion != stream.ResourceVersion || len(got.Status.Tags) != 0 {
		t.Errorf("dry run wrote: resourceVersion %s -> %s, status %+v", stream.ResourceVersion, got.ResourceVersion, got.Status.Tags)
	}
	if err := cl.Get(ctx, key("missing"), &imagev1.ImageStream{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry run created a stream: %v", err)
	}
	if n := c.Stats().WritesBy(func(string) bool { return true }); n != 1 {
		t.Errorf("%d writes, want only the stream's creation", n)
	}
}

func TestImageStreamImportCreatesStreamAndTagAndOverwritesImportPolicy(t *testing.T) {
	preserve := imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal, Scheduled: true}
	testCases := []struct {
		name     string
		existing *imagev1.ImageStream
		image    func(rel *registry.Release) imagev1.ImageImportSpec
		// want is the tag "t" after the import, and the stream's generation.
		wantTag        imagev1.TagReference
		wantGeneration int64
		wantFailure    bool
	}{
		{
			name:  "missing stream",
			image: func(rel *registry.Release) imagev1.ImageImportSpec { return imageImport(rel.Tags[0].PullSpec, "t", "") },
			wantTag: imagev1.TagReference{Name: "t", Generation: ptrTo[int64](1),
				ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModeLegacy}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy}},
			wantGeneration: 1,
		},
		{
			name:     "missing tag",
			existing: newStream("stream", dockerTag("other", "quay.io/a/other:1")),
			image: func(rel *registry.Release) imagev1.ImageImportSpec {
				img := imageImport(rel.Tags[0].PullSpec, "t", imagev1.ImportModePreserveOriginal)
				img.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy
				return img
			},
			wantTag: imagev1.TagReference{Name: "t", Generation: ptrTo[int64](2),
				ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}},
			wantGeneration: 2,
		},
		{
			name: "existing tag takes the import's importPolicy but keeps its referencePolicy",
			existing: newStream("stream", imagev1.TagReference{Name: "t", From: dockerImage("quay.io/a/t:1"),
				ImportPolicy: imagev1.TagImportPolicy{Insecure: true}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}}),
			image: func(rel *registry.Release) imagev1.ImageImportSpec {
				img := imageImport(rel.Tags[0].PullSpec, "t", "")
				img.ImportPolicy = preserve
				img.ReferencePolicy.Type = imagev1.SourceTagReferencePolicy
				return img
			},
			wantTag: imagev1.TagReference{Name: "t", Generation: ptrTo[int64](2),
				ImportPolicy: preserve, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}},
			wantGeneration: 2,
		},
		{
			name:     "a failure creates the spec tag",
			existing: newStream("stream"),
			image:    func(*registry.Release) imagev1.ImageImportSpec { return imageImport(missingPullSpec(2), "t", "") },
			wantTag: imagev1.TagReference{Name: "t", Generation: ptrTo[int64](2),
				ImportPolicy: imagev1.TagImportPolicy{ImportMode: imagev1.ImportModeLegacy}, ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy}},
			wantGeneration: 2,
			wantFailure:    true,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newStoreOnlyCluster(t)
			rel := addRelease(c, 1)
			cl := c.Client("test")
			if tc.existing != nil {
				createStream(t, cl, tc.existing)
			}
			img := tc.image(rel)
			isi := streamImport("stream", true, img)
			if err := cl.Create(t.Context(), isi); err != nil {
				t.Fatalf("import: %v", err)
			}
			is := getStream(t, cl, "stream")
			if is.Generation != tc.wantGeneration {
				t.Errorf("stream generation %d, want %d", is.Generation, tc.wantGeneration)
			}
			got := specTagOf(t, is, "t")
			want := tc.wantTag
			want.From = dockerImage(img.From.Name)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("spec tag (-want +got):\n%s", diff)
			}
			st := statusTagOf(is, "t")
			if tc.wantFailure {
				if len(st.Conditions) != 1 || st.Conditions[0].Generation != tc.wantGeneration {
					t.Errorf("status %+v, want a failure at generation %d", st, tc.wantGeneration)
				}
			} else if len(st.Items) != 1 || st.Items[0].Generation != tc.wantGeneration || st.Items[0].Image != rel.Tags[0].Digest {
				t.Errorf("status %+v, want the image at generation %d", st, tc.wantGeneration)
			}
			if is.Annotations[imagev1.DockerImageRepositoryCheckAnnotation] == "" {
				t.Error("no dockerImageRepositoryCheck annotation")
			}
		})
	}
}

func TestImageStreamTagNotFoundUntilImported(t *testing.T) {
	ctx := t.Context()
	getTag := func(cl ctrlruntimeclient.Client, name string) (*imagev1.ImageStreamTag, error) {
		istag := &imagev1.ImageStreamTag{}
		return istag, cl.Get(ctx, key(name), istag)
	}
	t.Run("pending and reference tags", func(t *testing.T) {
		c := newStoreOnlyCluster(t)
		rel := addRelease(c, 1)
		cl := c.Client("test")
		createStream(t, cl, newStream("stream", dockerTag("pending", rel.Tags[0].PullSpec),
			imagev1.TagReference{Name: "ref", From: dockerImage(rel.Tags[0].PullSpec), Reference: true}))
		for name, want := range map[string]string{
			"stream:pending": `imagestreamtags.image.openshift.io "stream:pending" not found`,
			"stream:ref":     `imagestreamtags.image.openshift.io "stream:ref" not found`,
			"stream:nothing": `imagestreamtags.image.openshift.io "stream:nothing" not found`,
			"missing:t":      `imagestreams.image.openshift.io "missing" not found`,
		} {
			_, err := getTag(cl, name)
			if !apierrors.IsNotFound(err) || err.Error() != want {
				t.Errorf("GET %s: got %v, want 404 %q", name, err, want)
			}
		}
		if _, err := getTag(cl, "stream"); !apierrors.IsBadRequest(err) {
			t.Errorf("GET without a tag: got %v, want 400", err)
		}
	})
	t.Run("failed and imported tags", func(t *testing.T) {
		c := newTestCluster(t)
		rel := addRelease(c, 1)
		cl := c.Client("test")
		createStream(t, cl, newStream("stream", dockerTag("failed", missingPullSpec(3)), dockerTag("ok", rel.Tags[0].PullSpec)))
		is := waitForStream(t, cl, "stream", "both tags done", allOf(importFailed("failed"), imported("ok")))
		if _, err := getTag(cl, "stream:failed"); !apierrors.IsNotFound(err) {
			t.Errorf("GET of a failed tag: got %v, want 404", err)
		}
		istag, err := getTag(cl, "stream:ok")
		if err != nil {
			t.Fatalf("GET of an imported tag: %v", err)
		}
		event := statusTagOf(is, "ok").Items[0]
		if istag.ResourceVersion != is.ResourceVersion || istag.UID != is.UID || istag.Generation != event.Generation ||
			istag.Image.Name != rel.Tags[0].Digest || istag.Tag == nil || istag.Tag.From.Name != rel.Tags[0].PullSpec {
			t.Errorf("ImageStreamTag %+v does not match stream rv %s uid %s event %+v", istag, is.ResourceVersion, is.UID, event)
		}
	})
}

func TestImageStreamTagUpdate(t *testing.T) {
	ctx := t.Context()
	istagFor := func(name, rv, from string) *imagev1.ImageStreamTag {
		istag := &imagev1.ImageStreamTag{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace, ResourceVersion: rv}}
		if from != "" {
			istag.Tag = &imagev1.TagReference{From: dockerImage(from)}
		}
		return istag
	}
	testCases := []struct {
		name    string
		write   func(t *testing.T, cl ctrlruntimeclient.Client, stream *imagev1.ImageStream) error
		wantErr func(error) bool
		// check inspects the stream "stream" afterwards (when it exists).
		check func(t *testing.T, before, after *imagev1.ImageStream)
	}{
		{
			name: "no resourceVersion lands although the stream moved",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, _ *imagev1.ImageStream) error {
				return cl.Update(ctx, istagFor("stream:t", "", "quay.io/a/t:2"))
			},
			check: func(t *testing.T, before, after *imagev1.ImageStream) {
				if specTagOf(t, after, "t").From.Name != "quay.io/a/t:2" || after.Generation != before.Generation+1 || tagGeneration(t, after, "t") != after.Generation {
					t.Errorf("tag %+v at stream generation %d", specTagOf(t, after, "t"), after.Generation)
				}
			},
		},
		{
			name: "stale resourceVersion",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, stream *imagev1.ImageStream) error {
				return cl.Update(ctx, istagFor("stream:t", fmt.Sprint(rvOf(t, stream)-1), "quay.io/a/t:2"))
			},
			wantErr: apierrors.IsConflict,
		},
		{
			name: "current resourceVersion",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, stream *imagev1.ImageStream) error {
				return cl.Update(ctx, istagFor("stream:new", stream.ResourceVersion, "quay.io/a/new:1"))
			},
			check: func(t *testing.T, before, after *imagev1.ImageStream) {
				if tagGeneration(t, after, "new") != before.Generation+1 || tagGeneration(t, after, "t") != tagGeneration(t, before, "t") {
					t.Errorf("tags %s -> %s", tagGenerations(before), tagGenerations(after))
				}
			},
		},
		{
			name: "an identical update changes nothing",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, stream *imagev1.ImageStream) error {
				istag := istagFor("stream:t", stream.ResourceVersion, "")
				tag := specTagOf(t, stream, "t")
				istag.Tag = &tag
				return cl.Update(ctx, istag)
			},
			check: func(t *testing.T, before, after *imagev1.ImageStream) {
				if after.ResourceVersion != before.ResourceVersion {
					t.Errorf("resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
				}
			},
		},
		{
			name: "without a tag the spec tag stays and takes the annotations",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, _ *imagev1.ImageStream) error {
				istag := istagFor("stream:t", "", "")
				istag.Annotations = map[string]string{"note": "kept"}
				return cl.Update(ctx, istag)
			},
			check: func(t *testing.T, before, after *imagev1.ImageStream) {
				tag := specTagOf(t, after, "t")
				if tag.From.Name != "quay.io/a/t:1" || tag.Annotations["note"] != "kept" || tagGeneration(t, after, "t") != tagGeneration(t, before, "t") {
					t.Errorf("tag %+v", tag)
				}
				if !after.Spec.LookupPolicy.Local {
					t.Error("an ImageStreamTag update reset the stream's lookupPolicy")
				}
			},
		},
		{
			name: "without a tag for a missing spec tag",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, _ *imagev1.ImageStream) error {
				return cl.Update(ctx, istagFor("stream:absent", "", ""))
			},
			wantErr: apierrors.IsBadRequest,
		},
		{
			name: "missing stream with a resourceVersion",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, stream *imagev1.ImageStream) error {
				return cl.Update(ctx, istagFor("other:t", stream.ResourceVersion, "quay.io/a/t:1"))
			},
			wantErr: apierrors.IsNotFound,
		},
		{
			name: "missing stream without a resourceVersion is created",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, _ *imagev1.ImageStream) error {
				if err := cl.Update(ctx, istagFor("other:t", "", "quay.io/a/t:1")); err != nil {
					return err
				}
				other := getStream(t, cl, "other")
				if other.Generation != 1 || tagGenerations(other) != "t:1" {
					return fmt.Errorf("created stream at generation %d with tags %s", other.Generation, tagGenerations(other))
				}
				return nil
			},
		},
		{
			name: "create of an existing spec tag",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, _ *imagev1.ImageStream) error {
				return cl.Create(ctx, istagFor("stream:t", "", "quay.io/a/t:2"))
			},
			wantErr: apierrors.IsAlreadyExists,
		},
		{
			name: "create of a new tag in a missing stream",
			write: func(t *testing.T, cl ctrlruntimeclient.Client, _ *imagev1.ImageStream) error {
				istag := istagFor("other:t", "", "quay.io/a/t:1")
				if err := cl.Create(ctx, istag); err != nil {
					return err
				}
				if other := getStream(t, cl, "other"); other.Generation != 1 || tagGenerations(other) != "t:1" {
					return fmt.Errorf("created stream at generation %d with tags %s", other.Generation, tagGenerations(other))
				}
				return nil
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newStoreOnlyCluster(t).Client("test")
			is := newStream("stream", dockerTag("t", "quay.io/a/t:1"))
			is.Spec.LookupPolicy.Local = true
			createStream(t, cl, is)
			before := updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { is.Labels = map[string]string{"moved": "true"} })
			err := tc.write(t, cl, before)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("write: %v", err)
			case tc.wantErr != nil && !tc.wantErr(err):
				t.Fatalf("got %v, want a different error", err)
			}
			after := getStream(t, cl, "stream")
			if tc.wantErr != nil && after.ResourceVersion != before.ResourceVersion {
				t.Errorf("a rejected write wrote: resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
			}
			if tc.check != nil {
				tc.check(t, before, after)
			}
		})
	}
}

func TestImageStreamTagDeleteRemovesSpecAndStatus(t *testing.T) {
	ctx := t.Context()
	c := newTestCluster(t)
	rel := addRelease(c, 2)
	cl := c.Client("test")
	createStream(t, cl, newStream("stream", dockerTag("gone", rel.Tags[0].PullSpec), dockerTag("kept", rel.Tags[1].PullSpec)))
	before := waitForStream(t, cl, "stream", "both imported", allOf(imported("gone"), imported("kept")))

	if err := cl.Delete(ctx, &imagev1.ImageStreamTag{ObjectMeta: metav1.ObjectMeta{Name: "stream:gone", Namespace: testNamespace}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	after := getStream(t, cl, "stream")
	if specTag(after, "gone") != nil || len(statusTagOf(after, "gone").Items) != 0 {
		t.Errorf("tag still there: spec %+v status %+v", after.Spec.Tags, after.Status.Tags)
	}
	if specTag(after, "kept") == nil || len(statusTagOf(after, "kept").Items) != 1 {
		t.Errorf("the other tag was touched: spec %+v status %+v", after.Spec.Tags, after.Status.Tags)
	}
	if after.Generation != before.Generation+1 || tagGeneration(t, after, "kept") != tagGeneration(t, before, "kept") {
		t.Errorf("generation %d -> %d, kept %d -> %d", before.Generation, after.Generation, tagGeneration(t, before, "kept"), tagGeneration(t, after, "kept"))
	}
	if err := cl.Get(ctx, key("stream:gone"), &imagev1.ImageStreamTag{}); !apierrors.IsNotFound(err) {
		t.Errorf("GET after delete: got %v, want 404", err)
	}
	if err := cl.Delete(ctx, &imagev1.ImageStreamTag{ObjectMeta: metav1.ObjectMeta{Name: "stream:gone", Namespace: testNamespace}}); !apierrors.IsNotFound(err) {
		t.Errorf("second delete: got %v, want 404", err)
	}
	if _, err := cl.Watch(ctx, &imagev1.ImageStreamTagList{}, ctrlruntimeclient.InNamespace(testNamespace)); !apierrors.IsMethodNotSupported(err) {
		t.Errorf("watch of ImageStreamTags: got %v, want 405", err)
	}
}
