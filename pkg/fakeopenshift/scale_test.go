package fakeopenshift

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
)

// TestScaleIdenticalAppliesWriteOnce: 32 processes apply the same 190-tag
// stable stream with the same field manager, as the import step does in
// every process of an aggregated job. The first apply writes; the rest are
// no-ops, so nothing disturbs the import and every tag is imported once.
func TestScaleIdenticalAppliesWriteOnce(t *testing.T) {
	const processes = 32
	ctx := t.Context()
	c := New(ctx) // DefaultLatency
	t.Cleanup(c.Stop)
	rel := c.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000")
	stable := func() *imagev1apply.ImageStreamApplyConfiguration {
		spec := imagev1apply.ImageStreamSpec()
		for _, tag := range rel.Tags {
			spec.WithTags(imagev1apply.TagReference().WithName(tag.Name).
				WithFrom(corev1.ObjectReference{Kind: "DockerImage", Name: tag.PullSpec}).
				WithImportPolicy(imagev1apply.TagImportPolicy().WithImportMode(imagev1.ImportModePreserveOriginal)).
				WithReferencePolicy(imagev1apply.TagReferencePolicy().WithType(imagev1.SourceTagReferencePolicy)))
		}
		return imagev1apply.ImageStream("stable", testNamespace).WithSpec(spec)
	}

	errs := make([]error, processes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range processes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := c.Client(fmt.Sprintf("shard-%d", i))
			ac := stable()
			<-start
			errs[i] = applyAs(ctx, cl, ac, "import-release", true)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d: %v", i, err)
		}
	}

	var done []func(*imagev1.ImageStream) bool
	for _, tag := range rel.Tags {
		done = append(done, imported(tag.Name))
	}
	final := waitForStream(t, c.Client("observer"), "stable", "all tags imported", allOf(done...))

	stats := c.Stats()
	if len(final.Spec.Tags) != len(rel.Tags) || len(final.Status.Tags) != len(rel.Tags) {
		t.Errorf("stream has %d spec and %d status tags, want %d", len(final.Spec.Tags), len(final.Status.Tags), len(rel.Tags))
	}
	for _, tag := range rel.Tags {
		if n := stats.Imports[TagKey{testNamespace, "stable", tag.Name}]; n != 1 {
			t.Errorf("tag %s imported %d times, want 1", tag.Name, n)
		}
		if items := itemsOf(final, tag.Name); len(items) != 1 || items[0].Image != tag.Digest {
			t.Errorf("tag %s items %+v", tag.Name, items)
		}
	}
	shards := func(p string) bool { return strings.HasPrefix(p, "shard-") }
	if n := stats.WritesBy(shards); n != 1 {
		t.Errorf("the shards wrote %d times, want 1 (the first apply)", n)
	}
	if n := stats.RequestsBy(shards); n != processes {
		t.Errorf("the shards made %d requests, want %d", n, processes)
	}
	if stats.ImportConflicts != 0 || final.Generation != 2 {
		t.Errorf("%d import conflicts, generation %d; want one undisturbed import", stats.ImportConflicts, final.Generation)
	}
}
