package release

import (
	"fmt"
	"testing"
	"time"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// The merge-once property: with N processes importing one release, the
// payload merge (an apply of the stable stream under the payload manager)
// is sent once per release in at least 95% of runs, and never more than
// twice (a follower whose takeover time ran out just before the merger's
// mark reached it).
const (
	mergeOnceRuns   = 20
	mergeOnceShards = 16
	// mergeOnceImages keeps a run short: the property is about the
	// followers' reads and the merger's write, not the payload's size.
	mergeOnceImages = 20
)

// mergeOnceLatency is the embedded command's profile at half its durations:
// the API, imports and pods in a real cluster's proportions, a run of 16
// shards under the race detector in about a second.
var mergeOnceLatency = fakeopenshift.EmbeddedLatency.Scaled(0.5)

// mergesPerRun runs runs imports of release latest, each by shards
// concurrent processes on a cluster of its own, and returns the payload
// merges each run sent. client wraps a process's client (nil: as it is).
func mergesPerRun(t *testing.T, runs, shards int, client func(ctrlruntimeclient.WithWatch) ctrlruntimeclient.WithWatch, mutate ...func(*Config)) []int {
	t.Helper()
	if client == nil {
		client = func(c ctrlruntimeclient.WithWatch) ctrlruntimeclient.WithWatch { return c }
	}
	merges := make([]int, runs)
	for run := range runs {
		cluster := fakeopenshift.New(t.Context(), fakeopenshift.WithLatency(mergeOnceLatency))
		env := &testEnv{cluster: cluster, releases: map[string]*registry.Release{
			"latest": cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(mergeOnceImages)),
		}}
		errs := make([]error, shards)
		done := make(chan int)
		for i := range shards {
			go func() {
				errs[i] = env.stepWithClient(client(cluster.Client(fmt.Sprintf("shard-%d", i))), "latest", mutate...).Run(t.Context())
				done <- i
			}()
		}
		for range shards {
			<-done
		}
		requireNoErrors(t, errs)
		merges[run] = cluster.Stats().AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard)
		cluster.Stop()
	}
	return merges
}

// mergeOnceViolations says how counts, the payload merges of each run,
// break the merge-once property.
func mergeOnceViolations(counts []int) []string {
	var out []string
	once := 0
	for run, n := range counts {
		switch {
		case n == 1:
			once++
		case n > 2:
			out = append(out, fmt.Sprintf("run %d sent the payload merge %d times, want at most 2", run, n))
		case n == 0:
			out = append(out, fmt.Sprintf("run %d sent no payload merge", run))
		}
	}
	// At least 95% of the runs: 19 of 20.
	if need := (len(counts)*95 + 99) / 100; once < need {
		out = append(out, fmt.Sprintf("%d of %d runs sent the payload merge exactly once, want at least %d", once, len(counts), need))
	}
	return out
}

func TestThePayloadMergeIsSentOnce(t *testing.T) {
	start := time.Now()
	counts := mergesPerRun(t, mergeOnceRuns, mergeOnceShards, nil)
	for _, v := range mergeOnceViolations(counts) {
		t.Error(v)
	}
	t.Logf("payload merges per run of %d shards: %v (%s)", mergeOnceShards, counts, time.Since(start))
}

// TestMergeOnceCatchesFollowersThatMerge proves the merge-once check can
// fail: with followers that do not see the merger's mark (forceMerge) and
// no takeover time, every process merges.
func TestMergeOnceCatchesFollowersThatMerge(t *testing.T) {
	const runs, shards = 2, 8
	counts := mergesPerRun(t, runs, shards,
		func(c ctrlruntimeclient.WithWatch) ctrlruntimeclient.WithWatch { return &forceMerge{WithWatch: c} },
		func(c *Config) { c.ClaimDuration = time.Nanosecond })
	violations := mergeOnceViolations(counts)
	if len(violations) == 0 {
		t.Fatalf("the merge-once check holds for runs where every follower merged: %v", counts)
	}
	t.Logf("merges per run %v; violations: %q", counts, violations)
}

func TestMergeOnceViolations(t *testing.T) {
	testCases := []struct {
		name   string
		counts []int
		want   int
	}{
		{name: "every run once", counts: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{name: "one run twice", counts: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{name: "two runs twice", counts: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, want: 1},
		{name: "one run three times", counts: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, want: 1},
		{name: "a run without a merge", counts: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, want: 1},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mergeOnceViolations(tc.counts); len(got) != tc.want {
				t.Errorf("mergeOnceViolations(%v) = %q, want %d violation(s)", tc.counts, got, tc.want)
			}
		})
	}
}
