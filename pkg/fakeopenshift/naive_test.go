package fakeopenshift

import (
	"fmt"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"

	imagev1 "github.com/openshift/api/image/v1"
)

// TestNaiveClientsShowTheRealClusterFaults runs what the old import step did
// in each of the 16 processes of an aggregated job, against a cluster with
// realistic latency: read the stable stream, put the payload's tags in it,
// write it back, retrying conflicts as client-go's retry.DefaultRetry does.
// The writers disagree on importMode, as the old step's did. The fake must
// show what the real cluster shows: writers that exhaust their retries, and
// imports that lose to the writes (409) or restart because a write moved
// the tag's generation.
func TestNaiveClientsShowTheRealClusterFaults(t *testing.T) {
	const processes = 16
	ctx := t.Context()
	c := New(ctx) // DefaultLatency
	t.Cleanup(c.Stop)
	rel := c.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000")
	// The stable stream exists before the step runs, created as ci-operator
	// creates its streams: with a local lookup policy, so that pods can name
	// its tags. A create that sets a field leaves managedFields behind, so
	// the field manager tracks every later Update: each process's first
	// successful Update records it as a manager and is a write of its own,
	// even where the tags it writes are already there.
	stable := newStream("stable")
	stable.Spec.LookupPolicy.Local = true
	createStream(t, c.Client("setup"), stable)

	errs := make([]error, processes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range processes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := c.Client(fmt.Sprintf("naive-%d", i))
			mode := imagev1.ImportModeLegacy
			if i%2 == 0 {
				mode = imagev1.ImportModePreserveOriginal
			}
			<-start
			errs[i] = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				is := &imagev1.ImageStream{}
				if err := cl.Get(ctx, key("stable"), is); err != nil {
					return err
				}
				for _, tag := range rel.Tags {
					ref := imagev1.TagReference{Name: tag.Name, From: dockerImage(tag.PullSpec), ImportPolicy: imagev1.TagImportPolicy{ImportMode: mode}}
					if existing := specTag(is, tag.Name); existing != nil {
						*existing = ref
					} else {
						is.Spec.Tags = append(is.Spec.Tags, ref)
					}
				}
				return cl.Update(ctx, is)
			})
		}()
	}
	close(start)
	wg.Wait()

	// Wait until the controller has imported whatever the last writer left.
	var done []func(*imagev1.ImageStream) bool
	for _, tag := range rel.Tags {
		done = append(done, imported(tag.Name))
	}
	final := waitForStream(t, c.Client("observer"), "stable", "all tags imported", allOf(done...))

	stats := c.Stats()
	exhausted := 0
	for i, err := range errs {
		process := fmt.Sprintf("naive-%d", i)
		updates := stats.Requests[RequestKey{process, "update", "ImageStream"}]
		switch {
		case err == nil:
			if updates < 1 || updates > retry.DefaultRetry.Steps {
				t.Errorf("%s succeeded after %d updates", process, updates)
			}
		case apierrors.IsConflict(err):
			exhausted++
			if updates != retry.DefaultRetry.Steps {
				t.Errorf("%s gave up after %d updates, want %d", process, updates, retry.DefaultRetry.Steps)
			}
		default:
			t.Errorf("%s failed with something other than a conflict: %v", process, err)
		}
	}
	maxImports := 0
	for _, tag := range rel.Tags {
		maxImports = max(maxImports, stats.Imports[TagKey{testNamespace, "stable", tag.Name}])
	}
	t.Logf("%d of %d processes exhausted their retries; %d import conflicts; a tag was imported up to %d times; stream generation %d",
		exhausted, processes, stats.ImportConflicts, maxImports, final.Generation)
	if exhausted == 0 {
		t.Error("no process exhausted its retries; the real cluster makes some give up")
	}
	if stats.ImportConflicts == 0 && maxImports <= 1 {
		t.Error("no import lost to a write and none restarted; the real cluster's imports do")
	}
	if len(final.Spec.Tags) != len(rel.Tags) {
		t.Errorf("stream has %d tags, want %d", len(final.Spec.Tags), len(rel.Tags))
	}
}
