package fakeopenshift

import (
	"fmt"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// TestNaiveClientsShowTheRealClusterFaults runs what the old import step did
// in each of the 16 processes of an aggregated job, against a cluster with
// realistic latency: read the stable stream, put the payload's tags in it,
// write it back, retrying conflicts as client-go's retry.DefaultRetry does.
// The writers disagree on importMode, as the old step's did. The fake must
// show each fault the real cluster shows: writers that exhaust their retries,
// imports that lose to a write (409), and imports that run again because a
// write moved the tags' generation.
//
// Fourteen processes start together; that reliably makes some give up. Two
// straggle in once the stream is imported, as shards of one job start
// seconds apart, and make the other two faults certain: the first sets the
// importMode the tags were not imported with, and the second writes while
// the controller imports that. With all sixteen starting together, as this
// test did before, 409s came in only 1 of 5 runs under -race and 8 of 10
// without: a payload import takes 12ms under DefaultLatency, while the fake
// spends 20-50ms (120-270ms under -race) of CPU on one Get and Update of a
// payload-sized stream, so a write rarely lands inside an import.
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

	mode := func(i int) imagev1.ImportModeType {
		if i%2 == 0 {
			return imagev1.ImportModePreserveOriginal
		}
		return imagev1.ImportModeLegacy
	}
	errs := make([]error, processes)
	naive := func(i int) {
		cl := c.Client(fmt.Sprintf("naive-%d", i))
		errs[i] = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			is := &imagev1.ImageStream{}
			if err := cl.Get(ctx, key("stable"), is); err != nil {
				return err
			}
			for _, tag := range rel.Tags {
				ref := imagev1.TagReference{Name: tag.Name, From: dockerImage(tag.PullSpec), ImportPolicy: imagev1.TagImportPolicy{ImportMode: mode(i)}}
				if existing := specTag(is, tag.Name); existing != nil {
					*existing = ref
				} else {
					is.Spec.Tags = append(is.Spec.Tags, ref)
				}
			}
			return cl.Update(ctx, is)
		})
	}
	var done []func(*imagev1.ImageStream) bool
	for _, tag := range rel.Tags {
		done = append(done, imported(tag.Name))
	}
	allImported := allOf(done...)

	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range processes - 2 {
		wg.Go(func() {
			<-start
			naive(i)
		})
	}
	close(start)
	wg.Wait()
	settled := waitForStream(t, c.Client("observer"), "stable", "all tags imported before the stragglers", allImported)

	// The first straggler moves every tag's generation.
	first, second := processes-2, processes-1
	if mode(first) == specTagOf(t, settled, rel.Tags[0].Name).ImportPolicy.ImportMode {
		first, second = second, first
	}
	// One image of the payload answers slowly, which holds the import the
	// first straggler causes open until the second has written.
	slow := rel.Tags[len(rel.Tags)-1].PullSpec
	resolvesBefore := c.Registry().Resolves(slow)
	conflictsBefore := c.Stats().ImportConflicts
	removeLatency := c.Registry().AddFault(registry.FaultRule{PullSpec: slow, Latency: 2 * time.Second})
	naive(first)
	for deadline := time.Now().Add(waitTimeout); c.Registry().Resolves(slow) == resolvesBefore; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the controller did not import after naive-%d set importMode %s", first, mode(first))
		}
	}
	secondStart := time.Now()
	naive(second)
	secondTook := time.Since(secondStart)
	removeLatency()
	// Wait until the controller has imported whatever the last writer left.
	final := waitForStream(t, c.Client("observer"), "stable", "all tags imported", allImported)

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
	for _, straggler := range []int{first, second} {
		if errs[straggler] != nil {
			t.Errorf("straggler naive-%d failed: %v", straggler, errs[straggler])
		}
	}
	minImports, maxImports := 0, 0
	for i, tag := range rel.Tags {
		n := stats.Imports[TagKey{testNamespace, "stable", tag.Name}]
		if i == 0 || n < minImports {
			minImports = n
		}
		maxImports = max(maxImports, n)
	}
	t.Logf("%d of %d processes exhausted their retries; %d import conflicts (%d before the stragglers); tags were imported %d to %d times; stream generation %d; the second straggler wrote in %s",
		exhausted, processes, stats.ImportConflicts, conflictsBefore, minImports, maxImports, final.Generation, secondTook)
	if exhausted == 0 {
		t.Error("no process exhausted its retries; the real cluster makes some give up")
	}
	if stats.ImportConflicts == 0 {
		t.Errorf("no import lost to a write (409); the real cluster's imports do (the second straggler's write took %s, the slow image 2s)", secondTook)
	}
	if minImports < 2 {
		t.Errorf("some tag was imported only %d times; after the stragglers moved the generation every tag must have been imported again", minImports)
	}
	if len(final.Spec.Tags) != len(rel.Tags) {
		t.Errorf("stream has %d tags, want %d", len(final.Spec.Tags), len(rel.Tags))
	}
}
