package release

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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// faultImages is the payload size of the fault tests: big enough for a batch
// import to take a while, small enough to keep the tests quick.
const faultImages = 30

// cliPodName and extractPodName are the namespaced names of the pods the
// step runs for release name, as Stats().PodsCreated keys them.
func (e *testEnv) cliPodName(name string) string {
	return testNamespace + "/" + contentName("release-images-"+name+"-cli", e.releases[name].DigestPullSpec)
}

func (e *testEnv) extractPodName(name string) string {
	return testNamespace + "/" + contentName("release-images-"+name, e.releases[name].DigestPullSpec)
}

// tag returns the payload tag of release name called tag.
func (e *testEnv) tag(t *testing.T, name, tag string) registry.Tag {
	t.Helper()
	for _, tg := range e.releases[name].Tags {
		if tg.Name == tag {
			return tg
		}
	}
	t.Fatalf("release %s has no tag %s", name, tag)
	return registry.Tag{}
}

func (e *testEnv) stream(t *testing.T, name string) *imagev1.ImageStream {
	t.Helper()
	is := &imagev1.ImageStream{}
	if err := e.cluster.Client("checker").Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: name}, is); err != nil {
		t.Fatalf("could not read image stream %s: %v", name, err)
	}
	return is
}

// runProcesses runs the step for name in n processes at once (shard-0 …)
// and returns their errors.
func runProcesses(t *testing.T, env *testEnv, n int, name string, mutate ...func(*Config)) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = env.step(fmt.Sprintf("shard-%d", i), name, mutate...).Run(t.Context())
		})
	}
	wg.Wait()
	return errs
}

func requireNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d failed: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// assertImported checks that every payload tag of name is in its stable
// stream with the canonical definition, imported, and that the import
// controller and the step imported it exactly want[tag] times (1 for tags not
// in want); release:<name> must have been imported once.
func assertImported(t *testing.T, env *testEnv, name string, want map[string]int) {
	t.Helper()
	stats := env.cluster.Stats()
	stream := api.ReleaseStreamFor(name)
	is := env.stream(t, stream)
	for _, tag := range env.releases[name].Tags {
		var spec *imagev1.TagReference
		for i := range is.Spec.Tags {
			if is.Spec.Tags[i].Name == tag.Name {
				spec = &is.Spec.Tags[i]
			}
		}
		if spec == nil || !imagestreams.IsCanonical(*spec, tag.PullSpec, imagev1.SourceTagReferencePolicy) {
			t.Errorf("tag %s is not canonical: %+v", tag.Name, spec)
		}
		if st := imagestreams.StateOf(is, tag.Name); st.Phase != imagestreams.Imported || st.Image != tag.Digest {
			t.Errorf("tag %s: %s, image %q, want Imported %s", tag.Name, st.Phase, st.Image, tag.Digest)
		}
		key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: stream, Tag: tag.Name}
		wantImports, ok := want[tag.Name]
		if !ok {
			wantImports = 1
		}
		if got := stats.Imports[key]; got != wantImports {
			t.Errorf("%s imported %d times, want %d", key, got, wantImports)
		}
	}
	key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: api.ReleaseImageStream, Tag: name}
	if got := stats.Imports[key]; got != 1 {
		t.Errorf("%s imported %d times, want once", key, got)
	}
}

// assertPodsCreated compares how often each pod was created.
func assertPodsCreated(t *testing.T, env *testEnv, want map[string]int) {
	t.Helper()
	if diff := cmp.Diff(want, env.cluster.Stats().PodsCreated); diff != "" {
		t.Errorf("pods created (-want +got):\n%s", diff)
	}
}

func requests(stats fakeopenshift.Stats, keep func(fakeopenshift.RequestKey) bool) int {
	n := 0
	for k, v := range stats.Requests {
		if keep(k) {
			n += v
		}
	}
	return n
}

func TestFailedPodsAreReplaced(t *testing.T) {
	testCases := []struct {
		name      string
		processes int
		// pod returns the namespaced name of the pod that fails once.
		pod func(env *testEnv) string
	}{
		{name: "cli pod", processes: 1, pod: func(env *testEnv) string { return env.cliPodName("latest") }},
		{name: "extract pod", processes: 1, pod: func(env *testEnv) string { return env.extractPodName("latest") }},
		{name: "cli pod, 8 processes", processes: 8, pod: func(env *testEnv) string { return env.cliPodName("latest") }},
		{name: "extract pod, 8 processes", processes: 8, pod: func(env *testEnv) string { return env.extractPodName("latest") }},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			failing := tc.pod(env)
			_, prefix, _ := strings.Cut(failing, "/")
			env.cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: prefix, Action: fakeopenshift.PodFail, Message: "injected", Times: 1})

			requireNoErrors(t, runProcesses(t, env, tc.processes, "latest"))

			want := map[string]int{env.cliPodName("latest"): 1, env.extractPodName("latest"): 1}
			want[failing] = 2
			assertPodsCreated(t, env, want)
			assertImported(t, env, "latest", nil)
			// Exactly one process deleted the failed pod; the others' deletes
			// (if they tried) failed on the UID precondition and wrote nothing.
			deletes := 0
			for k, v := range env.cluster.Stats().Writes {
				if k.Verb == "delete" && k.Kind == "Pod" {
					deletes += v
				}
			}
			if deletes != 1 {
				t.Errorf("%d pods deleted, want 1", deletes)
			}
		})
	}
}

func TestTransientImportFailureIsRetriggeredOnce(t *testing.T) {
	for _, processes := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d processes", processes), func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			installer := env.tag(t, "latest", "installer")
			env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: installer.PullSpec, FailFirst: 1})
			requireNoErrors(t, runProcesses(t, env, processes, "latest"))
			// The failure, then the one re-trigger that landed.
			assertImported(t, env, "latest", map[string]int{"installer": 2})
			if got := env.cluster.Registry().Resolves(installer.PullSpec); got < 2 {
				t.Errorf("installer resolved %d times, want at least 2 (the failure and the re-import)", got)
			}
			// Re-triggers are ImageStreamImports by the shards; the ones
			// that lost the compare-and-swap wrote nothing.
			writes := 0
			for k, v := range env.cluster.Stats().Writes {
				if isShard(k.Process) && k.Kind == "ImageStreamImport" {
					writes += v
				}
			}
			if writes != 1 {
				t.Errorf("shards wrote %d ImageStreamImports, want exactly 1", writes)
			}
		})
	}
}

func TestPermanentImportFailureFailsFast(t *testing.T) {
	// However many processes see the failure, none re-triggers it: NotFound
	// is permanent, and every process fails on seeing it.
	for _, n := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			installer := env.tag(t, "latest", "installer")
			env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: installer.PullSpec, Permanent: registry.ReasonNotFound})

			seen := failureSeen(t, env, "stable", "installer")
			errs := make([]error, n)
			ended := make([]time.Time, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs[i] = env.step(fmt.Sprintf("shard-%d", i), "latest").Run(t.Context())
					ended[i] = time.Now()
				})
			}
			wg.Wait()
			failedAt := seen()
			if failedAt.IsZero() {
				t.Fatal("no failed import of installer was ever in the stream")
			}
			var slowest time.Duration
			for i := range n {
				after := ended[i].Sub(failedAt)
				if after > time.Second {
					t.Errorf("process %d failed %s after the failure was in the stream, want under a second", i, after)
				}
				slowest = max(slowest, after)
			}
			t.Logf("the last of %d processes failed %s after the failure was in the stream", n, slowest)
			for i, err := range errs {
				if err == nil {
					t.Fatalf("process %d succeeded although installer cannot be imported", i)
				}
				for _, want := range []string{"installer", installer.PullSpec, string(registry.ReasonNotFound)} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("process %d: error %q does not name %q", i, err, want)
					}
				}
				if got := api.ReasonFor(err); got != "importing_release" {
					t.Errorf("process %d: ReasonFor(err) = %q, want importing_release", i, got)
				}
				var failed *imagestreams.ImportFailedError
				if !errors.As(err, &failed) {
					t.Fatalf("process %d: error is not an *ImportFailedError: %v", i, err)
				}
				if diff := cmp.Diff([]string{"installer"}, tagsOf(failed.Failed)); diff != "" {
					t.Errorf("process %d: failed tags (-want +got):\n%s", i, diff)
				}
			}
			key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: "stable", Tag: "installer"}
			// A permanent reason is not re-triggered: the controller's attempt only.
			if got, want := env.cluster.Stats().ImportAttempts[key], 1; got != want {
				t.Errorf("installer import attempted %d times, want %d", got, want)
			}
		})
	}
}

// failureSeen watches stream from now on and returns a function that tells
// when an event first showed tag's current import failed (zero: never).
func failureSeen(t *testing.T, env *testEnv, stream, tag string) func() time.Time {
	t.Helper()
	w, err := env.cluster.Client("observer").Watch(t.Context(), &imagev1.ImageStreamList{}, ctrlruntimeclient.InNamespace(testNamespace))
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			is, ok := ev.Object.(*imagev1.ImageStream)
			if ok && is.Name == stream && imagestreams.StateOf(is, tag).Phase == imagestreams.Failed {
				at = time.Now()
				return
			}
		}
	}()
	// The processes may see the failure through their own watches and end
	// before this watch has delivered the same event; give it time to
	// arrive before stopping it, so a fast failure is not mistaken for none.
	return func() time.Time {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		w.Stop()
		<-done
		return at
	}
}

func tagsOf(states []imagestreams.TagState) []string {
	var out []string
	for _, st := range states {
		out = append(out, st.Tag)
	}
	return out
}

func TestCancelledProcessDeletesNothing(t *testing.T) {
	// The cancelled process creates the pod of the stage and is cancelled
	// once it sees that pod Running; the others start when it has created
	// the pod, adopt it and must all succeed.
	for _, stage := range []Stage{StageCLI, StageExtract} {
		t.Run(string(stage), func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			const others = 4
			cancelled := "cancelled"
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			othersStart := make(chan struct{})
			var startOnce sync.Once
			var created, sawRunning atomic.Bool
			step := env.step(cancelled, "latest", func(c *Config) {
				c.Observe = func(p Progress) {
					if p.Stage != stage || p.Pod == "" {
						return
					}
					if p.PodCreated {
						created.Store(true)
						startOnce.Do(func() { close(othersStart) })
					}
					if p.PodPhase == corev1.PodRunning {
						sawRunning.Store(true)
						cancel()
					}
				}
			})
			var cancelledErr error
			var wg sync.WaitGroup
			wg.Go(func() {
				cancelledErr = step.Run(ctx)
				startOnce.Do(func() { close(othersStart) })
			})
			<-othersStart
			errs := runProcesses(t, env, others, "latest")
			wg.Wait()
			requireNoErrors(t, errs)

			if !created.Load() || !sawRunning.Load() {
				t.Fatalf("the cancelled process did not create the %s pod (%v) and see it Running (%v): %v", stage, created.Load(), sawRunning.Load(), cancelledErr)
			}
			if !errors.Is(cancelledErr, context.Canceled) {
				t.Errorf("the cancelled process returned %v, want context.Canceled", cancelledErr)
			}
			stats := env.cluster.Stats()
			if n := requests(stats, func(k fakeopenshift.RequestKey) bool { return k.Verb == "delete" }); n != 0 {
				t.Errorf("%d delete requests were made, want none\n%s", n, stats.Report())
			}
			assertPodsCreated(t, env, map[string]int{env.cliPodName("latest"): 1, env.extractPodName("latest"): 1})
			assertImported(t, env, "latest", nil)
		})
	}
}

func TestWatchExpiryDuringTheWait(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	rel := env.releases["latest"]
	// Every component image takes 300ms to resolve, so the batch import of
	// the payload takes seconds and the step is watching meanwhile.
	repo, _, _ := strings.Cut(rel.Tags[0].PullSpec, "@")
	env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: repo + "@*", Latency: 300 * time.Millisecond})

	var once sync.Once
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var before fakeopenshift.Stats
	noise := env.cluster.Client("noise")
	step := env.step("shard-0", "latest", func(c *Config) {
		c.Observe = func(p Progress) {
			if p.Stage != "images" {
				return
			}
			once.Do(func() {
				before = env.cluster.Stats()
				wg.Go(func() {
					for i := range 3 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(200 * time.Millisecond):
						}
						// Other objects change meanwhile, so the newest
						// resourceVersion the step saw falls out of the
						// compacted history.
						cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: fmt.Sprintf("noise-%d", i)}}
						if err := noise.Create(ctx, cm); err != nil {
							t.Errorf("could not create ConfigMap: %v", err)
						}
						env.cluster.ExpireWatchHistory()
						env.cluster.CloseWatches()
					}
				})
			})
		}
	})
	err := step.Run(t.Context())
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if before.Requests == nil {
		t.Fatal("the step never waited for the images")
	}
	// The waiter found its watch closed and too old to resume: it listed
	// and watched again.
	after := env.cluster.Stats()
	for _, verb := range []string{"list", "watch"} {
		key := fakeopenshift.RequestKey{Process: "shard-0", Verb: verb, Kind: "ImageStream"}
		if after.Requests[key] <= before.Requests[key] {
			t.Errorf("the step made %d %s requests before the watches were closed and %d in all; want more", before.Requests[key], verb, after.Requests[key])
		}
	}
	assertImported(t, env, "latest", nil)
	assertPodsCreated(t, env, map[string]int{env.cliPodName("latest"): 1, env.extractPodName("latest"): 1})
}

// payloadApplyHook calls before ahead of every apply of the payload tags
// (the apply made by the payload's field manager).
type payloadApplyHook struct {
	ctrlruntimeclient.WithWatch
	before func()
}

func (c *payloadApplyHook) Apply(ctx context.Context, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	o := ctrlruntimeclient.ApplyOptions{}
	o.ApplyOptions(opts)
	if o.FieldManager == imagestreams.ManagerPayload {
		c.before()
	}
	return c.WithWatch.Apply(ctx, ac, opts...)
}

func TestAPIFaultBursts(t *testing.T) {
	want := oneShard(t, faultImages, "latest").WritesBy(isShard)
	env := newTestEnv(t, faultImages, "latest")
	env.cluster.InjectFault(fakeopenshift.Fault{Verb: "apply", Code: 409, Times: 3})
	env.cluster.InjectFault(fakeopenshift.Fault{Verb: "create", Kind: "Pod", Code: 429, RetryAfterSeconds: 1, Times: 2})
	env.cluster.InjectFault(fakeopenshift.Fault{Verb: "apply", Code: 500, Times: 2})
	payloadApplies := 0
	client := &payloadApplyHook{WithWatch: env.cluster.Client("shard-0"), before: func() {
		payloadApplies++
		if payloadApplies == 1 {
			// The merge lands and the step does not hear back.
			env.cluster.InjectFault(fakeopenshift.Fault{Verb: "apply", Kind: "ImageStream", Code: 504, AfterWrite: true, Times: 1})
		}
	}}
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace(testNamespace)
	step := ImportReleaseStep(Config{
		Name:         "latest",
		Source:       NewFixedSource(env.releases["latest"].PullSpec),
		RetryDelay:   20 * time.Millisecond,
		StallTimeout: 20 * time.Second,
		Log:          quietLog(),
	}, client, jobSpec)

	if err := step.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v\n%s", err, env.cluster.Stats().Report())
	}
	if got, want := env.cluster.FaultsFired(), 3+2+2+1; got != want {
		t.Errorf("%d faults fired, want %d", got, want)
	}
	if payloadApplies != 2 {
		t.Errorf("the payload was applied %d times, want twice (the one that timed out and its retry)", payloadApplies)
	}
	// The server saw the same: the merge that landed, then its retry as a
	// no-op.
	merge := fakeopenshift.Call{Process: "shard-0", Verb: "apply", Kind: "ImageStream", Manager: imagestreams.ManagerPayload}
	written, noop := merge, merge
	written.Outcome, noop.Outcome = fakeopenshift.OutcomeWritten, fakeopenshift.OutcomeNoOp
	if calls := env.cluster.Stats().Calls; calls[written] != 1 || calls[noop] != 1 {
		t.Errorf("payload merges: %d written, %d no-op; want one each", calls[written], calls[noop])
	}
	assertImported(t, env, "latest", nil)
	assertPodsCreated(t, env, map[string]int{env.cliPodName("latest"): 1, env.extractPodName("latest"): 1})
	if got := env.cluster.Stats().WritesBy(isShard); got != want {
		t.Errorf("the step made %d state-changing writes, want %d as without faults\n%s", got, want, env.cluster.Stats().Report())
	}
}

func TestTagsOfOtherWritersSurvive(t *testing.T) {
	testCases := []struct {
		name      string
		processes int
		// installer is how another writer defined the payload's installer
		// tag before the run; its from is set to an image of another release.
		installer imagev1.TagReference
		// wantResets is how many patches the step needs to make installer
		// canonical (the apply of the merge cannot reset fields it leaves out).
		wantResets int
	}{
		{name: "other from", processes: 1},
		{name: "other from, 8 processes", processes: 8},
		{name: "reference", processes: 1, installer: imagev1.TagReference{Reference: true}, wantResets: 1},
		{name: "reference, 8 processes", processes: 8, installer: imagev1.TagReference{Reference: true}, wantResets: 1},
		{name: "scheduled", processes: 1, installer: imagev1.TagReference{ImportPolicy: imagev1.TagImportPolicy{Scheduled: true}}, wantResets: 1},
		{name: "insecure", processes: 1, installer: imagev1.TagReference{ImportPolicy: imagev1.TagImportPolicy{Insecure: true}}, wantResets: 1},
		{name: "local reference policy", processes: 1, installer: imagev1.TagReference{ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			// Images that have nothing to do with the payload being imported.
			other := env.cluster.Registry().AddRelease("4.17.0-0.ci-2026-01-01-000000", registry.WithImages(3))
			mine, theirInstaller := other.Tags[0], other.Tags[1]
			installer := tc.installer
			installer.Name = "installer"
			installer.From = &corev1.ObjectReference{Kind: "DockerImage", Name: theirInstaller.PullSpec}
			writer := env.cluster.Client("pipeline")
			stable := &imagev1.ImageStream{
				ObjectMeta: metav1.ObjectMeta{Name: "stable", Namespace: testNamespace},
				Spec: imagev1.ImageStreamSpec{Tags: []imagev1.TagReference{
					{Name: "my-component", From: &corev1.ObjectReference{Kind: "DockerImage", Name: mine.PullSpec}},
					installer,
				}},
			}
			if err := writer.Create(t.Context(), stable); err != nil {
				t.Fatal(err)
			}
			if _, err := imagestreams.WaitForImports(t.Context(), writer, testNamespace, "stable", []string{"my-component"}); err != nil {
				t.Fatal(err)
			}

			requireNoErrors(t, runProcesses(t, env, tc.processes, "latest"))

			is := env.stream(t, "stable")
			var got *imagev1.TagReference
			for i := range is.Spec.Tags {
				if is.Spec.Tags[i].Name == "my-component" {
					got = &is.Spec.Tags[i]
				}
			}
			if got == nil || got.From == nil || got.From.Name != mine.PullSpec {
				t.Errorf("my-component was lost or changed by the merge: %+v", got)
			}
			if st := imagestreams.StateOf(is, "my-component"); st.Phase != imagestreams.Imported || st.Image != mine.Digest {
				t.Errorf("my-component: %s", st)
			}
			if n := len(is.Spec.Tags); n != faultImages+1 {
				t.Errorf("stable has %d tags, want the payload's %d and my-component", n, faultImages)
			}
			// installer is the payload's now: canonical, imported from the
			// payload, once (a reference tag was never imported before).
			wantImports := map[string]int{"installer": 2}
			if installer.Reference {
				wantImports["installer"] = 1
			}
			assertImported(t, env, "latest", wantImports)
			resets := 0
			for k, v := range env.cluster.Stats().Writes {
				if isShard(k.Process) && k.Verb == "patch" && k.Kind == "ImageStream" {
					resets += v
				}
			}
			if resets != tc.wantResets {
				t.Errorf("the shards patched stable %d times, want %d", resets, tc.wantResets)
			}
		})
	}
}

func TestRerunWritesNothingAndRunsNoPods(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	step := env.step("shard-0", "latest")
	if err := step.Run(t.Context()); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	before := env.cluster.Stats()
	reruns := []struct {
		name string
		step api.Step
	}{
		{name: "same step object", step: step},
		{name: "fresh step object", step: env.step("shard-1", "latest")},
	}
	for _, rerun := range reruns {
		t.Run(rerun.name, func(t *testing.T) {
			if err := rerun.step.Run(t.Context()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			after := env.cluster.Stats()
			if got := after.WritesBy(isShard) - before.WritesBy(isShard); got != 0 {
				t.Errorf("the re-run made %d state-changing writes, want 0\n%s", got, after.Report())
			}
			if diff := cmp.Diff(before.PodsCreated, after.PodsCreated); diff != "" {
				t.Errorf("the re-run created pods (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(before.Imports, after.Imports); diff != "" {
				t.Errorf("the re-run imported (-before +after):\n%s", diff)
			}
			value, err := rerun.step.Provides()[api.ReleaseImageEnv("latest")]()
			if err != nil || !strings.Contains(fmt.Sprint(value), env.releases["latest"].Digest) {
				t.Errorf("RELEASE_IMAGE_LATEST = %v, %v; want the payload digest %s", value, err, env.releases["latest"].Digest)
			}
		})
	}
}

// TestOwnWritesDoNotDiscardTheBatchImport checks that the import controller
// imports every tag in one attempt: a write to the stream while it imports
// the payload's tags (one batch) makes it discard the whole batch, so the
// step must not write the stream after the merge.
func TestOwnWritesDoNotDiscardTheBatchImport(t *testing.T) {
	for _, processes := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d processes", processes), func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			requireNoErrors(t, runProcesses(t, env, processes, "latest"))
			stats := env.cluster.Stats()
			for key, n := range stats.ImportAttempts {
				if n != 1 {
					t.Errorf("%s: %d import attempts, want 1", key, n)
				}
			}
			if got, want := len(stats.ImportAttempts), faultImages+1; got != want {
				t.Errorf("%d tags were imported, want %d", got, want)
			}
			if stats.ImportConflicts != 0 {
				t.Errorf("%d imports lost to a concurrent write, want none", stats.ImportConflicts)
			}
		})
	}
}
