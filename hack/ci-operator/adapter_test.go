package cioperator

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift/ci-tools/pkg/api"
	"github.com/openshift/ci-tools/pkg/kubernetes"
	"github.com/openshift/ci-tools/pkg/metrics"
	"github.com/openshift/ci-tools/pkg/results"
	"github.com/openshift/ci-tools/pkg/steps"
	"github.com/openshift/ci-tools/pkg/steps/loggingclient"
	cirelease "github.com/openshift/ci-tools/pkg/steps/release"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// consumer stands for a later ci-operator step (a test) that needs the
// release's images and reads the step's parameters when it runs.
type consumer struct {
	requires []api.StepLink
	params   *api.DeferredParameters
	names    []string

	mu   sync.Mutex
	seen map[string]string
}

func (c *consumer) Inputs() (api.InputDefinition, error) { return nil, nil }
func (c *consumer) Validate() error                      { return nil }
func (c *consumer) Run(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = map[string]string{}
	for _, name := range c.names {
		value, err := c.params.GetString(name)
		if err != nil {
			return err
		}
		c.seen[name] = value
	}
	return nil
}
func (c *consumer) Name() string                        { return "e2e" }
func (c *consumer) Description() string                 { return "a test that runs on the imported release" }
func (c *consumer) Requires() []api.StepLink            { return c.requires }
func (c *consumer) Creates() []api.StepLink             { return nil }
func (c *consumer) Provides() api.ParameterMap          { return nil }
func (c *consumer) Objects() []ctrlruntimeclient.Object { return nil }

type recorder struct {
	mu     sync.Mutex
	events []metrics.MetricsEvent
}

func (r *recorder) Record(ev metrics.MetricsEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// graph builds ci-operator's graph for one process: the releases "initial"
// and "latest" and a test that needs both, as pkg/defaults wires them.
func graph(t *testing.T, stepFor func(name string, params *api.DeferredParameters) api.Step) (api.StepGraph, *consumer) {
	params := api.NewDeferredParameters(nil)
	var all []api.Step
	for _, name := range []string{"initial", "latest"} {
		step := stepFor(name, params)
		for env, fn := range step.Provides() {
			params.Add(env, fn)
		}
		all = append(all, step)
	}
	test := &consumer{
		requires: []api.StepLink{api.ReleaseImagesLink("initial"), api.ReleaseImagesLink("latest"), api.ReleasePayloadImageLink("latest")},
		params:   params,
		names:    []string{"RELEASE_IMAGE_INITIAL", "RELEASE_IMAGE_LATEST", "ORIGINAL_RELEASE_IMAGE_LATEST"},
	}
	all = append(all, test)
	g := api.BuildGraph(all)
	if _, errs := g.TopologicalSort(); len(errs) > 0 {
		t.Fatalf("ci-operator cannot order the graph: %v", errs)
	}
	return g, test
}

func newCluster(t *testing.T) (*fakeopenshift.Cluster, map[string]*registry.Release, *api.JobSpec) {
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	releases := map[string]*registry.Release{
		"initial": cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(12)),
		"latest":  cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-21-000000", registry.WithImages(12)),
	}
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace("ci-op-adapter")
	return cluster, releases, jobSpec
}

// TestDropInThroughCIOperatorGraph constructs the step with the signature
// pkg/defaults calls, with ci-tools' own release source and pod client, and
// runs it with ci-tools' step-graph runner in four processes at once, as an
// aggregated job does.
func TestDropInThroughCIOperatorGraph(t *testing.T) {
	cluster, releases, jobSpec := newCluster(t)
	artifacts := t.TempDir()
	t.Setenv("ARTIFACTS", artifacts)
	const processes = 4
	var wg sync.WaitGroup
	tests := make([]*consumer, processes)
	errs := make([][]error, processes)
	for i := range processes {
		client := kubernetes.NewPodClient(loggingclient.New(cluster.Client("ci-operator-"+string(rune('a'+i))), nil), nil, nil, 0, nil)
		g, test := graph(t, func(name string, _ *api.DeferredParameters) api.Step {
			source := cirelease.NewReleaseSourceFromPullSpec(releases[name].PullSpec)
			return ImportReleaseStep(name, "", api.ReleaseConfiguration{Name: name}.TargetName(), imagev1.SourceTagReferencePolicy, source, false, nil, client, jobSpec, nil, nil)
		})
		tests[i] = test
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = steps.Run(t.Context(), g, nil)
		}()
	}
	wg.Wait()
	for i := range processes {
		if len(errs[i]) > 0 {
			t.Fatalf("process %d: the graph failed: %v", i, errs[i])
		}
		want := map[string]string{"ORIGINAL_RELEASE_IMAGE_LATEST": releases["latest"].PullSpec}
		if diff := cmp.Diff(want["ORIGINAL_RELEASE_IMAGE_LATEST"], tests[i].seen["ORIGINAL_RELEASE_IMAGE_LATEST"]); diff != "" {
			t.Errorf("process %d: ORIGINAL_RELEASE_IMAGE_LATEST (-want +got):\n%s", i, diff)
		}
		for _, name := range []string{"initial", "latest"} {
			env := "RELEASE_IMAGE_" + map[string]string{"initial": "INITIAL", "latest": "LATEST"}[name]
			if got := tests[i].seen[env]; got == "" || filepath.Base(got) == "" || !hasDigest(got, releases[name].Digest) {
				t.Errorf("process %d: %s = %q, want the release stream by the digest %s", i, env, got, releases[name].Digest)
			}
		}
	}
	stats := cluster.Stats()
	for name, n := range stats.PodsCreated {
		if n != 1 {
			t.Errorf("pod %s was created %d times, want once for all processes", name, n)
		}
	}
	if len(stats.PodsCreated) != 4 {
		t.Errorf("want a CLI and an extract pod per release, have %v", stats.PodsCreated)
	}
	for _, name := range []string{"initial", "latest"} {
		data, err := os.ReadFile(filepath.Join(artifacts, "release", "release-images-"+name))
		if err != nil {
			t.Fatalf("the image references of %s are not in the artifacts: %v", name, err)
		}
		references, err := release.DecodeImageReferences(data)
		if err != nil {
			t.Fatal(err)
		}
		if references.Name != releases[name].Name || len(references.Spec.Tags) != len(releases[name].Tags) {
			t.Errorf("artifact of %s holds %s with %d tags, want %s with %d", name, references.Name, len(references.Spec.Tags), releases[name].Name, len(releases[name].Tags))
		}
	}
}

func hasDigest(pullSpec, digest string) bool {
	return len(pullSpec) > len(digest) && pullSpec[len(pullSpec)-len(digest):] == digest && pullSpec[len(pullSpec)-len(digest)-1] == '@'
}

// TestFailureAndMetricsAsCIOperatorReportsThem runs a release that cannot be
// imported and one that can through ci-tools' runner and checks the reasons
// ci-operator reports and the metrics events recorded.
func TestFailureAndMetricsAsCIOperatorReportsThem(t *testing.T) {
	cluster, releases, jobSpec := newCluster(t)
	cluster.Registry().AddFault(registry.FaultRule{PullSpec: releases["initial"].Tags[2].PullSpec, Permanent: registry.ReasonNotFound})
	rec := &recorder{}
	client := cluster.Client("ci-operator")
	g, test := graph(t, func(name string, _ *api.DeferredParameters) api.Step {
		return NewStep(Options{
			Name: name, Target: api.ReleaseConfiguration{Name: name}.TargetName(),
			Source:  release.NewFixedSource(releases[name].PullSpec),
			JobSpec: jobSpec,
			Configure: func(c *release.Config) {
				c.RetryDelay = 10 * time.Millisecond
				c.StallTimeout = 20 * time.Second
			},
		}, client, nil, rec)
	})
	_, _, errs := steps.Run(t.Context(), g, nil)
	if len(errs) != 1 {
		t.Fatalf("want the initial release's failure alone, got %v", errs)
	}
	if diff := cmp.Diff([]string{"step_failed:importing_release"}, results.Reasons(errs...)); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if test.seen != nil {
		t.Errorf("the test ran although a release it needs failed")
	}

	type summary struct {
		Kind, Name string
		Success    bool
		Retries    int
	}
	var got []summary
	for _, ev := range rec.events {
		switch e := ev.(type) {
		case *metrics.ImageStreamEvent:
			got = append(got, summary{"ImageStream", e.FullName, e.Success, 0})
		case *metrics.TagImportEvent:
			got = append(got, summary{"TagImport", e.FullTagName, e.Success, e.RetryCount})
		}
	}
	ns := jobSpec.Namespace()
	want := []summary{
		{"ImageStream", ns + "/release", true, 0}, {"ImageStream", ns + "/stable-initial", true, 0},
		{"TagImport", ns + "/release:initial", true, 0}, {"TagImport", ns + "/stable-initial:cli", true, 0},
		{"TagImport", ns + "/stable-initial:initial", false, release.DefaultImportRetries},
		{"ImageStream", ns + "/release", true, 0}, {"ImageStream", ns + "/stable", true, 0},
		{"TagImport", ns + "/release:latest", true, 0}, {"TagImport", ns + "/stable:cli", true, 0},
		{"TagImport", ns + "/stable:latest", true, 0},
	}
	sortSummaries := cmp.Transformer("sort", func(in []summary) map[summary]int {
		out := map[summary]int{}
		for _, s := range in {
			out[s]++
		}
		return out
	})
	if diff := cmp.Diff(want, got, sortSummaries); diff != "" {
		t.Errorf("metrics events (-want +got):\n%s", diff)
	}
}
