package conformance

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// fakeDivergences are the cases the fake is known to fail, with why.
var fakeDivergences = map[string]string{
	CaseGracefulPodDeletion: "the fake deletes a pod at once: no deletionTimestamp, no grace period",
	CaseNameValidation:      "the fake does not validate object names",
}

var namespaces atomic.Int64

// fakeBackend is a fresh fake cluster per case. Pods stay Pending for an
// hour, as pods no kubelet starts do on a real server.
func fakeBackend(t *testing.T) Env {
	latency := fakeopenshift.DefaultLatency
	latency.PodStart = time.Hour
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
