package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

const (
	// Namespace is where the shards import.
	Namespace = "ci-op-bench"
	// ReleaseName is the release the shards import, into the stable stream.
	ReleaseName = "latest"
	// payloadVersion is the generated payload's name.
	payloadVersion = "4.18.0-0.nightly-2026-11-20-000000"
)

// ShardName names shard i, as the process its client reports.
func ShardName(i int) string { return fmt.Sprintf("shard-%d", i) }

// Run is one import of a release by a number of concurrent shards on a
// cluster of its own.
type Run struct {
	Shards, Images int
	// Wall is how long the slowest shard took.
	Wall time.Duration
	// Stats are the cluster's counters after the run.
	Stats fakeopenshift.Stats
	// Profile is every shard's traffic per kind of request.
	Profile *Profile
}

// Options configure ImportWithShards.
type Options struct {
	// Latency is the cluster's latency profile; fakeopenshift.EmbeddedLatency
	// when zero.
	Latency *fakeopenshift.Latency
	// Prepare, when set, changes the cluster before the shards start, e.g.
	// to inject faults.
	Prepare func(*fakeopenshift.Cluster)
}

// ImportWithShards imports a generated payload of images into a new fake
// cluster with shards concurrent processes, each running the import step
// through pkg/graph as ci-operator does, and returns what it cost. It fails
// if any shard fails.
func ImportWithShards(ctx context.Context, shards, images int, opts Options) (Run, error) {
	latency := fakeopenshift.EmbeddedLatency
	if opts.Latency != nil {
		latency = *opts.Latency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(latency))
	defer cluster.Stop()
	rel := cluster.Registry().AddRelease(payloadVersion, registry.WithImages(images))
	if opts.Prepare != nil {
		opts.Prepare(cluster)
	}
	profile := newProfile()
	log := logrus.New()
	log.SetOutput(io.Discard)

	errs := make([]error, shards)
	durations := make([]time.Duration, shards)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() {
			shard := ShardName(i)
			jobSpec := &api.JobSpec{Job: "bench", BuildID: shard}
			jobSpec.SetNamespace(Namespace)
			step := release.ImportReleaseStep(release.Config{
				Name:       ReleaseName,
				Target:     "bench",
				Source:     release.NewFixedSource(rel.PullSpec),
				RetryDelay: 50 * time.Millisecond,
				Log:        logrus.NewEntry(log).WithField("shard", shard),
			}, &countingClient{WithWatch: cluster.Client(shard), process: shard, profile: profile}, jobSpec)
			start := time.Now()
			g, err := graph.Build([]api.Step{step})
			if err == nil {
				_, err = g.Run(ctx)
			}
			durations[i] = time.Since(start)
			errs[i] = err
		})
	}
	wg.Wait()
	run := Run{Shards: shards, Images: images, Stats: cluster.Stats(), Profile: profile}
	for i, err := range errs {
		if err != nil {
			return run, fmt.Errorf("%s of %d failed: %w", ShardName(i), shards, err)
		}
		run.Wall = max(run.Wall, durations[i])
	}
	return run, nil
}
