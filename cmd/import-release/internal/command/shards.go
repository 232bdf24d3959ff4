package command

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	corev1 "k8s.io/api/core/v1"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// BaselineNamespace is where one shard imports the releases first when N
// shards run on the embedded cluster, as the baseline N shards compare with.
const BaselineNamespace = "ci-op-import-release-baseline"

// Run is what the shards of one run did.
type Run struct {
	Start  time.Time
	Shards []Shard
	// Baseline is the one-shard run that came first, if any.
	Baseline *Run
}

// Shard is how one shard did: one process importing every release.
type Shard struct {
	Name     string
	Err      error
	Duration time.Duration
	// Steps are the shard's steps, one per release in the order of --name.
	Steps   []api.Step
	Results []graph.StepResult
	// Processes are the client names of the shard, per release.
	Processes map[string]string
}

// Failed reports whether a shard failed.
func (r *Run) Failed() bool {
	for _, s := range r.Shards {
		if s.Err != nil {
			return true
		}
	}
	return false
}

// Pods returns the pods (namespace/name) the shards' steps of release ran
// or adopted, from the steps' Objects.
func (r *Run) Pods(index int) map[string]bool {
	pods := map[string]bool{}
	for _, s := range r.Shards {
		if index >= len(s.Steps) {
			continue
		}
		for _, obj := range s.Steps[index].Objects() {
			if _, ok := obj.(*corev1.Pod); ok {
				pods[obj.GetNamespace()+"/"+obj.GetName()] = true
			}
		}
	}
	return pods
}

// Processes returns the client names the shards used for release.
func (r *Run) Processes(name string) map[string]bool {
	out := map[string]bool{}
	for _, s := range r.Shards {
		out[s.Processes[name]] = true
	}
	return out
}

// runImport runs the baseline, when there is one, and the shards.
func runImport(ctx context.Context, o *Options, env Environment, logger *logrus.Logger, progress *progressPrinter) *Run {
	var baseline *Run
	if o.Shards > 1 {
		// The work-once invariant compares N shards with one: import the same
		// releases with one shard into a namespace of its own first.
		progress.note("Importing %d release(s) with 1 shard into %s as the baseline", len(o.Names), BaselineNamespace)
		baseline = runShards(ctx, o, env, BaselineNamespace, 1, "baseline", logger, nil)
		if baseline.Failed() {
			progress.note("The baseline import failed: %s", shardError(ctx, baseline.Shards[0].Err))
		}
	}
	progress.note("Importing %v into %s with %d shard(s) on %s", o.Names, o.Namespace, o.Shards, env.Describe())
	res := runShards(ctx, o, env, o.Namespace, o.Shards, "shard", logger, progress)
	res.Baseline = baseline
	return res
}

// runShards runs n shards at once, each a process of its own that runs the
// steps of every release through pkg/graph as ci-operator does.
func runShards(ctx context.Context, o *Options, env Environment, namespace string, n int, prefix string, logger *logrus.Logger, progress *progressPrinter) *Run {
	res := &Run{Start: time.Now(), Shards: make([]Shard, n)}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res.Shards[i] = runShard(ctx, o, env, namespace, fmt.Sprintf("%s-%d", prefix, i), logger, progress)
		})
	}
	wg.Wait()
	return res
}

func runShard(ctx context.Context, o *Options, env Environment, namespace, shard string, logger *logrus.Logger, progress *progressPrinter) Shard {
	jobSpec := &api.JobSpec{Job: "import-release", BuildID: shard}
	jobSpec.SetNamespace(namespace)
	out := Shard{Name: shard, Processes: map[string]string{}}
	for _, name := range o.Names {
		cfg := release.Config{
			Name:               name,
			Target:             "import-release",
			ReferencePolicy:    imagev1.TagReferencePolicyType(o.ReferencePolicy),
			Source:             release.NewFixedSource(env.Source(name)),
			OverrideCLIImage:   o.CLIImage,
			StallTimeout:       o.StallTimeout,
			ImportStallTimeout: o.ImportStallTimeout,
			RetryDelay:         env.RetryDelay(),
			Log:                logger.WithField("shard", shard),
		}
		if progress != nil {
			cfg.Observe = func(p release.Progress) { progress.observe(shard, p) }
		}
		process := shard + "/" + name
		out.Processes[name] = process
		out.Steps = append(out.Steps, release.ImportReleaseStep(cfg, env.Client(process), jobSpec))
	}
	start := time.Now()
	g, err := graph.Build(out.Steps)
	if err == nil {
		out.Results, err = g.Run(ctx)
	}
	out.Err, out.Duration = err, time.Since(start)
	return out
}
