package release

import (
	"fmt"
	"strings"
	"sync"
	"testing"

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
// once, each pod created once, and the shards' state-changing writes equal
// to want.
func assertWorkOnce(t *testing.T, env *testEnv, wantWrites int, names ...string) {
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
	if got := stats.WritesBy(isShard); got != wantWrites {
		t.Errorf("shards made %d state-changing writes, want %d (as one shard alone)\n%s", got, wantWrites, stats.Report())
	}
}

// writesForOneShard measures the state-changing writes of one process
// importing names into an empty namespace.
func writesForOneShard(t *testing.T, images int, names ...string) int {
	t.Helper()
	env := newTestEnv(t, images, names...)
	runShards(t, env, 1, names...)
	return env.cluster.Stats().WritesBy(isShard)
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
			want := writesForOneShard(t, images, tc.releases...)
			if want == 0 {
				t.Fatal("one shard made no writes")
			}
			for _, n := range tc.shards {
				t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
					env := newTestEnv(t, images, tc.releases...)
					runShards(t, env, n, tc.releases...)
					assertWorkOnce(t, env, want, tc.releases...)
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
