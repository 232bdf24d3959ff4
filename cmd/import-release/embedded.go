package main

import (
	"context"
	"fmt"
	"time"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/command"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// environment is the embedded fake OpenShift with one generated payload per
// release name.
type environment struct {
	cluster  *fakeopenshift.Cluster
	releases map[string]*registry.Release
}

func (e *environment) Describe() string { return "the embedded fake OpenShift" }
func (e *environment) Client(process string) ctrlruntimeclient.WithWatch {
	return e.cluster.Client(process)
}
func (e *environment) Source(name string) string { return e.releases[name].PullSpec }
func (e *environment) Close()                    { e.cluster.Stop() }

// RetryDelay is short: the embedded registry's failures come and go in
// milliseconds.
func (e *environment) RetryDelay() time.Duration { return 50 * time.Millisecond }

// payloadVersions are the versions of the generated payloads, one per release
// name in order: an upgrade job's initial release is older than its latest.
var payloadVersions = []string{"4.18.0-0.nightly-2026-11-20-000000", "4.19.0-0.nightly-2026-11-21-000000"}

// prepareEmbedded, when set (by tests), changes the embedded cluster before
// the import runs, e.g. to inject faults.
var prepareEmbedded func(env *environment)

// newEmbedded is the command's EmbeddedFunc: it starts the cluster and adds
// a payload per release to its registry.
func newEmbedded(ctx context.Context, o *command.Options) (command.Environment, error) {
	if err := checkEmbeddedFrom(o); err != nil {
		return nil, err
	}
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(fakeopenshift.EmbeddedLatency))
	env := &environment{cluster: cluster, releases: map[string]*registry.Release{}}
	for i, name := range o.Names {
		version := fmt.Sprintf("4.%d.0-0.nightly-2026-11-20-%06d", 18+i, i)
		if i < len(payloadVersions) {
			version = payloadVersions[i]
		}
		if from, ok := o.From[name]; ok {
			// Options checked the pull spec; the embedded registry serves
			// <host>/ocp/release:<version>.
			ref, _ := pullspec.Parse(from)
			version = ref.Tag
		}
		env.releases[name] = cluster.Registry().AddRelease(version, registry.WithImages(o.Images))
	}
	if prepareEmbedded != nil {
		prepareEmbedded(env)
	}
	return env, nil
}

// checkEmbeddedFrom rejects --from values the embedded registry cannot serve.
func checkEmbeddedFrom(o *command.Options) error {
	for name, from := range o.From {
		ref, _ := pullspec.Parse(from)
		if ref.Repository != registry.DefaultHost+"/ocp/release" || ref.Digest != "" || ref.Tag == "" {
			return fmt.Errorf("--from %s: the embedded cluster serves generated payloads only, as %s/ocp/release:<version>", name, registry.DefaultHost)
		}
	}
	if o.CLIImage != "" {
		return fmt.Errorf("--cli-image works with a real cluster only; the embedded registry has no other CLI images")
	}
	return nil
}
