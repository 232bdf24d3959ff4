package imagestreams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// newScaledEnv is a fake cluster with a real cluster's latencies a hundred
// times faster and a payload of n images.
func newScaledEnv(t *testing.T, n int, opts ...registry.Option) (*waitEnv, []string) {
	t.Helper()
	cluster := fakeopenshift.New(t.Context(), fakeopenshift.WithLatency(fakeopenshift.RealClusterLatency.Scaled(0.01)),
		fakeopenshift.WithRegistry(registry.New(opts...)))
	t.Cleanup(cluster.Stop)
	rel := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(n))
	env := &waitEnv{cluster: cluster, client: cluster.Client("waiter"), images: map[string]registry.Tag{}}
	var tags []string
	for _, tag := range rel.Tags {
		env.images[tag.Name] = tag
		tags = append(tags, tag.Name)
	}
	return env, tags
}

// clientImports counts the ImageStreamImports processes other than the
// import controller posted, and how many processes posted them.
func clientImports(stats fakeopenshift.Stats) (requests, processes int) {
	for key, n := range stats.Requests {
		if key.Kind == "ImageStreamImport" && key.Verb == "create" && key.Process != fakeopenshift.ControllerProcess {
			requests += n
			processes++
		}
	}
	return requests, processes
}

// waitAll runs one wait per process and returns their errors.
func waitAll(t *testing.T, env *waitEnv, processes int, tags []string, opts ...WaitOption) []error {
	t.Helper()
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for i := range processes {
		wg.Go(func() {
			client := env.cluster.Client(fmt.Sprintf("shard-%d", i))
			_, errs[i] = WaitForImports(t.Context(), client, waitNamespace, "stable", tags, opts...)
		})
	}
	wg.Wait()
	return errs
}

func TestWaitDoesNotStallWhileABatchImportIsSlow(t *testing.T) {
	env, tags := newScaledEnv(t, 120)
	const stall = 400 * time.Millisecond
	// 100ms per image, 8 at a time: the controller's one batch of 120 takes
	// ~1.9s, more than three stall timeouts; a nudge of 10 ~0.25s.
	env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: "*", Latency: 100 * time.Millisecond})
	env.apply(t, "stable", "", tags...)
	start := time.Now()
	errs := waitAll(t, env, 4, tags, WithStallTimeout(stall))
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d: %v", i, err)
		}
	}
	if elapsed < 3*stall {
		t.Errorf("the imports took %s, not more than three stall timeouts (%s): the test shows nothing", elapsed, 3*stall)
	}
	stats := env.cluster.Stats()
	for _, tag := range tags {
		if written := stats.Imports[fakeopenshift.TagKey{Namespace: waitNamespace, Stream: "stable", Tag: tag}]; written != 1 {
			t.Errorf("%s imported %d times, want once", tag, written)
		}
	}
	requests, processes := clientImports(stats)
	batches := (len(tags) + DefaultNudgeBatch - 1) / DefaultNudgeBatch
	if requests < 1 || requests > batches*DefaultNudges {
		t.Errorf("%d nudges, want between 1 and %d (one chain)", requests, batches*DefaultNudges)
	}
	t.Logf("120 tags in %s with a %s stall timeout: %d nudges by %d of 4 processes, controller writes %d",
		elapsed, stall, requests, processes, stats.Writes[fakeopenshift.RequestKey{Process: fakeopenshift.ControllerProcess, Verb: "create", Kind: "ImageStreamImport"}])
}

func TestWaitOnAStuckController(t *testing.T) {
	const stall = 300 * time.Millisecond
	t.Run("nudges import the pending tags", func(t *testing.T) {
		env, tags := newScaledEnv(t, 3)
		env.cluster.StickImportController()
		env.apply(t, "stable", "", tags...)
		errs := waitAll(t, env, 4, tags, WithStallTimeout(stall))
		for i, err := range errs {
			if err != nil {
				t.Errorf("shard-%d: %v", i, err)
			}
		}
		stats := env.cluster.Stats()
		if n := stats.Writes[fakeopenshift.RequestKey{Process: fakeopenshift.ControllerProcess, Verb: "create", Kind: "ImageStreamImport"}]; n != 0 {
			t.Errorf("the stuck controller wrote %d imports", n)
		}
		if requests, processes := clientImports(stats); requests != 1 || processes != 1 {
			t.Errorf("%d nudges by %d processes, want one by one", requests, processes)
		}
	})
	t.Run("nudges that hang end in a stall naming the tags", func(t *testing.T) {
		env, tags := newScaledEnv(t, 3)
		env.cluster.StickImportController()
		env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: "*", Latency: time.Hour})
		env.apply(t, "stable", "", tags...)
		errs := waitAll(t, env, 4, tags, WithStallTimeout(stall))
		for i, err := range errs {
			var stalled *StalledError
			if !errors.As(err, &stalled) {
				t.Fatalf("shard-%d: %v, want a *StalledError", i, err)
			}
			var waiting []string
			for _, st := range stalled.Waiting {
				waiting = append(waiting, fmt.Sprintf("%s %s", st.Tag, st.Phase))
			}
			want := []string{tags[0] + " Pending", tags[1] + " Pending", tags[2] + " Pending"}
			if diff := cmp.Diff(want, waiting); diff != "" {
				t.Errorf("shard-%d waited for (-want +got):\n%s", i, diff)
			}
			if !strings.Contains(err.Error(), "0/3 tags imported, waiting for "+tags[0]+" (pending)") {
				t.Errorf("shard-%d: %q does not name what it waited for", i, err)
			}
		}
		if requests, _ := clientImports(env.cluster.Stats()); requests != DefaultNudges {
			t.Errorf("%d nudges, want %d: one shared budget", requests, DefaultNudges)
		}
	})
}

func TestWaitNudgesPendingTagsPastAFasterWriter(t *testing.T) {
	// A writer changes the stream during every import of the last tag
	// until 50 of the 60 tags are imported: the controller's batches, which
	// hold every pending tag, always lose to it, whatever the machine's
	// load, while the nudges of 10 tags that leave the last one out land.
	// The registry calls its sleep hook while it resolves the last tag (a
	// fault rule with a latency on that tag alone), before the import
	// writes its result.
	const total, free = 60, 50
	var env *waitEnv
	var tags []string
	var blocked atomic.Int32
	hook := func(context.Context, time.Duration) error {
		// The writer is not part of the import: its requests do not end
		// with the import's. What its write did shows in the nudges
		// counted below; the resolve goes on either way.
		ctx := t.Context()
		is := &imagev1.ImageStream{}
		err := env.cluster.Client("observer").Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: waitNamespace, Name: "stable"}, is)
		imported := 0
		for _, st := range StatesOf(is, tags) {
			if st.Phase == Imported {
				imported++
			}
		}
		if err == nil && imported < free {
			blocked.Add(1)
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/counter":"%d"}}}`, blocked.Load())
			target := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Namespace: waitNamespace, Name: "stable"}}
			_ = env.cluster.Client("writer").Patch(ctx, target, ctrlruntimeclient.RawPatch("application/merge-patch+json", []byte(patch)))
		}
		return nil
	}
	env, tags = newScaledEnv(t, total, registry.WithSleep(hook))
	last := env.images[tags[len(tags)-1]].PullSpec
	env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: last, Latency: time.Nanosecond})
	env.apply(t, "stable", "", tags...)

	errs := waitAll(t, env, 4, tags, WithStallTimeout(2*time.Second), WithNudges(10))
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d: %v", i, err)
		}
	}
	stats := env.cluster.Stats()
	for _, tag := range tags {
		if written := stats.Imports[fakeopenshift.TagKey{Namespace: waitNamespace, Stream: "stable", Tag: tag}]; written != 1 {
			t.Errorf("%s imported %d times, want once", tag, written)
		}
	}
	if stats.ImportConflicts == 0 {
		t.Errorf("the controller's batch never lost to the writer: the test shows nothing")
	}
	// The first 50 tags can only be imported by nudges of 10.
	requests, processes := clientImports(stats)
	batches := (len(tags) + DefaultNudgeBatch - 1) / DefaultNudgeBatch
	if want := free / DefaultNudgeBatch; requests < want || requests > batches*10 {
		t.Errorf("%d nudges, want between %d and %d (one chain)", requests, want, batches*10)
	}
	t.Logf("%d imports of the last tag met a write; %d nudges by %d of 4 processes; %d controller conflicts",
		blocked.Load(), requests, processes, stats.ImportConflicts)
}

func TestWaitOutlastsATransientFailureLongerThanTheOldBudget(t *testing.T) {
	env, tags := newScaledEnv(t, 3)
	// The old step gave up ~31s after the first failure: 0.31s here.
	const outage = 400 * time.Millisecond
	failing := tags[0]
	clear := env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: env.images[failing].PullSpec, FailFirst: 1 << 20})
	cleared := time.AfterFunc(outage, clear)
	defer cleared.Stop()
	env.apply(t, "stable", "", tags...)
	var mu sync.Mutex
	retriggers := 0
	errs := waitAll(t, env, 4, tags, WithRetryDelay(10*time.Millisecond), WithRetriggerObserver(func([]string) {
		mu.Lock()
		retriggers++
		mu.Unlock()
	}))
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d: %v", i, err)
		}
	}
	requests, processes := clientImports(env.cluster.Stats())
	if requests < 2 || requests > DefaultRetries {
		t.Errorf("%d re-triggers, want between 2 and %d (one shared chain)", requests, DefaultRetries)
	}
	if retriggers != requests {
		t.Errorf("the waits counted %d re-triggers, the server %d", retriggers, requests)
	}
	written, attempted := env.imports("stable", failing)
	t.Logf("%s failing for %s: %d re-triggers by %d of 4 processes; %d imports written of %d attempted", failing, outage, requests, processes, written, attempted)
}

func TestPlanNudges(t *testing.T) {
	pending := []TagState{{Tag: "a", Source: "r/a:1", Generation: 2}, {Tag: "b", Source: "r/b:1", Generation: 2}, {Tag: "c", Source: "r/c:1", Generation: 3}}
	testCases := []struct {
		name     string
		ledger   nudgeLedger
		batch    int
		wantTags []string
		wantNext nudgeLedger
	}{
		{
			name: "first nudges, one batch", ledger: nudgeLedger{}, batch: 2, wantTags: []string{"a", "b"},
			wantNext: nudgeLedger{"a": {From: "r/a:1", Generation: 2, Nudges: 1}, "b": {From: "r/b:1", Generation: 2, Nudges: 1}},
		},
		{
			name:   "a spent tag is skipped",
			ledger: nudgeLedger{"a": {From: "r/a:1", Generation: 2, Nudges: 3}}, batch: 2, wantTags: []string{"b", "c"},
			wantNext: nudgeLedger{"a": {From: "r/a:1", Generation: 2, Nudges: 3}, "b": {From: "r/b:1", Generation: 2, Nudges: 1}, "c": {From: "r/c:1", Generation: 3, Nudges: 1}},
		},
		{
			name:   "a new generation has a new budget",
			ledger: nudgeLedger{"a": {From: "r/a:1", Generation: 1, Nudges: 3}}, batch: 1, wantTags: []string{"a"},
			wantNext: nudgeLedger{"a": {From: "r/a:1", Generation: 2, Nudges: 1}},
		},
		{
			name:     "all spent",
			ledger:   nudgeLedger{"a": {From: "r/a:1", Generation: 2, Nudges: 3}, "b": {From: "r/b:1", Generation: 2, Nudges: 3}, "c": {From: "r/c:1", Generation: 3, Nudges: 3}},
			batch:    10,
			wantNext: nudgeLedger{"a": {From: "r/a:1", Generation: 2, Nudges: 3}, "b": {From: "r/b:1", Generation: 2, Nudges: 3}, "c": {From: "r/c:1", Generation: 3, Nudges: 3}},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			batch, next := planNudges(tc.ledger, pending, 3, tc.batch)
			if diff := cmp.Diff(tc.wantTags, tagNames(batch)); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNext, next); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
		})
	}
}
