package conformance

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// fakeDivergences are the cases the fake is known to fail, with why.
var fakeDivergences = map[string]string{}

var namespaces atomic.Int64

// fakeBackend is a fresh fake cluster per case. Its scheduler and kubelet
// leave pods alone for an hour, as on an apiserver with neither: nor does
// the kubelet confirm a graceful deletion before the case does.
func fakeBackend(t *testing.T) Env {
	latency := fakeopenshift.DefaultLatency
	latency.PodSchedule = time.Hour
	latency.PodStart = time.Hour
	latency.PodStop = time.Hour
	cluster := fakeopenshift.New(t.Context(), fakeopenshift.WithLatency(latency))
	t.Cleanup(cluster.Stop)
	return Env{
		Client:             cluster.Client("conformance"),
		Namespace:          fmt.Sprintf("conformance-%d", namespaces.Add(1)),
		ExpireWatchHistory: func(*testing.T) { cluster.ExpireWatchHistory() },
	}
}

func TestConformanceFake(t *testing.T) {
	Run(t, fakeBackend, fakeDivergences)
}
