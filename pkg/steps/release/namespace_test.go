package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// shardImports counts the ImageStreamImports the shards wrote: re-triggers
// that landed.
func shardImports(stats fakeopenshift.Stats) int {
	n := 0
	for k, v := range stats.Writes {
		if isShard(k.Process) && k.Kind == "ImageStreamImport" {
			n += v
		}
	}
	return n
}

func (e *testEnv) lease(t *testing.T, name string) *coordinationv1.Lease {
	t.Helper()
	lease := &coordinationv1.Lease{}
	if err := e.cluster.Client("checker").Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: name}, lease); err != nil {
		t.Fatalf("could not read lease %s: %v", name, err)
	}
	return lease
}

func TestRetestAfterASpentBudget(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	installer := env.tag(t, "latest", "installer")
	recover := env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: installer.PullSpec, Permanent: registry.ReasonInternalError})
	if err := env.step("first-run", "latest").Run(t.Context()); err == nil {
		t.Fatal("the first run succeeded although installer cannot be imported")
	}
	recover()
	before := env.cluster.Stats()

	requireNoErrors(t, runProcesses(t, env, 8, "latest"))

	after := env.cluster.Stats()
	if got := shardImports(after) - shardImports(before); got != 1 {
		t.Errorf("the retest re-triggered %d imports, want exactly 1\n%s", got, after.Report())
	}
	key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: "stable", Tag: "installer"}
	if got := after.ImportAttempts[key] - before.ImportAttempts[key]; got != 1 {
		t.Errorf("installer was attempted %d times by the retest, want 1", got)
	}
	if holder := imagestreams.HolderOf(env.lease(t, imagestreams.RetriggerLeaseName("stable"))); holder != "" {
		t.Errorf("the re-trigger claim is still held by %q", holder)
	}
}

// claimHook runs after every write of a re-trigger claim by its process.
type claimHook struct {
	ctrlruntimeclient.WithWatch
	after func(err error) error
}

func (c *claimHook) isClaim(obj ctrlruntimeclient.Object) bool {
	lease, ok := obj.(*coordinationv1.Lease)
	return ok && strings.HasPrefix(lease.Name, "import-release-retrigger-") && imagestreams.HolderOf(lease) != ""
}

func (c *claimHook) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	err := c.WithWatch.Create(ctx, obj, opts...)
	if c.isClaim(obj) {
		return c.after(err)
	}
	return err
}

func (c *claimHook) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	err := c.WithWatch.Update(ctx, obj, opts...)
	if c.isClaim(obj) {
		return c.after(err)
	}
	return err
}

// deadClient answers every request with an error, as for a process that is
// gone.
type deadClient struct {
	ctrlruntimeclient.WithWatch
	dead func() bool
}

func (c *deadClient) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	if c.dead() {
		return errors.New("connection refused")
	}
	return c.WithWatch.Get(ctx, key, obj, opts...)
}

func (c *deadClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	if c.dead() {
		return errors.New("connection refused")
	}
	return c.WithWatch.Update(ctx, obj, opts...)
}

func (c *deadClient) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	if c.dead() {
		return errors.New("connection refused")
	}
	return c.WithWatch.Create(ctx, obj, opts...)
}

func TestAClaimerThatDiesOrIsCancelledHoldsNobodyUp(t *testing.T) {
	const claimDuration = 2 * time.Second
	for _, how := range []string{"killed after claiming", "cancelled while claiming"} {
		t.Run(how, func(t *testing.T) {
			env := newTestEnv(t, faultImages, "latest")
			installer := env.tag(t, "latest", "installer")
			env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: installer.PullSpec, FailFirst: 1})
			short := func(c *Config) { c.ClaimDuration = claimDuration }

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			claimed := make(chan struct{})
			var once sync.Once
			var dead bool
			var mu sync.Mutex
			base := &deadClient{WithWatch: env.cluster.Client("claimer"), dead: func() bool { mu.Lock(); defer mu.Unlock(); return dead }}
			client := &claimHook{WithWatch: base, after: func(err error) error {
				if err != nil {
					return err
				}
				once.Do(func() {
					if how == "killed after claiming" {
						mu.Lock()
						dead = true
						mu.Unlock()
					} else {
						cancel()
						err = context.Canceled
					}
					close(claimed)
				})
				return err
			}}
			jobSpec := &api.JobSpec{}
			jobSpec.SetNamespace(testNamespace)
			cfg := Config{Name: "latest", Source: NewFixedSource(env.releases["latest"].PullSpec), RetryDelay: 20 * time.Millisecond,
				StallTimeout: 20 * time.Second, ClaimDuration: claimDuration, Log: quietLog()}
			claimer := ImportReleaseStep(cfg, client, jobSpec)
			var claimerErr error
			var wg sync.WaitGroup
			wg.Go(func() { claimerErr = claimer.Run(ctx) })
			select {
			case <-claimed:
			case <-time.After(time.Minute):
				t.Fatal("the first process never claimed the re-trigger")
			}
			start := time.Now()
			requireNoErrors(t, runProcesses(t, env, 4, "latest", short))
			elapsed := time.Since(start)
			wg.Wait()
			if claimerErr == nil {
				t.Error("the claimer succeeded although it died or was cancelled")
			}
			// Well under the stall timeout: at most one claim duration and the
			// import, not a wait for a holder that is gone.
			if elapsed > 10*time.Second {
				t.Errorf("the other processes took %s, want about one claim duration (%s) at most", elapsed, claimDuration)
			}
			lease := env.lease(t, imagestreams.RetriggerLeaseName("stable"))
			if holder := imagestreams.HolderOf(lease); holder != "" {
				t.Errorf("the re-trigger claim is left held by %q", holder)
			}
			if got := shardImports(env.cluster.Stats()); got != 1 {
				t.Errorf("the other processes re-triggered %d imports, want 1", got)
			}
			assertImported(t, env, "latest", map[string]int{"installer": 2})
		})
	}
}

func TestANewerPayloadReplacesTheOldOne(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	old := env.releases["latest"]
	requireNoErrors(t, runProcesses(t, env, 2, "latest"))
	oldCLIPod := env.cliPodName("latest")
	// Another writer's own tag, and a tag only the old payload has.
	writer := env.cluster.Client("pipeline")
	mine := old.Tags[0]
	ac := imagev1apply.ImageStream("stable", testNamespace).WithSpec(imagev1apply.ImageStreamSpec().
		WithTags(imagestreams.Tag("my-component", mine.PullSpec, "")))
	if err := writer.Apply(t.Context(), ac, ctrlruntimeclient.FieldOwner("pipeline")); err != nil {
		t.Fatal(err)
	}

	newer := env.cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-21-000000", registry.WithImages(faultImages-5))
	env.releases["latest"] = newer
	requireNoErrors(t, runProcesses(t, env, 4, "latest"))

	stats := env.cluster.Stats()
	if got := stats.PodsCreated[env.cliPodName("latest")]; got != 1 || env.cliPodName("latest") == oldCLIPod {
		t.Errorf("the new payload's CLI pod was created %d times, want once (a pod of its own)", got)
	}
	is := env.stream(t, "stable")
	want := map[string]string{"my-component": mine.PullSpec}
	for _, tag := range newer.Tags {
		want[tag.Name] = tag.PullSpec
	}
	got := map[string]string{}
	for _, tag := range is.Spec.Tags {
		got[tag.Name] = tag.From.Name
	}
	if len(got) != len(want) {
		t.Errorf("stable has %d tags, want the new payload's %d and my-component", len(got), len(newer.Tags))
	}
	for name, pullSpec := range want {
		if got[name] != pullSpec {
			t.Errorf("stable:%s is %q, want %q", name, got[name], pullSpec)
		}
		if st := imagestreams.StateOf(is, name); st.Phase != imagestreams.Imported {
			t.Errorf("stable:%s: %s", name, st)
		}
	}
	if got := is.Annotations[MergedAnnotation]; !strings.Contains(got, newer.Digest) {
		t.Errorf("the merged mark is %q, want the new payload %s", got, newer.Digest)
	}
	if got := cliPayload(is); !strings.Contains(got, newer.Digest) {
		t.Errorf("the cli tag's provenance is %q, want the new payload %s", got, newer.Digest)
	}
}

func TestALateShardKeepsWhatALaterStepChanged(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	requireNoErrors(t, runProcesses(t, env, 2, "latest"))
	// A build step tags its own installer into stable.
	built := env.cluster.Registry().AddRelease("4.17.0-0.ci-2026-01-01-000000", registry.WithImages(3)).Tags[1]
	ac := imagev1apply.ImageStream("stable", testNamespace).WithSpec(imagev1apply.ImageStreamSpec().
		WithTags(imagestreams.Tag("installer", built.PullSpec, "")))
	if err := env.cluster.Client("build").Apply(t.Context(), ac, ctrlruntimeclient.FieldOwner("ci-operator-build"), ctrlruntimeclient.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	before := env.cluster.Stats()

	if err := env.step("shard-late", "latest").Run(t.Context()); err != nil {
		t.Fatalf("the late shard failed: %v", err)
	}
	is := env.stream(t, "stable")
	for _, tag := range is.Spec.Tags {
		if tag.Name == "installer" && tag.From.Name != built.PullSpec {
			t.Errorf("the late shard reverted installer to %s", tag.From.Name)
		}
	}
	if got := env.cluster.Stats().WritesBy(isShard) - before.WritesBy(isShard); got != 0 {
		t.Errorf("the late shard made %d writes, want none", got)
	}
}

func TestTheExtractedConfigMapIsChecked(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	requireNoErrors(t, runProcesses(t, env, 1, "latest"))
	name := contentName("release-images-latest", env.releases["latest"].DigestPullSpec)
	client := env.cluster.Client("tamperer")
	cm := &corev1.ConfigMap{}
	if err := client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	if err := client.Delete(t.Context(), cm); err != nil {
		t.Fatal(err)
	}

	t.Run("deleted", func(t *testing.T) {
		requireNoErrors(t, runProcesses(t, env, 4, "latest"))
		if got := env.cluster.Stats().PodsCreated[env.extractPodName("latest")]; got != 2 {
			t.Errorf("the extract pod was created %d times, want twice (the first and the re-extraction)", got)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		if err := client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		if err := client.Delete(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
		_, data, err := imageReferencesOf(cm)
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write([]byte(strings.Replace(string(data), "installer", "install3r", 1))); err != nil || zw.Close() != nil {
			t.Fatal(err)
		}
		tampered := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: name, Annotations: cm.Annotations, Labels: cm.Labels},
			BinaryData: map[string][]byte{ImageReferencesGzipKey: gz.Bytes()},
		}
		if err := client.Create(t.Context(), tampered); err != nil {
			t.Fatal(err)
		}
		err = env.step("shard-0", "latest").Run(t.Context())
		if err == nil || !strings.Contains(err.Error(), "does not hold the image references") || !strings.Contains(err.Error(), name) {
			t.Errorf("Run = %v, want an error saying ConfigMap %s does not hold the extracted references", err, name)
		}
	})
}

// TestTwoPayloadsUnderOneName starts a second group of processes importing
// another payload under the same release name at a random moment of the
// first group's run, many times. The policy must hold in every trial: a
// process either fails with a *PayloadConflictError naming both payloads, or
// succeeds with its own payload in release:<name> and in stable (its
// RELEASE_IMAGE the payload's); and the namespace ends holding one payload
// throughout.
func TestTwoPayloadsUnderOneName(t *testing.T) {
	const trials, perGroup, images = 50, 2, 4
	conflicts, takeovers := 0, 0
	for trial := range trials {
		env := newTestEnv(t, images, "latest")
		first := env.releases["latest"]
		second := env.cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-21-000000", registry.WithImages(images+1))
		// The second group starts when a process of the first reaches a
		// stage (or after the first group is done), plus a random delay.
		stages := []Stage{StageRelease, StageCLI, StageExtract, StageMerge, StageImages, StageDone, "after"}
		trigger := stages[trial%len(stages)]
		delay := time.Duration(rand.IntN(20)) * time.Millisecond
		start := make(chan struct{})
		var startOnce sync.Once
		go2 := func() { startOnce.Do(func() { time.AfterFunc(delay, func() { close(start) }) }) }
		type outcome struct {
			payload *registry.Release
			err     error
			image   any
		}
		outcomes := make([]outcome, 2*perGroup)
		run := func(i int, rel *registry.Release) {
			step := env.step(fmt.Sprintf("shard-%d", i), "latest", func(c *Config) {
				c.Source = NewFixedSource(rel.PullSpec)
				c.Observe = func(p Progress) {
					if rel == first && p.Stage == trigger {
						go2()
					}
				}
			})
			err := step.Run(t.Context())
			var image any
			if err == nil {
				image, err = step.Provides()[api.ReleaseImageEnv("latest")]()
			}
			outcomes[i] = outcome{payload: rel, err: err, image: image}
		}
		var firstGroup, wg sync.WaitGroup
		for i := range perGroup {
			firstGroup.Go(func() { run(i, first) })
		}
		for i := perGroup; i < 2*perGroup; i++ {
			wg.Go(func() { <-start; run(i, second) })
		}
		firstGroup.Wait()
		go2()
		wg.Wait()

		release := imagestreams.StateOf(env.stream(t, api.ReleaseImageStream), "latest")
		stable := env.stream(t, "stable")
		holder := first
		if strings.Contains(release.Image, second.Digest) {
			holder = second
		}
		if !strings.Contains(stable.Annotations[MergedAnnotation], holder.Digest) {
			t.Fatalf("trial %d: release:latest holds %s but stable holds the images of %q", trial, release.Image, stable.Annotations[MergedAnnotation])
		}
		for _, tag := range holder.Tags {
			if st := imagestreams.StateOf(stable, tag.Name); st.Image != tag.Digest {
				t.Errorf("trial %d: stable:%s is %s, want %s of the payload release:latest holds", trial, tag.Name, st.Image, tag.Digest)
			}
		}
		succeeded := map[*registry.Release]int{}
		for i, o := range outcomes {
			var conflict *PayloadConflictError
			switch {
			case o.err == nil:
				succeeded[o.payload]++
				if !strings.Contains(fmt.Sprint(o.image), o.payload.Digest) {
					t.Errorf("trial %d: shard-%d succeeded with RELEASE_IMAGE %v, not its payload %s", trial, i, o.image, o.payload.Digest)
				}
			case errors.As(o.err, &conflict):
				conflicts++
				if !strings.Contains(o.err.Error(), first.PullSpec) || !strings.Contains(o.err.Error(), second.PullSpec) {
					t.Errorf("trial %d: shard-%d: the error does not name both payloads: %v", trial, i, o.err)
				}
			default:
				t.Errorf("trial %d: shard-%d failed with something other than the two-payload error: %v", trial, i, o.err)
			}
		}
		if holder == second {
			takeovers++
		}
		if succeeded[holder] == 0 {
			t.Errorf("trial %d: no process of the payload the namespace holds succeeded", trial)
		}
		if other := map[*registry.Release]*registry.Release{first: second, second: first}[holder]; succeeded[other] > 0 {
			// Processes of the other payload may only have succeeded before
			// the holder took the name over from a completed import.
			lease := env.lease(t, PayloadLeaseName("latest"))
			if rec := readPayloadRecord(lease); rec.Replaced != other.PullSpec {
				t.Errorf("trial %d: %d processes of %s succeeded although %s holds the name and did not replace it", trial, succeeded[other], other.PullSpec, holder.PullSpec)
			}
		}
		env.cluster.Stop()
	}
	// The offsets must have produced both cases of the policy.
	t.Logf("%d processes failed on the other payload; the second payload took the name in %d of %d trials", conflicts, takeovers, trials)
	if conflicts == 0 || takeovers == 0 {
		t.Errorf("the trials produced %d conflicts and %d takeovers; want both", conflicts, takeovers)
	}
}

// killBeforeMerge is a process that dies just before it sends the payload
// merge: the merge and every later request fail.
type killBeforeMerge struct {
	deadClient
	kill func()
}

func (c *killBeforeMerge) Apply(ctx context.Context, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	o := ctrlruntimeclient.ApplyOptions{}
	o.ApplyOptions(opts)
	if o.FieldManager == imagestreams.ManagerPayload {
		c.kill()
	}
	if c.dead() {
		return errors.New("connection refused")
	}
	return c.deadClient.Apply(ctx, ac, opts...)
}

func TestTheOthersMergeWhenTheMergerDies(t *testing.T) {
	const claimDuration = 2 * time.Second
	env := newTestEnv(t, faultImages, "latest")
	var mu sync.Mutex
	dead := false
	isDead := func() bool { mu.Lock(); defer mu.Unlock(); return dead }
	client := &killBeforeMerge{deadClient: deadClient{WithWatch: env.cluster.Client("merger"), dead: isDead}, kill: func() { mu.Lock(); dead = true; mu.Unlock() }}
	extracting := make(chan struct{})
	var once sync.Once
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace(testNamespace)
	merger := ImportReleaseStep(Config{Name: "latest", Source: NewFixedSource(env.releases["latest"].PullSpec), RetryDelay: 20 * time.Millisecond,
		StallTimeout: 20 * time.Second, ClaimDuration: claimDuration, Log: quietLog(),
		Observe: func(p Progress) {
			if p.Stage == StageExtract && p.PodCreated {
				once.Do(func() { close(extracting) })
			}
		}}, client, jobSpec)
	var mergerErr error
	var wg sync.WaitGroup
	wg.Go(func() { mergerErr = merger.Run(t.Context()) })
	select {
	case <-extracting:
	case <-time.After(time.Minute):
		t.Fatal("the first process never created the extract pod")
	}
	start := time.Now()
	requireNoErrors(t, runProcesses(t, env, 4, "latest", func(c *Config) { c.ClaimDuration = claimDuration }))
	elapsed := time.Since(start)
	wg.Wait()
	if mergerErr == nil || !isDead() {
		t.Fatalf("the merger did not die before its merge: %v", mergerErr)
	}
	// Bounded by the takeover time (the claim duration here) and the
	// imports, far below the stall timeout.
	if elapsed > 10*time.Second {
		t.Errorf("the others took %s after the merger died, want about the takeover time %s", elapsed, claimDuration)
	}
	if got := env.cluster.Stats().AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard); got < 1 {
		t.Errorf("no follower merged")
	}
	assertImported(t, env, "latest", nil)
}
