// Command import-release imports OpenShift release payloads into a CI
// namespace the way ci-operator's import_release step does, with any number
// of concurrent shards, on an embedded fake OpenShift (the default) or on a
// real cluster (--kubeconfig, --in-cluster). Run it with --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	imagev1 "github.com/openshift/api/image/v1"
	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// run is the whole command; it returns the exit status: 0 when every shard
// succeeded (and, on the embedded cluster, every invariant held), 1 when the
// import failed, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	// client-go reports every watch a finished wait stops as an error; the
	// step reports what matters.
	klog.SetLogger(logr.Discard())

	logger := logrus.New()
	logger.SetOutput(stderr)
	level, _ := logrus.ParseLevel(o.logLevel)
	logger.SetLevel(level)

	var env *environment
	if o.embedded() {
		if err := checkEmbeddedFrom(o); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 2
		}
		env = newEmbedded(ctx, o)
		defer env.cluster.Stop()
		if prepareEmbedded != nil {
			prepareEmbedded(env)
		}
	} else {
		if env, err = newRemote(ctx, o); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 1
		}
	}

	progress := newProgressPrinter(stderr, o.output == "text")
	var baselineErr error
	if o.embedded() && o.shards > 1 {
		// The work-once invariant compares N shards with one: import the same
		// releases with one shard into a namespace of its own first.
		progress.note("Importing %d release(s) with 1 shard into %s as the baseline", len(o.names), baselineNamespace)
		if base := runShards(ctx, o, env, baselineNamespace, 1, "baseline", logger, nil); base.failed() {
			baselineErr = base.shards[0].err
			progress.note("The baseline import failed: %v", baselineErr)
		}
	}
	progress.note("Importing %v into %s with %d shard(s) on %s", o.names, o.namespace, o.shards, env.describe)
	result := runShards(ctx, o, env, o.namespace, o.shards, "shard", logger, progress)
	result.baselineErr = baselineErr
	rep := buildReport(ctx, o, env, result)
	if err := rep.print(stdout, stderr, o.output); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	if !rep.OK {
		return 1
	}
	return 0
}

const baselineNamespace = "ci-op-import-release-baseline"

// prepareEmbedded, when set (by tests), changes the embedded cluster before
// the import runs, e.g. to inject faults.
var prepareEmbedded func(env *environment)

// shardResult is how one shard did.
type shardResult struct {
	name     string
	err      error
	duration time.Duration
	steps    []graph.StepResult
	images   map[string]string // release name -> RELEASE_IMAGE value
}

type runResult struct {
	start  time.Time
	shards []shardResult
	// baselineErr is why the one-shard baseline failed, if it did.
	baselineErr error
}

func (r runResult) failed() bool {
	for _, s := range r.shards {
		if s.err != nil {
			return true
		}
	}
	return false
}

// runShards runs n shards at once, each a process of its own that runs the
// steps of every release through pkg/graph as ci-operator does.
func runShards(ctx context.Context, o *options, env *environment, namespace string, n int, prefix string, logger *logrus.Logger, progress *progressPrinter) runResult {
	res := runResult{start: time.Now(), shards: make([]shardResult, n)}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shard := fmt.Sprintf("%s-%d", prefix, i)
			jobSpec := &api.JobSpec{Job: "import-release", BuildID: shard}
			jobSpec.SetNamespace(namespace)
			var steps []api.Step
			for _, name := range o.names {
				cfg := release.Config{
					Name:             name,
					Target:           "import-release",
					ReferencePolicy:  imagev1.TagReferencePolicyType(o.referencePolicy),
					Source:           release.NewFixedSource(env.sources[name]),
					OverrideCLIImage: o.cliImage,
					StallTimeout:     o.stallTimeout,
					Log:              logger.WithField("shard", shard),
				}
				if env.cluster != nil {
					cfg.RetryDelay = 50 * time.Millisecond
				}
				if progress != nil {
					cfg.Observe = func(p release.Progress) { progress.observe(shard, p) }
				}
				steps = append(steps, release.ImportReleaseStep(cfg, env.client(shard+"/"+name), jobSpec))
			}
			start := time.Now()
			g, err := graph.Build(steps)
			var results []graph.StepResult
			if err == nil {
				results, err = g.Run(ctx)
			}
			images := map[string]string{}
			for j, name := range o.names {
				if v, err := steps[j].Provides()[api.ReleaseImageEnv(name)](); err == nil {
					images[name] = fmt.Sprint(v)
				}
			}
			res.shards[i] = shardResult{name: shard, err: err, duration: time.Since(start), steps: results, images: images}
		}()
	}
	wg.Wait()
	return res
}
