//go:build integration

package integration

import (
	"testing"

	"github.com/ci-operator-plugins/import-release/test/conformance"
)

// kubeAPIServerBackend is a fresh namespace on the shared apiserver per case.
func kubeAPIServerBackend(t *testing.T) conformance.Env {
	client := newClient(t)
	return conformance.Env{
		Client:             client,
		Namespace:          newNamespace(t, client),
		ExpireWatchHistory: compactEtcd,
	}
}

func TestConformanceKubeAPIServer(t *testing.T) {
	conformance.Run(t, kubeAPIServerBackend, nil)
}
