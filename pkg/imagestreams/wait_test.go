package imagestreams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

const waitNamespace = "ci-op-wait"

// waitEnv is a fake cluster with a small payload whose component images the
// tests import into streams of their own.
type waitEnv struct {
	cluster *fakeopenshift.Cluster
	client  ctrlruntimeclient.WithWatch
	images  map[string]registry.Tag
}

func newWaitEnv(t *testing.T) *waitEnv {
	t.Helper()
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	rel := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(5))
	env := &waitEnv{cluster: cluster, client: cluster.Client("waiter"), images: map[string]registry.Tag{}}
	for _, tag := range rel.Tags {
		env.images[tag.Name] = tag
	}
	return env
}

// apply writes tags (each importing the payload image of the same name) into
// stream with the canonical definition.
func (e *waitEnv) apply(t *testing.T, stream string, policy imagev1.TagReferencePolicyType, tags ...string) {
	t.Helper()
	ac := Stream(waitNamespace, stream)
	for _, tag := range tags {
		image, ok := e.images[tag]
		if !ok {
			t.Fatalf("the payload has no image %s", tag)
		}
		ac.Spec.WithTags(Tag(tag, image.PullSpec, policy))
	}
	if err := e.cluster.Client("writer").Apply(t.Context(), ac, ctrlruntimeclient.FieldOwner(ManagerPayload), ctrlruntimeclient.ForceOwnership); err != nil {
		t.Fatalf("could not apply %s: %v", stream, err)
	}
}

func (e *waitEnv) imports(stream, tag string) (written, attempted int) {
	stats := e.cluster.Stats()
	key := fakeopenshift.TagKey{Namespace: waitNamespace, Stream: stream, Tag: tag}
	return stats.Imports[key], stats.ImportAttempts[key]
}

func TestWaitForImports(t *testing.T) {
	env := newWaitEnv(t)
	tags := []string{"cli", "cli-artifacts", "installer"}
	env.apply(t, "stable", "", tags...)
	var progress []Progress
	is, err := WaitForImports(t.Context(), env.client, waitNamespace, "stable", tags, WithProgress(func(p Progress) { progress = append(progress, p) }))
	if err != nil {
		t.Fatalf("WaitForImports: %v", err)
	}
	for _, tag := range tags {
		if st := StateOf(is, tag); st.Phase != Imported || st.Image != env.images[tag].Digest {
			t.Errorf("%s", st)
		}
		if written, attempted := env.imports("stable", tag); written != 1 || attempted != 1 {
			t.Errorf("%s imported %d times in %d attempts, want once", tag, written, attempted)
		}
	}
	if len(progress) < 2 {
		t.Fatalf("progress was reported %d times, want at the start and at the end", len(progress))
	}
	if diff := cmp.Diff(Progress{Stream: "stable", Total: 3}, progress[0]); diff != "" {
		t.Errorf("first progress (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Progress{Stream: "stable", Imported: 3, Total: 3}, progress[len(progress)-1]); diff != "" {
		t.Errorf("last progress (-want +got):\n%s", diff)
	}
}

func TestWaitStalls(t *testing.T) {
	testCases := []struct {
		name string
		// setup prepares the stream; the wait is for cli and installer.
		setup        func(t *testing.T, env *waitEnv)
		wantImported int
		wantWaiting  []TagState
		wantMessage  string
	}{
		{
			name: "an import that hangs",
			setup: func(t *testing.T, env *waitEnv) {
				env.apply(t, "stable", "", "cli")
				if _, err := WaitForImports(t.Context(), env.client, waitNamespace, "stable", []string{"cli"}); err != nil {
					t.Fatal(err)
				}
				// Longer than the test: the import of installer never answers.
				env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: env.images["installer"].PullSpec, Latency: time.Hour})
				env.apply(t, "stable", "", "cli", "installer")
			},
			wantImported: 1,
			wantWaiting:  []TagState{{Tag: "installer", Phase: Pending, Generation: 3}},
			wantMessage:  "1/2 tags imported, waiting for installer (pending)",
		},
		{
			name:        "a tag nobody writes",
			setup:       func(t *testing.T, env *waitEnv) { env.apply(t, "stable", "") },
			wantWaiting: []TagState{{Tag: "cli", Phase: Missing}, {Tag: "installer", Phase: Missing}},
			wantMessage: "0/2 tags imported, waiting for cli (missing), installer (missing)",
		},
		{
			name:        "a stream nobody creates",
			setup:       func(*testing.T, *waitEnv) {},
			wantWaiting: []TagState{{Tag: "cli", Phase: Missing}, {Tag: "installer", Phase: Missing}},
			wantMessage: "0/2 tags imported, waiting for cli (missing), installer (missing)",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newWaitEnv(t)
			tc.setup(t, env)
			const stall = 300 * time.Millisecond
			start := time.Now()
			_, err := WaitForImports(t.Context(), env.client, waitNamespace, "stable", []string{"cli", "installer"}, WithStallTimeout(stall))
			elapsed := time.Since(start)
			var stalled *StalledError
			if !errors.As(err, &stalled) {
				t.Fatalf("WaitForImports returned %v, want a *StalledError", err)
			}
			if elapsed < stall || elapsed > 10*stall {
				t.Errorf("the wait stalled after %s, want about %s", elapsed, stall)
			}
			want := &StalledError{Namespace: waitNamespace, Stream: "stable", Timeout: stall, Imported: tc.wantImported, Total: 2, Waiting: tc.wantWaiting}
			for i := range stalled.Waiting {
				// The sources are the payload's; the phases are what matters.
				stalled.Waiting[i].Source = ""
			}
			if diff := cmp.Diff(want, stalled); diff != "" {
				t.Errorf("StalledError (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), tc.wantMessage) || !strings.Contains(err.Error(), waitNamespace+"/stable") {
				t.Errorf("error %q does not say %q", err, tc.wantMessage)
			}
		})
	}
}

func TestWaitFailsAfterTheRetryBudget(t *testing.T) {
	for _, retries := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("%d retries", retries), func(t *testing.T) {
			env := newWaitEnv(t)
			installer := env.images["installer"]
			// A transient reason that never clears.
			env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: installer.PullSpec, Permanent: registry.ReasonInternalError})
			env.apply(t, "stable", "", "cli", "installer")
			var retriggered [][]string
			start := time.Now()
			_, err := WaitForImports(t.Context(), env.client, waitNamespace, "stable", []string{"cli", "installer"},
				WithRetries(retries), WithRetryDelay(5*time.Millisecond), WithStallTimeout(time.Minute),
				WithRetriggerObserver(func(tags []string) { retriggered = append(retriggered, tags) }))
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("the wait took %s to fail", elapsed)
			}
			var failed *ImportFailedError
			if !errors.As(err, &failed) {
				t.Fatalf("WaitForImports returned %v, want an *ImportFailedError", err)
			}
			if diff := cmp.Diff([]string{"installer"}, tagNames(failed.Failed)); diff != "" {
				t.Errorf("failed tags (-want +got):\n%s", diff)
			}
			for _, want := range []string{"installer from " + installer.PullSpec, "InternalError", "Internal error", "1 tag(s)", waitNamespace + "/stable"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			var want [][]string
			for range retries {
				want = append(want, []string{"installer"})
			}
			if diff := cmp.Diff(want, retriggered); diff != "" {
				t.Errorf("re-triggers (-want +got):\n%s", diff)
			}
			// The controller's attempt and every re-trigger; an identical
			// failure is not written again.
			written, attempted := env.imports("stable", "installer")
			if attempted != 1+retries || written != 1 {
				t.Errorf("installer: %d imports written in %d attempts, want 1 in %d", written, attempted, 1+retries)
			}
		})
	}
}

func tagNames(states []TagState) []string {
	var out []string
	for _, st := range states {
		out = append(out, st.Tag)
	}
	return out
}

func TestWaitRetriggersATransientFailure(t *testing.T) {
	for _, policy := range []imagev1.TagReferencePolicyType{imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy} {
		t.Run(string(policy), func(t *testing.T) {
			env := newWaitEnv(t)
			installer := env.images["installer"]
			env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: installer.PullSpec, FailFirst: 1})
			env.apply(t, "stable", policy, "installer")
			retriggers := 0
			is, err := WaitForImports(t.Context(), env.client, waitNamespace, "stable", []string{"installer"},
				WithReferencePolicy(policy), WithRetryDelay(5*time.Millisecond), WithStallTimeout(time.Minute),
				WithRetriggerObserver(func([]string) { retriggers++ }))
			if err != nil {
				t.Fatalf("WaitForImports: %v", err)
			}
			if st := StateOf(is, "installer"); st.Phase != Imported || st.Image != installer.Digest {
				t.Errorf("%s", st)
			}
			// The re-trigger kept the canonical definition.
			for _, tag := range is.Spec.Tags {
				if !IsCanonical(tag, installer.PullSpec, policy) {
					t.Errorf("after the re-trigger the tag is not canonical: %+v", tag)
				}
			}
			if retriggers != 1 {
				t.Errorf("%d re-triggers, want 1", retriggers)
			}
			if written, _ := env.imports("stable", "installer"); written != 2 {
				t.Errorf("installer imported %d times, want 2 (the failure and the re-trigger)", written)
			}
		})
	}
}

func TestWaitForATagWrittenLater(t *testing.T) {
	testCases := []struct {
		name  string
		setup func(t *testing.T, env *waitEnv)
	}{
		{name: "the stream exists without the tag", setup: func(t *testing.T, env *waitEnv) { env.apply(t, "stable", "", "cli") }},
		{name: "the stream does not exist", setup: func(*testing.T, *waitEnv) {}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newWaitEnv(t)
			tc.setup(t, env)
			var is *imagev1.ImageStream
			var err error
			var wg sync.WaitGroup
			waiting := make(chan struct{})
			wg.Go(func() {
				is, err = WaitForImports(t.Context(), env.client, waitNamespace, "stable", []string{"installer"},
					WithStallTimeout(time.Minute), WithProgress(func(p Progress) {
						if p.Imported == 0 {
							select {
							case <-waiting:
							default:
								close(waiting)
							}
						}
					}))
			})
			<-waiting
			time.Sleep(100 * time.Millisecond)
			env.apply(t, "stable", "", "cli", "installer")
			wg.Wait()
			if err != nil {
				t.Fatalf("WaitForImports: %v", err)
			}
			if st := StateOf(is, "installer"); st.Phase != Imported {
				t.Errorf("%s", st)
			}
		})
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	env := newWaitEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := WaitForImports(ctx, env.client, waitNamespace, "stable", []string{"cli"}, WithStallTimeout(time.Minute))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForImports returned %v, want context.DeadlineExceeded", err)
	}
	var stalled *StalledError
	if errors.As(err, &stalled) {
		t.Errorf("a cancelled wait reported a stall: %v", err)
	}
}
