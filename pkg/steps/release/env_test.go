package release

import (
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

const testNamespace = "ci-op-test"

// testEnv is one fake cluster with a generated payload per release name.
type testEnv struct {
	cluster  *fakeopenshift.Cluster
	releases map[string]*registry.Release
}

func newTestEnv(t testing.TB, images int, names ...string) *testEnv {
	t.Helper()
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	env := &testEnv{cluster: cluster, releases: map[string]*registry.Release{}}
	for i, name := range names {
		payload := "4.18.0-0.nightly-2026-11-20-00000" + string(rune('0'+i))
		env.releases[name] = cluster.Registry().AddRelease(payload, registry.WithImages(images))
	}
	return env
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// step builds the step for one process.
func (e *testEnv) step(process, name string, mutate ...func(*Config)) api.Step {
	return e.stepWithClient(e.cluster.Client(process), name, mutate...)
}

// stepWithClient builds the step on a given client.
func (e *testEnv) stepWithClient(client ctrlruntimeclient.WithWatch, name string, mutate ...func(*Config)) api.Step {
	cfg := Config{
		Name:         name,
		Source:       NewFixedSource(e.releases[name].PullSpec),
		RetryDelay:   20 * time.Millisecond,
		StallTimeout: 20 * time.Second,
		// Renewals of the records are writes that come with time, not with
		// the number of processes; on a busy machine a run may last long
		// enough for some. Tests about dead holders set a short duration.
		ClaimDuration: 10 * time.Minute,
		Log:           quietLog(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace(testNamespace)
	return ImportReleaseStep(cfg, client, jobSpec)
}
