package fakeopenshift

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// item is a status entry as the tests compare it.
type item struct {
	Image      string
	Generation int64
}

func itemsOf(is *imagev1.ImageStream, tag string) []item {
	var out []item
	for _, ev := range statusTagOf(is, tag).Items {
		out = append(out, item{Image: ev.Image, Generation: ev.Generation})
	}
	return out
}

func setFrom(tag, pullSpec string) func(*imagev1.ImageStream) {
	return func(is *imagev1.ImageStream) {
		for i := range is.Spec.Tags {
			if is.Spec.Tags[i].Name == tag {
				is.Spec.Tags[i].From = dockerImage(pullSpec)
			}
		}
	}
}

func TestDockerImageTagsImportedAsynchronously(t *testing.T) {
	t.Run("which tags need an import", func(t *testing.T) {
		status := func(items, condition int64) []imagev1.NamedTagEventList {
			st := imagev1.NamedTagEventList{Tag: "t"}
			if items > 0 {
				st.Items = []imagev1.TagEvent{{Image: "sha256:x", Generation: items}}
			}
			if condition > 0 {
				st.Conditions = []imagev1.TagEventCondition{{Type: imagev1.ImportSuccess, Status: corev1.ConditionFalse, Generation: condition}}
			}
			return []imagev1.NamedTagEventList{st}
		}
		testCases := []struct {
			name   string
			tag    imagev1.TagReference
			status []imagev1.NamedTagEventList
			want   bool
		}{
			{name: "new tag", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Generation: ptrTo[int64](1)}, want: true},
			{name: "imported at its generation", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Generation: ptrTo[int64](2)}, status: status(2, 0)},
			{name: "imported at an older generation", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Generation: ptrTo[int64](3)}, status: status(2, 0), want: true},
			{name: "failed at its generation", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Generation: ptrTo[int64](4)}, status: status(2, 4)},
			{name: "failed at an older generation", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Generation: ptrTo[int64](5)}, status: status(2, 4), want: true},
			{name: "condition ahead of items", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Generation: ptrTo[int64](3)}, status: status(2, 4)},
			{name: "reference tag", tag: imagev1.TagReference{Name: "t", From: dockerImage("x"), Reference: true, Generation: ptrTo[int64](1)}},
			{name: "ImageStreamTag kind", tag: imagev1.TagReference{Name: "t", From: &corev1.ObjectReference{Kind: "ImageStreamTag", Name: "s:u"}, Generation: ptrTo[int64](1)}},
			{name: "no source", tag: imagev1.TagReference{Name: "t", Generation: ptrTo[int64](1)}},
		}
		for _, tc := range testCases {
			t.Run(tc.name, func(t *testing.T) {
				is := &imagev1.ImageStream{Spec: imagev1.ImageStreamSpec{Tags: []imagev1.TagReference{tc.tag}}, Status: imagev1.ImageStreamStatus{Tags: tc.status}}
				if got := needsImport(is, tc.tag); got != tc.want {
					t.Errorf("needsImport = %t, want %t", got, tc.want)
				}
			})
		}
	})

	t.Run("one import per write, two events per import", func(t *testing.T) {
		c := newTestCluster(t)
		rel := addRelease(c, 4)
		cl := c.Client("test")
		var tags []imagev1.TagReference
		for _, tag := range rel.Tags[:3] {
			tags = append(tags, dockerTag(tag.Name, tag.PullSpec))
		}
		created := createStream(t, cl, newStream("stream", tags...))
		if len(created.Status.Tags) != 0 {
			t.Errorf("the create already has status: %+v", created.Status.Tags)
		}
		var done []func(*imagev1.ImageStream) bool
		for _, tag := range rel.Tags[:3] {
			done = append(done, imported(tag.Name))
		}
		is := waitForStream(t, cl, "stream", "all imported", allOf(done...))
		if is.Generation != 2 {
			t.Errorf("stream generation %d after one batch import, want 2", is.Generation)
		}
		for _, tag := range rel.Tags[:3] {
			if diff := cmp.Diff([]item{{tag.Digest, 2}}, itemsOf(is, tag.Name)); diff != "" {
				t.Errorf("tag %s items (-want +got):\n%s", tag.Name, diff)
			}
		}

		// Changing one tag: our MODIFIED, then the import's, then nothing.
		w := watchStreams(t, cl, "", is.ResourceVersion)
		changed := rel.Tags[0].Name
		updateStream(t, cl, "stream", setFrom(changed, rel.Tags[3].PullSpec))
		if ours := expectEvent(t, w, watch.Modified, "stream").(*imagev1.ImageStream); ours.Generation != 3 || len(itemsOf(ours, changed)) != 1 {
			t.Errorf("our write: generation %d items %+v", ours.Generation, itemsOf(ours, changed))
		}
		imp := expectEvent(t, w, watch.Modified, "stream").(*imagev1.ImageStream)
		if diff := cmp.Diff([]item{{rel.Tags[3].Digest, 4}, {rel.Tags[0].Digest, 2}}, itemsOf(imp, changed)); diff != "" || imp.Generation != 4 {
			t.Errorf("import write: generation %d, items (-want +got):\n%s", imp.Generation, diff)
		}
		createStream(t, cl, newStream("marker"))
		expectEvent(t, w, watch.Added, "marker")

		stats := c.Stats()
		if n := stats.Writes[RequestKey{ControllerProcess, "create", "ImageStreamImport"}]; n != 2 {
			t.Errorf("the controller wrote %d times, want 2", n)
		}
		for _, tag := range rel.Tags[:3] {
			want := 1
			if tag.Name == changed {
				want = 2
			}
			if n := stats.Imports[TagKey{testNamespace, "stream", tag.Name}]; n != want {
				t.Errorf("tag %s imported %d times, want %d", tag.Name, n, want)
			}
		}
	})
}

func TestImportSuccessPrependsOrMergesAndBumps(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 2)
	cl := c.Client("test")
	a, b, missing := rel.Tags[0], rel.Tags[1], missingPullSpec(4)
	steps := []struct {
		name       string
		write      func()
		done       func(*imagev1.ImageStream) bool
		wantStream int64
		wantItems  []item
		wantCond   int64 // generation of the failure condition, 0 for none
	}{
		{
			name:  "first import",
			write: func() { createStream(t, cl, newStream("stream", dockerTag("t", a.PullSpec))) },
			done:  imported("t"), wantStream: 2, wantItems: []item{{a.Digest, 2}},
		},
		{
			name:  "a new image is prepended",
			write: func() { updateStream(t, cl, "stream", setFrom("t", b.PullSpec)) },
			done:  imported("t"), wantStream: 4, wantItems: []item{{b.Digest, 4}, {a.Digest, 2}},
		},
		{
			name:  "a failure keeps the items",
			write: func() { updateStream(t, cl, "stream", setFrom("t", missing)) },
			done:  importFailed("t"), wantStream: 6, wantItems: []item{{b.Digest, 4}, {a.Digest, 2}}, wantCond: 6,
		},
		{
			name:  "the same image again is merged and clears the condition",
			write: func() { updateStream(t, cl, "stream", setFrom("t", b.PullSpec)) },
			done:  imported("t"), wantStream: 8, wantItems: []item{{b.Digest, 8}, {a.Digest, 2}},
		},
	}
	for _, s := range steps {
		s.write()
		is := waitForStream(t, cl, "stream", s.name, s.done)
		if is.Generation != s.wantStream || tagGeneration(t, is, "t") != s.wantStream {
			t.Errorf("%s: stream generation %d, tag %d; want both %d", s.name, is.Generation, tagGeneration(t, is, "t"), s.wantStream)
		}
		if diff := cmp.Diff(s.wantItems, itemsOf(is, "t")); diff != "" {
			t.Errorf("%s: items (-want +got):\n%s", s.name, diff)
		}
		var cond int64
		if conds := statusTagOf(is, "t").Conditions; len(conds) > 0 {
			cond = conds[0].Generation
		}
		if cond != s.wantCond {
			t.Errorf("%s: condition generation %d, want %d", s.name, cond, s.wantCond)
		}
	}
}

func TestImportFailureSetsConditionBumpsAndKeepsItems(t *testing.T) {
	testCases := []struct {
		reason  registry.Reason
		message func(ref string) string
	}{
		{reason: registry.ReasonNotFound, message: func(ref string) string { return fmt.Sprintf("dockerimage.image.openshift.io %q not found", ref) }},
		{reason: registry.ReasonUnauthorized, message: func(ref string) string {
			return fmt.Sprintf("you may not have access to the container image %q", ref)
		}},
		{reason: registry.ReasonInternalError, message: func(ref string) string {
			return fmt.Sprintf("Internal error occurred: %s: received unexpected HTTP status: 500 Internal Server Error", ref)
		}},
	}
	for _, tc := range testCases {
		t.Run(string(tc.reason), func(t *testing.T) {
			c := newTestCluster(t)
			rel := addRelease(c, 2)
			cl := c.Client("test")
			good, bad := rel.Tags[0], rel.Tags[1].PullSpec
			if tc.reason == registry.ReasonNotFound {
				bad = missingPullSpec(5)
			} else {
				defer c.Registry().AddFault(registry.FaultRule{PullSpec: bad, Permanent: tc.reason})()
			}
			createStream(t, cl, newStream("stream", dockerTag("t", good.PullSpec)))
			waitForStream(t, cl, "stream", "first import", imported("t"))
			updateStream(t, cl, "stream", setFrom("t", bad))
			is := waitForStream(t, cl, "stream", "failure", importFailed("t"))

			want := imagev1.TagEventCondition{Type: imagev1.ImportSuccess, Status: corev1.ConditionFalse, Reason: string(tc.reason), Message: tc.message(bad), Generation: 4}
			conds := statusTagOf(is, "t").Conditions
			if diff := cmp.Diff([]imagev1.TagEventCondition{want}, conds, cmpopts.IgnoreFields(imagev1.TagEventCondition{}, "LastTransitionTime")); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if len(conds) == 1 && conds[0].LastTransitionTime.IsZero() {
				t.Error("no lastTransitionTime")
			}
			if is.Generation != 4 || tagGeneration(t, is, "t") != 4 {
				t.Errorf("stream generation %d, tag %d; want 4", is.Generation, tagGeneration(t, is, "t"))
			}
			if diff := cmp.Diff([]item{{good.Digest, 2}}, itemsOf(is, "t")); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdenticalRepeatedImportFailureWritesNothing(t *testing.T) {
	ctx := t.Context()
	c := newTestCluster(t)
	rel := addRelease(c, 1)
	cl := c.Client("test")
	bad := missingPullSpec(6)
	createStream(t, cl, newStream("stream", dockerTag("t", bad)))
	failed := waitForStream(t, cl, "stream", "failure", importFailed("t"))
	firstCondition := statusTagOf(failed, "t").Conditions[0]

	// Synchronously: the same failure again writes nothing.
	isi := streamImport("stream", true, imageImport(bad, "t", ""))
	if err := c.Client("poster").Create(ctx, isi); err != nil {
		t.Fatal(err)
	}
	if st := isi.Status.Images[0].Status; st.Status != metav1.StatusFailure || st.Reason != "NotFound" {
		t.Errorf("import status %+v", st)
	}
	if isi.Status.Import == nil || isi.Status.Import.ResourceVersion != failed.ResourceVersion {
		t.Errorf("the repeated failure wrote: resourceVersion %s -> %+v", failed.ResourceVersion, isi.Status.Import)
	}
	if n := c.Stats().WritesBy(func(p string) bool { return p == "poster" }); n != 0 {
		t.Errorf("poster wrote %d times", n)
	}

	// Forcing a re-import with generation 0: the controller's identical
	// failure writes nothing, so the tag stays pending. An import of another
	// tag proves the controller looked at it again.
	updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { is.Spec.Tags[0].Generation = ptrTo[int64](0) })
	updateStream(t, cl, "stream", func(is *imagev1.ImageStream) {
		is.Spec.Tags = append(is.Spec.Tags, dockerTag("other", rel.Tags[0].PullSpec))
	})
	is := waitForStream(t, cl, "stream", "other imported", imported("other"))
	if importFailed("t")(is) || imported("t")(is) {
		t.Errorf("tag t is done; it should be pending: spec %s, status %+v", tagGenerations(is), statusTagOf(is, "t"))
	}
	if got := statusTagOf(is, "t").Conditions; len(got) != 1 || got[0] != firstCondition {
		t.Errorf("condition %+v, want the first failure unchanged %+v", got, firstCondition)
	}
	stats := c.Stats()
	key := TagKey{testNamespace, "stream", "t"}
	if stats.Imports[key] != 1 || stats.ImportAttempts[key] < 3 {
		t.Errorf("tag t: %d imports written, %d attempted; want 1 written of at least 3", stats.Imports[key], stats.ImportAttempts[key])
	}
}

func TestNoAutomaticRetryAfterImportFailure(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 3)
	cl := c.Client("test")
	createStream(t, cl, newStream("stream", dockerTag("t", missingPullSpec(7))))
	failed := waitForStream(t, cl, "stream", "failure", importFailed("t"))

	// Three more controller cycles, each triggered by a new tag.
	for _, tag := range rel.Tags {
		updateStream(t, cl, "stream", func(is *imagev1.ImageStream) {
			is.Spec.Tags = append(is.Spec.Tags, dockerTag(tag.Name, tag.PullSpec))
		})
		waitForStream(t, cl, "stream", tag.Name+" imported", imported(tag.Name))
	}
	is := getStream(t, cl, "stream")
	stats := c.Stats()
	key := TagKey{testNamespace, "stream", "t"}
	if stats.Imports[key] != 1 || stats.ImportAttempts[key] != 1 {
		t.Errorf("tag t: %d imports written, %d attempted; want exactly 1 of each", stats.Imports[key], stats.ImportAttempts[key])
	}
	if diff := cmp.Diff(statusTagOf(failed, "t"), statusTagOf(is, "t")); diff != "" {
		t.Errorf("tag t status changed (-before +after):\n%s", diff)
	}
	if !importFailed("t")(is) {
		t.Error("tag t is no longer failed")
	}
}

func TestGenerationZeroForcesReimportAndSameDigestBumps(t *testing.T) {
	testCases := []struct {
		name string
		// force writes generation 0 to tag t once.
		force       func(t *testing.T, cl ctrlruntimeclient.Client, pullSpec string)
		create      func(t *testing.T, cl ctrlruntimeclient.Client, pullSpec string)
		repeatBumps bool
	}{
		{
			name: "update",
			create: func(t *testing.T, cl ctrlruntimeclient.Client, pullSpec string) {
				createStream(t, cl, newStream("stream", dockerTag("t", pullSpec)))
			},
			force: func(t *testing.T, cl ctrlruntimeclient.Client, _ string) {
				updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { is.Spec.Tags[0].Generation = ptrTo[int64](0) })
			},
		},
		{
			// Never keep generation 0 in an apply configuration: every apply
			// bumps and re-imports.
			name: "apply",
			create: func(t *testing.T, cl ctrlruntimeclient.Client, pullSpec string) {
				if err := applyAs(t.Context(), cl, streamApply("stream", tagApply("t", pullSpec)), "step", true); err != nil {
					t.Fatal(err)
				}
			},
			force: func(t *testing.T, cl ctrlruntimeclient.Client, pullSpec string) {
				before := getStream(t, cl, "stream").ResourceVersion
				if err := applyAs(t.Context(), cl, streamApply("stream", tagApply("t", pullSpec).WithGeneration(0)), "step", true); err != nil {
					t.Fatal(err)
				}
				if after := getStream(t, cl, "stream").ResourceVersion; after == before {
					t.Error("an apply with generation 0 was a no-op")
				}
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			rel := addRelease(c, 1)
			cl := c.Client("test")
			a := rel.Tags[0]
			tc.create(t, cl, a.PullSpec)
			waitForStream(t, cl, "stream", "first import", imported("t"))
			for round := 1; round <= 2; round++ {
				tc.force(t, cl, a.PullSpec)
				is := waitForStream(t, cl, "stream", "re-import", imported("t"))
				want := int64(2 + 2*round)
				if is.Generation != want || tagGeneration(t, is, "t") != want {
					t.Errorf("round %d: stream generation %d, tag %d; want %d", round, is.Generation, tagGeneration(t, is, "t"), want)
				}
				if diff := cmp.Diff([]item{{a.Digest, want}}, itemsOf(is, "t")); diff != "" {
					t.Errorf("round %d: items (-want +got):\n%s", round, diff)
				}
				if n := c.Stats().Imports[TagKey{testNamespace, "stream", "t"}]; n != 1+round {
					t.Errorf("round %d: %d imports, want %d", round, n, 1+round)
				}
			}
		})
	}
}

func TestNoOpImportWritesNothing(t *testing.T) {
	ctx := t.Context()
	c := newTestCluster(t)
	rel := addRelease(c, 1)
	cl := c.Client("test")
	a := rel.Tags[0]
	createStream(t, cl, newStream("stream", dockerTag("t", a.PullSpec)))
	is := waitForStream(t, cl, "stream", "import", imported("t"))

	w := watchStreams(t, cl, "", is.ResourceVersion)
	isi := streamImport("stream", true, imageImport(a.PullSpec, "t", ""))
	if err := c.Client("poster").Create(ctx, isi); err != nil {
		t.Fatal(err)
	}
	if st := isi.Status.Images[0]; st.Status.Status != metav1.StatusSuccess || st.Image == nil || st.Image.Name != a.Digest {
		t.Errorf("import status %+v", st)
	}
	if isi.Status.Import == nil || isi.Status.Import.ResourceVersion != is.ResourceVersion {
		t.Errorf("a no-op import wrote: resourceVersion %s -> %+v", is.ResourceVersion, isi.Status.Import)
	}
	createStream(t, cl, newStream("marker"))
	expectEvent(t, w, watch.Added, "marker")

	stats := c.Stats()
	key := TagKey{testNamespace, "stream", "t"}
	if stats.Imports[key] != 1 || stats.ImportAttempts[key] != 2 || stats.WritesBy(func(p string) bool { return p == "poster" }) != 0 {
		t.Errorf("imports %d, attempts %d, poster writes %d; want 1, 2, 0", stats.Imports[key], stats.ImportAttempts[key], stats.WritesBy(func(p string) bool { return p == "poster" }))
	}
}

// gatedRegistry is a registry whose imports of gated pull specs block until
// the test lets them through, so that a test can write to a stream while
// the controller's import of it is in flight.
type gatedRegistry struct {
	*registry.Registry
	started chan struct{}
	release chan struct{}
}

func newGatedRegistry() *gatedRegistry {
	g := &gatedRegistry{started: make(chan struct{}), release: make(chan struct{})}
	g.Registry = registry.New(registry.WithSleep(func(ctx context.Context, _ time.Duration) error {
		select {
		case g.started <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-g.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}))
	return g
}

// gate makes imports of pullSpec wait for the test.
func (g *gatedRegistry) gate(pullSpec string) {
	g.AddFault(registry.FaultRule{PullSpec: pullSpec, Latency: time.Nanosecond})
}

func (g *gatedRegistry) waitForImport(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(waitTimeout):
		t.Fatal("no import started")
	}
}

func TestControllerImportConflictsWithConcurrentWritesAndRetries(t *testing.T) {
	reg := newGatedRegistry()
	rel := reg.AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(1))
	reg.gate(rel.Tags[0].PullSpec)
	c := newTestCluster(t, WithRegistry(reg.Registry))
	cl := c.Client("writer")
	createStream(t, cl, newStream("stream", dockerTag("t", rel.Tags[0].PullSpec)))

	// A write storm: every import loses to a write made while it runs.
	const storm = 3
	for i := range storm {
		reg.waitForImport(t)
		updateStream(t, cl, "stream", func(is *imagev1.ImageStream) { is.Annotations = map[string]string{"write": fmt.Sprint(i)} })
		reg.release <- struct{}{}
	}
	reg.waitForImport(t)
	reg.release <- struct{}{}
	is := waitForStream(t, cl, "stream", "import", imported("t"))

	stats := c.Stats()
	key := TagKey{testNamespace, "stream", "t"}
	if stats.ImportConflicts != storm || stats.ImportAttempts[key] != storm+1 || stats.Imports[key] != 1 {
		t.Errorf("conflicts %d, attempts %d, imports %d; want %d, %d, 1", stats.ImportConflicts, stats.ImportAttempts[key], stats.Imports[key], storm, storm+1)
	}
	if n := reg.Resolves(rel.Tags[0].PullSpec); n != storm+1 {
		t.Errorf("registry resolved the image %d times, want %d", n, storm+1)
	}
	// The metadata writes did not bump the generation; the import did, once.
	if is.Generation != 2 || tagGeneration(t, is, "t") != 2 {
		t.Errorf("stream generation %d, tag %d; want 2", is.Generation, tagGeneration(t, is, "t"))
	}
}

// TestImportControllerImportsEachPendingTagOnce: a stream of many tags is
// imported in one batch, each tag once.
func TestImportControllerImportsEachPendingTagOnce(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 40)
	cl := c.Client("test")
	var tags []imagev1.TagReference
	var done []func(*imagev1.ImageStream) bool
	for _, tag := range rel.Tags {
		tags = append(tags, dockerTag(tag.Name, tag.PullSpec))
		done = append(done, imported(tag.Name))
	}
	createStream(t, cl, newStream("stream", tags...))
	is := waitForStream(t, cl, "stream", "all imported", allOf(done...))
	stats := c.Stats()
	for _, tag := range rel.Tags {
		if n := stats.Imports[TagKey{testNamespace, "stream", tag.Name}]; n != 1 {
			t.Errorf("tag %s imported %d times", tag.Name, n)
		}
		if got := itemsOf(is, tag.Name); len(got) != 1 || got[0].Image != tag.Digest {
			t.Errorf("tag %s items %+v", tag.Name, got)
		}
	}
	if is.Generation != 2 || stats.Writes[RequestKey{ControllerProcess, "create", "ImageStreamImport"}] != 1 || stats.ImportConflicts != 0 {
		t.Errorf("generation %d, controller writes %d, conflicts %d; want one batch", is.Generation, stats.Writes[RequestKey{ControllerProcess, "create", "ImageStreamImport"}], stats.ImportConflicts)
	}
}

func TestStuckImportControllerImportsNothing(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 1)
	cl := c.Client("test")
	c.StickImportController()
	tag := rel.Tags[0]
	createStream(t, cl, newStream("stream", dockerTag(tag.Name, tag.PullSpec)))
	// Many times an import's latency: the controller would have imported it.
	time.Sleep(100 * time.Millisecond)
	if n := c.Stats().Imports[TagKey{testNamespace, "stream", tag.Name}]; n != 0 {
		t.Fatalf("a stuck controller imported %s %d times", tag.Name, n)
	}
	isi := &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "stream"},
		Spec: imagev1.ImageStreamImportSpec{Import: true, Images: []imagev1.ImageImportSpec{
			{From: *dockerImage(tag.PullSpec), To: &corev1.LocalObjectReference{Name: tag.Name}},
		}},
	}
	if err := cl.Create(t.Context(), isi); err != nil {
		t.Fatalf("ImageStreamImport: %v", err)
	}
	waitForStream(t, cl, "stream", "imported by the client", imported(tag.Name))
}
