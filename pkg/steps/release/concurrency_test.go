package release

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

func isShard(process string) bool { return strings.HasPrefix(process, "shard-") }

// runShards runs the steps for names in n processes at once, each process
// running its steps through pkg/graph as ci-operator does, and fails the
// test if any process fails.
func runShards(t testing.TB, env *testEnv, n int, names ...string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var steps []api.Step
			for _, name := range names {
				steps = append(steps, env.step(fmt.Sprintf("shard-%d", i), name))
			}
			g, err := graph.Build(steps)
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = g.Run(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d failed: %v", i, err)
		}
	}
}

// assertWorkOnce checks the invariants of a finished import: every tag of
// every release in spec with the canonical definition and imported exactly
// once, and each pod created once.
func assertWorkOnce(t *testing.T, env *testEnv, names ...string) {
	t.Helper()
	stats := env.cluster.Stats()
	client := env.cluster.Client("checker")
	for _, name := range names {
		rel := env.releases[name]
		stream := api.ReleaseStreamFor(name)
		is := &imagev1.ImageStream{}
		if err := client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: stream}, is); err != nil {
			t.Fatal(err)
		}
		for _, tag := range rel.Tags {
			key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: stream, Tag: tag.Name}
			if got := stats.Imports[key]; got != 1 {
				t.Errorf("%s imported %d times, want once", key, got)
			}
			if st := imagestreams.StateOf(is, tag.Name); st.Phase != imagestreams.Imported {
				t.Errorf("%s is %s", key, st.Phase)
			}
		}
		if got := stats.Imports[fakeopenshift.TagKey{Namespace: testNamespace, Stream: "release", Tag: name}]; got != 1 {
			t.Errorf("release:%s imported %d times, want once", name, got)
		}
	}
	if got, want := len(stats.PodsCreated), 2*len(names); got != want {
		t.Errorf("%d distinct pods created, want %d: %v", got, want, stats.PodsCreated)
	}
	for pod, n := range stats.PodsCreated {
		if n != 1 {
			t.Errorf("pod %s created %d times, want once", pod, n)
		}
	}
}

// followerMutating bounds the mutating requests a follower may send per
// release beyond the leader's. A follower reads and watches; what it may
// send is a create of the payload record that got AlreadyExists (it read
// the record before the leader created it) and an apply of a stream it
// read before the leader's apply landed. A follower that retries writes
// in a loop, or sends writes only the leader needs, exceeds it.
const followerMutating = 2

// shardInvariants checks the counters of a run of n shards importing
// releases releases against those of one shard alone and returns a message
// per invariant that does not hold: the state-changing writes equal one
// shard's; the mutating requests (no-op writes and errors included) at most
// one shard's plus followerMutating per follower and release; the payload
// merge (an apply of the stable stream under the payload manager) sent at
// most once more than one shard sends it, for a follower that read the
// stream just before the leader's merge landed.
func shardInvariants(one, run fakeopenshift.Stats, n, releases int) []string {
	var out []string
	if got, want := run.WritesBy(isShard), one.WritesBy(isShard); got != want {
		out = append(out, fmt.Sprintf("shards made %d state-changing writes, want %d (as one shard alone)", got, want))
	}
	base := one.MutatingBy(isShard)
	if got, limit := run.MutatingBy(isShard), base+(n-1)*releases*followerMutating; got > limit {
		out = append(out, fmt.Sprintf("shards sent %d mutating requests, want at most %d (one shard's %d + %d followers x %d releases x %d)", got, limit, base, n-1, releases, followerMutating))
	}
	merges := func(s fakeopenshift.Stats) int {
		return s.AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard)
	}
	if got, limit := merges(run), merges(one)+releases; got > limit {
		out = append(out, fmt.Sprintf("shards sent the payload merge %d times, want at most %d", got, limit))
	}
	return out
}

// oneShard measures the counters of one process importing names into an
// empty namespace.
func oneShard(t *testing.T, images int, names ...string) fakeopenshift.Stats {
	t.Helper()
	env := newTestEnv(t, images, names...)
	runShards(t, env, 1, names...)
	return env.cluster.Stats()
}

func TestConcurrentShardsDoTheWorkOnce(t *testing.T) {
	const images = 190
	testCases := []struct {
		name     string
		releases []string
		shards   []int
	}{
		{name: "latest", releases: []string{"latest"}, shards: []int{2, 4, 8, 16, 32}},
		{name: "initial and latest side by side", releases: []string{"initial", "latest"}, shards: []int{4, 32}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			one := oneShard(t, images, tc.releases...)
			if one.WritesBy(isShard) == 0 {
				t.Fatal("one shard made no writes")
			}
			for _, n := range tc.shards {
				t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
					env := newTestEnv(t, images, tc.releases...)
					runShards(t, env, n, tc.releases...)
					assertWorkOnce(t, env, tc.releases...)
					run := env.cluster.Stats()
					for _, failure := range shardInvariants(one, run, n, len(tc.releases)) {
						t.Errorf("%s\n%s", failure, run.Report())
					}
					t.Logf("%d shards: %d state-changing writes, %d mutating requests, %d payload merges sent",
						n, run.WritesBy(isShard), run.MutatingBy(isShard), run.AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard))
				})
			}
		})
	}
}

func TestRerunWritesNothing(t *testing.T) {
	env := newTestEnv(t, 190, "initial", "latest")
	runShards(t, env, 4, "initial", "latest")
	before := env.cluster.Stats()
	runShards(t, env, 4, "initial", "latest")
	after := env.cluster.Stats()
	if got := after.WritesBy(isShard) - before.WritesBy(isShard); got != 0 {
		t.Errorf("the re-run made %d state-changing writes, want 0\n%s", got, after.Report())
	}
	if got, want := len(after.PodsCreated), len(before.PodsCreated); got != want {
		t.Errorf("the re-run created pods: %v", after.PodsCreated)
	}
	if got, want := after.TotalImports(), before.TotalImports(); got != want {
		t.Errorf("the re-run caused %d imports", got-want)
	}
}

// forceMerge makes a process re-send the payload merge whatever the stream
// holds: it hides the merged mark from the step's reads of the stable
// stream from the server, which the step makes only to decide whether to
// merge (its waits and checks read its shared watch), as a step variant
// that ignored the mark would see it. Every apply it causes is a no-op on
// the server, so state-changing writes alone cannot tell it from the real
// step.
type forceMerge struct {
	ctrlruntimeclient.WithWatch
}

func (c *forceMerge) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	if err := c.WithWatch.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if is, ok := obj.(*imagev1.ImageStream); ok && strings.HasPrefix(is.Name, "stable") {
		delete(is.Annotations, MergedAnnotation)
	}
	return nil
}

// TestShardInvariantsCatchFollowersThatResendTheMerge proves the
// concurrency invariants can fail: when every follower re-sends the payload
// merge, the state-changing writes still equal one shard's (the applies are
// no-ops), but the merge count and the mutating requests give it away.
func TestShardInvariantsCatchFollowersThatResendTheMerge(t *testing.T) {
	const images, n = 190, 8
	one := oneShard(t, images, "latest")
	env := newTestEnv(t, images, "latest")
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			process := fmt.Sprintf("shard-%d", i)
			// No takeover time: a follower that has not seen the mark at once
			// reads the stream (without the mark) and merges.
			step := env.stepWithClient(&forceMerge{WithWatch: env.cluster.Client(process)}, "latest", func(c *Config) { c.ClaimDuration = time.Nanosecond })
			if err := step.Run(t.Context()); err != nil {
				t.Errorf("%s failed: %v", process, err)
			}
		}()
	}
	wg.Wait()
	run := env.cluster.Stats()
	if got, want := run.WritesBy(isShard), one.WritesBy(isShard); got != want {
		t.Errorf("state-changing writes %d, want %d: the forced merges should all be no-ops", got, want)
	}
	if got := run.AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard); got != n {
		t.Errorf("the payload merge was sent %d times, want %d (every process)", got, n)
	}
	failures := shardInvariants(one, run, n, 1)
	if len(failures) == 0 {
		t.Fatalf("the invariants hold for a run where every follower re-sent the merge\n%s", run.Report())
	}
	t.Logf("invariants that caught it: %q", failures)
}
